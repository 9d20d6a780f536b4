//! The one place that knows how each backend searches: SQLite's FTS5 table `post_search`
//! (the title a column of its own, matched first) and PostgreSQL's `post_search.document` tsvector
//! with its GIN index (`ts_rank`, the title as weight A, the text configuration of the group's
//! language). Everything else in `search` is the same on both.
//!
//! "Best matches" on SQLite puts opening posts whose thread's title has the words first, newest
//! first, among the newest `candidates` matches, then every other match, newest first. Each
//! step reads a bounded part of the index (the window is the newest `candidates` matches' ids;
//! its title matches are read upwards from its floor; the rest of the page comes from the
//! window's other ids, and from the index below the floor only past the window): a search
//! costs what a window and a page of hits cost, however common its words, and reads the words'
//! doclists once when they have fewer matches than a window. FTS5's bm25 was not kept: its weight of a
//! word counts every row that has it, 60 ms for a word in 700,000 of the 1M benchmark posts
//! (11 ms for one in 20,000), whatever the `LIMIT` (`docs/performance.md`, "Eighth session").
//! PostgreSQL ranks the newest `candidates` by `ts_rank`, which needs no such count.

use std::fmt::Write as _;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::{Cached, DbConn};
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
            Cached(
                diesel::sql_query(
                    "INSERT OR REPLACE INTO post_search (rowid, title, body) VALUES (?, ?, ?)",
                )
                .bind::<BigInt, _>(post.0)
                .bind::<Text, _>(title)
                .bind::<Text, _>(body),
            )
            .run(c)?;
        }
        DbConn::Pg(c) => {
            Cached(
                diesel::sql_query(
                    "INSERT INTO post_search (post_id, document) VALUES ($1, \
                 setweight(to_tsvector(CAST($2 AS regconfig), $3), 'A') || \
                 setweight(to_tsvector(CAST($2 AS regconfig), $4), 'B')) \
                 ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document",
                )
                .bind::<BigInt, _>(post.0)
                .bind::<Text, _>(config_for(language))
                .bind::<Text, _>(title)
                .bind::<Text, _>(body),
            )
            .run(c)?;
        }
    }
    Ok(())
}

