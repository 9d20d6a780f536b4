//! Tests of the `hearth` binary itself: one test binary, real processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backups;
mod cli;
mod crash;
mod mail;
mod multinode;
mod observability;
mod packaging;
mod served;
