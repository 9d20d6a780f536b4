//! `seed`: writes a planned community into an empty database through `hearth_core::maintenance::bulk`.
//!
//! Post bodies are generated and rendered by worker threads while the main thread inserts the
//! previous batch: rendering (pulldown-cmark + ammonia) costs about as much as inserting, so on
//! two cores the pipeline roughly halves the wall time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use chrono::{NaiveDateTime, TimeDelta};
use hearth_core::db::{self, DbConfig, DbConn};
use hearth_core::ids::{BoardId, MemberId, ThreadId};
use hearth_core::maintenance::bulk::{
    self, BoardActivity, NewBoard, NewMember, NewPost, NewThread,
};
use hearth_core::model::{Publication, SiteRole, Visibility};
use hearth_markdown::SafeHtml;

use crate::plan::{self, Plan, Sizes};
use crate::rng::Rng;
use crate::{text, verify};

/// Every seeded member signs in with this password (one argon2id hash, shared).
pub const BENCH_PASSWORD: &str = "hearth-bench-password";
/// The random stream post bodies are drawn from (see [`Rng::for_item`]).
const BODY_STREAM: u64 = 1;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub database_url: String,
    pub sizes: Sizes,
    pub seed: u64,
    /// Posts per transaction.
    pub batch: usize,
    /// Threads generating and rendering bodies.
    pub workers: usize,
    pub verify: bool,
    /// The newest post is just before this time.
    pub end: NaiveDateTime,
}

/// Seeds the database and prints progress and rates as it goes.
pub fn run(options: &SeedOptions) -> Result<(), String> {
    options.sizes.check()?;
    let started = Instant::now();
    let pool = db::open(&DbConfig {
        database_url: options.database_url.clone(),
        pool_size: 1,
    })
    .map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    verify::require_empty(&mut conn)?;

    let plan = plan::plan(options.sizes, options.seed, options.end);
    println!(
        "opened the database and planned in {:.1?}",
        started.elapsed()
    );
    let password_hash =
        hearth_core::accounts::passwords::hash(BENCH_PASSWORD).map_err(|e| e.to_string())?;
    let phase = Instant::now();
    let members = insert_members(&mut conn, &plan, &password_hash)?;
    let boards = insert_boards(&mut conn, &plan, members[0])?;
    let threads = insert_threads(&mut conn, &plan, &boards, &members)?;
    report(
        "members, boards, threads",
        plan.members.len() + plan.boards.len() + plan.threads.len(),
        phase,
    );

    let phase = Instant::now();
    insert_posts(&mut conn, &plan, options, &threads, &members)?;
    report("posts", plan.posts.len(), phase);
    set_board_activity(&mut conn, &plan, &boards, &threads)?;

    let total = plan.members.len() + plan.boards.len() + plan.threads.len() + plan.posts.len();
    report("seeded in all", total, started);
    if options.verify {
        let phase = Instant::now();
        verify::counters(&mut conn)?;
        println!(
            "every counter matches its rows (checked in {:.1?})",
            phase.elapsed()
        );
    }
    Ok(())
}

fn report(what: &str, rows: usize, since: Instant) {
    let seconds = since.elapsed().as_secs_f64();
    println!(
        "{what}: {rows} rows in {seconds:.1} s ({:.0} rows/s)",
        rows as f64 / seconds.max(1e-9)
    );
}

fn insert_members(conn: &mut DbConn, plan: &Plan, hash: &str) -> Result<Vec<MemberId>, String> {
    let rows: Vec<NewMember> = plan
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| NewMember {
            username: &m.person.username,
            display_name: &m.person.display_name,
            pronouns: m.person.pronouns,
            time_zone: m.person.time_zone,
            password_hash: hash,
            site_role: if i == 0 {
                SiteRole::Admin
            } else {
                SiteRole::Member
            },
            created_at: m.created_at,
            post_count: m.post_count,
        })
        .collect();
    bulk::insert_members(conn, &rows).map_err(|e| format!("inserting members: {e}"))
}

