//! `hearth-core`: the forum itself — members, groups, threads, posts and who may do what —
//! with their rules and storage. It knows nothing of HTTP, templates or cookies.
//!
//! The folders follow the domain (see `docs/architecture.md`): [`model`] holds the nouns,
//! [`policy`] decides who may do what with them, [`db`] is the only code that knows the
//! backend, and each other folder is one part of the domain's operations. Every state change is
//! one function that runs in one transaction ([`db::write_tx`]), and every permission question
//! is answered by [`policy`].

pub mod accounts;
pub mod clock;
pub mod conversations;
pub mod db;
pub mod error;
pub mod forum;
pub mod groups;
pub mod health;
pub mod ids;
pub mod mail;
pub mod maintenance;
pub mod meetings;
pub mod model;
pub mod moderation;
pub mod notifications;
pub mod policy;
pub mod safety;
pub mod search;
pub mod telemetry;
#[cfg(test)]
mod test_support;
mod text_enum;
#[cfg(test)]
mod tidy_tests;

pub use error::{Error, Result};
