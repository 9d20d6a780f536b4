//! The dashboard's figures and the unanswered lane from a seeded database, on both backends,
//! with a fixed clock: posts over days, replies after known delays, self-replies and hidden
//! replies that do not answer, reports handled, check-ins open; checked against hand-computed
//! values and, for the counts, against SQL written apart from the module's.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::*;
use crate::accounts::{actors, members as accounts};
use crate::db::per_connection;
use crate::db::schema::{members as members_table, memberships, posts, review_items, threads};
use crate::forum::boards::NewBoardForm;
use crate::forum::posts::{self as forum_posts, ReplyForm};
use crate::forum::threads::{self as forum_threads, NewThreadForm};
use crate::groups::memberships as group_memberships;
use crate::ids::{PostId, ThreadId};
use crate::model::SiteRole;
use crate::moderation::actions;
use crate::moderation::review::{self, Decision, ReportLimits, Seen};
use crate::safety::gate::PostingRules;
use crate::safety::limits::PostingLimits;
use crate::test_support::{any_pool, member};

const CRISIS: &str = "Since Milo died I want to end my life.";

/// The fixed "now" of these tests: noon in UTC, 08:00 in New York (the site's zone here).
fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 6, 15)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
}

fn zone() -> Tz {
    zone_named("America/New_York")
}

fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

/// A fresh submission key for each post (the same key from one author is one post).
fn submission_key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("health-{:0>16}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn posting() -> PostingRules {
    PostingRules {
        limits: PostingLimits::NONE,
        same_reply_minutes: 0,
        ..PostingRules::default()
    }
}

fn again(conn: &mut DbConn, username: &str) -> MemberActor {
    let account = accounts::by_username(conn, username).unwrap();
    actors::actor_for(conn, account).unwrap()
}

/// Moves a post (and, for a first post, its thread) to `at`.
fn post_at(conn: &mut DbConn, post: PostId, at: NaiveDateTime) {
    diesel::update(posts::table.find(post))
        .set(posts::created_at.eq(at))
        .execute(conn)
        .unwrap();
}

fn start(
    conn: &mut DbConn,
    who: &MemberActor,
    board: &Board,
    body: &str,
    at: NaiveDateTime,
) -> (ThreadId, PostId) {
    let form = NewThreadForm {
        title: format!("A first post by {}", who.username),
        body: body.to_owned(),
        submission_key: submission_key(),
        ..Default::default()
    };
    let posted = forum_threads::start(conn, &posting(), who, board, &form).unwrap();
    post_at(conn, posted.post.id, at);
    diesel::update(threads::table.find(posted.thread.id))
        .set(threads::created_at.eq(at))
        .execute(conn)
        .unwrap();
    (posted.thread.id, posted.post.id)
}

fn reply(
    conn: &mut DbConn,
    who: &MemberActor,
    thread: ThreadId,
    body: &str,
    at: NaiveDateTime,
) -> PostId {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: submission_key(),
        accept_rules_version: None,
    };
    let posted = forum_posts::reply(conn, &posting(), who, thread, &form).unwrap();
    post_at(conn, posted.post.id, at);
    posted.post.id
}

fn hide(conn: &mut DbConn, moderator: &MemberActor, post: PostId) {
    let seen = {
        let actor = moderator.actor();
        Seen::of(&forum_posts::by_id_for(conn, &actor, post).unwrap().2)
    };
    let hide = Decision::Hide {
        reason: "It goes against this group's ground rules".to_owned(),
    };
    review::decide(conn, &posting(), moderator, post, seen, &hide).unwrap();
}

/// grief (private, facilitated by fran, members joan and olga) and pets (public, facilitated
/// by paul), with posts at known times.
struct World {
    ada: MemberActor,
    fran: MemberActor,
    paul: MemberActor,
    joan: MemberActor,
    grief: Board,
    pets: Board,
    /// grief's first posts still waiting: olga's (3 days) and joan's (1 day).
    waiting: [ThreadId; 2],
    /// pets' one waiting first post (2 days).
    pets_waiting: ThreadId,
}

