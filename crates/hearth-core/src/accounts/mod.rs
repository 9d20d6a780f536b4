//! Accounts: registering, signing in and out, sessions, passwords, the first admin's setup
//! link, sign-in throttling, and a member's own mutes.

pub mod actors;
pub mod credentials;
pub mod devices;
pub mod members;
pub mod mutes;
pub mod passwords;
pub mod recovery;
pub mod sessions;
pub mod setup;
pub mod throttle;
pub mod tokens;
