//! Who is told of a post, on both backends: the thread's author, levels, mutes, private
//! groups, hidden and awaiting posts, and reading.

use super::*;
use crate::accounts::{actors, mutes};
use crate::clock;
use crate::db::{DbConn, Pool};
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::{Board, SiteRole, Thread};
use crate::moderation::review::{self, Decision, Seen};
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;
use crate::test_support::{any_pool, member};

struct Site {
    _db: crate::db::testing::TestDatabase,
    pool: Pool,
    admin: MemberActor,
}

fn site() -> Site {
    let (db, pool) = any_pool();
    let admin = member(&mut pool.get().unwrap(), "ada", SiteRole::Admin);
    Site {
        _db: db,
        pool,
        admin,
    }
}

impl Site {
    fn conn(&self) -> crate::db::PooledConn {
        self.pool.get().unwrap()
    }

    fn board(&self, slug: &str, visibility: &str) -> Board {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: format!("The {slug} group"),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        boards::create(&mut self.conn(), &self.admin, &form).unwrap()
    }

    fn member(&self, name: &str) -> MemberActor {
        member(&mut self.conn(), name, SiteRole::Member)
    }

    /// The member as they are now (after joining or leaving).
    fn again(&self, m: &MemberActor) -> MemberActor {
        actors::actor_for(&mut self.conn(), m.member.clone()).unwrap()
    }

    fn start(&self, who: &MemberActor, board: &Board, title: &str) -> Thread {
        let form = NewThreadForm {
            title: title.to_owned(),
            body: "I can't do this anymore tonight.".to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            ..Default::default()
        };
        threads::start(&mut self.conn(), &rules(), who, board, &form)
            .unwrap()
            .thread
    }

    fn reply(&self, who: &MemberActor, thread: &Thread, body: &str) -> crate::model::Post {
        let form = ReplyForm {
            body: body.to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            accept_rules_version: None,
        };
        posts::reply(&mut self.conn(), &rules(), who, thread.id, &form)
            .unwrap()
            .post
    }

    /// The site's admin hides `post` as spam.
    fn hide(&self, post: &crate::model::Post) {
        let hide = Decision::Hide {
            reason: "spam".to_owned(),
        };
        review::decide(
            &mut self.conn(),
            &rules(),
            &self.admin,
            post.id,
            Seen::of(post),
            &hide,
        )
        .unwrap();
    }

    /// `n` members watching `board`, made quickly (one password hash for all).
    fn watchers(&self, board: &Board, n: usize) -> Vec<MemberActor> {
        use crate::maintenance::bulk::{self, NewMember};
        let conn = &mut self.conn();
        let hash = crate::accounts::passwords::hash("a long enough password").unwrap();
        let names: Vec<String> = (0..n).map(|i| format!("watcher{i}")).collect();
        let rows: Vec<NewMember> = names
            .iter()
            .map(|name| NewMember {
                username: name,
                display_name: "",
                pronouns: "",
                time_zone: "UTC",
                password_hash: &hash,
                site_role: SiteRole::Member,
                created_at: clock::now(),
                post_count: 0,
            })
            .collect();
        bulk::insert_members(conn, &rows)
            .unwrap()
            .into_iter()
            .map(|id| {
                let account = crate::accounts::members::by_id(conn, id).unwrap();
                let watcher = actors::actor_for(conn, account).unwrap();
                levels::set_for_board(conn, &watcher, board, Level::Watching).unwrap();
                watcher
            })
            .collect()
    }

    fn bell(&self, who: &MemberActor) -> i64 {
        unread_count(&mut self.conn(), who.id).unwrap()
    }

    fn items(&self, who: &MemberActor) -> Vec<NotificationItem> {
        list(&mut self.conn(), &self.again(who), None)
            .unwrap()
            .items
    }
}

fn rules() -> PostingRules {
    // Unlimited (0 turns a limit off): these tests post many times a minute.
    PostingRules {
        same_reply_minutes: 0,
        limits: crate::safety::limits::PostingLimits {
            per_minute: 0,
            per_day: 0,
            new_account_per_minute: 0,
            new_account_per_day: 0,
            new_account_hours: 0,
        },
        ..PostingRules::default()
    }
}