/// Takes a post out of the index (nothing if it is not there).
pub fn forget(conn: &mut DbConn, post: PostId) -> Result<()> {
    match conn {
        DbConn::Sqlite(c) => {
            Cached(
                diesel::sql_query("DELETE FROM post_search WHERE rowid = ?")
                    .bind::<BigInt, _>(post.0),
            )
            .run(c)?;
        }
        DbConn::Pg(c) => {
            Cached(
                diesel::sql_query("DELETE FROM post_search WHERE post_id = $1")
                    .bind::<BigInt, _>(post.0),
            )
            .run(c)?;
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
    /// A list of ids, one value, as SQLite reads it (`json_each`); PostgreSQL gets constants.
    Ints(Vec<i64>),
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
        if let (true, Bind::Int(n)) = (self.postgres, &value) {
            // A number is a constant for PostgreSQL, as the words are ([`push_tsquery`]):
            // measured, the groups bound as one array made it plan common words' searches
            // in parallel at half the rate ("Fifteenth session"); its statement text is the
            // search's own anyway, never kept prepared.
            self.text.push_str(&n.to_string());
            return self;
        }
        self.binds.push(value);
        if self.postgres {
            let n = self.binds.len();
            self.text.push_str(&format!("${n}"));
        } else {
            self.text.push('?');
        }
        self
    }

    /// `column` is one of `ids`, the list bound as one value: the statement's text is the
    /// same however many ids there are, so SQLite keeps it prepared (one statement per list
    /// length was one per slice and per reader's number of groups, each parsed and planned).
    fn one_of(&mut self, column: &str, ids: Vec<i64>) -> &mut Sql {
        self.push(" ").push(column);
        if self.postgres {
            // Constants, as every number is for PostgreSQL (see [`Sql::bind`]).
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            if list.is_empty() {
                return self.push(" IN (NULL)");
            }
            self.push(&format!(" IN ({})", list.join(", ")))
        } else {
            self.push(" IN (SELECT value FROM json_each(")
                .bind(Bind::Ints(ids))
                .push("))")
        }
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
///
/// Written into the statement as constants, not bound: PostgreSQL estimates how many rows
/// match only from a constant tsquery. With bound values it planned every search as if a word
/// were in 0.5% of the posts, and for a word in 70% of them read all 700,000 through the GIN
/// index and sorted them on disk: 1.2 s a search on the 1M benchmark posts, where walking the
/// newest posts takes 13 ms (docs/performance.md, "Fourteenth session"). The configuration is
/// one of [`config_for`]'s names; the words are [`Terms`]' (letters, digits and apostrophes
/// only), each quoted by [`pg_literal`].
fn push_tsquery(sql: &mut Sql, plan: &Plan<'_>) {
    sql.push("(");
    for (i, config) in plan.configs.iter().enumerate() {
        if i > 0 {
            sql.push(" || ");
        }
        sql.push("(");
        let mut first = true;
        if !plan.terms.words.is_empty() {
            sql.push(&format!(
                "plainto_tsquery({}::regconfig, {})",
                pg_literal(config),
                pg_literal(&plan.terms.words.join(" "))
            ));
            first = false;
        }
        for phrase in &plan.terms.phrases {
            if !first {
                sql.push(" && ");
            }
            sql.push(&format!(
                "phraseto_tsquery({}::regconfig, {})",
                pg_literal(config),
                pg_literal(&phrase.join(" "))
            ));
            first = false;
        }
        sql.push(")");
    }
    sql.push(")");
}

/// `text` as a PostgreSQL string constant: quoted, a quote doubled, and nothing kept but
/// letters, digits, spaces and apostrophes (all a search's words hold), so no backslash or
/// other character can mean anything else whatever `standard_conforming_strings` says.
fn pg_literal(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '\'' | '’'))
        .collect();
    format!("'{}'", kept.replace('\'', "''"))
}

/// The filters every search has: visible, published threads in the reader's groups, and the
/// reader's own filters. The index holds only visible, published posts (each write path keeps
/// it so), and `search::hits_for` checks each hit's post again: a post's state sits after its
/// text in the row, and reading it for each of a thousand candidates read their long texts too.
fn push_filters(sql: &mut Sql, plan: &Plan<'_>) {
    sql.push(" AND t.state = 'published' AND t.moderation = 'visible' AND");
    sql.one_of("t.board_id", plan.boards.iter().map(|b| b.0).collect());
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

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Runs a statement on SQLite, kept prepared by its text: every value is bound (the words
/// too), so there are few texts, one per combination of filters.
macro_rules! run_sqlite {
    ($conn:expr, $sql:expr) => {{
        let mut query = diesel::sql_query($sql.text).into_boxed::<diesel::sqlite::Sqlite>();
        for bind in $sql.binds {
            query = match bind {
                Bind::Int(v) => query.bind::<BigInt, _>(v),
                Bind::Ints(v) => query.bind::<Text, _>(ids_json(&v)),
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::Time(v) => query.bind::<Timestamp, _>(v),
            };
        }
        Cached(query).load::<Found>($conn)?
    }};
}

/// Runs a statement on PostgreSQL, prepared afresh: its words are constants in its text
/// ([`push_tsquery`]), a text per search, which no cache should keep.
macro_rules! run_postgres {
    ($conn:expr, $sql:expr) => {
        run_postgres!($conn, $sql, Found)
    };
    ($conn:expr, $sql:expr, $row:ty) => {{
        let mut query = diesel::sql_query($sql.text).into_boxed::<diesel::pg::Pg>();
        for bind in $sql.binds {
            query = match bind {
                Bind::Int(_) | Bind::Ints(_) => {
                    unreachable!("numbers are constants in PostgreSQL's text (Sql::bind)")
                }
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::Time(v) => query.bind::<Timestamp, _>(v),
            };
        }
        query.load::<$row>($conn)?
    }};
}

/// `[1,2,3]`: a list of ids as `json_each` reads it.
fn ids_json(ids: &[i64]) -> String {
    let mut text = String::with_capacity(ids.len() * 8 + 2);
    text.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let _ = write!(text, "{id}");
    }
    text.push(']');
    text
}

/// How PostgreSQL reaches the newest matches: by walking the posts newest first and testing
/// each, which reads few when the words are common, or by gathering every match through the
/// GIN index and sorting them, which reads few when they are rare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    Walk,
    Gather,
}

impl Reach {
    /// The `ORDER BY` key: `column` itself lets the planner walk its index; `column + 0` is
    /// the same order no index gives, so it gathers the matches first.
    fn order_key(self, column: &str) -> String {
        match self {
            Reach::Walk => column.to_owned(),
            Reach::Gather => format!("{column} + 0"),
        }
    }
}

/// What a gathered match costs against a walked row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gathered {
    /// Read from `post_search` alone (the relevance window): as much as a walked row.
    FromTheIndex,
    /// Joined to its post and thread before the sort (newest first, with the filters): a
    /// random read of a long row each, ~24 µs (2,500 matches, 60 ms) where a walked row cost
    /// ~2 µs (180,000 rows, 377 ms) on the 1M benchmark posts ("Fifteenth session").
    JoinedToPosts,
}

