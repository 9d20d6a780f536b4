//! The one place that knows how each backend searches: SQLite's FTS5 table `post_search`
//! (bm25, the title weighted above the body) and PostgreSQL's `post_search.document` tsvector
//! with its GIN index (`ts_rank`, the title as weight A, the text configuration of the group's
//! language). Everything else in `search` is the same on both.
//!
//! Ranking by relevance ranks the newest `candidates` matches, not every match: bm25 over the
//! 700,000 posts a common word finds in the 1M-post benchmark took 0.6 s, the newest 2,000 of
//! them 12 ms (`docs/performance.md`, "Seventh session").

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{BoardId, MemberId, PostId, ThreadId};

use super::text::Terms;

/// The text search configuration PostgreSQL has for a group's language code ("en", "fr-CA"),
/// `simple` (no stemming) for any other.
pub fn config_for(language: &str) -> &'static str {
    let code = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match code.as_str() {
        "en" => "english",
        "fr" => "french",
        "de" => "german",
        "es" => "spanish",
        "it" => "italian",
        "nl" => "dutch",
        "pt" => "portuguese",
        "sv" => "swedish",
        "da" => "danish",
        "fi" => "finnish",
        "no" | "nb" | "nn" => "norwegian",
        "ru" => "russian",
        "hu" => "hungarian",
        "ro" => "romanian",
        "tr" => "turkish",
        "ar" => "arabic",
        "el" => "greek",
        "id" => "indonesian",
        "ga" => "irish",
        "lt" => "lithuanian",
        "ne" => "nepali",
        "ta" => "tamil",
        _ => "simple",
    }
}

/// Puts a post in the index (or replaces its row): `title` is its thread's for an opening
/// post and empty otherwise, `body` its plain text.
pub fn put(conn: &mut DbConn, post: PostId, title: &str, body: &str, language: &str) -> Result<()> {
    match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query(
                "INSERT OR REPLACE INTO post_search (rowid, title, body) VALUES (?, ?, ?)",
            )
            .bind::<BigInt, _>(post.0)
            .bind::<Text, _>(title)
            .bind::<Text, _>(body)
            .execute(c)?;
        }
        DbConn::Pg(c) => {
            diesel::sql_query(
                "INSERT INTO post_search (post_id, document) VALUES ($1, \
                 setweight(to_tsvector(CAST($2 AS regconfig), $3), 'A') || \
                 setweight(to_tsvector(CAST($2 AS regconfig), $4), 'B')) \
                 ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document",
            )
            .bind::<BigInt, _>(post.0)
            .bind::<Text, _>(config_for(language))
            .bind::<Text, _>(title)
            .bind::<Text, _>(body)
            .execute(c)?;
        }
    }
    Ok(())
}

/// Takes a post out of the index (nothing if it is not there).
pub fn forget(conn: &mut DbConn, post: PostId) -> Result<()> {
    match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query("DELETE FROM post_search WHERE rowid = ?")
                .bind::<BigInt, _>(post.0)
                .execute(c)?;
        }
        DbConn::Pg(c) => {
            diesel::sql_query("DELETE FROM post_search WHERE post_id = $1")
                .bind::<BigInt, _>(post.0)
                .execute(c)?;
        }
    }
    Ok(())
}

/// Whether a post has a row in the index (for tests and `hearth reindex`'s summary).
pub fn is_indexed(conn: &mut DbConn, post: PostId) -> Result<bool> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let count: Count = match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query("SELECT COUNT(*) AS n FROM post_search WHERE rowid = ?")
                .bind::<BigInt, _>(post.0)
                .get_result(c)?
        }
        DbConn::Pg(c) => {
            diesel::sql_query("SELECT COUNT(*) AS n FROM post_search WHERE post_id = $1")
                .bind::<BigInt, _>(post.0)
                .get_result(c)?
        }
    };
    Ok(count.n > 0)
}

/// SQLite merges the index's segments into one (after a rebuild); PostgreSQL's GIN index
/// needs nothing.
pub fn optimize(conn: &mut DbConn) -> Result<()> {
    if let DbConn::Sqlite(c) = conn {
        diesel::sql_query("INSERT INTO post_search (post_search) VALUES ('optimize')")
            .execute(c)?;
    }
    Ok(())
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Best first, among the newest `candidates` matches.
    Relevance {
        candidates: i64,
    },
    Newest,
}

