//! Full-text search of posts: [`search`] for `/search`, the index kept by each write path
//! (`index`), the backend SQL in one file (`backend`), words and snippets (`text`).
//!
//! What a reader finds is what the policy lets them read: the groups they may read
//! (`Action::SearchBoard`, ruled as `ReadBoard`), visible published posts of visible published
//! threads only (filtered in SQL and again by `Action::FindPost`, ruled as `ReadPost`, on every
//! hit), never a private conversation (its messages are not in the index), and no post of a
//! member they muted unless they ask.
//! Nothing is counted for the reader: "more results" is all a page says.

mod backend;
pub mod index;
pub mod text;

#[cfg(test)]
mod tests;

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accounts::{throttle, tokens};
use crate::db::schema::{boards as boards_table, members, posts, threads};
use crate::db::{per_connection, write_tx_counter, write_tx_unseen, Cached, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::ids::{BoardId, MemberId, PostId, ThreadId};
use crate::model::{BoardRef, Moderation, Post, Publication, Thread};
use crate::policy::{self, Action, Actor};

pub use backend::config_for;
pub(crate) use index::sync_written;
pub use index::{forget_post, sync_board, sync_post, sync_thread};
pub use text::Piece;

/// Hits on one page.
pub const HITS_PER_PAGE: i64 = 20;

/// The operator's limits on searching (`[search]` in the settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SearchLimits {
    /// Searches a member may run in a minute.
    pub per_minute: i64,
    /// Searches one visitor's address may run in a minute.
    pub visitor_per_minute: i64,
    /// The longest query, in characters.
    pub max_query_chars: usize,
    /// The most words (those of phrases included) a query may have.
    pub max_terms: usize,
    /// Relevance ranks the newest this many matches (bounds a common word's cost).
    pub ranked_matches: i64,
    /// The deepest page.
    pub max_pages: i64,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            per_minute: 30,
            visitor_per_minute: 10,
            max_query_chars: 200,
            max_terms: 8,
            ranked_matches: 2000,
            max_pages: 50,
        }
    }
}

/// Who is searching, for the limit: a member, or a visitor's address.
#[derive(Debug, Clone)]
pub enum Searcher {
    Member(MemberId),
    Visitor(std::net::IpAddr),
}

/// How hits are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
}

/// What the search form sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SearchQuery {
    pub q: String,
    /// A group's slug ("search this group").
    pub group: String,
    /// An author's username.
    pub author: String,
    /// The first day, `YYYY-MM-DD`, in UTC.
    pub from: String,
    /// The last day, `YYYY-MM-DD`, in UTC (included).
    pub to: String,
    /// "In this thread".
    pub thread: Option<i64>,
    pub sort: Sort,
    /// Include the posts of members the reader muted.
    pub muted: bool,
    /// 1-based.
    pub page: Option<i64>,
}

impl SearchQuery {
    /// Whether the form asked for anything (a page without words shows the form only).
    pub fn is_empty(&self) -> bool {
        self.q.trim().is_empty()
    }
}

/// One post found, as the reader may see it.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub post_id: PostId,
    pub thread_id: ThreadId,
    /// The thread's title as pieces, the words that match marked.
    pub title: Vec<Piece>,
    pub position: i32,
    pub group_slug: String,
    pub group_name: String,
    pub author_username: String,
    pub author_display_name: String,
    pub created_at: NaiveDateTime,
    /// The post's plain text around the first match, matched words marked.
    pub snippet: Vec<Piece>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    pub hits: Vec<Hit>,
    pub page: i64,
    pub has_more: bool,
    /// The groups the reader may search, for the form (read once with the search's own).
    pub groups: Vec<GroupChoice>,
}

/// The groups a reader may search, for the form's group filter: those the policy lets them read.
#[derive(Debug, Clone, Serialize)]
pub struct GroupChoice {
    pub slug: String,
    pub name: String,
}

pub fn groups_for(conn: &mut DbConn, actor: &Actor) -> Result<Vec<GroupChoice>> {
    Ok(readable_boards(conn, actor)?
        .into_iter()
        .map(|b| GroupChoice {
            slug: b.slug,
            name: b.name,
        })
        .collect())
}

/// The boards `actor` may search, read as [`BoardRef`]s (the few columns search uses).
fn readable_boards(conn: &mut DbConn, actor: &Actor) -> Result<Vec<BoardRef>> {
    let boards: Vec<BoardRef> = per_connection!(conn, |c| boards_table::table
        .order((boards_table::position.asc(), boards_table::name.asc()))
        .select(BoardRef::as_select())
        .load(c))?;
    Ok(boards
        .into_iter()
        .filter(|b| policy::allows(actor, Action::SearchBoard(b)))
        .collect())
}

