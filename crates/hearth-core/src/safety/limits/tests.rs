use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::*;
use crate::accounts::members;
use crate::db::schema::threads;
use crate::forum::posts as post_ops;
use crate::model::{SiteRole, Thread};
use crate::test_support::{admin_board_thread, registration, sqlite_pool};

/// Posts by `author` in `thread`, made at the given times (positions after any existing).
fn posts_at(conn: &mut DbConn, thread: &Thread, author: MemberId, times: &[NaiveDateTime]) {
    let html = hearth_markdown::render("a post");
    let start: i32 = posts::table
        .filter(posts::thread_id.eq(thread.id))
        .select(max(posts::position))
        .get_result::<Option<i32>>(conn)
        .unwrap()
        .unwrap_or(0);
    for (n, at) in times.iter().enumerate() {
        let position = start + 1 + i32::try_from(n).unwrap();
        let key = format!("test-key-{}-{position:08}", thread.id);
        let new = post_ops::NewPost {
            thread_id: thread.id,
            author_id: author,
            position,
            source: "a post",
            html: &html,
            excerpt: None,
            submission_key: &key,
            moderation: crate::model::Moderation::Visible,
            now: *at,
        };
        post_ops::insert(conn, &new).unwrap();
    }
}

fn seconds(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

fn refusal(outcome: Result<()>) -> (i64, String) {
    match outcome {
        Err(Error::RateLimited {
            retry_after_seconds,
            reason,
        }) => (retry_after_seconds, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A member whose account is a year old at `now`, and a thread of someone else's.
struct Setup {
    _dir: tempfile::TempDir,
    pool: crate::db::Pool,
    member: MemberId,
    old_account: NaiveDateTime,
    thread: Thread,
    now: NaiveDateTime,
}

fn setup() -> Setup {
    let (dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (_, _, thread) = admin_board_thread(conn, "first");
    let member = members::register(conn, &registration("bea"), SiteRole::Member).unwrap();
    let now = crate::clock::now() + TimeDelta::days(400);
    Setup {
        _dir: dir,
        pool: pool.clone(),
        member: member.id,
        old_account: now - TimeDelta::days(365),
        thread,
        now,
    }
}

impl Setup {
    /// Posts by the member in the thread, made at the given times.
    fn member_posts_at(&self, conn: &mut DbConn, times: &[NaiveDateTime]) {
        posts_at(conn, &self.thread, self.member, times);
    }

    /// [`check_posting`] under [`LIMITS`] for the member, whose account is a year old, posting
    /// outside any thread in slow mode.
    fn check(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<()> {
        self.check_in(conn, None, now)
    }

    /// [`check_posting`] under [`LIMITS`] for the member posting in `thread` (its id and its
    /// slow mode in seconds).
    fn check_in(
        &self,
        conn: &mut DbConn,
        thread: Option<(ThreadId, i32)>,
        now: NaiveDateTime,
    ) -> Result<()> {
        check_posting(conn, self.member, self.old_account, thread, &LIMITS, now)
    }

    /// [`check_posting`] under [`LIMITS`] for the member as if their account was made at
    /// `created_at`.
    fn check_account(
        &self,
        conn: &mut DbConn,
        created_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<()> {
        check_posting(conn, self.member, created_at, None, &LIMITS, now)
    }
}

const LIMITS: PostingLimits = PostingLimits {
    per_minute: 3,
    per_day: 10,
    new_account_per_minute: 1,
    new_account_per_day: 4,
    new_account_hours: 24,
};

#[test]
fn exactly_the_per_minute_limit_is_allowed_and_one_more_is_not() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    // Two posts in the last minute: a third is still allowed.
    s.member_posts_at(conn, &[s.now - seconds(50), s.now - seconds(20)]);
    s.check(conn, s.now).unwrap();
    // The third makes three: a fourth is refused until the oldest is a minute old.
    s.member_posts_at(conn, &[s.now - seconds(5)]);
    let (retry, reason) = refusal(s.check(conn, s.now));
    assert_eq!(retry, 10, "the post of 50 s ago leaves the minute in 10 s");
    assert!(reason.contains("limit of 3 posts a minute"), "{reason}");
    assert!(
        reason.contains("you can post again in 10 seconds"),
        "{reason}"
    );
    assert!(!reason.contains("first"), "{reason}");
    // Just before the oldest leaves the window it still counts; just after, it does not.
    let (retry, _) = refusal(s.check(conn, s.now + seconds(9)));
    assert_eq!(retry, 1);
    s.check(conn, s.now + seconds(10)).unwrap();
}

#[test]
fn the_daily_limit_counts_the_last_24_hours_deleted_posts_included() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    let times: Vec<NaiveDateTime> = (0..10)
        .map(|n| s.now - TimeDelta::hours(23) + TimeDelta::hours(n) * 2 / 10)
        .collect();
    // Nine posts in the day: the tenth is allowed.
    s.member_posts_at(conn, &times[..9]);
    s.check(conn, s.now).unwrap();
    s.member_posts_at(conn, &times[9..]);
    // Deleting a post does not give the allowance back.
    diesel::update(posts::table.filter(posts::author_id.eq(s.member)))
        .set(posts::state.eq("deleted"))
        .execute(conn)
        .unwrap();
    let (retry, reason) = refusal(s.check(conn, s.now));
    assert_eq!(
        retry, 3600,
        "the oldest, 23 h old, leaves the day in an hour"
    );
    assert!(reason.contains("limit of 10 posts a day"), "{reason}");
    assert!(reason.contains("in about 60 minutes"), "{reason}");
    s.check(conn, s.now + TimeDelta::hours(1)).unwrap();
    // Posts of more than a day ago do not count at all.
    s.check(conn, s.now + TimeDelta::days(2)).unwrap();
}

#[test]
fn other_members_posts_do_not_count() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    posts_at(
        conn,
        &s.thread,
        s.thread.author_id,
        &[s.now - seconds(3); 5],
    );
    s.check(conn, s.now).unwrap();
}

#[test]
fn new_accounts_have_the_stricter_limits_and_only_while_new() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    s.member_posts_at(conn, &[s.now - seconds(30)]);
    let young = s.now - TimeDelta::hours(2);
    let (retry, reason) = refusal(s.check_account(conn, young, s.now));
    assert_eq!(retry, 30);
    assert!(
        reason.contains("limit of 1 post a minute for accounts in their first 24 hours"),
        "{reason}"
    );
    // The same post history is fine for an account older than a day.
    let day_old = s.now - TimeDelta::hours(24);
    s.check_account(conn, day_old, s.now).unwrap();
    // A new account's daily limit.
    s.member_posts_at(conn, &[s.now - TimeDelta::hours(1); 3]);
    let (retry, reason) = refusal(s.check_account(conn, young, s.now + TimeDelta::minutes(5)));
    assert!(reason.contains("limit of 4 posts a day"), "{reason}");
    assert_eq!(retry, 23 * 3600 - 5 * 60);
    s.check_account(conn, day_old, s.now + TimeDelta::minutes(5))
        .unwrap();
}

#[test]
fn a_limit_of_zero_is_no_limit() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    s.member_posts_at(conn, &[s.now - seconds(1); 12]);
    let off = PostingLimits {
        per_minute: 0,
        per_day: 0,
        ..LIMITS
    };
    check_posting(conn, s.member, s.old_account, None, &off, s.now).unwrap();
}

#[test]
fn slow_mode_spaces_one_members_posts_in_that_thread_only() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    diesel::update(threads::table.find(s.thread.id))
        .set(threads::slow_mode_seconds.eq(120))
        .execute(conn)
        .unwrap();
    let thread = crate::forum::threads::by_id(conn, s.thread.id).unwrap();
    assert_eq!(thread.slow_mode_seconds, 120);
    let in_thread = Some((thread.id, thread.slow_mode_seconds));
    // Nothing posted there yet.
    s.check_in(conn, in_thread, s.now).unwrap();
    s.member_posts_at(conn, &[s.now - seconds(90)]);
    let (retry, reason) = refusal(s.check_in(conn, in_thread, s.now));
    assert_eq!(retry, 30);
    assert!(reason.contains("slow mode"), "{reason}");
    assert!(reason.contains("once every 2 minutes"), "{reason}");
    assert!(reason.contains("in 30 seconds"), "{reason}");
    s.check_in(conn, in_thread, s.now + seconds(30)).unwrap();
    // Other threads, and threads without slow mode, are not affected.
    s.check_in(conn, Some((ThreadId(thread.id.0 + 1), 120)), s.now)
        .unwrap();
    s.check_in(conn, Some((thread.id, 0)), s.now).unwrap();
    s.check(conn, s.now).unwrap();
    // Another member's post does not slow this one.
    let other = thread.author_id;
    check_posting(conn, other, s.old_account, in_thread, &LIMITS, s.now).unwrap();
}

#[test]
fn when_several_limits_are_reached_the_longest_wait_is_reported() {
    let s = setup();
    let conn = &mut *s.pool.get().unwrap();
    // Three posts in the last minute (per-minute limit) and slow mode of an hour.
    s.member_posts_at(
        conn,
        &[
            s.now - seconds(40),
            s.now - seconds(20),
            s.now - seconds(10),
        ],
    );
    let (retry, reason) = refusal(s.check_in(conn, Some((s.thread.id, 3600)), s.now));
    assert_eq!(retry, 3590);
    assert!(reason.contains("slow mode"), "{reason}");
}

#[test]
fn waits_are_said_in_words() {
    assert_eq!(in_words(0), "in 1 second");
    assert_eq!(in_words(1), "in 1 second");
    assert_eq!(in_words(59), "in 59 seconds");
    assert_eq!(in_words(60), "in about 1 minute");
    assert_eq!(in_words(61), "in about 2 minutes");
    assert_eq!(in_words(900), "in about 15 minutes");
    assert_eq!(in_words(3 * 3600), "in about 3 hours");
    assert_eq!(span_words(30), "30 seconds");
    assert_eq!(span_words(90), "90 seconds");
    assert_eq!(span_words(120), "2 minutes");
    assert_eq!(span_words(86_400), "24 hours");
}

#[test]
fn the_error_message_is_the_reason() {
    let error = Error::RateLimited {
        retry_after_seconds: 5,
        reason: "you can post again in 5 seconds".to_owned(),
    };
    assert_eq!(error.to_string(), "you can post again in 5 seconds");
}
