//! The `reply-watched` scenario's thread: one open thread watched by many members, set up before
//! measuring, and the notifications its replies wrote, counted afterwards.
//!
//! Watchers are the first active members by id; when the community has fewer than asked for,
//! the missing ones are added through `hearth_core::maintenance::bulk` (members who never post,
//! sharing the seed's password hash). Their levels are written with one `INSERT … SELECT`, the
//! same on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use hearth_core::db::DbConn;
use hearth_core::maintenance::bulk::{self, NewMember};
use hearth_core::model::SiteRole;

use crate::rng::Rng;
use crate::seed::BENCH_PASSWORD;

/// The watched thread, as it was before the measured run.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    pub thread: i64,
    /// Members watching it (at least the number asked for).
    pub watchers: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Told {
    /// Notification rows about the thread (one per member and kind while unread).
    #[diesel(sql_type = BigInt)]
    rows: i64,
    /// What those rows count: every member told of every post, one each.
    #[diesel(sql_type = BigInt)]
    told: i64,
}

/// What the thread's notifications add up to at one moment, and its posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notified {
    pub rows: i64,
    pub told: i64,
    /// Posts in the thread, from any run: a reply whose request timed out (or one sent in the
    /// warm-up) may commit during the measured run, and it tells the watchers too.
    pub posts: i64,
}

fn count(conn: &mut DbConn, sql: &str) -> Result<i64, String> {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .map(|c| c.n)
        .map_err(|e| format!("{sql}: {e}"))
}

/// Picks one of `open_threads` and makes `watchers` members watch it (adding members if the
/// community has too few).
pub fn prepare(
    conn: &mut DbConn,
    rng: &mut Rng,
    open_threads: &[i64],
    watchers: usize,
    tag: &str,
) -> Result<Watched, String> {
    if open_threads.is_empty() {
        return Err("no open public thread to watch".to_owned());
    }
    let thread = open_threads[rng.below(open_threads.len())];
    let active = count(
        conn,
        "SELECT COUNT(*) AS n FROM members WHERE status = 'active'",
    )?;
    let missing = usize::try_from(active).map_or(watchers, |have| watchers.saturating_sub(have));
    if missing > 0 {
        add_members(conn, missing, tag)?;
        println!("added {missing} members to watch with");
    }
    let n = i64::try_from(watchers).map_err(|e| e.to_string())?;
    // `WHERE` before `ON CONFLICT`: SQLite's parser needs it after an `INSERT … SELECT`.
    diesel::sql_query(format!(
        "INSERT INTO thread_subscriptions (member_id, thread_id, level, updated_at)
         SELECT id, {thread}, 'watching', CURRENT_TIMESTAMP FROM members
         WHERE status = 'active' ORDER BY id LIMIT {n}
         ON CONFLICT (thread_id, member_id) DO UPDATE SET level = 'watching'"
    ))
    .execute(conn)
    .map_err(|e| format!("writing watchers: {e}"))?;
    let watching = count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM thread_subscriptions
             WHERE thread_id = {thread} AND level = 'watching'"
        ),
    )?;
    if watching < n {
        return Err(format!(
            "thread {thread} has {watching} watchers after setup, not {n}"
        ));
    }
    println!("thread {thread}: {watching} members watching");
    Ok(Watched {
        thread,
        watchers: watching,
    })
}

fn add_members(conn: &mut DbConn, n: usize, tag: &str) -> Result<(), String> {
    let hash = hearth_core::accounts::passwords::hash(BENCH_PASSWORD).map_err(|e| e.to_string())?;
    let names: Vec<String> = (0..n).map(|i| format!("{tag}w{i}")).collect();
    let joined = hearth_core::clock::now() - TimeDelta::days(1);
    let rows: Vec<NewMember> = names
        .iter()
        .map(|name| NewMember {
            username: name,
            display_name: name,
            pronouns: "",
            time_zone: "UTC",
            password_hash: &hash,
            site_role: SiteRole::Member,
            created_at: joined,
            post_count: 0,
        })
        .collect();
    bulk::insert_members(conn, &rows)
        .map(|_| ())
        .map_err(|e| format!("adding members: {e}"))
}

