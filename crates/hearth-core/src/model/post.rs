//! A post: what a member wrote, with its markdown source, the sanitized HTML rendered once at
//! write time, and the renderer version that made it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::posts;
use crate::ids::{MemberId, PostId, ThreadId};
use crate::text_enum::text_enum;

text_enum! {
    /// Whether its author has deleted a post or thread (moderation is a separate column, so an
    /// author's delete and a moderator's hide never mix).
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Publication ("publication state") {
        Published = "published",
        Deleted = "deleted",
    }
}

text_enum! {
    /// What moderation made of a post or thread, apart from its author's own delete.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Moderation ("moderation state") {
        /// Shown to everyone who can read the board.
        Visible = "visible",
        /// Waiting for a moderator's approval: seen by its author and the board's moderators.
        Awaiting = "awaiting",
        /// Hidden by a moderator: its author sees it with the reason; others see a short notice.
        Hidden = "hidden",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: PostId,
    pub thread_id: ThreadId,
    pub author_id: MemberId,
    /// 1 for the opening post, then 2, 3, … in the order posts arrived.
    pub position: i32,
    /// The markdown as written. Not handed to templates (they show `html`; edit forms carry
    /// the source separately), which also keeps every page's context small.
    #[serde(skip_serializing)]
    pub source: String,
    /// Sanitized by `hearth-markdown` at write time; the only HTML a template prints raw.
    pub html: String,
    pub render_version: i32,
    #[diesel(deserialize_as = String)]
    pub state: Publication,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = String)]
    pub moderation: Moderation,
    /// Why the moderators hid it, shown to its author.
    pub hidden_reason: String,
}
