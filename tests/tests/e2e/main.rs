//! The end-to-end suite: one test binary, real HTTP against a real server. Runs on SQLite, and
//! on PostgreSQL when `HEARTH_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod backends;
mod boards;
mod concurrency;
mod conversations;
mod crisis_check_ins;
mod csrf;
mod edits;
mod error_pages;
mod group_privacy;
mod groups;
mod help;
mod meetings;
mod mentions;
mod moderation;
mod mutes;
mod notification_levels;
mod notifications;
mod odd_requests;
mod posting_limits;
mod profiles;
mod reports;
mod search;
mod search_engines;
mod security_headers;
mod setup;
mod sign_in_throttling;
mod suspension;
mod themes;
mod threads;
mod unread;
mod visitor_pages;
mod watched_words;
mod xss;
