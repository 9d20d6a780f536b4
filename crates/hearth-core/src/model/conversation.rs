//! A private conversation and its messages. A conversation belongs to a group: it is either
//! the group's facilitators (and the site's staff) talking with one member, or — where the
//! operator allows it — two members who share the group.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{conversation_messages, conversations};
use crate::ids::{BoardId, ConversationId, MemberId, MessageId, PostId};
use crate::model::Moderation;
use crate::text_enum::text_enum;

text_enum! {
    /// Who a conversation is between, besides the member it is with.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ConversationKind ("conversation kind") {
        /// The group's facilitators and the site's staff, all of them, with one member: a
        /// private check-in, or a member's message to the facilitators.
        Group = "group",
        /// Two members who share the group (a site setting, off by default).
        Direct = "direct",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: ConversationId,
    pub board_id: BoardId,
    #[diesel(deserialize_as = String)]
    pub kind: ConversationKind,
    pub started_by: MemberId,
    /// The member it is with: the member the facilitators talk with, or the member a direct
    /// conversation was written to.
    pub member_id: MemberId,
    pub subject: String,
    /// The post it was started from, if any.
    pub post_id: Option<PostId>,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    /// The newest message (0 before the first).
    pub last_message_id: i64,
    pub message_count: i32,
}

impl Conversation {
    /// The people named in the conversation itself (not its group's facilitators): the member
    /// it is with, and for a direct one its starter.
    pub fn is_party(&self, member: MemberId) -> bool {
        self.member_id == member
            || (self.kind == ConversationKind::Direct && self.started_by == member)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = conversation_messages)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub author_id: MemberId,
    /// The markdown as written (not handed to templates, as a post's is not).
    #[serde(skip_serializing)]
    pub source: String,
    /// Sanitized by `hearth-markdown` at write time.
    pub html: String,
    pub render_version: i32,
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = String)]
    pub moderation: Moderation,
    pub hidden_reason: String,
}
