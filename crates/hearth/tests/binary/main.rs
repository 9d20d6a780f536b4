//! Tests of the `hearth` binary itself: one test binary, real processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod crash;
mod mail;
mod multinode;
mod served;
