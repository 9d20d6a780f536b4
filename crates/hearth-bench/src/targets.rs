//! What the load scenarios ask for, sampled from the database the server uses: thread pages,
//! board pages, threads open for replies, and signed-in sessions of seeded members.

use chrono::TimeDelta;
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use hearth_core::db::DbConn;
use hearth_core::forum::posts::page_of_position;
use hearth_core::ids::MemberId;
use hearth_core::{accounts::members, accounts::sessions};

use crate::rng::Rng;

#[derive(QueryableByName)]
struct ThreadRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Integer)]
    last_position: i32,
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct SlugRow {
    #[diesel(sql_type = Text)]
    slug: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// A signed-in browser: the cookie token and the session's CSRF token.
pub struct SessionTarget {
    pub token: String,
    pub csrf_token: String,
}

pub struct Targets {
    /// `/t/{id}-{slug}` or `…?page=N`: a uniformly random thread, a uniformly random page.
    pub thread_paths: Vec<String>,
    /// `/b/{slug}` for every public board (page 1).
    pub board_paths: Vec<String>,
    /// Ids of threads that are not locked, so any member may reply.
    pub reply_threads: Vec<i64>,
}

pub fn sample(conn: &mut DbConn, rng: &mut Rng, n_paths: usize) -> Result<Targets, String> {
    let threads: Vec<ThreadRow> = diesel::sql_query(
        "SELECT t.id, t.slug, t.last_position, t.locked FROM threads t
         JOIN boards b ON b.id = t.board_id
         WHERE t.state = 'published' AND b.visibility = 'public' ORDER BY t.id",
    )
    .load(conn)
    .map_err(|e| format!("reading threads: {e}"))?;
    if threads.is_empty() {
        return Err("the database has no public threads: run `hearth-bench seed` first".to_owned());
    }
    let thread_paths = (0..n_paths)
        .map(|_| {
            let thread = &threads[rng.below(threads.len())];
            let pages = page_of_position(thread.last_position.max(1));
            let page = rng.below(pages as usize) + 1;
            thread_path(thread.id, &thread.slug, page)
        })
        .collect();
    let boards: Vec<SlugRow> = diesel::sql_query(
        "SELECT slug FROM boards WHERE visibility = 'public' ORDER BY position, id",
    )
    .load(conn)
    .map_err(|e| format!("reading boards: {e}"))?;
    Ok(Targets {
        thread_paths,
        board_paths: boards.iter().map(|b| format!("/b/{}", b.slug)).collect(),
        reply_threads: threads.iter().filter(|t| !t.locked).map(|t| t.id).collect(),
    })
}

/// The canonical address the server answers with 200 (anything else is a 308 to it).
pub fn thread_path(id: i64, slug: &str, page: usize) -> String {
    if page == 1 {
        format!("/t/{id}-{slug}")
    } else {
        format!("/t/{id}-{slug}?page={page}")
    }
}

/// Signs `n` distinct random members in, straight through the core (one commit each).
pub fn sessions_for(
    conn: &mut DbConn,
    rng: &mut Rng,
    n: usize,
) -> Result<Vec<SessionTarget>, String> {
    let mut ids: Vec<IdRow> = diesel::sql_query(
        "SELECT id FROM members WHERE site_role = 'member' AND status = 'active' ORDER BY id",
    )
    .load(conn)
    .map_err(|e| format!("reading members: {e}"))?;
    if ids.is_empty() {
        return Err("the database has no active members to sign in".to_owned());
    }
    rng.shuffle(&mut ids);
    ids.truncate(n.max(1));
    ids.iter()
        .map(|row| {
            let member = members::by_id(conn, MemberId(row.id)).map_err(|e| e.to_string())?;
            let started = sessions::start(conn, &member, TimeDelta::hours(12))
                .map_err(|e| format!("starting a session: {e}"))?;
            Ok(SessionTarget {
                token: started.token,
                csrf_token: started.session.csrf_token,
            })
        })
        .collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The newest post id, to count the posts a run adds after it.
pub fn max_post_id(conn: &mut DbConn) -> Result<i64, String> {
    diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS n FROM posts")
        .get_result::<Count>(conn)
        .map(|c| c.n)
        .map_err(|e| e.to_string())
}

/// Posts newer than `after` whose submission key starts with `run_id` (letters and digits).
pub fn posts_of_run(conn: &mut DbConn, after: i64, run_id: &str) -> Result<i64, String> {
    debug_assert!(run_id.chars().all(|c| c.is_ascii_alphanumeric()));
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM posts WHERE id > {after} AND submission_key LIKE '{run_id}-%'"
    ))
    .get_result::<Count>(conn)
    .map(|c| c.n)
    .map_err(|e| e.to_string())
}