fn posts(conn: &mut DbConn, thread: i64) -> Result<i64, String> {
    count(
        conn,
        &format!("SELECT COUNT(*) AS n FROM posts WHERE thread_id = {thread}"),
    )
}

/// The thread's notifications and posts now.
pub fn notified(conn: &mut DbConn, thread: i64) -> Result<Notified, String> {
    let posts = posts(conn, thread)?;
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS rows, COALESCE(SUM(count), 0) AS told
         FROM notifications WHERE thread_id = {thread}"
    ))
    .get_result::<Told>(conn)
    .map(|t| Notified {
        rows: t.rows,
        told: t.told,
        posts,
    })
    .map_err(|e| format!("counting notifications: {e}"))
}

/// Waits (up to `limit`) until no more replies land in the thread: requests wrk gave up on
/// may still be queued in the server behind the write lock.
pub fn settle(conn: &mut DbConn, thread: i64, limit: Duration) -> Result<(), String> {
    let started = Instant::now();
    let mut last = posts(conn, thread)?;
    while started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
        let now = posts(conn, thread)?;
        if now == last {
            return Ok(());
        }
        last = now;
    }
    Err(format!(
        "replies still landing in thread {thread} after {limit:?}"
    ))
}

/// Notification jobs not yet delivered (every post's, not only the watched thread's).
pub fn jobs_waiting(conn: &mut DbConn) -> Result<i64, String> {
    count(conn, "SELECT COUNT(*) AS n FROM notification_jobs")
}

/// Waits (up to `limit`) until the server has delivered every notification job: with more
/// followers than one batch, the poster's request tells the first batch and the server's worker
/// the rest, after the reply was acknowledged. Returns how long it took.
pub fn delivered(conn: &mut DbConn, limit: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let waiting = jobs_waiting(conn)?;
        if waiting == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= limit {
            return Err(format!(
                "{waiting} notification jobs still waiting after {limit:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every reply that landed in the thread meanwhile must have told every watcher but its
/// author: at least `replies × (watchers − 1)` more told, and a row for every watcher but at
/// most one.
pub fn check(watched: &Watched, before: Notified, after: Notified) -> Result<String, String> {
    let replies = after.posts - before.posts;
    let told = after.told - before.told;
    let expected = replies * (watched.watchers - 1);
    let note = format!(
        "{} watchers; {replies} replies landed, notified {told} times ({:.0} a reply), \
         {} notification rows on the thread",
        watched.watchers,
        told as f64 / replies.max(1) as f64,
        after.rows
    );
    if replies == 0 || told < expected || after.rows < watched.watchers - 1 {
        return Err(format!(
            "reply-watched: {replies} replies should have told at least {expected} times, \
             {told} counted ({note})"
        ));
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched() -> Watched {
        Watched {
            thread: 7,
            watchers: 5_000,
        }
    }

    #[test]
    fn a_run_that_told_nobody_is_an_error() {
        let before = Notified {
            rows: 0,
            told: 0,
            posts: 10,
        };
        let replied = Notified {
            posts: 110,
            ..before
        };
        assert!(check(&watched(), before, replied).is_err());
        assert!(check(&watched(), before, before).is_err());
    }

    #[test]
    fn every_watcher_but_the_author_must_be_told_of_every_reply() {
        let before = Notified {
            rows: 10,
            told: 10,
            posts: 3,
        };
        let full = Notified {
            rows: 5_000,
            told: 10 + 100 * 4_999,
            posts: 103,
        };
        let note = check(&watched(), before, full).unwrap();
        assert!(note.contains("100 replies landed"), "{note}");
        assert!(note.contains("4999 a reply"), "{note}");
        let short = Notified {
            told: full.told - 1,
            ..full
        };
        assert!(check(&watched(), before, short).is_err());
        let more_replies = Notified {
            posts: full.posts + 1,
            ..full
        };
        assert!(check(&watched(), before, more_replies).is_err());
    }
}
