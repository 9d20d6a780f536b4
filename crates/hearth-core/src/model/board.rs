//! A board: the forum of one peer support group.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::boards;
use crate::ids::{BoardId, ThreadId};
use crate::text_enum::text_enum;

text_enum! {
    /// Who may read a board.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Visibility ("visibility") {
        /// Anyone reads; members post.
        Public = "public",
        /// Signed-in members read and post.
        Members = "members",
        /// Only the group's members (and staff) read.
        Private = "private",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = boards)]
pub struct Board {
    pub id: BoardId,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The markdown as written; pages show `ground_rules_html`.
    #[serde(skip_serializing)]
    pub ground_rules: String,
    /// Rendered by `hearth-markdown` when the rules were saved.
    pub ground_rules_html: String,
    pub ground_rules_version: i32,
    #[diesel(deserialize_as = String)]
    pub visibility: Visibility,
    pub position: i32,
    pub thread_count: i64,
    pub post_count: i64,
    pub last_activity_at: Option<NaiveDateTime>,
    pub last_thread_id: Option<ThreadId>,
    pub created_at: NaiveDateTime,
    /// The first this-many posts of a member new to the board await approval.
    pub premod_first_posts: i32,
    pub category_id: Option<i64>,
    /// Lowercase words separated by single spaces.
    pub tags: String,
    /// A BCP 47 language tag (`en`, `de`).
    pub language: String,
    #[diesel(deserialize_as = String)]
    pub meeting_format: MeetingFormat,
    /// A city or region: never an exact address.
    pub city: String,
    pub country: String,
    /// The group's own zone: its meetings are scheduled in it.
    pub time_zone: String,
    pub member_count: i64,
}

/// A board as search needs it and as the policy decides who reads it: without its texts,
/// counters and times. Search reads every board the reader may search on each search, and
/// building the whole row of fifty boards was a tenth of a search's CPU
/// (docs/performance.md, "Fifteenth session").
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = boards)]
pub struct BoardRef {
    pub id: BoardId,
    pub slug: String,
    pub name: String,
    /// A BCP 47 language tag (`en`, `de`).
    pub language: String,
    #[diesel(deserialize_as = String)]
    pub visibility: Visibility,
}

text_enum! {
    /// How a group meets.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum MeetingFormat ("meeting format") {
        Online = "online",
        InPerson = "in_person",
        Hybrid = "hybrid",
    }
}

impl MeetingFormat {
    pub fn label(self) -> &'static str {
        match self {
            MeetingFormat::Online => "Online",
            MeetingFormat::InPerson => "In person",
            MeetingFormat::Hybrid => "Hybrid (in person and online)",
        }
    }
}