#[test]
fn three_replies_at_night_are_one_notification_counted_three_that_reading_clears() {
    let site = site();
    let board = site.board("night", "public");
    let (mia, fran, sam, kit) = (
        site.member("mia"),
        site.member("fran"),
        site.member("sam"),
        site.member("kit"),
    );
    let thread = site.start(&mia, &board, "Can't do this anymore");
    let first = site.reply(&fran, &thread, "I'm here. You're not alone.");
    site.reply(&sam, &thread, "Same here last year; it passes.");
    site.reply(&kit, &thread, "Sending you warmth.");

    assert_eq!(site.bell(&mia), 3);
    let items = site.items(&mia);
    assert_eq!(items.len(), 1, "grouped: {items:?}");
    let item = &items[0];
    assert_eq!(item.kind, "reply");
    assert_eq!(item.count, 3);
    assert_eq!(item.thread_title.as_deref(), Some("Can't do this anymore"));
    assert_eq!(
        item.actor.as_deref(),
        Some("kit"),
        "the latest one to answer"
    );
    assert_eq!(
        item.link,
        Some(format!("/p/{}", first.id)),
        "the first unread post"
    );
    // Those who replied follow the thread: a plain reply tells them nothing.
    assert_eq!(site.bell(&fran), 0);
    assert_eq!(site.bell(&sam), 0);

    // Reading the thread as far as the second reply leaves the third unread…
    let conn = &mut site.conn();
    read_thread_in(conn, mia.id, thread.id, 3, clock::now()).unwrap();
    assert_eq!(site.bell(&mia), 3, "the group's latest post is at 4");
    read_thread_in(conn, mia.id, thread.id, 4, clock::now()).unwrap();
    assert_eq!(site.bell(&mia), 0);
    assert!(!site.items(&mia)[0].unread);

    // A later reply starts a new notification.
    site.reply(&fran, &thread, "How are you this morning?");
    assert_eq!(site.bell(&mia), 1);
    assert_eq!(site.items(&mia).len(), 2);
}

#[test]
fn levels_decide_who_hears_and_the_actor_never_does() {
    let site = site();
    let board = site.board("cats", "public");
    let (mia, wes, nora, mo) = (
        site.member("mia"),
        site.member("wes"),
        site.member("nora"),
        site.member("moe"),
    );
    let conn = &mut site.conn();
    levels::set_for_board(conn, &wes, &board, Level::Watching).unwrap();
    levels::set_for_board(conn, &nora, &board, Level::Normal).unwrap();
    let thread = site.start(&mia, &board, "My cat died");
    assert_eq!(site.bell(&wes), 1, "a new thread in a group wes watches");
    assert_eq!(site.items(&wes)[0].kind, "new_thread");
    assert_eq!(site.bell(&nora), 0);

    // Mia mutes her own thread: she hears nothing more of it, wes still hears every post.
    let t = crate::forum::threads::by_id(conn, thread.id).unwrap();
    levels::set_for_thread(conn, &mia, &board, &t, Level::Muted).unwrap();
    site.reply(&mo, &thread, "So sorry.");
    assert_eq!(site.bell(&mia), 0, "muted");
    assert_eq!(site.bell(&wes), 2);
    assert_eq!(site.items(&wes)[0].kind, "watched_post");
    // The thread's own level wins over the group's.
    levels::set_for_thread(conn, &wes, &board, &t, Level::Normal).unwrap();
    site.reply(&mo, &thread, "Thinking of you.");
    assert_eq!(site.bell(&wes), 2);
    // Nobody is told of their own post, whatever they watch.
    let zoe = site.member("zoe");
    levels::set_for_board(conn, &zoe, &board, Level::Watching).unwrap();
    site.start(&zoe, &board, "A walk helped");
    assert_eq!(site.bell(&zoe), 0);
    assert_eq!(
        site.bell(&wes),
        3,
        "wes watches the group: zoe's thread reached him"
    );
}

#[test]
fn a_muted_member_notifies_nobody_who_muted_them() {
    let site = site();
    let board = site.board("moving", "public");
    let (mia, troll) = (site.member("mia"), site.member("troll"));
    let thread = site.start(&mia, &board, "New city, no friends");
    let conn = &mut site.conn();
    mutes::mute(conn, &mia, &troll.member).unwrap();
    site.reply(&troll, &thread, "Nobody cares.");
    assert_eq!(site.bell(&mia), 0);
    assert!(site.items(&mia).is_empty());
}

#[test]
fn nobody_outside_a_private_group_hears_of_its_posts() {
    let site = site();
    let board = site.board("hidden", "private");
    let (mia, lee) = (site.member("mia"), site.member("lee"));
    let conn = &mut site.conn();
    for who in [&mia, &lee] {
        memberships::join(conn, who, &board, "").unwrap();
        memberships::answer_request(conn, &site.admin, &board, &who.username, true, "").unwrap();
    }
    let lee = site.again(&lee);
    levels::set_for_board(conn, &lee, &board, Level::Watching).unwrap();
    let mia = site.again(&mia);
    mark_all_read(conn, lee.id, clock::now()).unwrap(); // "your request was approved"
    let thread = site.start(&mia, &board, "Only for us");
    assert_eq!(site.bell(&lee), 1);
    // Lee leaves: their level stays in the table, yet they hear nothing more.
    memberships::leave(conn, &lee, &board).unwrap();
    site.reply(&site.again(&mia), &thread, "Still here.");
    assert_eq!(site.bell(&lee), 0, "what they had not read went with them");
    // And what they were told before is no longer shown: not its title, not that it exists.
    let shown = site.items(&lee);
    assert!(
        shown
            .iter()
            .all(|n| n.kind == "moderation" && n.thread_title.is_none()),
        "{shown:?}"
    );
}