/// The checks that cost nothing: the query's length and number of terms, the dates.
fn check(limits: &SearchLimits, query: &SearchQuery) -> Result<(text::Terms, Window)> {
    let mut invalid = Invalid::default();
    let q = query.q.trim();
    let terms = text::Terms::parse(q);
    if q.chars().count() > limits.max_query_chars {
        invalid.add(
            "q",
            format!(
                "a search can be at most {} characters long",
                limits.max_query_chars
            ),
        );
    } else if terms.count() > limits.max_terms {
        invalid.add(
            "q",
            format!("a search can have at most {} words", limits.max_terms),
        );
    } else if terms.is_empty() {
        invalid.add("q", "type a word to search for");
    }
    let day = |text: &str, field: &'static str, invalid: &mut Invalid| {
        if text.trim().is_empty() {
            return None;
        }
        let parsed = crate::clock::parse_date(text);
        if parsed.is_none() {
            invalid.add(
                field,
                "give a date as year-month-day, for example 2026-03-01",
            );
        }
        parsed.map(|d| d.and_time(chrono::NaiveTime::MIN))
    };
    let from = day(&query.from, "from", &mut invalid);
    let until = day(&query.to, "to", &mut invalid).map(|d| d + TimeDelta::days(1));
    if let (Some(f), Some(u)) = (from, until) {
        if u <= f {
            invalid.add("to", "the last day comes before the first");
        }
    }
    invalid.into_result()?;
    Ok((terms, Window { from, until }))
}

#[derive(Debug)]
struct Window {
    from: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
}

/// Counts the search against the searcher's limit for this minute, in the database (so it
/// holds across processes), before any search runs. A visitor is counted by a keyed hash of
/// their address, never the address itself.
fn count(
    conn: &mut DbConn,
    limits: &SearchLimits,
    searcher: &Searcher,
    now: NaiveDateTime,
) -> Result<()> {
    let (subject, limit) = match searcher {
        Searcher::Member(id) => (format!("m{}", id.0), limits.per_minute),
        Searcher::Visitor(address) => {
            // As sign-in throttling counts addresses: an IPv6 visitor by their /64.
            let secret = tokens::site_secret(conn, "search")?;
            let key = throttle::hash_key(&secret, &throttle::network_of(*address));
            (format!("v{key}"), limits.visitor_per_minute)
        }
    };
    let window = now
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    // A count, not a record: it need not wait for the disk (see `write_tx_counter`).
    let searches = write_tx_counter(conn, |conn| backend::count_search(conn, &subject, window))?;
    if searches > limit {
        let retry_after_seconds = 60 - i64::from(now.second());
        return Err(Error::RateLimited {
            retry_after_seconds,
            reason: "that is a lot of searches in a minute; wait a moment and search again"
                .to_owned(),
        });
    }
    Ok(())
}