fn world(conn: &mut DbConn) -> World {
    let ada = member(conn, "ada", SiteRole::Admin);
    let mut boards = Vec::new();
    for (slug, name, visibility) in [
        ("grief", "Grief circle", "private"),
        ("pets", "Pet loss", "public"),
    ] {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: name.to_owned(),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        boards.push(crate::forum::boards::create(conn, &ada, &form).unwrap());
    }
    let (grief, pets) = (boards[0].clone(), boards[1].clone());
    for (name, board) in [("fran", &grief), ("paul", &pets)] {
        member(conn, name, SiteRole::Member);
        actions::set_facilitator(conn, &ada, board, name, true).unwrap();
    }
    for name in ["joan", "olga"] {
        let who = member(conn, name, SiteRole::Member);
        group_memberships::join(conn, &who, &grief, "").unwrap();
        group_memberships::answer_request(conn, &ada, &grief, name, true, "").unwrap();
    }
    let t0 = now();
    // Accounts: everyone long ago but joan (25 days) and olga (60 days); memberships of grief:
    // joan 20 days ago, olga 50 days ago.
    diesel::update(members_table::table)
        .set(members_table::created_at.eq(t0 - days(200)))
        .execute(conn)
        .unwrap();
    for (name, made, joined) in [("joan", 25, 20), ("olga", 60, 50)] {
        let id = accounts::by_username(conn, name).unwrap().id;
        diesel::update(members_table::table.find(id))
            .set(members_table::created_at.eq(t0 - days(made)))
            .execute(conn)
            .unwrap();
        diesel::update(memberships::table.filter(memberships::member_id.eq(id)))
            .set(memberships::joined_at.eq(t0 - days(joined)))
            .execute(conn)
            .unwrap();
    }
    let (fran, paul, joan, olga) = (
        again(conn, "fran"),
        again(conn, "paul"),
        again(conn, "joan"),
        again(conn, "olga"),
    );

    // T1: answered by olga after 2 hours; joan's reply later is her own (and crisis words:
    // a check-in, opened 2 hours ago).
    let (t1, _) = start(conn, &joan, &grief, "The house is so quiet.", t0 - days(10));
    let olga_reply = reply(
        conn,
        &olga,
        t1,
        "I know that quiet.",
        t0 - days(10) + hours(2),
    );
    let crisis = reply(conn, &joan, t1, CRISIS, t0 - hours(2));
    diesel::update(review_items::table.filter(review_items::post_id.eq(crisis)))
        .set(review_items::created_at.eq(t0 - hours(2)))
        .execute(conn)
        .unwrap();
    // T2: joan answers herself after 10 minutes, fran's reply after 30 minutes is hidden, olga
    // answers after 6 hours: 6 hours.
    let (t2, _) = start(
        conn,
        &joan,
        &grief,
        "First week back at work.",
        t0 - days(5),
    );
    reply(
        conn,
        &joan,
        t2,
        "Adding: it was hard.",
        t0 - days(5) + TimeDelta::minutes(10),
    );
    let hidden = reply(
        conn,
        &fran,
        t2,
        "Hang in there.",
        t0 - days(5) + TimeDelta::minutes(30),
    );
    hide(conn, &ada, hidden);
    reply(
        conn,
        &olga,
        t2,
        "Same here, every Monday.",
        t0 - days(5) + hours(6),
    );
    // T3: olga answers only herself: waiting 3 days.
    let (t3, _) = start(conn, &olga, &grief, "Anniversary next week.", t0 - days(3));
    reply(
        conn,
        &olga,
        t3,
        "It will be two years.",
        t0 - days(3) + hours(1),
    );
    // T4: 40 days ago (in 90 days, not in 30), answered by joan after an hour.
    let (t4, _) = start(conn, &olga, &grief, "Does it get easier?", t0 - days(40));
    reply(conn, &joan, t4, "Slowly.", t0 - days(40) + hours(1));
    // T5: joan, yesterday, no reply: waiting 1 day.
    let (t5, _) = start(conn, &joan, &grief, "Couldn't sleep again.", t0 - days(1));
    // T6: a first post hidden by fran and T7 one joan deleted: neither counts anywhere.
    let (_, t6_post) = start(conn, &olga, &grief, "Something unkind.", t0 - days(2));
    hide(conn, &fran, t6_post);
    let (_, t7_post) = start(conn, &joan, &grief, "Never mind.", t0 - days(2));
    forum_posts::delete_own(conn, &joan, t7_post).unwrap();

    // Reports: joan reports olga's reply in T1, fran dismisses it 3 hours later (9 days ago);
    // olga reports the crisis reply, still open.
    review::report(conn, &ReportLimits::NONE, &joan, olga_reply, "other", "").unwrap();
    let seen = Seen::of(
        &forum_posts::by_id_for(conn, &fran.actor(), olga_reply)
            .unwrap()
            .2,
    );
    review::decide(
        conn,
        &posting(),
        &fran,
        olga_reply,
        seen,
        &Decision::Dismiss,
    )
    .unwrap();
    diesel::update(review_items::table.filter(review_items::post_id.eq(olga_reply)))
        .set((
            review_items::created_at.eq(t0 - days(9)),
            review_items::resolved_at.eq(t0 - days(9) + hours(3)),
        ))
        .execute(conn)
        .unwrap();
    review::report(conn, &ReportLimits::NONE, &olga, crisis, "at_risk", "").unwrap();

    // pets: a first post by olga two days ago, nobody answered.
    let (pets_waiting, _) = start(conn, &olga, &pets, "Our old cat.", t0 - days(2));

    World {
        ada: again(conn, "ada"),
        fran,
        paul,
        joan,
        grief,
        pets,
        waiting: [t3, t5],
        pets_waiting,
    }
}