#[test]
fn a_hidden_post_stops_telling_and_an_awaiting_one_tells_when_approved() {
    let site = site();
    let board = site.board("care", "public");
    let (mia, fran) = (site.member("mia"), site.member("fran"));
    let thread = site.start(&mia, &board, "Bad day");
    let reply = site.reply(&fran, &thread, "Here if you need me.");
    assert_eq!(site.bell(&mia), 1);
    let conn = &mut site.conn();
    site.hide(&reply);
    assert_eq!(site.bell(&mia), 0, "a hidden post tells nobody");
    assert!(site.items(&mia).is_empty());

    // A post held for approval tells nobody until it is approved.
    let settings = crate::moderation::actions::BoardSettings {
        premod_first_posts: 3,
    };
    crate::moderation::actions::set_board_settings(conn, &site.admin, &board, &settings).unwrap();
    let newcomer = site.member("newcomer");
    let held = site.reply(&newcomer, &thread, "Another thought.");
    assert_eq!(held.moderation, crate::model::Moderation::Awaiting);
    assert_eq!(site.bell(&mia), 0);
    review::decide(
        conn,
        &rules(),
        &site.admin,
        held.id,
        Seen::of(&held),
        &Decision::Approve,
    )
    .unwrap();
    assert_eq!(site.bell(&mia), 1);
    assert_eq!(site.items(&mia)[0].link, Some(format!("/p/{}", held.id)));
}

#[test]
fn the_moderators_notices_are_notifications_read_one_by_one_or_all() {
    let site = site();
    let (mia, lee) = (site.member("mia"), site.member("lee"));
    let conn = &mut site.conn();
    let now = clock::now();
    for body in ["First warning", "Second warning"] {
        notice(
            conn,
            mia.id,
            Kind::Moderation,
            Subject::default(),
            body,
            now,
        )
        .unwrap();
    }
    assert_eq!(site.bell(&mia), 2, "notices never group");
    let items = site.items(&mia);
    assert_eq!(items[0].body, "Second warning");
    // Another member cannot mark them read.
    mark_read(conn, lee.id, items[0].id, now).unwrap();
    assert_eq!(site.bell(&mia), 2);
    mark_read(conn, mia.id, items[0].id, now).unwrap();
    assert_eq!(site.bell(&mia), 1);
    mark_all_read(conn, mia.id, now).unwrap();
    assert_eq!(site.bell(&mia), 0);
}

fn opening_post(conn: &mut DbConn, thread: &Thread) -> crate::model::Post {
    use crate::db::schema::posts;
    posts::table
        .filter(posts::thread_id.eq(thread.id))
        .filter(posts::position.eq(1))
        .select(crate::model::Post::as_select())
        .first(conn)
        .unwrap()
}

#[test]
fn a_thread_moved_into_a_private_group_disappears_from_outsiders_notifications() {
    let site = site();
    let open = site.board("open", "public");
    let closed = site.board("closed", "private");
    let (ann, bea) = (site.member("ann"), site.member("bea"));
    let conn = &mut site.conn();
    levels::set_for_board(conn, &bea, &open, Level::Watching).unwrap();
    let thread = site.start(&ann, &open, "A secret title");
    assert_eq!(
        site.items(&bea)[0].thread_title.as_deref(),
        Some("A secret title")
    );
    crate::moderation::actions::change_thread(
        conn,
        &site.admin,
        thread.id,
        crate::moderation::actions::ThreadChange::Move(closed.id),
        "belongs in the circle",
    )
    .unwrap();
    let page = list(conn, &site.again(&bea), None).unwrap();
    assert!(page.items.is_empty(), "{:?}", page.items);
    assert_eq!(page.stale.len(), 1, "unread, so the page marks it read");
    assert_eq!(
        mark_stale_read(conn, bea.id, page.stale, clock::now()).unwrap(),
        0
    );
    assert_eq!(site.bell(&bea), 0);
}

#[test]
fn an_approved_opening_post_reaches_the_groups_watchers() {
    let site = site();
    let board = site.board("newcomers", "public");
    let wes = site.member("wes");
    let conn = &mut site.conn();
    levels::set_for_board(conn, &wes, &board, Level::Watching).unwrap();
    let settings = crate::moderation::actions::BoardSettings {
        premod_first_posts: 1,
    };
    crate::moderation::actions::set_board_settings(conn, &site.admin, &board, &settings).unwrap();
    let newcomer = site.member("newcomer");
    let thread = site.start(&newcomer, &board, "First time posting");
    assert_eq!(site.bell(&wes), 0, "awaiting approval");
    let post = opening_post(conn, &thread);
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &site.admin,
        post.id,
        Seen::of(&post),
        &Decision::Approve,
    )
    .unwrap();
    assert_eq!(site.bell(&wes), 1);
    assert_eq!(site.items(&wes)[0].kind, "new_thread");
}

