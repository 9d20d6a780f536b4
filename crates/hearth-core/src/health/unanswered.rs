//! The unanswered lane: first posts no one else has answered yet, oldest first, in the groups
//! the viewer moderates, so no one waits unheard.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::first_posts::{self, WaitingPost};
use super::{scope_for, wait_in_words, GroupRef, Scope};
use crate::accounts::members;
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{MemberId, ThreadId};
use crate::model::AuthorRef;
use crate::policy::MemberActor;

/// First posts on one page of the lane.
pub const POSTS_PER_PAGE: i64 = 50;

/// One first post waiting for a reply.
#[derive(Debug, Clone, Serialize)]
pub struct UnansweredPost {
    pub thread_id: ThreadId,
    pub thread_slug: String,
    pub title: String,
    pub group: GroupRef,
    /// `None` for a former member.
    pub author: Option<AuthorRef>,
    pub created_at: NaiveDateTime,
    pub waited_seconds: i64,
    pub waited_words: String,
}

/// One page of the lane.
#[derive(Debug, Clone, Serialize)]
pub struct UnansweredPage {
    pub posts: Vec<UnansweredPost>,
    /// Every first post waiting in the viewer's groups, on every page.
    pub n_posts: i64,
    /// Between 1 and `n_pages`, whatever was asked for.
    pub page: i64,
    pub n_pages: i64,
}

/// Page `page` of the first posts waiting at `now` in the groups `member` moderates, oldest
/// first (then by thread, so every post is on one page). Not found for someone who moderates
/// nothing.
pub fn unanswered(
    conn: &mut DbConn,
    member: &MemberActor,
    page: i64,
    now: NaiveDateTime,
) -> Result<UnansweredPage> {
    let scope = scope_for(conn, member)?;
    // One pass over the groups' first posts: the waiting ones are few (a community answers
    // most), so they are all fetched, counted and paged here, rather than a count and a page
    // each running the NOT EXISTS over every thread.
    let waiting = first_posts::waiting(conn, Some(&scope.ids()), now)?;
    let n_posts = waiting.len() as i64;
    let n_pages = ((n_posts + POSTS_PER_PAGE - 1) / POSTS_PER_PAGE).max(1);
    let page = page.clamp(1, n_pages);
    let rows: Vec<WaitingPost> = waiting
        .into_iter()
        .skip(usize::try_from((page - 1) * POSTS_PER_PAGE).unwrap_or(usize::MAX))
        .take(usize::try_from(POSTS_PER_PAGE).unwrap_or(usize::MAX))
        .collect();
    Ok(UnansweredPage {
        posts: shown(conn, &scope, rows, now)?,
        n_posts,
        page,
        n_pages,
    })
}

/// The waiting first posts `rows` of groups in `scope` as pages show them: with their group,
/// their author (one statement for all) and how long they have waited at `now`.
pub(super) fn shown(
    conn: &mut DbConn,
    scope: &Scope,
    rows: Vec<WaitingPost>,
    now: NaiveDateTime,
) -> Result<Vec<UnansweredPost>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let author_ids: Vec<MemberId> = rows.iter().map(|r| r.author_id).collect();
    let authors = members::authors_by_ids(conn, &author_ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            // Every row is of a group in the scope (the query asked for no other).
            let group = scope.groups.iter().find(|g| g.id == row.board_id)?.clone();
            let waited = (now - row.created_at).num_seconds().max(0);
            Some(UnansweredPost {
                thread_id: row.thread_id,
                thread_slug: row.slug,
                title: row.title,
                group,
                author: authors.get(&row.author_id).cloned(),
                created_at: row.created_at,
                waited_seconds: waited,
                waited_words: wait_in_words(waited),
            })
        })
        .collect())
}