fn figures_for(
    conn: &mut DbConn,
    who: &MemberActor,
    group: Option<&str>,
    window: Window,
) -> Dashboard {
    dashboard(conn, who, group, window, zone(), now()).unwrap()
}

/// The nonzero days of a series.
fn busy_days(series: &Series) -> Vec<(String, i64)> {
    series
        .days
        .iter()
        .filter(|d| d.count > 0)
        .map(|d| (d.day.to_string(), d.count))
        .collect()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Visible, published posts of `board` since `since`, counted by SQL of the test's own.
fn visible_posts_since(conn: &mut DbConn, board: &Board, since: NaiveDateTime) -> i64 {
    let query = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM posts JOIN threads ON threads.id = posts.thread_id \
         WHERE threads.board_id = {} AND posts.moderation = 'visible' \
         AND posts.state = 'published' AND posts.created_at >= $1 AND posts.created_at <= $2",
        board.id.0
    ))
    .bind::<Timestamp, _>(since)
    .bind::<Timestamp, _>(now());
    per_connection!(conn, |c| query.get_result::<N>(c))
        .unwrap()
        .n
}

#[test]
fn a_groups_figures_count_only_visible_replies_by_someone_else() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let health = figures_for(conn, &w.fran, None, Window::Days30);
    assert!(
        !health.site_wide,
        "a facilitator sees their groups, not the site"
    );
    let f = &health.total;
    // T1, T2, T3, T5 in the window; the hidden and the deleted first posts do not count.
    assert_eq!(f.first_posts, 4);
    // T1 after 2 hours, T2 after 6 (not joan's own 10 minutes, not fran's hidden 30).
    assert_eq!(f.answered, 2);
    assert_eq!(f.median_first_reply_seconds, Some(4 * 3600));
    assert_eq!(f.median_first_reply_words.as_deref(), Some("4 hours"));
    assert_eq!(
        f.unanswered.count, 2,
        "olga's and joan's; pets' is not fran's"
    );
    assert_eq!(f.unanswered.oldest_seconds, Some(3 * 86_400));
    assert_eq!(f.unanswered.oldest_words.as_deref(), Some("3 days"));
    assert_eq!(f.check_ins.count, 1);
    assert_eq!(f.check_ins.oldest_seconds, Some(2 * 3600));
    assert_eq!(f.reports_handled, 1, "the open report is not handled");
    assert_eq!(f.median_report_seconds, Some(3 * 3600));
    // Members joining grief: joan (20 days ago); olga joined before the window.
    assert_eq!(f.new_members.total, 1);
    assert_eq!(busy_days(&f.new_members), [("2026-05-26".to_owned(), 1)]);

    // Posts per day of New York: T1 and olga's reply (10 days ago, 08:00 and 10:00 there),
    // T2's first post, joan's own reply and olga's (5 days ago), T3 and olga's own reply, T5,
    // joan's crisis reply this morning at 06:00 New York time, on June 15.
    assert_eq!(
        busy_days(&f.posts),
        [
            ("2026-06-05".to_owned(), 2),
            ("2026-06-10".to_owned(), 3),
            ("2026-06-12".to_owned(), 2),
            ("2026-06-14".to_owned(), 1),
            ("2026-06-15".to_owned(), 1),
        ]
    );
    assert_eq!(f.posts.max, 3);
    assert_eq!(f.posts.days.len(), 30);
    assert_eq!(f.posts.days.last().unwrap().day.to_string(), "2026-06-15");
    let window_start = health.total.posts.days[0].day;
    assert_eq!(window_start.to_string(), "2026-05-17");
    // The window starts at midnight in New York (04:00 UTC in summer).
    let start_utc = window_start.and_hms_opt(4, 0, 0).unwrap();
    assert_eq!(
        f.posts.total,
        visible_posts_since(conn, &w.grief, start_utc)
    );
}

