//! SQL checks that the stored counters say what the rows say, with the app's rules.
//!
//! Plain SQL that reads the same on SQLite and PostgreSQL; each query counts the rows that break
//! one rule, so a failure names the rule. Aggregates are joined in (one scan of `posts` per
//! rule) rather than correlated per row, so a million posts take seconds, not minutes.

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use hearth_core::db::DbConn;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) AS n …` → n.
pub fn count(conn: &mut DbConn, sql: &str) -> Result<i64, String> {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .map(|c| c.n)
        .map_err(|e| format!("{e} in: {sql}"))
}

/// Seeding adds to nothing: ids and counters are planned from zero.
pub fn require_empty(conn: &mut DbConn) -> Result<(), String> {
    for table in ["members", "boards", "threads", "posts"] {
        let n = count(conn, &format!("SELECT COUNT(*) AS n FROM {table}"))?;
        if n > 0 {
            return Err(format!(
                "the database already has {n} {table}; seed needs an empty one \
                 (delete the SQLite file, or drop and create the PostgreSQL database)"
            ));
        }
    }
    Ok(())
}

/// Each rule, as a query counting the rows that break it.
const RULES: &[(&str, &str)] = &[
    (
        "threads.last_position is the number of posts, and positions run 1..n",
        "SELECT COUNT(*) AS n FROM threads t LEFT JOIN (
            SELECT thread_id, COUNT(*) AS c, MIN(position) AS lo, MAX(position) AS hi
            FROM posts GROUP BY thread_id) x ON x.thread_id = t.id
         WHERE x.c IS NULL OR t.last_position <> x.c OR x.hi <> x.c OR x.lo <> 1",
    ),
    (
        "threads.reply_count is the published posts after the first",
        "SELECT COUNT(*) AS n FROM threads t LEFT JOIN (
            SELECT thread_id, COUNT(*) AS c FROM posts
            WHERE state = 'published' AND position > 1 GROUP BY thread_id) x
            ON x.thread_id = t.id
         WHERE t.reply_count <> COALESCE(x.c, 0)",
    ),
    (
        "threads.last_activity_at and last_poster_id are the latest published post's",
        "SELECT COUNT(*) AS n FROM threads t
         JOIN (SELECT thread_id, MAX(position) AS latest FROM posts
               WHERE state = 'published' GROUP BY thread_id) x ON x.thread_id = t.id
         JOIN posts p ON p.thread_id = t.id AND p.position = x.latest
         WHERE p.created_at <> t.last_activity_at OR p.author_id <> t.last_poster_id",
    ),
    (
        "threads.created_at and author_id are the opening post's",
        "SELECT COUNT(*) AS n FROM threads t JOIN posts p ON p.thread_id = t.id AND p.position = 1
         WHERE p.created_at <> t.created_at OR p.author_id <> t.author_id",
    ),
    (
        "posts.created_at increases with position",
        "SELECT COUNT(*) AS n FROM posts p
         JOIN posts q ON q.thread_id = p.thread_id AND q.position = p.position + 1
         WHERE q.created_at <= p.created_at",
    ),
    (
        "boards.thread_count and last_activity_at follow their published threads",
        "SELECT COUNT(*) AS n FROM boards b LEFT JOIN (
            SELECT board_id, COUNT(*) AS c, MAX(last_activity_at) AS latest FROM threads
            WHERE state = 'published' GROUP BY board_id) x ON x.board_id = b.id
         WHERE b.thread_count <> COALESCE(x.c, 0)
            OR (CASE WHEN x.latest IS NULL THEN b.last_activity_at IS NOT NULL
                     ELSE b.last_activity_at IS NULL OR b.last_activity_at <> x.latest END)",
    ),
    (
        "boards.last_thread_id is a thread of the board active at last_activity_at",
        "SELECT COUNT(*) AS n FROM boards b LEFT JOIN threads t ON t.id = b.last_thread_id
         WHERE (b.last_thread_id IS NULL) <> (b.last_activity_at IS NULL)
            OR (b.last_thread_id IS NOT NULL AND (t.id IS NULL OR t.board_id <> b.id
                OR t.last_activity_at <> b.last_activity_at))",
    ),
    (
        "boards.post_count is the published posts of its published threads",
        "SELECT COUNT(*) AS n FROM boards b LEFT JOIN (
            SELECT t.board_id, COUNT(*) AS c FROM posts p JOIN threads t ON t.id = p.thread_id
            WHERE p.state = 'published' AND t.state = 'published' GROUP BY t.board_id) x
            ON x.board_id = b.id
         WHERE b.post_count <> COALESCE(x.c, 0)",
    ),
    (
        "members.post_count is the member's published posts",
        "SELECT COUNT(*) AS n FROM members m LEFT JOIN (
            SELECT author_id, COUNT(*) AS c FROM posts WHERE state = 'published'
            GROUP BY author_id) x ON x.author_id = m.id
         WHERE m.post_count <> COALESCE(x.c, 0)",
    ),
    (
        "(author_id, submission_key) is unique",
        "SELECT COUNT(*) AS n FROM (SELECT author_id, submission_key FROM posts
         GROUP BY author_id, submission_key HAVING COUNT(*) > 1) d",
    ),
    (
        "deleted posts, and only they, have deleted_at",
        "SELECT COUNT(*) AS n FROM posts
         WHERE (state = 'deleted') <> (deleted_at IS NOT NULL)",
    ),
];

/// Runs every rule; an error lists the rules broken and by how many rows.
pub fn counters(conn: &mut DbConn) -> Result<(), String> {
    let mut broken = Vec::new();
    for (rule, sql) in RULES {
        let n = count(conn, sql)?;
        if n > 0 {
            broken.push(format!("{rule}: {n} rows disagree"));
        }
    }
    let stale = count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM posts WHERE render_version <> {}",
            hearth_markdown::RENDERER_VERSION
        ),
    )?;
    if stale > 0 {
        broken.push(format!(
            "{stale} posts were rendered by another renderer version"
        ));
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "counters disagree with rows:\n  {}",
            broken.join("\n  ")
        ))
    }
}
