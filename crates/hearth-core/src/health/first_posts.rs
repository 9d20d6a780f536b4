//! What a first post is and what answers it: the one definition of "first posts still
//! unanswered" that the dashboard's figures, the unanswered lane and `/metrics`'
//! `hearth_unanswered_first_posts` (through `maintenance::gauges`) all read.
//!
//! A **first post** is a thread's opening post (position 1). It counts while people can read
//! it: published (its author has not deleted it), neither hidden nor awaiting approval, in a
//! thread that is not deleted. It is **answered** once its thread has a reply (a later
//! position) by someone other than its author that counts in the same way: the author's own
//! replies, replies held for approval or hidden, and deleted replies answer nothing. A first
//! post **waits** while it counts and nothing answers it.
//!
//! Whose first posts these are is the caller's to say: a list of groups (a viewer's scope,
//! decided by the policy) or every group (the staff's, and the site-wide gauge, which names
//! no group). Each statement binds the moment it is read at as `$1`: a post or reply made
//! after it is not there yet.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::{per_connection, DbConn};
use crate::error::Result;
use crate::ids::{BoardId, MemberId, ThreadId};
use crate::model::{Moderation, Publication};

/// The first posts that count, as `FROM … WHERE …` naming the thread `t` and its first post
/// `p`, on one of `groups` (formatted into the SQL: they are numbers from the database) or on
/// any group. Read group by group through `threads_board_listing` when groups are named.
pub(super) fn counted_from(groups: Option<&[BoardId]>) -> String {
    let groups = groups.map_or(String::new(), |ids| {
        let ids: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
        format!("t.board_id IN ({}) AND ", ids.join(", "))
    });
    format!(
        "FROM threads t JOIN posts p ON p.thread_id = t.id AND p.position = 1 \
         WHERE {groups}t.state = '{published}' \
         AND p.state = '{published}' AND p.moderation = '{visible}' AND p.created_at <= $1",
        published = Publication::Published.as_str(),
        visible = Moderation::Visible.as_str(),
    )
}

/// The replies that answer `p` in `t`, as a subquery's `FROM … WHERE …` (read through
/// `posts_visible_position`).
pub(super) fn answers_from() -> String {
    format!(
        "FROM posts r WHERE r.thread_id = t.id AND r.moderation = '{visible}' \
         AND r.state = '{published}' AND r.position > 1 AND r.author_id <> p.author_id \
         AND r.created_at <= $1",
        published = Publication::Published.as_str(),
        visible = Moderation::Visible.as_str(),
    )
}

/// The first posts waiting: `SELECT {columns}` over them.
fn waiting_sql(columns: &str, groups: Option<&[BoardId]>) -> String {
    format!(
        "SELECT {columns} {counted} AND NOT EXISTS (SELECT 1 {answers})",
        counted = counted_from(groups),
        answers = answers_from(),
    )
}

/// One first post waiting, with what the lane and the dashboard show of it.
#[derive(Debug, Clone, QueryableByName)]
pub(super) struct WaitingPost {
    #[diesel(sql_type = BigInt)]
    pub thread_id: ThreadId,
    #[diesel(sql_type = BigInt)]
    pub board_id: BoardId,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = BigInt)]
    pub author_id: MemberId,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
}

/// Every first post waiting at `now` on `groups` (or any group), the longest waiting first
/// (then by thread, so the order is total).
pub(super) fn waiting(
    conn: &mut DbConn,
    groups: Option<&[BoardId]>,
    now: NaiveDateTime,
) -> Result<Vec<WaitingPost>> {
    let sql = format!(
        "{} ORDER BY p.created_at, t.id",
        waiting_sql(
            "t.id AS thread_id, t.board_id AS board_id, t.slug AS slug, t.title AS title, \
             p.author_id AS author_id, p.created_at AS created_at",
            groups,
        )
    );
    let query = diesel::sql_query(sql).bind::<Timestamp, _>(now);
    Ok(per_connection!(conn, |c| query.load::<WaitingPost>(c))?)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many first posts wait at `now` on any group: the site-wide count `/metrics` shows. The
/// same rows as [`waiting`] with no group named, counted by the database.
pub fn count_waiting(conn: &mut DbConn, now: NaiveDateTime) -> Result<i64> {
    let query = diesel::sql_query(waiting_sql("COUNT(*) AS n", None)).bind::<Timestamp, _>(now);
    let count: Count = per_connection!(conn, |c| query.get_result(c))?;
    Ok(count.n)
}