#[test]
fn ninety_days_reach_further_back() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let f = figures_for(conn, &w.fran, Some("grief"), Window::Days90).total;
    assert_eq!(f.first_posts, 5, "T4, 40 days ago, is in");
    // 1 hour (T4), 2 hours (T1), 6 hours (T2).
    assert_eq!(f.median_first_reply_seconds, Some(2 * 3600));
    assert_eq!(f.new_members.total, 2, "olga joined 50 days ago");
    assert_eq!(f.posts.days.len(), 90);
    assert_eq!(f.posts.total, 11);
    let start_utc = f.posts.days[0].day.and_hms_opt(4, 0, 0).unwrap();
    assert_eq!(
        f.posts.total,
        visible_posts_since(conn, &w.grief, start_utc)
    );
    // Unanswered and check-ins are now, whatever the window.
    assert_eq!(f.unanswered.count, 2);
    assert_eq!(f.check_ins.count, 1);
}

#[test]
fn the_staff_see_the_whole_site_and_each_group() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let health = figures_for(conn, &w.ada, None, Window::Days30);
    assert!(health.site_wide);
    let names: Vec<&str> = health
        .groups
        .iter()
        .map(|g| g.group.slug.as_str())
        .collect();
    assert_eq!(names, ["grief", "pets"]);
    assert_eq!(health.total.unanswered.count, 3);
    assert_eq!(health.total.first_posts, 5);
    // The site's new accounts: joan, 25 days ago (olga's is older than the window).
    assert_eq!(
        busy_days(&health.total.new_members),
        [("2026-05-21".to_owned(), 1)]
    );
    let pets = &health.groups[1].figures;
    assert_eq!(pets.unanswered.count, 1);
    assert_eq!(pets.unanswered.oldest_words.as_deref(), Some("2 days"));
    assert_eq!(pets.posts.total, 1);
    assert_eq!(pets.median_first_reply_seconds, None);
    // One group asked for: its figures, and no longer the site's.
    let one = figures_for(conn, &w.ada, Some("pets"), Window::Days30);
    assert!(!one.site_wide);
    assert_eq!(one.focus.as_ref().map(|g| g.slug.as_str()), Some("pets"));
    assert_eq!(one.total, *pets);
}

#[test]
fn a_facilitator_sees_nothing_of_another_group_and_a_member_nothing_at_all() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let fran = figures_for(conn, &w.fran, None, Window::Days30);
    let names: Vec<&str> = fran.groups.iter().map(|g| g.group.name.as_str()).collect();
    assert_eq!(names, ["Grief circle"], "not even pets' name");
    assert_eq!(
        fran.total, fran.groups[0].figures,
        "fran's totals are grief's alone"
    );
    // pets asked for by name is not found, as a group that does not exist.
    let err = dashboard(conn, &w.fran, Some("pets"), Window::Days30, zone(), now()).unwrap_err();
    assert!(matches!(err, Error::NotFound), "{err:?}");
    let err = dashboard(
        conn,
        &w.fran,
        Some("nowhere"),
        Window::Days30,
        zone(),
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotFound), "{err:?}");
    // paul facilitates the public pets: nothing of the private grief.
    let paul = figures_for(conn, &w.paul, None, Window::Days90);
    assert_eq!(paul.groups.len(), 1);
    assert_eq!(paul.groups[0].group.slug, "pets");
    assert_eq!(paul.total.unanswered.count, 1);
    assert_eq!(paul.total.posts.total, 1);
    // A member who moderates nothing has neither page.
    let err = dashboard(conn, &w.joan, None, Window::Days30, zone(), now()).unwrap_err();
    assert!(matches!(err, Error::NotFound), "{err:?}");
    let err = unanswered(conn, &w.joan, 1, now()).unwrap_err();
    assert!(matches!(err, Error::NotFound), "{err:?}");
    let _ = &w.pets;
}

