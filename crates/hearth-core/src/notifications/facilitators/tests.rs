//! Facilitators hear of join requests and check-ins in their own groups only, through the
//! policy, grouped per group, until nothing of the kind waits there; on both backends.

use crate::accounts::actors;
use crate::clock;
use crate::db::Pool;
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::{Board, SiteRole, Thread};
use crate::moderation::actions;
use crate::moderation::review::{self, Decision, Seen};
use crate::notifications::{list, unread_count, NotificationItem};
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

    /// A group facilitated by `facilitator` (a new member).
    fn group(&self, slug: &str, visibility: &str, facilitator: &str) -> (Board, MemberActor) {
        let conn = &mut *self.conn();
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: format!("The {slug} group"),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        let board = boards::create(conn, &self.admin, &form).unwrap();
        let fran = member(conn, facilitator, SiteRole::Member);
        actions::set_facilitator(conn, &self.admin, &board, facilitator, true).unwrap();
        memberships::join(conn, &self.again(&fran), &board, "").unwrap();
        // "You facilitate this group now" is read.
        crate::notifications::mark_all_read(conn, fran.id, clock::now()).unwrap();
        (board, self.again(&fran))
    }

    fn member(&self, name: &str) -> MemberActor {
        member(&mut self.conn(), name, SiteRole::Member)
    }

    fn again(&self, m: &MemberActor) -> MemberActor {
        actors::actor_for(&mut self.conn(), m.member.clone()).unwrap()
    }

    fn bell(&self, who: &MemberActor) -> i64 {
        unread_count(&mut self.conn(), who.id).unwrap()
    }

    fn items(&self, who: &MemberActor) -> Vec<NotificationItem> {
        list(&mut self.conn(), &self.again(who), None)
            .unwrap()
            .items
    }

    fn unread(&self, who: &MemberActor) -> Vec<NotificationItem> {
        self.items(who).into_iter().filter(|n| n.unread).collect()
    }

    /// A member of the group (a private group's request approved by the admin).
    fn joined(&self, who: &MemberActor, board: &Board) -> MemberActor {
        let conn = &mut *self.conn();
        if memberships::join(conn, who, board, "").unwrap() == memberships::Standing::Requested {
            memberships::answer_request(conn, &self.admin, board, &who.username, true, "").unwrap();
            // "Welcome" is read.
            crate::notifications::mark_all_read(conn, who.id, clock::now()).unwrap();
        }
        self.again(who)
    }

    fn start(&self, who: &MemberActor, board: &Board, title: &str, body: &str) -> Thread {
        let form = NewThreadForm {
            title: title.to_owned(),
            body: body.to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            ..Default::default()
        };
        threads::start(
            &mut self.conn(),
            &PostingRules::default(),
            who,
            board,
            &form,
        )
        .unwrap()
        .thread
    }
}

#[test]
fn a_join_request_tells_the_groups_facilitators_once_per_group_until_none_waits() {
    let site = site();
    let (circle, fran) = site.group("circle", "private", "fran");
    let (other, gil) = site.group("other", "private", "gil");
    let bystander = site.joined(&site.member("bea"), &circle);
    let (kit, lee) = (site.member("kit"), site.member("lee"));
    let conn = &mut *site.conn();

    memberships::join(conn, &kit, &circle, "I lost my brother in May.").unwrap();
    assert_eq!(site.bell(&fran), 1);
    let items = site.unread(&fran);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, "join_request");
    assert_eq!(items[0].actor.as_deref(), Some("kit"));
    assert_eq!(items[0].group_name.as_deref(), Some("The circle group"));
    assert_eq!(items[0].link.as_deref(), Some("/b/circle/members"));
    assert!(
        items[0].body.is_empty(),
        "the request's message stays on the members page"
    );
    // Not the facilitator of another group, not a member, not the one asking.
    assert_eq!(site.bell(&gil), 0);
    assert_eq!(site.bell(&bystander), 0);
    assert_eq!(site.bell(&kit), 0);

    // A second request is the same notification, counted twice.
    memberships::join(conn, &lee, &circle, "").unwrap();
    assert_eq!(site.bell(&fran), 2);
    assert_eq!(site.unread(&fran).len(), 1);
    // Answering one leaves it: someone still waits.
    memberships::answer_request(conn, &fran, &circle, "kit", true, "").unwrap();
    assert_eq!(site.bell(&fran), 2);
    // Lee withdraws the last request: nothing waits, so it is read for every facilitator.
    memberships::leave(conn, &lee, &circle).unwrap();
    assert_eq!(site.bell(&fran), 0);
    assert!(site.unread(&fran).is_empty());
    assert!(site.items(&fran).iter().any(|n| n.kind == "join_request"));

    // A request to the other group reaches its facilitator only.
    memberships::join(conn, &lee, &other, "").unwrap();
    assert_eq!(site.bell(&gil), 1);
    assert_eq!(site.bell(&fran), 0);
    // Answered: read.
    memberships::answer_request(conn, &gil, &other, "lee", false, "").unwrap();
    assert_eq!(site.bell(&gil), 0);
}

