//! The moderators' pages, one file each: the review queue and decisions on posts, reports,
//! thread controls, a board's settings and facilitators, the moderation log, actions on
//! members, and community health (the dashboard and the unanswered lane).

pub mod health;
pub mod log;
pub mod members;
pub mod queue;
pub mod reports;
pub mod settings;
pub mod threads;
