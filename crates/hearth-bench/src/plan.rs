//! The shape of the seeded community, decided before anything is written: who posts where and
//! when, and every counter that follows from it.
//!
//! Everything here is cheap (no text, no rendering), so the whole plan for a million posts fits
//! in a few tens of megabytes and is computed in well under a second. Counters are computed from
//! the plan with the same rules the app keeps, so the written rows are consistent by
//! construction; `verify` then checks them with SQL.

use chrono::{DateTime, NaiveDateTime, TimeDelta};

use crate::rng::{Rng, Weighted};
use crate::text;

/// How big a community to build.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub boards: usize,
    pub threads: usize,
    pub posts: usize,
    pub members: usize,
}

impl Sizes {
    pub fn check(&self) -> Result<(), String> {
        if self.boards == 0 || self.threads == 0 || self.members < 2 {
            return Err("need at least 1 board, 1 thread and 2 members".to_owned());
        }
        if self.posts < self.threads {
            return Err(
                "every thread has an opening post: --posts must be >= --threads".to_owned(),
            );
        }
        if self.posts > i32::MAX as usize || self.members > u32::MAX as usize {
            return Err("sizes are too large".to_owned());
        }
        Ok(())
    }
}

/// The longest thread: 500 pages. Long enough for "a few threads with thousands of posts",
/// short enough that one thread does not swallow a small run.
const MAX_THREAD_POSTS: usize = 10_000;
/// Spread of the log-normal thread lengths: median around a quarter of the mean, a long tail.
const THREAD_LENGTH_SIGMA: f64 = 1.6;
/// Share of replies deleted by their authors afterwards.
const DELETED_SHARE: f64 = 0.003;
const LOCKED_SHARE: f64 = 0.01;
/// Share of a thread's replies written by the member who opened it.
const OPENER_REPLY_SHARE: f64 = 0.2;
/// How far back the community goes.
const HISTORY_DAYS: i64 = 730;

pub struct MemberPlan {
    pub person: text::Person,
    pub created_at: NaiveDateTime,
    pub post_count: i64,
}

pub struct BoardPlan {
    pub name: String,
    pub slug: String,
    pub created_at: NaiveDateTime,
    pub thread_count: i64,
    pub post_count: i64,
    pub last_activity_at: Option<NaiveDateTime>,
    /// Index into [`Plan::threads`].
    pub last_thread: Option<usize>,
}

pub struct ThreadPlan {
    pub board: usize,
    pub title: String,
    pub pinned: bool,
    pub locked: bool,
    /// Index of its opening post in [`Plan::posts`]; its posts follow contiguously.
    pub first_post: usize,
    pub n_posts: usize,
    pub reply_count: i64,
    pub last_activity_at: NaiveDateTime,
    pub last_poster: u32,
}

/// 24 bytes a post: the plan for a million posts is 24 MB.
#[derive(Debug, Clone, Copy)]
pub struct PostPlan {
    pub thread: u32,
    pub author: u32,
    /// Microseconds since the Unix epoch.
    pub at_micros: i64,
    pub deleted: bool,
}

impl PostPlan {
    pub fn at(&self) -> NaiveDateTime {
        micros_to_time(self.at_micros)
    }
}

pub struct Plan {
    pub end: NaiveDateTime,
    /// Member 0 is the administrator who created the boards.
    pub members: Vec<MemberPlan>,
    pub boards: Vec<BoardPlan>,
    /// In order of creation, as their ids will be.
    pub threads: Vec<ThreadPlan>,
    /// Grouped by thread, in thread order, each thread's in position order.
    pub posts: Vec<PostPlan>,
}

fn micros_to_time(micros: i64) -> NaiveDateTime {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .naive_utc()
}

fn micros(time: NaiveDateTime) -> i64 {
    time.and_utc().timestamp_micros()
}

/// Plans a community of `sizes`, ending at `end` (the newest post is just before it).
pub fn plan(sizes: Sizes, seed: u64, end: NaiveDateTime) -> Plan {
    let mut rng = Rng::new(seed);
    let start = end - TimeDelta::days(HISTORY_DAYS);
    let lengths = thread_lengths(&mut rng, sizes.threads, sizes.posts);
    let board_of = board_popularity(&mut rng, sizes.boards);
    let authors = member_activity(&mut rng, sizes.members);
    let mut starts: Vec<i64> = (0..sizes.threads)
        .map(|_| {
            // Density grows linearly over time: a community that has been growing.
            let span = (micros(end) - micros(start)) as f64;
            micros(start) + (span * rng.unit().sqrt() * 0.98) as i64
        })
        .collect();
    starts.sort_unstable();

    let mut threads = Vec::with_capacity(sizes.threads);
    let mut posts = Vec::with_capacity(sizes.posts);
    for (t, (&n_posts, &started)) in lengths.iter().zip(&starts).enumerate() {
        let board = board_of.draw(&mut rng);
        let opener = draw_author(&authors, &mut rng);
        let first_post = posts.len();
        plan_posts(
            &mut rng,
            t,
            n_posts,
            opener,
            started,
            micros(end),
            &authors,
            &mut posts,
        );
        threads.push(new_thread(
            &mut rng,
            board,
            first_post,
            &posts[first_post..],
        ));
    }
    let mut boards = plan_boards(sizes.boards, start);
    pin_first_threads(&mut threads, &boards);
    count_boards(&mut boards, &threads);
    let members = plan_members(&mut rng, sizes.members, start, end, &posts);
    Plan {
        end,
        members,
        boards,
        threads,
        posts,
    }
}

