//! The unanswered lane: first posts no one else has answered yet, oldest first, in the groups
//! the viewer moderates, so no one waits unheard.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

use super::figures::{first_post_from, replies_by_others};
use super::{scope_for, wait_in_words, GroupRef};
use crate::accounts::members;
use crate::db::{per_connection, DbConn};
use crate::error::Result;
use crate::ids::{BoardId, MemberId, ThreadId};
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

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    thread_id: ThreadId,
    #[diesel(sql_type = BigInt)]
    board_id: BoardId,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    author_id: MemberId,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
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
    let listing = diesel::sql_query(format!(
        "SELECT t.id AS thread_id, t.board_id AS board_id, t.slug AS slug, t.title AS title, \
         p.author_id AS author_id, p.created_at AS created_at {from} \
         AND NOT EXISTS (SELECT 1 {replies}) AND p.created_at <= $2 \
         ORDER BY p.created_at, t.id",
        from = first_post_from(Some(&scope.ids())),
        replies = replies_by_others(),
    ))
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(now);
    let waiting = per_connection!(conn, |c| listing.load::<Row>(c))?;
    let n_posts = waiting.len() as i64;
    let n_pages = ((n_posts + POSTS_PER_PAGE - 1) / POSTS_PER_PAGE).max(1);
    let page = page.clamp(1, n_pages);
    let rows: Vec<Row> = waiting
        .into_iter()
        .skip(usize::try_from((page - 1) * POSTS_PER_PAGE).unwrap_or(usize::MAX))
        .take(usize::try_from(POSTS_PER_PAGE).unwrap_or(usize::MAX))
        .collect();
    let author_ids: Vec<MemberId> = rows.iter().map(|r| r.author_id).collect();
    let authors = members::authors_by_ids(conn, &author_ids)?;
    let posts = rows
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
        .collect();
    Ok(UnansweredPage {
        posts,
        n_posts,
        page,
        n_pages,
    })
}