#[test]
fn a_suspended_facilitator_is_not_told_and_one_removed_no_longer_sees_it() {
    let site = site();
    let (circle, fran) = site.group("circle", "private", "fran");
    let gil = site.member("gil");
    let conn = &mut *site.conn();
    actions::set_facilitator(conn, &site.admin, &circle, "gil", true).unwrap();
    let until = clock::now() + chrono::TimeDelta::days(3);
    actions::suspend(conn, &site.admin, &gil.member, Some(until), "a break").unwrap();
    crate::notifications::mark_all_read(conn, gil.id, clock::now()).unwrap();

    memberships::join(conn, &site.member("kit"), &circle, "").unwrap();
    assert_eq!(site.bell(&fran), 1);
    assert_eq!(
        site.bell(&gil),
        0,
        "a suspended facilitator moderates nothing"
    );

    // Fran stops facilitating: what she was told no longer shows (the list asks the policy).
    actions::set_facilitator(conn, &site.admin, &circle, "fran", false).unwrap();
    assert!(site.items(&fran).iter().all(|n| n.kind != "join_request"));
}

#[test]
fn a_check_in_tells_the_groups_facilitators_without_its_words_until_handled() {
    let site = site();
    let (night, fran) = site.group("night", "public", "fran");
    let (_, gil) = site.group("day", "public", "gil");
    let mia = site.joined(&site.member("mia"), &night);
    let sam = site.joined(&site.member("sam"), &night);
    let conn = &mut *site.conn();
    // Fran muted Mia long ago: a check-in reaches her all the same.
    crate::accounts::mutes::mute(conn, &fran, &mia.member).unwrap();

    let thread = site.start(&mia, &night, "Tonight", "I want to end my life");
    assert_eq!(site.bell(&fran), 1);
    let items = site.unread(&fran);
    assert_eq!(items[0].kind, "check_in");
    assert_eq!(items[0].link.as_deref(), Some("/b/night/review"));
    assert_eq!(items[0].thread_title, None, "no title");
    assert_eq!(items[0].actor, None, "no name");
    assert!(items[0].body.is_empty(), "no words of the post");
    assert_eq!(site.bell(&gil), 0, "another group's facilitator");
    assert_eq!(site.bell(&sam), 0, "a member");

    // A second check-in in the group is the same notification, counted twice.
    let form = ReplyForm {
        body: "me too, I want to kill myself".to_owned(),
        submission_key: crate::accounts::tokens::random_token(),
        accept_rules_version: None,
    };
    let second = posts::reply(conn, &PostingRules::default(), &sam, thread.id, &form).unwrap();
    assert!(second.check_in);
    assert_eq!(site.bell(&fran), 2);
    assert_eq!(site.unread(&fran).len(), 1);

    // A facilitator's own crisis words do not tell them of themselves.
    let form = ReplyForm {
        body: "Some nights I also want to end my life; you are not alone.".to_owned(),
        submission_key: crate::accounts::tokens::random_token(),
        accept_rules_version: None,
    };
    posts::reply(conn, &PostingRules::default(), &fran, thread.id, &form).unwrap();
    assert_eq!(site.bell(&fran), 2);

    // Handling one leaves it (two still wait); handling the last reads it.
    let handled = Decision::Handled {
        note: "Wrote to her".to_owned(),
    };
    let first = crate::forum::threads::opening_post(conn, &thread)
        .unwrap()
        .unwrap();
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &fran,
        first.id,
        Seen::of(&first),
        &handled,
    )
    .unwrap();
    assert_eq!(site.bell(&fran), 2);
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &fran,
        second.post.id,
        Seen::of(&second.post),
        &handled,
    )
    .unwrap();
    let third = posts::at_position(conn, thread.id, 3).unwrap().unwrap();
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &site.admin,
        third.id,
        Seen::of(&third),
        &handled,
    )
    .unwrap();
    assert_eq!(site.bell(&fran), 0);
}
