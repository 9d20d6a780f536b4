//! Typed IDs: a `ThreadId` can never be passed where a `PostId` is wanted.

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, DieselNewType, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

typed_id!(
    /// A member's account.
    MemberId,
    /// A topic board, that is, a support group.
    BoardId,
    /// A thread on a board.
    ThreadId,
    /// One post in a thread.
    PostId,
    /// A signed-in session.
    SessionId,
    /// A group's meeting (one, or a recurring series).
    MeetingId,
    /// A member's proposal of a new group.
    ProposalId,
    /// A phrase on the watched-word list.
    WatchedWordId,
    /// One line of the moderation log.
    LogEntryId,
    /// One item of the review queue (a report, a check-in, a flag, a post awaiting approval).
    ReviewItemId,
    /// A private conversation of a group.
    ConversationId,
    /// One message of a private conversation.
    MessageId,
    /// One notification of one member.
    NotificationId,
    /// One mail in the outbox.
    MailId,
);
