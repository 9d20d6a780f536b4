//! The nouns: the records Hearth stores and the states they can be in. No queries and no
//! rules live here — operations are in the domain folders, and who may do what is decided by
//! [`crate::policy`], which depends on these types alone.

mod board;
mod conversation;
mod member;
mod post;
mod thread;

pub use board::{Board, BoardRef, MeetingFormat, Visibility};
pub use conversation::{Conversation, ConversationKind, Message};
pub use member::{
    badges, AuthorRef, Badge, Member, MemberStatus, SiteRole, NEW_MEMBER_DAYS, TOMBSTONE_PREFIX,
};
pub use post::{Moderation, Post, Publication};
pub use thread::Thread;
