//! The numbers `/metrics` reads from the database when it is scraped: crisis check-ins still
//! waiting, first posts nobody has answered, and mail not yet sent. Each is one count through
//! an index; the web layer keeps the result for a few seconds, so scraping stays cheap.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::{outbox, review_items};
use crate::db::{per_connection, DbConn};
use crate::error::Result;
use crate::model::{Moderation, Publication};
use crate::moderation::review::{ItemKind, ItemState};

/// What the database says at one moment, site-wide. No group, member or word in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gauges {
    /// Crisis check-ins the review queue shows as waiting (on posts and on conversations).
    pub open_check_ins: i64,
    /// Threads whose first post people can read and that no one but its author has answered.
    pub unanswered_first_posts: i64,
    /// Mail not sent yet that will still be tried (given-up mail is not counted).
    pub outbox_unsent: i64,
}

/// Reads every gauge. `max_attempts` is the `[email]` settings' bound: a mail tried that often
/// has been given up.
pub fn read(conn: &mut DbConn, max_attempts: i32) -> Result<Gauges> {
    Ok(Gauges {
        open_check_ins: open_check_ins(conn)?,
        unanswered_first_posts: unanswered_first_posts(conn)?,
        outbox_unsent: outbox_unsent(conn, max_attempts)?,
    })
}

/// Open check-in items, as the review queue counts them waiting: each open item of the kind
/// `check_in` (one per post or message that opened it), through the `(state, …)` index.
pub fn open_check_ins(conn: &mut DbConn) -> Result<i64> {
    Ok(review_items::table
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .count()
        .get_result(conn)?)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Threads whose opening post is visible (published; not hidden, awaiting or deleted) and
/// that have no visible post by anyone other than its author. The thread row mirrors its
/// opening post's moderation, and its publication state, so the scan is of threads, and each
/// one looks for a reply through `posts_visible_position` (thread, moderation, state,
/// position). Groups have no archived state yet; when they do, such groups are left out here.
pub fn unanswered_first_posts(conn: &mut DbConn) -> Result<i64> {
    let query = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM threads \
         JOIN posts first ON first.thread_id = threads.id AND first.position = 1 \
         WHERE threads.state = $1 AND threads.moderation = $2 \
         AND first.state = $3 AND first.moderation = $4 \
         AND NOT EXISTS (SELECT 1 FROM posts reply \
             WHERE reply.thread_id = threads.id AND reply.moderation = $5 \
             AND reply.state = $6 AND reply.position > 1 \
             AND reply.author_id <> first.author_id)",
    )
    .bind::<Text, _>(Publication::Published.as_str())
    .bind::<Text, _>(Moderation::Visible.as_str())
    .bind::<Text, _>(Publication::Published.as_str())
    .bind::<Text, _>(Moderation::Visible.as_str())
    .bind::<Text, _>(Moderation::Visible.as_str())
    .bind::<Text, _>(Publication::Published.as_str());
    let count: Count = per_connection!(conn, |c| query.get_result(c))?;
    Ok(count.n)
}

/// Mail waiting to be sent: unsent and tried fewer than `max_attempts` times (the `outbox_due`
/// index holds only unsent rows).
pub fn outbox_unsent(conn: &mut DbConn, max_attempts: i32) -> Result<i64> {
    Ok(outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::attempts.lt(max_attempts))
        .count()
        .get_result(conn)?)
}

#[cfg(test)]
mod tests;