/// Which way reads less for the newest `wanted` matches, by PostgreSQL's own estimate of the
/// matches (its statistics of the index's words) against the posts indexed: a walk tests
/// about `wanted × posts / matches` rows, a gathering reads `matches`. Left to itself the
/// planner walked for a word in 1% of the 1M benchmark posts — some 200,000 rows tested,
/// 110 ms, where gathering its 10,911 for the window took 18 ms (docs/performance.md,
/// "Fifteenth session"). [`Reach::Walk`] leaves the planner its own way. Two short
/// statements: the `EXPLAIN`, and the table's size as the planner scales it.
pub(super) fn postgres_reach(
    c: &mut diesel::PgConnection,
    plan: &Plan<'_>,
    wanted: i64,
    gathered: Gathered,
) -> Result<Reach> {
    #[derive(QueryableByName)]
    struct Explained {
        #[diesel(sql_type = Text)]
        #[diesel(column_name = "QUERY PLAN")]
        plan: String,
    }
    #[derive(QueryableByName)]
    struct Indexed {
        #[diesel(sql_type = diesel::sql_types::Double)]
        posts: f64,
    }
    let mut sql = Sql::new(true);
    sql.push("EXPLAIN (FORMAT JSON) SELECT 1 FROM post_search s WHERE s.document @@ ");
    push_tsquery(&mut sql, plan);
    let explained: Explained = diesel::sql_query(sql.text).get_result(c)?;
    let matches = serde_json::from_str::<serde_json::Value>(&explained.plan)
        .ok()
        .and_then(|v| v[0]["Plan"]["Plan Rows"].as_f64());
    // The rows at the last `ANALYZE`, scaled to the table's pages now, as the planner scales
    // its estimate of the matches; 0 when never analysed (`reltuples` is -1).
    let indexed: Indexed = Cached(diesel::sql_query(
        "SELECT CAST(CASE WHEN reltuples > 0 AND relpages > 0 \
         THEN reltuples / relpages * (pg_relation_size(oid) / current_setting('block_size')::int) \
         ELSE 0 END AS DOUBLE PRECISION) AS posts \
         FROM pg_class WHERE oid = CAST('post_search' AS regclass)",
    ))
    .get_result(c)?;
    let weight = match gathered {
        Gathered::FromTheIndex => 1.0,
        Gathered::JoinedToPosts => 12.0,
    };
    Ok(match matches {
        // Never analysed: the planner's own way.
        Some(matches)
            if indexed.posts > 0.0
                && weight * matches * matches < wanted as f64 * indexed.posts =>
        {
            Reach::Gather
        }
        _ => Reach::Walk,
    })
}

/// PostgreSQL's statement for the matches that pass the plan's filters, newest first, below
/// `floor` when one is given, `limit` of them after `offset`.
fn postgres_newest(
    plan: &Plan<'_>,
    reach: Reach,
    floor: Option<i64>,
    limit: i64,
    offset: i64,
) -> Sql {
    let mut sql = Sql::new(true);
    sql.push("SELECT p.id AS id FROM (SELECT ");
    push_tsquery(&mut sql, plan);
    sql.push(
        " AS query) q, post_search s JOIN posts p ON p.id = s.post_id \
         JOIN threads t ON t.id = p.thread_id WHERE s.document @@ q.query",
    );
    if let Some(floor) = floor {
        sql.push(" AND s.post_id < ").bind(Bind::Int(floor));
    }
    push_filters(&mut sql, plan);
    sql.push(&format!(
        " ORDER BY {} DESC LIMIT ",
        reach.order_key("p.id")
    ))
    .bind(Bind::Int(limit))
    .push(" OFFSET ")
    .bind(Bind::Int(offset));
    sql
}

#[derive(QueryableByName)]
struct Scored {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Float)]
    score: f32,
}