#[test]
fn hiding_a_later_post_of_a_group_counts_it_out_and_names_who_is_left() {
    let site = site();
    let board = site.board("grief", "public");
    let (mia, ann, bob) = (site.member("mia"), site.member("ann"), site.member("bob"));
    let thread = site.start(&mia, &board, "Missing her");
    let first = site.reply(&ann, &thread, "I'm so sorry.");
    let second = site.reply(&bob, &thread, "Buy my pills.");
    assert_eq!(site.bell(&mia), 2);
    let conn = &mut site.conn();
    let hide = Decision::Hide {
        reason: "spam".to_owned(),
    };
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &site.admin,
        second.id,
        Seen::of(&second),
        &hide,
    )
    .unwrap();
    assert_eq!(site.bell(&mia), 1);
    let item = &site.items(&mia)[0];
    assert_eq!((item.count, item.actor.as_deref()), (1, Some("ann")));
    // Then the first goes too: nothing is left to tell.
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &site.admin,
        first.id,
        Seen::of(&first),
        &hide,
    )
    .unwrap();
    assert_eq!(site.bell(&mia), 0);
    assert!(site.items(&mia).is_empty());
}

#[test]
fn a_post_approved_late_leads_the_group_and_reading_up_to_it_leaves_the_later_ones() {
    let site = site();
    let board = site.board("late", "public");
    let (mia, fran) = (site.member("mia"), site.member("fran"));
    let thread = site.start(&mia, &board, "Long night");
    site.reply(&fran, &thread, "Still up?"); // position 2, before pre-moderation
    let conn = &mut site.conn();
    let settings = crate::moderation::actions::BoardSettings {
        premod_first_posts: 1,
    };
    crate::moderation::actions::set_board_settings(conn, &site.admin, &board, &settings).unwrap();
    let newcomer = site.member("newcomer");
    let held = site.reply(&newcomer, &thread, "First words here."); // 3, awaiting
    site.reply(&fran, &thread, "Here if you need."); // 4
    assert_eq!(site.bell(&mia), 2);
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &site.admin,
        held.id,
        Seen::of(&held),
        &Decision::Approve,
    )
    .unwrap();
    let item = &site.items(&mia)[0];
    assert_eq!(item.count, 3);
    // Reading up to the approved post (3) leaves post 4 unread: the group's latest stays 4.
    read_thread_in(conn, mia.id, thread.id, 3, clock::now()).unwrap();
    assert_eq!(site.bell(&mia), 3);
    read_thread_in(conn, mia.id, thread.id, 4, clock::now()).unwrap();
    assert_eq!(site.bell(&mia), 0);
}

#[test]
fn read_notifications_are_purged_after_their_time_and_unread_ones_never() {
    let site = site();
    let (mia, lee) = (site.member("mia"), site.member("lee"));
    let conn = &mut site.conn();
    let long_ago = clock::now() - chrono::TimeDelta::days(100);
    for who in [&mia, &lee] {
        notice(
            conn,
            who.id,
            Kind::Moderation,
            Subject::default(),
            "Old news",
            long_ago,
        )
        .unwrap();
    }
    mark_all_read(conn, mia.id, long_ago).unwrap();
    notice(
        conn,
        mia.id,
        Kind::Moderation,
        Subject::default(),
        "Fresh",
        clock::now(),
    )
    .unwrap();
    mark_all_read(conn, mia.id, clock::now()).unwrap();
    let purged = purge_read(conn, clock::now(), 90).unwrap();
    assert_eq!(purged, 1, "mia's old read notice");
    let mine: Vec<String> = site.items(&mia).into_iter().map(|n| n.body).collect();
    assert_eq!(mine, ["Fresh"]);
    assert_eq!(
        site.bell(&lee),
        1,
        "lee's old notice was never read: it stays"
    );
}

#[test]
fn a_post_job_is_told_a_batch_at_a_time_once_to_each_member_and_the_worker_finishes_it() {
    use crate::db::schema::{notification_jobs, notifications};
    let site = site();
    let board = site.board("big", "public");
    let author = site.member("author");
    let watchers: Vec<MemberActor> = (0..5)
        .map(|i| site.member(&format!("watcher{i}")))
        .collect();
    let conn = &mut site.conn();
    for w in &watchers {
        levels::set_for_board(conn, w, &board, Level::Watching).unwrap();
    }
    let thread = site.start(&author, &board, "Many eyes");
    for w in &watchers {
        assert_eq!(site.bell(w), 1, "told in the poster's request");
    }
    // The same post's job again, delivered two members at a time, by member id: the author
    // (a candidate, never told) and one watcher, then two, two, and an empty last batch.
    diesel::delete(notifications::table).execute(conn).unwrap();
    let post = opening_post(conn, &thread);
    fanout::enqueue(
        conn,
        post.id,
        &Addressed::default(),
        fanout::Audience::Followers,
        clock::now(),
    )
    .unwrap();
    let job: i64 = notification_jobs::table
        .select(notification_jobs::id)
        .first(conn)
        .unwrap();
    let mut steps = Vec::new();
    loop {
        let step = fanout::deliver_batch(conn, job, 2).unwrap();
        steps.push(step);
        if !matches!(step, fanout::Delivered::More(_)) {
            break;
        }
    }
    assert_eq!(
        steps,
        [
            fanout::Delivered::More(1),
            fanout::Delivered::More(2),
            fanout::Delivered::More(2),
            fanout::Delivered::Done(0)
        ]
    );
    for w in &watchers {
        assert_eq!(site.bell(w), 1, "exactly once each");
    }
    assert_eq!(
        fanout::deliver_batch(conn, job, 2).unwrap(),
        fanout::Delivered::Taken,
        "a finished job is gone"
    );
    // A job nobody delivered (the process stopped after the post's commit) is the worker's.
    diesel::delete(notifications::table).execute(conn).unwrap();
    fanout::enqueue(
        conn,
        post.id,
        &Addressed::default(),
        fanout::Audience::Followers,
        clock::now(),
    )
    .unwrap();
    assert!(fanout::deliver_pending(conn, 100).unwrap() >= 1);
    for w in &watchers {
        assert_eq!(site.bell(w), 1);
    }
    assert_eq!(jobs_left(conn), 0);
}