#[test]
fn the_lane_lists_waiting_first_posts_oldest_first_in_the_viewers_groups() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let lane = unanswered(conn, &w.fran, 1, now()).unwrap();
    let listed: Vec<ThreadId> = lane.posts.iter().map(|p| p.thread_id).collect();
    assert_eq!(
        listed, w.waiting,
        "olga's of 3 days, then joan's of 1; not pets'"
    );
    assert_eq!(lane.n_posts, 2);
    let first = &lane.posts[0];
    assert_eq!(first.group.slug, "grief");
    assert_eq!(
        first.author.as_ref().map(|a| a.username.as_str()),
        Some("olga")
    );
    assert_eq!(first.waited_words, "3 days");
    assert_eq!(first.title, "A first post by olga");
    // The staff see every group's, the oldest first.
    let all = unanswered(conn, &w.ada, 1, now()).unwrap();
    let listed: Vec<ThreadId> = all.posts.iter().map(|p| p.thread_id).collect();
    assert_eq!(listed, [w.waiting[0], w.pets_waiting, w.waiting[1]]);
    // Once someone else answers, a first post leaves the lane (and an answer hidden brings it
    // back).
    let answer = reply(conn, &w.fran, w.waiting[1], "I'm here.", now() - hours(1));
    let lane = unanswered(conn, &w.fran, 1, now()).unwrap();
    assert_eq!(lane.n_posts, 1);
    hide(conn, &w.ada, answer);
    let lane = unanswered(conn, &w.fran, 1, now()).unwrap();
    assert_eq!(lane.n_posts, 2);
    // Its count agrees with the dashboard's.
    let health = figures_for(conn, &w.fran, None, Window::Days30);
    assert_eq!(health.total.unanswered.count, lane.n_posts);
}

#[test]
fn waits_read_as_words() {
    assert_eq!(wait_in_words(5), "less than a minute");
    assert_eq!(wait_in_words(60), "1 minute");
    assert_eq!(wait_in_words(59 * 60), "59 minutes");
    assert_eq!(wait_in_words(3600), "1 hour");
    assert_eq!(wait_in_words(47 * 3600), "47 hours");
    assert_eq!(wait_in_words(2 * 86_400), "2 days");
    assert_eq!(wait_in_words(59 * 86_400), "59 days");
    assert_eq!(wait_in_words(60 * 86_400), "2 months");
    assert_eq!(wait_in_words(729 * 86_400), "24 months");
    assert_eq!(wait_in_words(730 * 86_400), "2 years");
    assert_eq!(median(vec![]), None);
    assert_eq!(median(vec![3, 1, 2]), Some(2));
    assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
}

#[test]
fn days_begin_at_midnight_in_the_sites_zone() {
    // Berlin's clocks went forward on 29 March 2026: that day still starts at midnight (23:00
    // UTC the day before, in winter time); the next at 22:00 UTC (summer time).
    let berlin = zone_named("Europe/Berlin");
    let at = NaiveDate::from_ymd_opt(2026, 3, 30)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let days = days_of(Window::Days30, berlin, at);
    assert_eq!(days.len(), 30);
    let (last_two, starts): (Vec<_>, Vec<_>) = days[28..].iter().cloned().unzip();
    assert_eq!(
        last_two.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["2026-03-29", "2026-03-30"]
    );
    assert_eq!(starts[0].to_string(), "2026-03-28 23:00:00");
    assert_eq!(starts[1].to_string(), "2026-03-29 22:00:00");
    // A zone whose clocks skip midnight (Santiago, 6 September 2026): the day starts at 01:00.
    let santiago = zone_named("America/Santiago");
    let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
    assert_eq!(start_of(santiago, day).to_string(), "2026-09-06 04:00:00");
}