fn insert_boards(conn: &mut DbConn, plan: &Plan, admin: MemberId) -> Result<Vec<BoardId>, String> {
    let rules_html = hearth_markdown::render(text::GROUND_RULES);
    let descriptions: Vec<String> = plan
        .boards
        .iter()
        .map(|b| text::board_description(&b.name))
        .collect();
    let rows: Vec<NewBoard> = plan
        .boards
        .iter()
        .zip(&descriptions)
        .enumerate()
        .map(|(i, (b, description))| NewBoard {
            slug: &b.slug,
            name: &b.name,
            description,
            ground_rules: text::GROUND_RULES,
            ground_rules_html: &rules_html,
            visibility: Visibility::Public,
            position: i as i32,
            created_by: admin,
            created_at: b.created_at,
            // The latest thread's id is known only once threads exist; see set_board_activity.
            activity: BoardActivity::default(),
        })
        .collect();
    bulk::insert_boards(conn, &rows).map_err(|e| format!("inserting boards: {e}"))
}

/// The reason a seeded locked thread gives.
const LOCK_REASON: &str = "This conversation has run its course; start a new thread any time";

fn insert_threads(
    conn: &mut DbConn,
    plan: &Plan,
    boards: &[BoardId],
    members: &[MemberId],
) -> Result<Vec<ThreadId>, String> {
    let slugs: Vec<String> = plan
        .threads
        .iter()
        .map(|t| hearth_core::forum::threads::slug_of(&t.title))
        .collect();
    let rows: Vec<NewThread> = plan
        .threads
        .iter()
        .zip(&slugs)
        .map(|(t, slug)| {
            let opening = plan.posts[t.first_post];
            NewThread {
                board_id: boards[t.board],
                author_id: members[opening.author as usize],
                title: &t.title,
                slug,
                pinned: t.pinned,
                locked: t.locked,
                // As a facilitator's lock has one since issue 14: the page shows it.
                lock_reason: t.locked.then_some(LOCK_REASON),
                reply_count: t.reply_count,
                last_position: t.n_posts as i32,
                created_at: opening.at(),
                last_activity_at: t.last_activity_at,
                last_poster_id: Some(members[t.last_poster as usize]),
            }
        })
        .collect();
    bulk::insert_threads(conn, &rows).map_err(|e| format!("inserting threads: {e}"))
}

fn set_board_activity(
    conn: &mut DbConn,
    plan: &Plan,
    boards: &[BoardId],
    threads: &[ThreadId],
) -> Result<(), String> {
    let rows: Vec<(BoardId, BoardActivity)> = plan
        .boards
        .iter()
        .zip(boards)
        .map(|(b, &id)| {
            let activity = BoardActivity {
                thread_count: b.thread_count,
                post_count: b.post_count,
                last_activity_at: b.last_activity_at,
                last_thread_id: b.last_thread.map(|t| threads[t]),
            };
            (id, activity)
        })
        .collect();
    bulk::set_board_activity(conn, &rows).map_err(|e| format!("updating boards: {e}"))
}

/// One batch of posts, generated and rendered, waiting to be inserted.
struct Rendered {
    first: usize,
    bodies: Vec<(String, SafeHtml, String)>,
}