/// A new post's first batch is told in its commit, and only what is left becomes a job: one
/// row that goes on after the last member the first batch considered, which the worker then
/// finishes, telling everyone once.
#[test]
fn a_post_with_more_readers_than_a_batch_leaves_the_rest_to_the_worker() {
    use crate::db::schema::notification_jobs;
    let site = site();
    let board = site.board("wide", "public");
    let author = site.member("author");
    let watchers: Vec<MemberActor> = (0..3)
        .map(|i| site.member(&format!("watcher{i}")))
        .collect();
    let conn = &mut site.conn();
    for w in &watchers {
        levels::set_for_board(conn, w, &board, Level::Watching).unwrap();
    }
    fanout::hooks::set_batch(Some(2));
    site.start(&author, &board, "Many eyes");
    fanout::hooks::set_batch(None);
    // Candidates by member id: the author (never told) and the first watcher.
    let told: Vec<i64> = watchers.iter().map(|w| site.bell(w)).collect();
    assert_eq!(told, [1, 0, 0], "only the first batch in the post's commit");
    let jobs: Vec<i64> = notification_jobs::table
        .select(notification_jobs::done_through)
        .load(conn)
        .unwrap();
    assert_eq!(
        jobs,
        [watchers[0].id.0],
        "one job, after the first batch's last candidate"
    );
    assert!(fanout::deliver_pending(conn, 100).unwrap() >= 1);
    for w in &watchers {
        assert_eq!(site.bell(w), 1, "each watcher told once");
    }
    assert_eq!(jobs_left(conn), 0);
}

/// Replies to a thread with more readers than a batch, left to the worker together, are told
/// in one pass over the readers: each reader's row counts every reply they may read, did not
/// write and whose author they did not mute, and leads to the earliest of them. A reply hidden
/// before its delivery counts for nobody.
#[test]
fn replies_left_to_the_worker_together_are_told_in_one_pass() {
    use crate::db::schema::notification_jobs;
    let site = site();
    let board = site.board("wide", "public");
    let author = site.member("author");
    let (ann, ben) = (site.member("ann"), site.member("ben"));
    let watchers: Vec<MemberActor> = (0..3)
        .map(|i| site.member(&format!("watcher{i}")))
        .collect();
    let conn = &mut site.conn();
    let thread = site.start(&author, &board, "Many eyes");
    for w in &watchers {
        levels::set_for_board(conn, w, &board, Level::Watching).unwrap();
    }
    levels::set_for_board(conn, &ben, &board, Level::Watching).unwrap();
    mutes::mute(conn, &watchers[1], &ben.member).unwrap();
    let waiting = |conn: &mut DbConn| -> Vec<i64> {
        notification_jobs::table
            .select(notification_jobs::done_through)
            .load(conn)
            .unwrap()
    };
    // The first batch (one member: the thread's author, the lowest id) in each reply's commit.
    fanout::hooks::set_batch(Some(1));
    let first = site.reply(&ann, &thread, "You are not alone in this.");
    let from_ben = site.reply(&ben, &thread, "Same here, every night.");
    let third = site.reply(&ann, &thread, "Write to us in the morning too.");
    fanout::hooks::set_batch(None);
    assert_eq!(site.bell(&author), 3, "told in each reply's commit");
    assert_eq!(
        waiting(conn),
        [author.id.0; 3],
        "three jobs, after the same member"
    );
    // The worker's batches of two: the four watchers after the author are one pass of three
    // batches (two, two, and the empty one that ends it) for the three jobs, not nine.
    fanout::hooks::set_batch(Some(2));
    let batches = fanout::deliver_pending(conn, 100).unwrap();
    fanout::hooks::set_batch(None);
    assert_eq!(batches, 3, "one pass for the three replies");
    assert!(waiting(conn).is_empty());
    assert_eq!(site.bell(&watchers[0]), 3);
    assert_eq!(site.bell(&watchers[2]), 3);
    assert_eq!(site.bell(&watchers[1]), 2, "not ben's, whom they muted");
    assert_eq!(site.bell(&ben), 2, "ann's two, not his own");
    let items = site.items(&watchers[0]);
    assert_eq!(items.len(), 1, "one row: {items:?}");
    assert_eq!(items[0].count, 3);
    let leads_to = |item: &NotificationItem, post: &crate::model::Post| {
        item.link.as_deref() == Some(format!("/p/{}", post.id).as_str())
    };
    assert!(
        leads_to(&items[0], &first),
        "the earliest reply: {:?}",
        items[0].link
    );
    let for_ben = site.items(&ben);
    assert!(
        leads_to(&for_ben[0], &first) && !leads_to(&for_ben[0], &from_ben),
        "ann's first, not his own: {:?}",
        for_ben[0].link
    );

    // Two more wait together; one of them is hidden before they are delivered: only the
    // other counts.
    fanout::hooks::set_batch(Some(1));
    site.reply(&ann, &thread, "Thinking of you all.");
    let hidden = site.reply(&ann, &thread, "Something the moderators will hide.");
    fanout::hooks::set_batch(None);
    site.hide(&hidden);
    fanout::deliver_pending(conn, 100).unwrap();
    assert!(waiting(conn).is_empty());
    assert_eq!(site.bell(&watchers[0]), 4, "one more, not the hidden one");
    assert_eq!(site.bell(&watchers[1]), 3);

    // A moderator hides the earliest reply: each row is counted again from the posts it spans,
    // still without the replies of members its reader muted, and leads to the next one.
    site.hide(&first);
    assert_eq!(site.bell(&watchers[0]), 3);
    assert_eq!(site.bell(&watchers[1]), 2, "counted again without ben's");
    assert_eq!(site.bell(&ben), 2, "ann's two left, not his own");
    assert!(leads_to(&site.items(&watchers[0])[0], &from_ben));
    assert!(
        leads_to(&site.items(&watchers[1])[0], &third),
        "the first reply left that they did not mute"
    );
}

