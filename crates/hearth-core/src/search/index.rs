//! Keeping the index true: every write path of posts calls [`sync_post`] (publish
//! [`sync_written`], a move [`sync_thread`], a group's new language [`sync_board`]) inside its
//! own transaction, so a post is findable exactly while it is visible and published, with its
//! current text. A post row deleted outright leaves the index by itself (a trigger on SQLite,
//! `ON DELETE CASCADE` on PostgreSQL).

use diesel::prelude::*;

use crate::db::schema::{boards, posts, threads};
use crate::db::{write_tx_unseen, DbConn};
use crate::error::Result;
use crate::ids::{BoardId, PostId, ThreadId};
use crate::model::{Moderation, Post, Publication};

use super::backend;

/// What the index needs of a post.
type Indexed = (PostId, i32, String, String, String, String, String);

fn indexed_columns() -> (
    posts::id,
    posts::position,
    posts::source,
    posts::state,
    posts::moderation,
    threads::title,
    boards::language,
) {
    (
        posts::id,
        posts::position,
        posts::source,
        posts::state,
        posts::moderation,
        threads::title,
        boards::language,
    )
}

/// The plain text a post is found by: its source rendered and stripped of markup (never HTML).
pub fn plain_text(source: &str) -> String {
    hearth_markdown::plain_text_excerpt(source, usize::MAX)
}

fn apply(conn: &mut DbConn, row: &Indexed) -> Result<bool> {
    let (id, position, source, state, moderation, title, language) = row;
    let findable =
        state == Publication::Published.as_str() && moderation == Moderation::Visible.as_str();
    let body = findable.then(|| plain_text(source));
    put_or_forget(conn, *id, *position, title, body.as_deref(), language)?;
    Ok(findable)
}

/// The post's row in, with the thread's title if it opens the thread, or out (`body` `None`).
fn put_or_forget(
    conn: &mut DbConn,
    id: PostId,
    position: i32,
    title: &str,
    body: Option<&str>,
    language: &str,
) -> Result<()> {
    match body {
        Some(body) => {
            let title = if position == 1 { title } else { "" };
            backend::put(conn, id, title, body, language)
        }
        None => backend::forget(conn, id),
    }
}

/// A post just written by `publish`, inside its transaction, from what the writer holds: the
/// post as stored, its thread's title and board's language as claimed under the lock, and its
/// [`plain_text`] made before the lock: [`sync_post`]'s join and rendering were ~3% of the
/// write lock's time a reply (docs/performance.md, "Seventeenth session").
pub(crate) fn sync_written(
    conn: &mut DbConn,
    post: &Post,
    title: &str,
    plain: &str,
    language: &str,
) -> Result<()> {
    let findable = post.state == Publication::Published && post.moderation == Moderation::Visible;
    put_or_forget(
        conn,
        post.id,
        post.position,
        title,
        findable.then_some(plain),
        language,
    )
}

/// Brings one post's index row in line with the post as stored now (inside the caller's
/// transaction): its text in, or out if it is not visible and published (or gone).
pub fn sync_post(conn: &mut DbConn, post: PostId) -> Result<()> {
    let row: Option<Indexed> = posts::table
        .inner_join(threads::table.inner_join(boards::table))
        .filter(posts::id.eq(post))
        .select(indexed_columns())
        .first(conn)
        .optional()?;
    match row {
        Some(row) => apply(conn, &row).map(|_| ()),
        None => backend::forget(conn, post),
    }
}

/// Takes a post out of the index whatever its state (for code that is about to purge its
/// text; [`sync_post`] after the change does the same).
pub fn forget_post(conn: &mut DbConn, post: PostId) -> Result<()> {
    backend::forget(conn, post)
}

/// Every post of a thread again: after a move (on PostgreSQL the new group's language may
/// parse its words differently).
pub fn sync_thread(conn: &mut DbConn, thread: ThreadId) -> Result<()> {
    let rows: Vec<Indexed> = posts::table
        .inner_join(threads::table.inner_join(boards::table))
        .filter(posts::thread_id.eq(thread))
        .select(indexed_columns())
        .load(conn)?;
    apply_all(conn, &rows)
}

fn apply_all(conn: &mut DbConn, rows: &[Indexed]) -> Result<()> {
    for row in rows {
        apply(conn, row)?;
    }
    Ok(())
}

/// Every post of a group again: after its language changed (on PostgreSQL the words of its
/// posts are parsed in the language's text configuration). One statement for the group's
/// posts, each row then as [`sync_post`] would do it.
pub fn sync_board(conn: &mut DbConn, board: BoardId) -> Result<()> {
    let rows: Vec<Indexed> = posts::table
        .inner_join(threads::table.inner_join(boards::table))
        .filter(threads::board_id.eq(board))
        .select(indexed_columns())
        .load(conn)?;
    apply_all(conn, &rows)
}

/// What a rebuild did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Posts looked at.
    pub posts: u64,
    /// Of those, posts in the index (visible and published).
    pub indexed: u64,
    /// The highest post id done: the next batch starts after it.
    pub through: i64,
}

/// How many posts there are to look at (for a progress bar).
pub fn posts_to_index(conn: &mut DbConn) -> Result<u64> {
    let n: i64 = posts::table.count().get_result(conn)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One batch of a rebuild: the next `batch` posts after `done.through`, in a short write
/// transaction of their own, so the server goes on writing between batches (and a post written
/// meanwhile is indexed by its own write path). Returns `None` when no posts are left.
pub fn rebuild_batch(conn: &mut DbConn, done: Rebuilt, batch: i64) -> Result<Option<Rebuilt>> {
    // Not `write_tx`: search rows change no page a visitor is kept (`db::seen_commits`).
    write_tx_unseen(conn, |conn| {
        let rows: Vec<Indexed> = posts::table
            .inner_join(threads::table.inner_join(boards::table))
            .filter(posts::id.gt(PostId(done.through)))
            .order(posts::id.asc())
            .limit(batch)
            .select(indexed_columns())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        let mut next = Rebuilt {
            through: last.0 .0,
            ..done
        };
        for row in &rows {
            next.posts += 1;
            if apply(conn, row)? {
                next.indexed += 1;
            }
        }
        Ok(Some(next))
    })
}

/// After a rebuild: SQLite merges the index's segments (faster searches afterwards).
pub fn finish_rebuild(conn: &mut DbConn) -> Result<()> {
    write_tx_unseen(conn, backend::optimize)
}
