//! Moderation: reports and the review queue with the decisions on a post ([`review`]), thread
//! and member actions and a board's settings ([`actions`]), the moderation log ([`log`]), and
//! private notices from the moderators to one member ([`notices`]), and site roles given and
//! taken back ([`roles`]).

pub mod actions;
pub mod log;
pub mod notices;
pub mod review;
pub mod roles;