/// Two deliveries at once (two workers: several `hearth serve` may share one PostgreSQL), each
/// folding replies of one thread that wait at the same member, never deadlock: each claims only
/// jobs nobody holds, and both write the watchers' rows in one order. The watchers mute one
/// replier, the other or nobody, so the two deliveries' rows count different replies for
/// different watchers. Every round, every watcher is told each reply they hear of exactly once.
#[test]
fn two_deliveries_folding_replies_of_one_thread_at_once_never_deadlock() {
    const WATCHERS: usize = 150;
    const ROUNDS: usize = 10;
    const REPLIES: usize = 6;
    let site = site();
    let board = site.board("wide", "public");
    let author = site.member("author");
    let (ann, ben) = (site.member("ann"), site.member("ben"));
    let thread = site.start(&author, &board, "Many eyes");
    let conn = &mut site.conn();
    let watchers = site.watchers(&board, WATCHERS);
    for (i, watcher) in watchers.iter().enumerate() {
        // A third mute ben, a third ann, a third nobody.
        match i % 3 {
            0 => mutes::mute(conn, watcher, &ben.member).unwrap(),
            1 => mutes::mute(conn, watcher, &ann.member).unwrap(),
            _ => {}
        }
    }
    for round in 1..=ROUNDS {
        // Each reply's first batch (the thread's author, the lowest id) in its commit: the
        // jobs all wait after the same member.
        fanout::hooks::set_batch(Some(1));
        for i in 0..REPLIES {
            let who = if i % 2 == 0 { &ann } else { &ben };
            site.reply(
                who,
                &thread,
                &format!("Round {round}, reply {i}: you are not alone."),
            );
        }
        fanout::hooks::set_batch(None);
        let jobs = job_ids(conn);
        assert_eq!(jobs.len(), REPLIES, "round {round}");
        // One delivery goes through the jobs from the oldest, the other from the newest, at
        // the same moment: each claims one and folds in what the other has not taken.
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            let deliveries: Vec<_> = [false, true]
                .into_iter()
                .map(|newest_first| {
                    let (start, pool) = (&start, &site.pool);
                    let mut order = jobs.clone();
                    if newest_first {
                        order.reverse();
                    }
                    scope.spawn(move || {
                        let conn = &mut pool.get().unwrap();
                        start.wait();
                        for job in order {
                            fanout::deliver_batch_folding(conn, job, WATCHERS + 10)
                                .unwrap_or_else(|e| panic!("round {round}, job {job}: {e}"));
                        }
                    })
                })
                .collect();
            for delivery in deliveries {
                delivery.join().unwrap();
            }
        });
        assert_eq!(jobs_left(conn), 0, "round {round}: every job delivered");
        let heard = |i: usize| -> i64 {
            let per_replier = i64::try_from(REPLIES / 2 * round).unwrap();
            if i % 3 == 2 {
                2 * per_replier
            } else {
                per_replier
            }
        };
        for (i, w) in watchers.iter().enumerate() {
            assert_eq!(site.bell(w), heard(i), "round {round}, watcher {i}");
        }
    }
}