/// Old search counts go (called hourly).
pub fn purge_counts(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize> {
    write_tx_unseen(conn, |conn| {
        backend::purge_counts(conn, now - TimeDelta::minutes(10))
    })
}

/// A search that passed its checks and was counted against the searcher's limit: what
/// [`find`] needs, and only [`admit`] makes one.
#[derive(Debug)]
pub struct Admitted {
    terms: text::Terms,
    window: Window,
    page: i64,
}

/// Checks the query (cheap) and counts it against the searcher's limit: a short write of its
/// own, so the search itself is a read ([`find`]) that waits for no writer.
pub fn admit(
    conn: &mut DbConn,
    limits: &SearchLimits,
    searcher: &Searcher,
    query: &SearchQuery,
) -> Result<Admitted> {
    let (terms, window) = check(limits, query)?;
    let page = query.page.unwrap_or(1).clamp(1, limits.max_pages.max(1));
    count(conn, limits, searcher, crate::clock::now())?;
    Ok(Admitted {
        terms,
        window,
        page,
    })
}

/// [`admit`] and [`find`] on one connection.
pub fn search(
    conn: &mut DbConn,
    actor: &Actor,
    searcher: &Searcher,
    limits: &SearchLimits,
    query: &SearchQuery,
) -> Result<SearchPage> {
    let admitted = admit(conn, limits, searcher, query)?;
    find(conn, actor, limits, query, &admitted)
}

/// Searches the posts `actor` may read: decides the groups through the policy and runs one
/// statement, then reads the hits again through the policy. Reads only.
pub fn find(
    conn: &mut DbConn,
    actor: &Actor,
    limits: &SearchLimits,
    query: &SearchQuery,
    admitted: &Admitted,
) -> Result<SearchPage> {
    let Admitted {
        terms,
        window,
        page,
    } = admitted;
    let page = *page;
    let mut boards = readable_boards(conn, actor)?;
    let groups: Vec<GroupChoice> = boards
        .iter()
        .map(|b| GroupChoice {
            slug: b.slug.clone(),
            name: b.name.clone(),
        })
        .collect();
    let empty = SearchPage {
        hits: Vec::new(),
        page,
        has_more: false,
        groups,
    };
    if !query.group.trim().is_empty() {
        // A group the reader may not read is exactly a group that does not exist: nothing.
        boards.retain(|b| b.slug == query.group.trim());
    }
    if boards.is_empty() {
        return Ok(empty);
    }
    let author = if query.author.trim().is_empty() {
        None
    } else {
        let name = query.author.trim().trim_start_matches('@');
        match crate::accounts::members::by_username(conn, name) {
            Ok(member) => Some(member.id),
            Err(Error::NotFound) => return Ok(empty),
            Err(e) => return Err(e),
        }
    };
    let board_ids: Vec<BoardId> = boards.iter().map(|b| b.id).collect();
    let mut configs: Vec<&'static str> = boards.iter().map(|b| config_for(&b.language)).collect();
    configs.sort_unstable();
    configs.dedup();
    let order = match query.sort {
        Sort::Relevance => backend::Order::Relevance {
            candidates: limits.ranked_matches,
        },
        Sort::Newest => backend::Order::Newest,
    };
    let muted_by = match actor.member() {
        Some(member) if !query.muted => Some(member.id),
        _ => None,
    };
    let plan = backend::Plan {
        terms,
        boards: &board_ids,
        configs: &configs,
        author,
        thread: query.thread.map(ThreadId),
        from: window.from,
        until: window.until,
        muted_by,
        order,
        limit: HITS_PER_PAGE + 1,
        offset: (page - 1) * HITS_PER_PAGE,
    };
    let mut ids = backend::find(conn, &plan)?;
    let has_more = ids.len() as i64 > HITS_PER_PAGE;
    ids.truncate(HITS_PER_PAGE as usize);
    let hits = hits_for(conn, actor, &boards, &ids, &terms.stems())?;
    Ok(SearchPage {
        hits,
        has_more,
        ..empty
    })
}

/// The hits, in the order found, each read again and decided by the policy (`FindPost`) with
/// its board among `boards` (those the reader may search).
fn hits_for(
    conn: &mut DbConn,
    actor: &Actor,
    boards: &[BoardRef],
    ids: &[PostId],
    stems: &[String],
) -> Result<Vec<Hit>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Cached by its text: on SQLite one statement for each number of hits (a page's at most:
    // `find` cut them), on PostgreSQL one (`= ANY`).
    let rows: Vec<(Post, Thread, String, String)> = per_connection!(conn, |c| Cached(
        posts::table
            .inner_join(threads::table)
            .inner_join(members::table)
            .filter(posts::id.eq_any(ids))
            .select((
                Post::as_select(),
                Thread::as_select(),
                members::username,
                members::display_name,
            ))
    )
    .load(c))?;
    let mut hits = Vec::with_capacity(rows.len());
    for id in ids {
        let Some((post, thread, username, display_name)) = rows.iter().find(|r| r.0.id == *id)
        else {
            continue;
        };
        // A board the reader may not search has no hits, whatever the index held.
        let Some(board) = boards.iter().find(|b| b.id == thread.board_id) else {
            continue;
        };
        // What the index should hold only, checked again: a path that forgot the index
        // leaves a post findable by no one, moderators included.
        let findable = post.state == Publication::Published
            && post.moderation == Moderation::Visible
            && thread.state == Publication::Published
            && thread.moderation == Moderation::Visible;
        if !findable || !policy::allows(actor, Action::FindPost(board, thread, post)) {
            continue;
        }
        hits.push(Hit {
            post_id: post.id,
            thread_id: thread.id,
            title: text::marked(&thread.title, stems),
            position: post.position,
            group_slug: board.slug.clone(),
            group_name: board.name.clone(),
            author_username: username.clone(),
            author_display_name: display_name.clone(),
            created_at: post.created_at,
            // From the stored, sanitized HTML: one pass, not the Markdown rendered again.
            snippet: text::snippet(&hearth_markdown::text_of_html(&post.html), stems),
        });
    }
    Ok(hits)
}

/// Whether a post is in the index now (for tests of the write paths).
pub fn is_indexed(conn: &mut DbConn, post: PostId) -> Result<bool> {
    backend::is_indexed(conn, post)
}
