//! The forum: boards, their threads and the posts in them. A reply and a new thread are
//! posted by one pipeline ([`publish`]).

pub(crate) mod addressing;
pub mod boards;
pub mod feeds;
pub mod posts;
pub mod publish;
pub mod reactions;
pub mod reads;
pub mod threads;
