//! Who is told of a post, on both backends: the thread's author, levels, mutes, private
//! groups, hidden and awaiting posts, and reading.

use super::*;
use crate::accounts::{actors, mutes};
use crate::clock;
use crate::db::Pool;
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
    levels::set_for_board(conn, &mo, &board, Level::Watching).unwrap();
    site.reply(&mo, &thread, "One more thing.");
    assert_eq!(site.bell(&mo), 0);
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
    assert_eq!(site.bell(&lee), 1, "nothing new once outside");
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
    let hide = Decision::Hide {
        reason: "spam".to_owned(),
    };
    review::decide(
        conn,
        &rules(),
        &site.admin,
        reply.id,
        Seen::of(&reply),
        &hide,
    )
    .unwrap();
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
