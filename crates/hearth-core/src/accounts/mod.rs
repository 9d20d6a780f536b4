//! Accounts: registering, signing in and out, sessions, passwords, the first admin's setup
//! link, sign-in throttling, a member's own mutes, and leaving (deletion, anonymisation and
//! the export of one's data), and the operator's list of members.

pub mod actors;
pub mod credentials;
pub mod devices;
pub mod export;
pub mod leaving;
pub mod listing;
pub mod members;
pub mod mutes;
pub mod passwords;
pub mod recovery;
pub mod sessions;
pub mod setup;
pub mod throttle;
pub mod tokens;
