//! What a facilitator sees beside a queued post: its author's recent posts (the last few that
//! are visible, in groups the queue covers) and earlier warnings; and the join requests waiting
//! in those groups, which the header's count includes.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{
    boards as boards_table, memberships, moderation_log, posts as posts_table, threads,
};
use crate::db::DbConn;
use crate::error::Result;
use crate::groups::memberships::MembershipState;
use crate::ids::{BoardId, MemberId, PostId};
use crate::model::{Moderation, Publication};
use crate::moderation::log::LoggedAction;

/// How many of an author's recent posts stand beside a queued post.
pub const RECENT_POSTS: i64 = 5;
/// How many earlier warnings.
pub const EARLIER_WARNINGS: i64 = 5;
/// How long a recent post's line is, in characters.
const LINE_CHARS: usize = 100;

/// One of the author's recent posts, as a line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecentPost {
    pub post_id: PostId,
    pub thread_title: String,
    pub board_name: String,
    pub created_at: NaiveDateTime,
    /// Plain text, cut at a character.
    pub excerpt: String,
}

/// A warning the author was given before, with the moderators' words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EarlierWarning {
    pub created_at: NaiveDateTime,
    /// The group it was given in; `None` for a site-wide warning.
    pub board_name: Option<String>,
    pub message: String,
}

/// An author's recent posts and earlier warnings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemberHistory {
    pub recent_posts: Vec<RecentPost>,
    pub warnings: Vec<EarlierWarning>,
}

/// A group's join requests that wait for an answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JoinRequestsWaiting {
    pub board_slug: String,
    pub board_name: String,
    pub waiting: i64,
}

/// The history of each of `authors` within `scope` (the queue's boards; `None`: every board,
/// for the staff, who also see site-wide warnings). `except` are the posts the queue shows
/// already. A query per author, each through an index (posts by author and time, the log by
/// member).
pub(crate) fn histories(
    conn: &mut DbConn,
    scope: Option<&Vec<BoardId>>,
    authors: &[MemberId],
    except: &[PostId],
) -> Result<HashMap<MemberId, MemberHistory>> {
    let mut found = HashMap::new();
    for author in authors {
        if found.contains_key(author) {
            continue;
        }
        let mut recent = posts_table::table
            .inner_join(threads::table.inner_join(boards_table::table))
            .filter(posts_table::author_id.eq(*author))
            .filter(posts_table::state.eq(Publication::Published.as_str()))
            .filter(posts_table::moderation.eq(Moderation::Visible.as_str()))
            .filter(threads::state.eq(Publication::Published.as_str()))
            .filter(threads::moderation.eq(Moderation::Visible.as_str()))
            .filter(posts_table::id.ne_all(except))
            .order((posts_table::created_at.desc(), posts_table::id.desc()))
            .limit(RECENT_POSTS)
            .select((
                posts_table::id,
                threads::title,
                boards_table::name,
                posts_table::created_at,
                posts_table::source,
            ))
            .into_boxed();
        if let Some(boards) = scope {
            recent = recent.filter(threads::board_id.eq_any(boards));
        }
        let recent_posts = recent
            .load::<(PostId, String, String, NaiveDateTime, String)>(conn)?
            .into_iter()
            .map(
                |(post_id, thread_title, board_name, created_at, source)| RecentPost {
                    post_id,
                    thread_title,
                    board_name,
                    created_at,
                    excerpt: hearth_markdown::plain_text_excerpt(&source, LINE_CHARS),
                },
            )
            .collect();
        let mut warned = moderation_log::table
            .left_join(
                boards_table::table.on(moderation_log::board_id.eq(boards_table::id.nullable())),
            )
            .filter(moderation_log::member_id.eq(*author))
            .filter(moderation_log::action.eq(LoggedAction::Warn.as_str()))
            .order(moderation_log::id.desc())
            .limit(EARLIER_WARNINGS)
            .select((
                moderation_log::created_at,
                boards_table::name.nullable(),
                moderation_log::reason,
            ))
            .into_boxed();
        if let Some(boards) = scope {
            // A facilitator sees the warnings given in their groups, not the staff's elsewhere.
            warned = warned.filter(moderation_log::board_id.eq_any(boards.clone()));
        }
        let warnings = warned
            .load::<(NaiveDateTime, Option<String>, String)>(conn)?
            .into_iter()
            .map(|(created_at, board_name, message)| EarlierWarning {
                created_at,
                board_name,
                message,
            })
            .collect();
        found.insert(
            *author,
            MemberHistory {
                recent_posts,
                warnings,
            },
        );
    }
    Ok(found)
}

/// Requests only (through the index `memberships_requested`, which leads with the state).
fn requested() -> diesel::dsl::Eq<memberships::state, &'static str> {
    memberships::state.eq(MembershipState::Requested.as_str())
}

/// The groups of `scope` with join requests waiting, the most waiting first.
pub(crate) fn join_requests(
    conn: &mut DbConn,
    scope: Option<&Vec<BoardId>>,
) -> Result<Vec<JoinRequestsWaiting>> {
    let mut query = memberships::table
        .inner_join(boards_table::table.on(boards_table::id.eq(memberships::board_id)))
        .filter(requested())
        .group_by((boards_table::id, boards_table::slug, boards_table::name))
        .select((boards_table::slug, boards_table::name, count_star()))
        .into_boxed();
    if let Some(boards) = scope {
        query = query.filter(memberships::board_id.eq_any(boards));
    }
    let mut waiting: Vec<JoinRequestsWaiting> = query
        .load::<(String, String, i64)>(conn)?
        .into_iter()
        .map(|(board_slug, board_name, waiting)| JoinRequestsWaiting {
            board_slug,
            board_name,
            waiting,
        })
        .collect();
    waiting.sort_by(|a, b| {
        b.waiting
            .cmp(&a.waiting)
            .then(a.board_name.cmp(&b.board_name))
    });
    Ok(waiting)
}

/// How many join requests wait in the groups a moderator answers for (every group for the
/// staff): part of the header's count.
pub(crate) fn join_requests_waiting(
    conn: &mut DbConn,
    scope: Option<&Vec<BoardId>>,
) -> Result<i64> {
    let mut query = memberships::table
        .filter(requested())
        .select(count_star())
        .into_boxed();
    if let Some(boards) = scope {
        query = query.filter(memberships::board_id.eq_any(boards));
    }
    Ok(query.get_result(conn)?)
}