/// A moderator hides a reply while a delivery tells the thread's watchers of newer ones: the
/// hide recounts the watchers' rows that span the reply, locked in the order every delivery
/// writes them, so neither is aborted as a deadlock, and each watcher's count is the replies
/// left visible.
#[test]
fn hiding_a_reply_while_its_thread_is_delivered_never_deadlocks() {
    const WATCHERS: usize = 400;
    const ROUNDS: usize = 12;
    const REPLIES: usize = 2;
    let site = site();
    let board = site.board("wide", "public");
    // The replier first (each reply's first batch, in its commit, is her alone, who is not
    // told), the thread's author last: the delivery writes the author's "reply" row before the
    // watchers' "watched post" rows, though the author's id comes after theirs.
    let ann = site.member("ann");
    let watchers = site.watchers(&board, WATCHERS);
    let author = site.member("author");
    let thread = site.start(&author, &board, "Many eyes");
    let conn = &mut site.conn();
    let mut earlier: Vec<crate::model::Post> = Vec::new();
    let mut hidden = 0;
    for round in 1..=ROUNDS {
        fanout::hooks::set_batch(Some(1));
        let replies: Vec<crate::model::Post> = (0..REPLIES)
            .map(|i| {
                site.reply(
                    &ann,
                    &thread,
                    &format!("Round {round}, reply {i}: hold on."),
                )
            })
            .collect();
        fanout::hooks::set_batch(None);
        let jobs = job_ids(conn);
        // A reply of the round before is hidden as this round's are told.
        let to_hide = earlier.pop();
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            let delivery = scope.spawn(|| {
                let conn = &mut site.conn();
                start.wait();
                for job in jobs {
                    fanout::deliver_batch_folding(conn, job, WATCHERS + 10)
                        .unwrap_or_else(|e| panic!("round {round}, job {job}: {e}"));
                }
            });
            start.wait();
            if let Some(post) = &to_hide {
                site.hide(post);
            }
            delivery.join().unwrap();
        });
        hidden += usize::from(to_hide.is_some());
        earlier = replies;
        assert_eq!(jobs_left(conn), 0, "round {round}: every job delivered");
        let visible = i64::try_from(REPLIES * round - hidden).unwrap();
        for (i, w) in watchers.iter().enumerate() {
            // And the new thread, started after they chose to watch the group.
            assert_eq!(site.bell(w), visible + 1, "round {round}, watcher {i}");
        }
        assert_eq!(
            site.bell(&author),
            visible,
            "round {round}, the thread's author"
        );
    }
}

/// The first batch is told in the reply's own commit; when it fails, the reply is posted all
/// the same (the batch is undone to its savepoint) and the worker tells its readers later.
#[test]
fn a_reply_whose_first_batch_fails_is_posted_and_its_readers_are_told_by_the_worker() {
    let site = site();
    let board = site.board("steady", "public");
    let (author, replier) = (site.member("author"), site.member("replier"));
    let thread = site.start(&author, &board, "Hard night");
    site.reply(&replier, &thread, "I am here, you are not alone.");
    assert_eq!(site.bell(&author), 1, "told in the reply's commit");
    let conn = &mut site.conn();
    assert_eq!(
        jobs_left(conn),
        0,
        "a one-batch job ends in the reply's commit"
    );
    fanout::hooks::fail(true);
    let second = site.reply(&replier, &thread, "Still here in the morning.");
    fanout::hooks::fail(false);
    assert!(posts::by_id(conn, second.id).is_ok(), "the reply is in");
    assert_eq!(jobs_left(conn), 1, "its job waits for the worker, whole");
    assert_eq!(site.bell(&author), 1, "not told yet");
    assert!(fanout::deliver_pending(conn, 100).unwrap() >= 1);
    assert_eq!(jobs_left(conn), 0);
    let items = site.items(&author);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0].count, 2,
        "the second reply joins the first's notification"
    );
}

#[test]
fn a_held_edit_approved_tells_only_whom_it_newly_names() {
    let site = site();
    let board = site.board("edits", "public");
    let (mia, fran, bo) = (site.member("mia"), site.member("fran"), site.member("bob"));
    let wes = site.member("wes");
    let conn = &mut site.conn();
    crate::safety::watched::add(conn, &site.admin, "casino", "hold").unwrap();
    levels::set_for_board(conn, &wes, &board, Level::Watching).unwrap();
    let thread = site.start(&mia, &board, "Rough week");
    let reply = site.reply(&fran, &thread, "Thinking of you.");
    assert_eq!(site.bell(&mia), 1);
    // Wes reads the thread, reply and all; Mia does not.
    crate::forum::reads::record(conn, wes.id, thread.id, 2, clock::now()).unwrap();
    assert_eq!(site.bell(&wes), 0);
    let edited = crate::forum::posts::edit(
        conn,
        &rules(),
        &fran,
        reply.id,
        "Thinking of you, @bob too. Not a casino.",
    )
    .unwrap()
    .post;
    assert_eq!(edited.moderation, crate::model::Moderation::Awaiting);
    review::decide(
        conn,
        &rules(),
        &site.admin,
        edited.id,
        Seen::of(&edited),
        &Decision::Approve,
    )
    .unwrap();
    assert_eq!(
        site.bell(&wes),
        0,
        "he read it before it was held: not news again"
    );
    assert_eq!(
        site.bell(&mia),
        1,
        "she never read it: told of it once more"
    );
    assert_eq!(site.bell(&bo), 1, "newly named by the edit");
    assert_eq!(site.items(&bo)[0].kind, "mention");
}