/// Posts per thread: log-normal, scaled to add up to exactly `total`, at least 1 and at most
/// [`MAX_THREAD_POSTS`] each.
fn thread_lengths(rng: &mut Rng, threads: usize, total: usize) -> Vec<usize> {
    let weights: Vec<f64> = (0..threads)
        .map(|_| (rng.normal() * THREAD_LENGTH_SIGMA).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    let extra = (total - threads) as f64;
    let cap = MAX_THREAD_POSTS.max(total.div_ceil(threads));
    let mut lengths: Vec<usize> = weights
        .iter()
        .map(|w| (1 + (extra * w / sum) as usize).min(cap))
        .collect();
    // Hand out what rounding and the cap left over, one post at a time, round-robin.
    let mut left = total - lengths.iter().sum::<usize>();
    let mut i = rng.below(threads);
    while left > 0 {
        if lengths[i] < cap {
            lengths[i] += 1;
            left -= 1;
        }
        i = (i + 1) % threads;
    }
    lengths
}

/// Which board a new thread lands on: a few busy boards, many quiet ones.
fn board_popularity(rng: &mut Rng, boards: usize) -> Weighted {
    let mut ranks: Vec<usize> = (0..boards).collect();
    rng.shuffle(&mut ranks);
    Weighted::new(ranks.iter().map(|&r| 1.0 / (r as f64 + 1.0).powf(0.7)))
}

/// How much each member writes: Zipf-like, so some write thousands of posts and many lurk.
/// Member 0, the administrator, only sets the boards up.
fn member_activity(rng: &mut Rng, members: usize) -> Weighted {
    let mut ranks: Vec<usize> = (0..members - 1).collect();
    rng.shuffle(&mut ranks);
    let weights = std::iter::once(0.0).chain(ranks.iter().map(|&r| 1.0 / (r as f64 + 5.0)));
    Weighted::new(weights)
}

fn draw_author(authors: &Weighted, rng: &mut Rng) -> u32 {
    authors.draw(rng) as u32
}

/// One thread's posts: the opening post at `started`, replies spread after it at a pace of
/// its own (some threads are busy for a day, others go on for months), strictly increasing.
#[allow(clippy::too_many_arguments)]
fn plan_posts(
    rng: &mut Rng,
    thread: usize,
    n_posts: usize,
    opener: u32,
    started: i64,
    end: i64,
    authors: &Weighted,
    posts: &mut Vec<PostPlan>,
) {
    let pace_micros = (rng.normal().exp() * 3.0 * 3_600e6) as i64;
    let room = end - started - n_posts as i64 - 1;
    let span = pace_micros.saturating_mul(n_posts as i64).min(room).max(0);
    let mut times: Vec<i64> = (1..n_posts)
        .map(|_| started + 1 + (rng.unit() * span as f64) as i64)
        .collect();
    times.sort_unstable();
    let mut previous = started;
    posts.push(PostPlan {
        thread: thread as u32,
        author: opener,
        at_micros: started,
        deleted: false,
    });
    for at in times {
        let at = at.max(previous + 1);
        previous = at;
        let author = if rng.chance(OPENER_REPLY_SHARE) {
            opener
        } else {
            draw_author(authors, rng)
        };
        posts.push(PostPlan {
            thread: thread as u32,
            author,
            at_micros: at,
            deleted: rng.chance(DELETED_SHARE),
        });
    }
}

/// A thread's counters from its posts, as the app keeps them: replies and latest activity count
/// published posts only; `last_position` counts every post.
fn new_thread(rng: &mut Rng, board: usize, first_post: usize, posts: &[PostPlan]) -> ThreadPlan {
    let published = || posts.iter().filter(|p| !p.deleted);
    // The opening post is never deleted in the plan, so a latest published post exists.
    let latest = published().next_back().copied().unwrap_or(posts[0]);
    ThreadPlan {
        board,
        title: text::thread_title(rng),
        pinned: false,
        locked: rng.chance(LOCKED_SHARE),
        first_post,
        n_posts: posts.len(),
        reply_count: published().count() as i64 - 1,
        last_activity_at: latest.at(),
        last_poster: latest.author,
    }
}

fn plan_boards(n: usize, start: NaiveDateTime) -> Vec<BoardPlan> {
    (0..n)
        .map(|i| {
            let (name, slug) = text::board_name(i);
            BoardPlan {
                name,
                slug,
                created_at: start - TimeDelta::days(1) + TimeDelta::minutes(i as i64),
                thread_count: 0,
                post_count: 0,
                last_activity_at: None,
                last_thread: None,
            }
        })
        .collect()
}

/// Each board's oldest thread becomes its pinned welcome thread.
fn pin_first_threads(threads: &mut [ThreadPlan], boards: &[BoardPlan]) {
    let mut pinned = vec![false; boards.len()];
    for thread in threads.iter_mut() {
        if !pinned[thread.board] {
            pinned[thread.board] = true;
            thread.pinned = true;
            thread.locked = false;
            thread.title = format!(
                "Welcome to {}: please read this first",
                boards[thread.board].name
            );
        }
    }
}

fn count_boards(boards: &mut [BoardPlan], threads: &[ThreadPlan]) {
    for (t, thread) in threads.iter().enumerate() {
        let board = &mut boards[thread.board];
        board.thread_count += 1;
        board.post_count += thread.reply_count + 1;
        if board.last_activity_at < Some(thread.last_activity_at) {
            board.last_activity_at = Some(thread.last_activity_at);
            board.last_thread = Some(t);
        }
    }
}

/// Members join before their first post (or at some point, for those who only read).
fn plan_members(
    rng: &mut Rng,
    n: usize,
    start: NaiveDateTime,
    end: NaiveDateTime,
    posts: &[PostPlan],
) -> Vec<MemberPlan> {
    let mut first_post: Vec<Option<i64>> = vec![None; n];
    let mut post_count = vec![0i64; n];
    for post in posts {
        let author = post.author as usize;
        first_post[author] =
            Some(first_post[author].map_or(post.at_micros, |f| f.min(post.at_micros)));
        if !post.deleted {
            post_count[author] += 1;
        }
    }
    let span = (micros(end) - micros(start)) as f64;
    (0..n)
        .map(|i| {
            let person = text::person(rng, i);
            let joined = match (i, first_post[i]) {
                (0, _) => micros(start) - 2 * 86_400_000_000,
                (_, Some(first)) => first - (rng.unit() * 30.0 * 86_400e6) as i64 - 1,
                (_, None) => micros(start) + (rng.unit() * span) as i64,
            };
            MemberPlan {
                person: if i == 0 { admin_person() } else { person },
                created_at: micros_to_time(joined),
                post_count: post_count[i],
            }
        })
        .collect()
}

fn admin_person() -> text::Person {
    text::Person {
        username: "admin".to_owned(),
        display_name: "Site admin".to_owned(),
        pronouns: "",
        time_zone: "UTC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes() -> Sizes {
        Sizes {
            boards: 5,
            threads: 400,
            posts: 20_000,
            members: 300,
        }
    }

    #[test]
    fn lengths_add_up_and_are_skewed() {
        let mut rng = Rng::new(1);
        let mut lengths = thread_lengths(&mut rng, 2_000, 100_000);
        assert_eq!(lengths.iter().sum::<usize>(), 100_000);
        lengths.sort_unstable();
        assert!(lengths[0] >= 1);
        assert!(lengths[1_000] < 30, "median {}", lengths[1_000]);
        assert!(lengths[1_999] > 1_000, "longest {}", lengths[1_999]);
    }

    #[test]
    fn plans_are_deterministic_and_times_increase() {
        let end = micros_to_time(1_800_000_000_000_000);
        let a = plan(sizes(), 9, end);
        let b = plan(sizes(), 9, end);
        assert_eq!(a.posts.len(), 20_000);
        assert!(a
            .posts
            .iter()
            .zip(&b.posts)
            .all(|(x, y)| x.at_micros == y.at_micros && x.author == y.author));
        for thread in &a.threads {
            let posts = &a.posts[thread.first_post..thread.first_post + thread.n_posts];
            assert!(posts.windows(2).all(|w| w[0].at_micros < w[1].at_micros));
            assert!(posts.last().unwrap().at() < end);
        }
        assert_eq!(
            a.members.iter().map(|m| m.post_count).sum::<i64>(),
            a.boards.iter().map(|b| b.post_count).sum::<i64>()
        );
    }
}