/// First posts waiting per group, by SQL of the test's own: an anti-join rather than the
/// module's `NOT EXISTS`, written from the definition in `first_posts`.
fn waiting_by_sql(conn: &mut DbConn) -> Vec<(BoardId, ThreadId)> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = BigInt)]
        board_id: BoardId,
        #[diesel(sql_type = BigInt)]
        thread_id: ThreadId,
    }
    let query = diesel::sql_query(
        "SELECT t.board_id AS board_id, t.id AS thread_id FROM threads t \
         JOIN posts p ON p.thread_id = t.id AND p.position = 1 \
         LEFT JOIN posts r ON r.thread_id = t.id AND r.position > 1 \
             AND r.author_id != p.author_id AND r.state = 'published' \
             AND r.moderation = 'visible' \
         WHERE t.state = 'published' AND p.state = 'published' AND p.moderation = 'visible' \
         GROUP BY t.board_id, t.id HAVING COUNT(r.id) = 0 ORDER BY t.id",
    );
    per_connection!(conn, |c| query.load::<Waiting>(c))
        .unwrap()
        .into_iter()
        .map(|w| (w.board_id, w.thread_id))
        .collect()
}

fn sorted(mut ids: Vec<ThreadId>) -> Vec<ThreadId> {
    ids.sort();
    ids
}

