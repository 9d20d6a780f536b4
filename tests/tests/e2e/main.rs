//! The end-to-end suite: one test binary, real HTTP against a real server. Runs on SQLite, and
//! on PostgreSQL when `HEARTH_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod boards;
mod concurrency;
mod groups;
mod limits;
mod meetings;
mod migrations;
mod moderation;
mod safety;
mod security;
mod setup;
mod themes;
mod threads;