/// PostgreSQL: "best matches" are the window (the newest `candidates` matches, from the index
/// alone, before any filter, as on SQLite) ranked by `ts_rank`, then filtered in that order a
/// slice at a time; past the window, the other matches newest first. Joining every match to
/// its post and thread before taking the newest cost ~60 ms for a word in 2,500 of the 1M
/// benchmark posts (each a random read of a long row); the window reads the index only.
fn postgres_find(c: &mut diesel::PgConnection, plan: &Plan<'_>) -> Result<Vec<i64>> {
    let Order::Relevance { candidates } = plan.order else {
        let reach = postgres_reach(c, plan, plan.offset + plan.limit, Gathered::JoinedToPosts)?;
        let newest = postgres_newest(plan, reach, None, plan.limit, plan.offset);
        return Ok(ids(run_postgres!(c, newest)));
    };
    let wanted = usize::try_from(plan.offset + plan.limit).unwrap_or(usize::MAX);
    let reach = postgres_reach(c, plan, candidates.max(1), Gathered::FromTheIndex)?;
    let mut window = Sql::new(true);
    window.push("SELECT s.post_id AS id, ts_rank(s.document, q.query) AS score FROM (SELECT ");
    push_tsquery(&mut window, plan);
    window
        .push(&format!(
            " AS query) q, post_search s WHERE s.document @@ q.query ORDER BY {} DESC LIMIT ",
            reach.order_key("s.post_id")
        ))
        .bind(Bind::Int(candidates.max(1)));
    let mut in_window = run_postgres!(c, window, Scored);
    let complete = (in_window.len() as i64) < candidates.max(1);
    let floor = in_window.last().map(|s| s.id);
    in_window.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.id.cmp(&a.id)));
    let ranked: Vec<i64> = in_window.iter().map(|s| s.id).collect();
    let mut found = passing(
        &mut |sql| Ok(ids(run_postgres!(c, sql))),
        true,
        plan,
        &ranked,
        wanted,
    )?;
    if found.len() < wanted && !complete {
        let need = (wanted - found.len()) as i64;
        // Past the window: what is left to find is the words' older matches.
        let older = postgres_newest(plan, Reach::Walk, floor, need, 0);
        found.extend(ids(run_postgres!(c, older)));
    }
    Ok(page_of(found, plan))
}

/// The hits of `plan`'s page among `found`, the hits from the top.
fn page_of(found: Vec<i64>, plan: &Plan<'_>) -> Vec<i64> {
    found
        .into_iter()
        .skip(usize::try_from(plan.offset).unwrap_or(0))
        .take(usize::try_from(plan.limit).unwrap_or(0))
        .collect()
}

/// The posts that match, in order, `plan.limit` at most.
pub fn find(conn: &mut DbConn, plan: &Plan<'_>) -> Result<Vec<PostId>> {
    let found = match conn {
        DbConn::Sqlite(c) => sqlite_find(c, plan)?,
        DbConn::Pg(c) => postgres_find(c, plan)?,
    };
    Ok(found.into_iter().map(PostId).collect())
}

/// SQLite: the title matches of the window first, then the rest, each newest first (see the
/// module's notes). The window (the newest `candidates` matches, ids only) is read once from
/// the index; its title matches are read upwards from its floor; the rest of the page comes
/// from the window's other ids, and only past the window from the index again.
fn sqlite_find(c: &mut diesel::SqliteConnection, plan: &Plan<'_>) -> Result<Vec<i64>> {
    let words = fts5_match(plan.terms);
    // Hits needed from the top to fill the page.
    let wanted = plan.offset + plan.limit;
    let Order::Relevance { candidates } = plan.order else {
        let mut newest = Sql::sqlite();
        newest.matching(&words, plan);
        newest.newest(wanted - plan.offset, plan.offset);
        return Ok(ids(run_sqlite!(c, newest)));
    };
    let wanted_n = usize::try_from(wanted).unwrap_or(usize::MAX);
    // The window, newest first, from the index alone and before any filter. When it is not
    // full it holds every match: nothing after it reads the words' doclists again (two words
    // of 20,000 posts each, intersected, cost ~2 ms a walk on the 1M benchmark posts).
    let mut window = Sql::sqlite();
    window
        .push("SELECT rowid AS id FROM post_search WHERE post_search MATCH ")
        .bind(Bind::Text(words.clone()))
        .push(" ORDER BY rowid DESC LIMIT ")
        .bind(Bind::Int(candidates.max(1)));
    let in_window = ids(run_sqlite!(c, window));
    if in_window.is_empty() {
        // Nothing matches: no title query walks the words' doclists again.
        return Ok(Vec::new());
    }
    let complete = (in_window.len() as i64) < candidates.max(1);
    let floor = in_window.last().copied().unwrap_or(0);
    // The window's title matches, in the index's own order: with `ORDER BY rowid DESC` FTS5
    // does not stop at the floor and walks the word's whole doclist when few titles have it
    // (15 ms for "people" in 1M posts, 0.04 ms this way; docs/performance.md, "Thirteenth
    // session"). At most `candidates` ids.
    let mut titles = Sql::sqlite();
    titles
        .push("SELECT rowid AS id FROM post_search WHERE post_search MATCH ")
        .bind(Bind::Text(format!("{{title}} : ({words})")))
        .push(" AND rowid >= ")
        .bind(Bind::Int(floor));
    let mut titled_ids = ids(run_sqlite!(c, titles));
    titled_ids.sort_unstable_by(|a, b| b.cmp(a));
    let mut found = passing(
        &mut |sql| Ok(ids(run_sqlite!(c, sql))),
        false,
        plan,
        &titled_ids,
        wanted_n,
    )?;
    if found.len() < wanted_n {
        // Every title match of the window is known: the rest of the page is the other
        // matches, the window's first.
        titled_ids.sort_unstable();
        let others: Vec<i64> = in_window
            .iter()
            .copied()
            .filter(|id| titled_ids.binary_search(id).is_err())
            .collect();
        let need = wanted_n - found.len();
        let mut rest = passing(
            &mut |sql| Ok(ids(run_sqlite!(c, sql))),
            false,
            plan,
            &others,
            need,
        )?;
        if rest.len() < need && !complete {
            let mut older = Sql::sqlite();
            older.matching(&words, plan);
            older
                .push(" AND post_search.rowid < ")
                .bind(Bind::Int(floor));
            older.newest((need - rest.len()) as i64, 0);
            rest.extend(ids(run_sqlite!(c, older)));
        }
        found.extend(rest);
    }
    Ok(page_of(found, plan))
}