/// Renders batches on worker threads and inserts them in order on this one, so post ids follow
/// the plan whatever the threads' timing.
fn insert_posts(
    conn: &mut DbConn,
    plan: &Plan,
    options: &SeedOptions,
    threads: &[ThreadId],
    members: &[MemberId],
) -> Result<(), String> {
    let batch = options.batch.max(1);
    let n_batches = plan.posts.len().div_ceil(batch);
    let next_batch = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::sync_channel::<Rendered>(options.workers.max(1) * 2);
    std::thread::scope(|scope| {
        for _ in 0..options.workers.max(1) {
            let sender = sender.clone();
            let next_batch = &next_batch;
            scope.spawn(move || loop {
                let b = next_batch.fetch_add(1, Ordering::Relaxed);
                if b >= n_batches {
                    break;
                }
                let range = b * batch..((b + 1) * batch).min(plan.posts.len());
                // A closed channel means the inserter failed; stop quietly, it reports.
                if sender.send(render_batch(options.seed, range)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        insert_in_order(conn, plan, receiver, n_batches, threads, members)
    })
}

fn render_batch(seed: u64, range: std::ops::Range<usize>) -> Rendered {
    let first = range.start;
    let bodies = range
        .map(|i| {
            let mut rng = Rng::for_item(seed, BODY_STREAM, i as u64);
            let source = text::post_body(&mut rng);
            let html = hearth_markdown::render(&source);
            (source, html, format!("seed-{i:011}"))
        })
        .collect();
    Rendered { first, bodies }
}

fn insert_in_order(
    conn: &mut DbConn,
    plan: &Plan,
    receiver: mpsc::Receiver<Rendered>,
    n_batches: usize,
    threads: &[ThreadId],
    members: &[MemberId],
) -> Result<(), String> {
    let started = Instant::now();
    let mut waiting: BTreeMap<usize, Rendered> = BTreeMap::new();
    let mut next_first = 0;
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < n_batches {
        let rendered = receiver
            .recv()
            .map_err(|_| "a rendering thread stopped".to_owned())?;
        waiting.insert(rendered.first, rendered);
        while let Some(rendered) = waiting.remove(&next_first) {
            next_first += rendered.bodies.len();
            insert_batch(conn, plan, &rendered, threads, members)?;
            done += 1;
        }
        if last_report.elapsed().as_secs() >= 10 {
            last_report = Instant::now();
            let rate = next_first as f64 / started.elapsed().as_secs_f64();
            println!(
                "  posts: {next_first} of {} ({rate:.0} rows/s)",
                plan.posts.len()
            );
        }
    }
    Ok(())
}

fn insert_batch(
    conn: &mut DbConn,
    plan: &Plan,
    rendered: &Rendered,
    threads: &[ThreadId],
    members: &[MemberId],
) -> Result<(), String> {
    let rows: Vec<NewPost> = rendered
        .bodies
        .iter()
        .enumerate()
        .map(|(k, (source, html, key))| {
            let index = rendered.first + k;
            let post = plan.posts[index];
            let thread = &plan.threads[post.thread as usize];
            let created_at = post.at();
            NewPost {
                thread_id: threads[post.thread as usize],
                author_id: members[post.author as usize],
                position: (index - thread.first_post + 1) as i32,
                source,
                html,
                state: if post.deleted {
                    Publication::Deleted
                } else {
                    Publication::Published
                },
                submission_key: key,
                created_at,
                deleted_at: post
                    .deleted
                    .then(|| (created_at + TimeDelta::hours(1)).min(plan.end)),
            }
        })
        .collect();
    bulk::insert_posts(conn, &rows).map_err(|e| format!("inserting posts: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(database_url: String) -> SeedOptions {
        SeedOptions {
            database_url,
            sizes: Sizes {
                boards: 3,
                threads: 40,
                posts: 500,
                members: 30,
            },
            seed: 7,
            batch: 64,
            workers: 2,
            verify: false,
            end: chrono::DateTime::from_timestamp(1_800_000_000, 0)
                .unwrap()
                .naive_utc(),
        }
    }

    /// A small seed into a fresh SQLite file leaves every counter consistent with its rows,
    /// and a second seed into the same file is refused rather than doubling the community.
    #[test]
    fn a_small_seed_is_consistent_and_not_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("bench.db").to_string_lossy().into_owned();
        run(&small(url.clone())).unwrap();

        let pool = db::open(&DbConfig {
            database_url: url.clone(),
            pool_size: 1,
        })
        .unwrap();
        let conn = &mut *pool.get().unwrap();
        verify::counters(conn).unwrap();
        let count = |conn: &mut DbConn, sql: &str| verify::count(conn, sql).unwrap();
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM posts"), 500);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM threads"), 40);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM members"), 30);
        assert_eq!(
            count(
                conn,
                "SELECT COUNT(*) AS n FROM boards WHERE thread_count > 0"
            ),
            3
        );
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM threads WHERE pinned"),
            3
        );
        assert!(run(&small(url)).unwrap_err().contains("empty"));
    }
}