/// One search as SQL sees it: what the core decided the reader may see, and their filters.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub terms: &'a Terms,
    /// The groups the reader may read (decided by the policy); never empty.
    pub boards: &'a [BoardId],
    /// The text search configurations of those groups (PostgreSQL).
    pub configs: &'a [&'static str],
    pub author: Option<MemberId>,
    pub thread: Option<ThreadId>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Leave out the posts of the members this member muted.
    pub muted_by: Option<MemberId>,
    pub order: Order,
    pub limit: i64,
    pub offset: i64,
}

enum Bind {
    Int(i64),
    Text(String),
    Time(NaiveDateTime),
}

/// A statement with its values, with placeholders for either backend.
struct Sql {
    text: String,
    binds: Vec<Bind>,
    postgres: bool,
}

impl Sql {
    fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Sql {
        self.binds.push(value);
        if self.postgres {
            let n = self.binds.len();
            self.text.push_str(&format!("${n}"));
        } else {
            self.text.push('?');
        }
        self
    }
}

/// The FTS5 query: every word and every phrase, each a quoted string (so nothing a person
/// types is FTS5 syntax), all required.
fn fts5_match(terms: &Terms) -> String {
    let quote = |words: &[String]| format!("\"{}\"", words.join(" ").replace('"', "\"\""));
    terms
        .words
        .iter()
        .map(|w| quote(std::slice::from_ref(w)))
        .chain(terms.phrases.iter().map(|p| quote(p)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tsquery, in each configuration: all words (`plainto_tsquery`) and each phrase
/// (`phraseto_tsquery`), any configuration matching.
fn push_tsquery(sql: &mut Sql, plan: &Plan<'_>) {
    sql.push("(");
    for (i, config) in plan.configs.iter().enumerate() {
        if i > 0 {
            sql.push(" || ");
        }
        sql.push("(");
        let mut first = true;
        if !plan.terms.words.is_empty() {
            sql.push("plainto_tsquery(CAST(")
                .bind(Bind::Text((*config).to_owned()))
                .push(" AS regconfig), ")
                .bind(Bind::Text(plan.terms.words.join(" ")))
                .push(")");
            first = false;
        }
        for phrase in &plan.terms.phrases {
            if !first {
                sql.push(" && ");
            }
            sql.push("phraseto_tsquery(CAST(")
                .bind(Bind::Text((*config).to_owned()))
                .push(" AS regconfig), ")
                .bind(Bind::Text(phrase.join(" ")))
                .push(")");
            first = false;
        }
        sql.push(")");
    }
    sql.push(")");
}

/// The filters every search has: visible, published posts of visible, published threads in
/// the reader's groups, and the reader's own filters.
fn push_filters(sql: &mut Sql, plan: &Plan<'_>) {
    sql.push(
        " AND p.state = 'published' AND p.moderation = 'visible' \
         AND t.state = 'published' AND t.moderation = 'visible' AND t.board_id IN (",
    );
    for (i, board) in plan.boards.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Bind::Int(board.0));
    }
    sql.push(")");
    if let Some(author) = plan.author {
        sql.push(" AND p.author_id = ").bind(Bind::Int(author.0));
    }
    if let Some(thread) = plan.thread {
        sql.push(" AND p.thread_id = ").bind(Bind::Int(thread.0));
    }
    if let Some(from) = plan.from {
        sql.push(" AND p.created_at >= ").bind(Bind::Time(from));
    }
    if let Some(until) = plan.until {
        sql.push(" AND p.created_at < ").bind(Bind::Time(until));
    }
    if let Some(member) = plan.muted_by {
        sql.push(" AND p.author_id NOT IN (SELECT muted_id FROM mutes WHERE member_id = ")
            .bind(Bind::Int(member.0))
            .push(")");
    }
}

fn statement(plan: &Plan<'_>, postgres: bool) -> Sql {
    let mut sql = Sql {
        text: String::new(),
        binds: Vec::new(),
        postgres,
    };
    let ranked = matches!(plan.order, Order::Relevance { .. });
    if ranked {
        sql.push("SELECT id FROM (");
    }
    if postgres {
        sql.push("SELECT p.id AS id");
        if ranked {
            sql.push(", ts_rank(s.document, q.query) AS score");
        }
        sql.push(" FROM (SELECT ");
        push_tsquery(&mut sql, plan);
        sql.push(
            " AS query) q, post_search s JOIN posts p ON p.id = s.post_id \
             JOIN threads t ON t.id = p.thread_id WHERE s.document @@ q.query",
        );
        push_filters(&mut sql, plan);
        sql.push(" ORDER BY p.id DESC");
    } else {
        sql.push("SELECT p.id AS id");
        if ranked {
            sql.push(", bm25(post_search, 4.0, 1.0) AS score");
        }
        sql.push(
            " FROM post_search JOIN posts p ON p.id = post_search.rowid \
             JOIN threads t ON t.id = p.thread_id WHERE post_search MATCH ",
        )
        .bind(Bind::Text(fts5_match(plan.terms)));
        push_filters(&mut sql, plan);
        sql.push(" ORDER BY post_search.rowid DESC");
    }
    match plan.order {
        Order::Relevance { candidates } => {
            sql.push(" LIMIT ").bind(Bind::Int(candidates));
            // bm25 is lower for better matches; ts_rank higher.
            let order = if postgres { "score DESC" } else { "score" };
            sql.push(&format!(") c ORDER BY {order}, id DESC LIMIT "));
        }
        Order::Newest => {
            sql.push(" LIMIT ");
        }
    }
    sql.bind(Bind::Int(plan.limit))
        .push(" OFFSET ")
        .bind(Bind::Int(plan.offset));
    sql
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

macro_rules! run {
    ($conn:expr, $sql:expr, $backend:ty) => {{
        let mut query = diesel::sql_query($sql.text).into_boxed::<$backend>();
        for bind in $sql.binds {
            query = match bind {
                Bind::Int(v) => query.bind::<BigInt, _>(v),
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::Time(v) => query.bind::<Timestamp, _>(v),
            };
        }
        query.load::<Found>($conn)?
    }};
}

/// The posts that match, in order, `plan.limit` at most.
pub fn find(conn: &mut DbConn, plan: &Plan<'_>) -> Result<Vec<PostId>> {
    let found = match conn {
        DbConn::Sqlite(c) => run!(c, statement(plan, false), diesel::sqlite::Sqlite),
        DbConn::Pg(c) => run!(c, statement(plan, true), diesel::pg::Pg),
    };
    Ok(found.into_iter().map(|f| PostId(f.id)).collect())
}

/// Counts one search of `subject` in the minute starting at `window`; returns the count.
pub fn count_search(conn: &mut DbConn, subject: &str, window: NaiveDateTime) -> Result<i64> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(sql_type = BigInt)]
        searches: i64,
    }
    let text = |p: [&str; 3]| {
        format!(
            "INSERT INTO search_counts (subject, window_start, searches) VALUES ({}, {}, 1) \
             ON CONFLICT (subject, window_start) DO UPDATE SET searches = search_counts.searches + 1 \
             RETURNING CAST(searches AS BIGINT) AS searches",
            p[0], p[1]
        )
    };
    let counted: Counted = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(text(["?", "?", ""]))
            .bind::<Text, _>(subject)
            .bind::<Timestamp, _>(window)
            .get_result(c)?,
        DbConn::Pg(c) => diesel::sql_query(text(["$1", "$2", ""]))
            .bind::<Text, _>(subject)
            .bind::<Timestamp, _>(window)
            .get_result(c)?,
    };
    Ok(counted.searches)
}

/// Deletes counts of minutes before `before`.
pub fn purge_counts(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize> {
    Ok(match conn {
        DbConn::Sqlite(c) => diesel::sql_query("DELETE FROM search_counts WHERE window_start < ?")
            .bind::<Timestamp, _>(before)
            .execute(c)?,
        DbConn::Pg(c) => diesel::sql_query("DELETE FROM search_counts WHERE window_start < $1")
            .bind::<Timestamp, _>(before)
            .execute(c)?,
    })
}
