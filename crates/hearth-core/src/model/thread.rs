//! A thread: a title and a conversation of posts on one board.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::threads;
use crate::ids::{BoardId, MemberId, ThreadId};
use crate::model::{Moderation, Publication};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = threads)]
pub struct Thread {
    pub id: ThreadId,
    pub board_id: BoardId,
    pub author_id: MemberId,
    pub title: String,
    pub slug: String,
    pub pinned: bool,
    pub locked: bool,
    #[diesel(deserialize_as = String)]
    pub state: Publication,
    /// Published posts after the opening one.
    pub reply_count: i64,
    /// The position given to the newest post; positions number a thread's posts from 1.
    pub last_position: i32,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    pub last_poster_id: Option<MemberId>,
    /// Follows its opening post: a thread whose first post awaits approval awaits too.
    #[diesel(deserialize_as = String)]
    pub moderation: Moderation,
    /// Slow mode: each member may post in this thread once every this many seconds; 0 is off.
    /// Enforced by [`crate::safety::limits::check_posting`].
    pub slow_mode_seconds: i32,
    /// Why a facilitator locked it, shown in the thread; `None` when unlocked (or locked before
    /// reasons were asked).
    pub lock_reason: Option<String>,
}

impl Thread {
    /// Whether the thread counts on its board: published and not held back by moderation.
    pub fn counts(&self) -> bool {
        self.state == Publication::Published && self.moderation == Moderation::Visible
    }
}
