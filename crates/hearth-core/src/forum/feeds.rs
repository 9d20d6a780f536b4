//! What the Atom feeds of a public group and a public thread carry: exactly what a visitor
//! may read there, decided by the policy for a visitor, so a members-only or private group,
//! a hidden or awaiting post and a deleted one are never in a feed (a feed reader cannot sign
//! in, and a feed address is easily shared). The web crate writes the XML.

use diesel::prelude::*;

use crate::db::schema::{members, posts, threads};
use crate::db::DbConn;
use crate::error::Result;
use crate::forum::{boards, threads as thread_ops};
use crate::ids::ThreadId;
use crate::model::{AuthorRef, Board, Moderation, Post, Publication, Thread};
use crate::policy::{self, Action, Actor};

/// Entries in one feed: the newest.
pub const FEED_ENTRIES: i64 = 20;

/// One entry: a post with its thread and author.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub thread: Thread,
    pub post: Post,
    pub author: AuthorRef,
}

/// A feed: where it is from and its newest entries, newest first.
#[derive(Debug, Clone)]
pub struct Feed {
    pub board: Board,
    /// `None` for a group's feed.
    pub thread: Option<Thread>,
    pub entries: Vec<FeedEntry>,
}

/// The newest threads of a group a visitor may read, each as its opening post. Not found for
/// any other group.
pub fn group_feed(conn: &mut DbConn, slug: &str) -> Result<Feed> {
    let board = boards::by_slug_for(conn, &Actor::Visitor, slug)?;
    let rows: Vec<(Thread, Post, AuthorRef)> = threads::table
        .inner_join(posts::table.on(posts::thread_id.eq(threads::id).and(posts::position.eq(1))))
        .inner_join(members::table.on(members::id.eq(posts::author_id)))
        .filter(threads::board_id.eq(board.id))
        .filter(threads::state.eq(Publication::Published.as_str()))
        .filter(threads::moderation.eq(Moderation::Visible.as_str()))
        .order((threads::created_at.desc(), threads::id.desc()))
        .limit(FEED_ENTRIES)
        .select((
            Thread::as_select(),
            Post::as_select(),
            AuthorRef::as_select(),
        ))
        .load(conn)?;
    let entries = readable(&board, rows);
    Ok(Feed {
        board,
        thread: None,
        entries,
    })
}

/// The newest posts of a thread a visitor may read. Not found for any other thread.
pub fn thread_feed(conn: &mut DbConn, id: ThreadId) -> Result<Feed> {
    let (board, thread) = thread_ops::by_id_for(conn, &Actor::Visitor, id)?;
    let rows: Vec<(Post, AuthorRef)> = posts::table
        .inner_join(members::table.on(members::id.eq(posts::author_id)))
        .filter(posts::thread_id.eq(thread.id))
        .filter(posts::state.eq(Publication::Published.as_str()))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()))
        .order(posts::position.desc())
        .limit(FEED_ENTRIES)
        .select((Post::as_select(), AuthorRef::as_select()))
        .load(conn)?;
    let rows = rows
        .into_iter()
        .map(|(post, author)| (thread.clone(), post, author))
        .collect();
    let entries = readable(&board, rows);
    Ok(Feed {
        board,
        thread: Some(thread),
        entries,
    })
}

/// The rows a visitor may read, as entries: the queries narrow, the policy decides.
fn readable(board: &Board, rows: Vec<(Thread, Post, AuthorRef)>) -> Vec<FeedEntry> {
    rows.into_iter()
        .filter(|(thread, post, _)| {
            policy::allows(&Actor::Visitor, Action::ReadThread(board, thread))
                && policy::allows(&Actor::Visitor, Action::ReadPost(board, thread, post))
        })
        .map(|(thread, post, author)| FeedEntry {
            thread,
            post,
            author,
        })
        .collect()
}

#[cfg(test)]
mod tests;
