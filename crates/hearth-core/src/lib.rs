//! `hearth-core`: the forum itself — members, boards, threads, posts and who may do what —
//! with their rules and storage. It knows nothing of HTTP, templates or cookies.
//!
//! Every state change is one function here that runs in one transaction ([`db::write_tx`]),
//! and every permission question is answered by [`policy`].

pub mod boards;
pub mod bulk;
pub mod clock;
pub mod crisis;
pub mod db;
pub mod error;
pub mod gate;
pub mod groups;
pub mod ids;
pub mod limits;
pub mod meetings;
pub mod members;
pub mod memberships;
pub mod moderation;
pub mod modlog;
pub mod mutes;
pub mod notices;
pub mod passwords;
#[cfg(test)]
mod plan_tests;
pub mod policy;
pub mod posts;
pub mod proposals;
pub mod rerender;
pub mod review;
mod schema;
pub mod screening;
pub mod sessions;
pub mod setup;
#[cfg(test)]
mod test_support;
pub mod threads;
pub mod throttle;
pub mod tokens;
pub mod watched;

pub use error::{Error, Result};