/// The gauge `/metrics` shows, the lane, the dashboard's counts and the first posts it names
/// are one definition: on the seeded world with its edge cases added (a reply only by its
/// author, one only hidden, one only awaiting approval, one deleted; a first post hidden, one
/// deleted while its author's own reply stays), each agrees with the others and with SQL
/// written apart, and each viewer's scope holds only their groups' first posts.
#[test]
fn the_gauge_the_lane_and_the_dashboard_count_the_same_first_posts() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let t0 = now();
    let grief = w.grief.clone();
    // T8: fran's answer hidden: waits.
    let (t8, _) = start(conn, &w.joan, &grief, "Bad dreams.", t0 - days(4));
    let answer = reply(conn, &w.fran, t8, "I'm sorry.", t0 - days(4) + hours(1));
    hide(conn, &w.ada, answer);
    // T9: the only answer is a new member's, awaiting approval: waits.
    let nell = member(conn, "nell", SiteRole::Member);
    group_memberships::join(conn, &nell, &grief, "").unwrap();
    group_memberships::answer_request(conn, &w.ada, &grief, "nell", true, "").unwrap();
    let nell = again(conn, "nell");
    let (t9, _) = start(conn, &w.joan, &grief, "Sundays.", t0 - days(6));
    let held = PostingRules {
        new_account_premod_posts: 5,
        ..posting()
    };
    let form = ReplyForm {
        body: "Sundays are the worst.".to_owned(),
        submission_key: submission_key(),
        accept_rules_version: None,
    };
    let awaiting = forum_posts::reply(conn, &held, &nell, t9, &form)
        .unwrap()
        .post;
    assert_eq!(awaiting.moderation, crate::model::Moderation::Awaiting);
    post_at(conn, awaiting.id, t0 - days(6) + hours(1));
    // T10: olga's answer deleted by olga: waits.
    let (t10, _) = start(conn, &w.joan, &grief, "The garden.", t0 - days(7));
    let olga = again(conn, "olga");
    let deleted = reply(conn, &olga, t10, "Roses?", t0 - days(7) + hours(1));
    forum_posts::delete_own(conn, &olga, deleted).unwrap();
    // T11: joan deletes her first post after replying to it herself: the thread stays (her
    // reply is in it), her first post is gone, so nothing waits.
    let (t11, t11_post) = start(conn, &w.joan, &grief, "Too much.", t0 - days(8));
    reply(
        conn,
        &w.joan,
        t11,
        "Sorry, ignore.",
        t0 - days(8) + hours(1),
    );
    forum_posts::delete_own(conn, &w.joan, t11_post).unwrap();
    let published: String = threads::table
        .find(t11)
        .select(threads::state)
        .get_result(conn)
        .unwrap();
    assert_eq!(
        published, "published",
        "the thread goes on with joan's reply"
    );

    // grief: T10 (7 days), T9 (6), T8 (4), T3 (3), T5 (1); pets: its one (2 days).
    let grief_waiting = [t10, t9, t8, w.waiting[0], w.waiting[1]];
    let by_sql = waiting_by_sql(conn);
    let in_group = |board: &Board| -> Vec<ThreadId> {
        by_sql
            .iter()
            .filter(|(b, _)| *b == board.id)
            .map(|(_, t)| *t)
            .collect()
    };
    assert_eq!(in_group(&grief), sorted(grief_waiting.to_vec()));
    assert_eq!(in_group(&w.pets), [w.pets_waiting]);

    // The gauge, site-wide: every group's, private ones too (a number, nothing named).
    let gauge = crate::maintenance::gauges::read(conn, 7)
        .unwrap()
        .unanswered_first_posts;
    assert_eq!(gauge, by_sql.len() as i64);
    assert_eq!(count_waiting(conn, t0).unwrap(), gauge);
    // An hour before T10 was written, T1 and T4 were answered and nothing else was there yet.
    assert_eq!(count_waiting(conn, t0 - days(7) - hours(1)).unwrap(), 0);

    // The staff's lane and dashboard: the same first posts, the longest waiting first.
    let lane = unanswered(conn, &w.ada, 1, t0).unwrap();
    assert_eq!(lane.n_posts, gauge);
    let listed: Vec<ThreadId> = lane.posts.iter().map(|p| p.thread_id).collect();
    assert_eq!(
        sorted(listed.clone()),
        sorted(by_sql.iter().map(|(_, t)| *t).collect())
    );
    assert_eq!(
        listed,
        [t10, t9, t8, w.waiting[0], w.pets_waiting, w.waiting[1]]
    );
    let site = figures_for(conn, &w.ada, None, Window::Days30);
    assert_eq!(site.total.unanswered.count, gauge);
    assert_eq!(site.total.unanswered.oldest_seconds, Some(7 * 86_400));
    let named: Vec<ThreadId> = site.waiting.iter().map(|p| p.thread_id).collect();
    assert_eq!(named, listed[..WAITING_SHOWN]);
    assert_eq!(site.waiting[0].waited_words, "7 days");
    let per_group: i64 = site.groups.iter().map(|g| g.figures.unanswered.count).sum();
    assert_eq!(per_group, gauge);
    // The window's first posts and how many were answered, against SQL of the test's own.
    let start_utc = site.total.posts.days[0].day.and_hms_opt(4, 0, 0).unwrap();
    let first_posts_sql = "SELECT COUNT(*) AS n FROM posts p JOIN threads t ON t.id = p.thread_id \
         WHERE p.position = 1 AND p.state = 'published' AND p.moderation = 'visible' \
         AND t.state = 'published' AND p.created_at >= $1 AND p.created_at <= $2";
    let count = |conn: &mut DbConn, sql: String| {
        let query = diesel::sql_query(sql)
            .bind::<Timestamp, _>(start_utc)
            .bind::<Timestamp, _>(t0);
        per_connection!(conn, |c| query.get_result::<N>(c))
            .unwrap()
            .n
    };
    let first_posts = count(conn, first_posts_sql.to_owned());
    let answered = count(
        conn,
        format!(
            "{first_posts_sql} AND EXISTS (SELECT 1 FROM posts r WHERE r.thread_id = p.thread_id \
             AND r.author_id != p.author_id AND r.state = 'published' \
             AND r.moderation = 'visible' AND r.created_at <= $2)"
        ),
    );
    assert_eq!(site.total.first_posts, first_posts);
    assert_eq!(site.total.answered, answered);
    assert_eq!(
        (first_posts, answered),
        (8, 2),
        "T1 and T2 answered; T3, T5, T8, T9, T10 and pets' not"
    );

    // A facilitator's scope: their group's first posts only, in the lane and the dashboard.
    for (who, board, expected) in [
        (&w.fran, &grief, grief_waiting.to_vec()),
        (&w.paul, &w.pets, vec![w.pets_waiting]),
    ] {
        let lane = unanswered(conn, who, 1, t0).unwrap();
        let listed: Vec<ThreadId> = lane.posts.iter().map(|p| p.thread_id).collect();
        assert_eq!(listed, expected, "{}'s lane", who.username);
        assert!(lane.posts.iter().all(|p| p.group.id == board.id));
        let health = figures_for(conn, who, None, Window::Days90);
        assert_eq!(health.total.unanswered.count, expected.len() as i64);
        let named: Vec<ThreadId> = health.waiting.iter().map(|p| p.thread_id).collect();
        let shown = expected.len().min(WAITING_SHOWN);
        assert_eq!(named, expected[..shown], "{}'s dashboard", who.username);
    }
    // The staff looking at one group: that group's waiting first posts only.
    let one = figures_for(conn, &w.ada, Some("pets"), Window::Days30);
    let named: Vec<ThreadId> = one.waiting.iter().map(|p| p.thread_id).collect();
    assert_eq!(named, [w.pets_waiting]);
}