/// The first `wanted` of `candidates` that pass the plan's filters, in the candidates' order:
/// joined to their posts and threads a growing slice at a time, since joining all 2,000 of a
/// window (a word only titles have) cost 15 ms where the page needs twenty. `run` sends a
/// statement written for PostgreSQL (`postgres`) or SQLite.
fn passing(
    run: &mut dyn FnMut(Sql) -> Result<Vec<i64>>,
    postgres: bool,
    plan: &Plan<'_>,
    candidates: &[i64],
    wanted: usize,
) -> Result<Vec<i64>> {
    let mut found: Vec<i64> = Vec::new();
    let (mut at, mut slice) = (0, wanted.max(20));
    while at < candidates.len() && found.len() < wanted {
        let part = &candidates[at..(at + slice).min(candidates.len())];
        let mut sql = Sql::new(postgres);
        sql.push("SELECT p.id AS id FROM posts p JOIN threads t ON t.id = p.thread_id WHERE")
            .one_of("p.id", part.to_vec());
        push_filters(&mut sql, plan);
        let passed: std::collections::HashSet<i64> = run(sql)?.into_iter().collect();
        found.extend(part.iter().copied().filter(|id| passed.contains(id)));
        at += part.len();
        slice = slice.saturating_mul(2);
    }
    found.truncate(wanted);
    Ok(found)
}

fn ids(found: Vec<Found>) -> Vec<i64> {
    found.into_iter().map(|f| f.id).collect()
}

impl Sql {
    fn new(postgres: bool) -> Sql {
        Sql {
            text: String::new(),
            binds: Vec::new(),
            postgres,
        }
    }

    fn sqlite() -> Sql {
        Sql::new(false)
    }

    /// `SELECT` the posts of `post_search MATCH fts5` that pass the plan's filters.
    fn matching(&mut self, fts5: &str, plan: &Plan<'_>) -> &mut Sql {
        self.push(
            "SELECT p.id AS id FROM post_search JOIN posts p ON p.id = post_search.rowid \
             JOIN threads t ON t.id = p.thread_id WHERE post_search MATCH ",
        )
        .bind(Bind::Text(fts5.to_owned()));
        push_filters(self, plan);
        self
    }

    fn newest(&mut self, limit: i64, offset: i64) -> &mut Sql {
        self.push(" ORDER BY post_search.rowid DESC LIMIT ")
            .bind(Bind::Int(limit))
            .push(" OFFSET ")
            .bind(Bind::Int(offset))
    }
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
        DbConn::Sqlite(c) => Cached(
            diesel::sql_query(text(["?", "?", ""]))
                .bind::<Text, _>(subject)
                .bind::<Timestamp, _>(window),
        )
        .get_result(c)?,
        DbConn::Pg(c) => Cached(
            diesel::sql_query(text(["$1", "$2", ""]))
                .bind::<Text, _>(subject)
                .bind::<Timestamp, _>(window),
        )
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