#[test]
fn marking_a_group_read_reads_what_told_of_its_threads() {
    let site = site();
    let board = site.board("quiet", "public");
    let (mia, fran) = (site.member("mia"), site.member("fran"));
    let thread = site.start(&mia, &board, "Anyone up?");
    site.reply(&fran, &thread, "Yes, here.");
    assert_eq!(site.bell(&mia), 1);
    let conn = &mut site.conn();
    let board = crate::forum::boards::by_id(conn, board.id).unwrap();
    crate::forum::reads::mark_group_read(conn, &site.again(&mia), &board).unwrap();
    assert_eq!(site.bell(&mia), 0);
}

/// The notification jobs waiting, oldest first.
fn job_ids(conn: &mut DbConn) -> Vec<i64> {
    use crate::db::schema::notification_jobs;
    notification_jobs::table
        .order(notification_jobs::id)
        .select(notification_jobs::id)
        .load(conn)
        .unwrap()
}

/// How many notification jobs wait.
fn jobs_left(conn: &mut DbConn) -> i64 {
    use crate::db::schema::notification_jobs;
    notification_jobs::table.count().get_result(conn).unwrap()
}

/// Every statement that changes several notification rows locks them first in the one order
/// every writer uses (on PostgreSQL a `SELECT … ORDER BY kind … FOR UPDATE` before it): a
/// moderator's hide, a member reading a thread, marking everything read. Two such
/// transactions sharing rows (a hide counts many members' rows again while one of them reads
/// the thread) then never each hold a row the other waits for.
#[test]
fn changes_of_several_rows_lock_them_in_one_order_first() {
    use diesel::connection::{Connection, InstrumentationEvent};
    use std::sync::{Arc, Mutex};
    let site = site();
    let board = site.board("steady", "public");
    let (author, ann) = (site.member("author"), site.member("ann"));
    let thread = site.start(&author, &board, "Hard night");
    site.reply(&ann, &thread, "Still here with you.");
    let mention = site.reply(&ann, &thread, "@author you are not alone.");
    let later = site.reply(&ann, &thread, "Morning now.");
    let conn = &mut site.conn();
    if !matches!(**conn, DbConn::Pg(_)) {
        eprintln!("SQLite's write transaction holds its one lock: nothing to order");
        return;
    }
    // The author's rows: the mention, and the other two replies grouped.
    let kinds: Vec<(&str, i32)> = site
        .items(&author)
        .into_iter()
        .map(|item| (item.kind, item.count))
        .collect();
    assert_eq!(kinds, [("mention", 1), ("reply", 2)]);
    let captured = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = captured.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    let mut operation = |name: &str, run: &mut dyn FnMut(&mut DbConn)| {
        captured.lock().unwrap().clear();
        run(conn);
        let sent = captured.lock().unwrap().clone();
        let changes = sent
            .iter()
            .position(|sql| {
                sql.starts_with("UPDATE \"notifications\"")
                    || sql.starts_with("DELETE FROM \"notifications\"")
            })
            .unwrap_or_else(|| panic!("{name} changed no notification: {sent:#?}"));
        let locks = sent[..changes].iter().any(|sql| {
            sql.contains("FROM \"notifications\"")
                && sql.contains("ORDER BY notifications.kind COLLATE \"C\"")
                && sql.contains("FOR UPDATE")
        });
        assert!(locks, "{name}: no lock in order before {sent:#?}");
    };
    operation("a hide", &mut |conn| {
        let hide = Decision::Hide {
            reason: "spam".to_owned(),
        };
        review::decide(
            conn,
            &rules(),
            &site.admin,
            mention.id,
            Seen::of(&mention),
            &hide,
        )
        .unwrap();
    });
    operation("reading the thread", &mut |conn| {
        read_thread_in(conn, author.id, thread.id, later.position, clock::now()).unwrap();
    });
    site.reply(&ann, &thread, "Evening again.");
    operation("marking all read", &mut |conn| {
        mark_all_read(conn, author.id, clock::now()).unwrap();
    });
    operation("purging what was read", &mut |conn| {
        let later = clock::now() + chrono::TimeDelta::days(30);
        assert!(purge_read(conn, later, 1).unwrap() > 0);
    });
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    assert_eq!(site.bell(&author), 0);
}
