//! Meeting changes, cancellations and reminders as notifications, on both backends: who is
//! told, when each member chose, exactly once however often and from wherever the worker runs.

use chrono::NaiveDateTime;

use super::super::*;
use crate::accounts::actors;
use crate::clock;
use crate::db::Pool;
use crate::forum::boards::{self, NewBoardForm};
use crate::groups::memberships;
use crate::model::{Board, SiteRole};
use crate::notifications::{self, NotificationItem, Preferences, ReminderLead};
use crate::policy::MemberActor;
use crate::test_support::{any_pool, member};

struct Group {
    _db: crate::db::testing::TestDatabase,
    pool: Pool,
    admin: MemberActor,
    board: Board,
}

impl Group {
    fn conn(&self) -> crate::db::PooledConn {
        self.pool.get().unwrap()
    }

    fn joined(&self, name: &str) -> MemberActor {
        let conn = &mut *self.conn();
        let m = member(conn, name, SiteRole::Member);
        memberships::join(conn, &m, &self.board, "").unwrap();
        if self.board.visibility == crate::model::Visibility::Private {
            memberships::answer_request(conn, &self.admin, &self.board, name, true, "").unwrap();
            notifications::mark_all_read(conn, m.id, clock::now()).unwrap();
        }
        actors::actor_for(conn, m.member).unwrap()
    }

    fn items(&self, m: &MemberActor, kind: &str) -> Vec<NotificationItem> {
        let conn = &mut *self.conn();
        let me = actors::actor_for(conn, m.member.clone()).unwrap();
        notifications::list(conn, &me, None)
            .unwrap()
            .items
            .into_iter()
            .filter(|n| n.kind == kind)
            .collect()
    }
}

fn group(visibility: &str) -> Group {
    let (db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let board = boards::create(
        conn,
        &admin,
        &NewBoardForm {
            slug: "grief".to_owned(),
            name: "Grief, together".to_owned(),
            visibility: visibility.to_owned(),
            ..Default::default()
        },
    )
    .unwrap();
    Group {
        _db: db,
        pool,
        admin,
        board,
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

/// A weekly circle on Thursdays at 19:00 UTC from 7 January 2038.
fn circle(g: &Group) -> Meeting {
    let form = MeetingForm {
        title: "Evening circle".to_owned(),
        date: "2038-01-07".to_owned(),
        time: "19:00".to_owned(),
        time_zone: "UTC".to_owned(),
        duration_minutes: "90".to_owned(),
        repeat: "weekly".to_owned(),
        interval_weeks: "1".to_owned(),
        end: "never".to_owned(),
        online_url: "https://meet.example.org/circle".to_owned(),
        ..MeetingForm::default()
    };
    schedule(&mut g.conn(), &g.admin, &g.board, &form).unwrap()
}

const FIRST: &str = "20380107T1900";

fn lead(g: &Group, m: &MemberActor, reminder: ReminderLead) {
    let chosen = Preferences {
        reminder,
        ..Preferences::default()
    };
    notifications::save_preferences(&mut g.conn(), m.id, &chosen).unwrap();
}

#[test]
fn each_member_is_reminded_once_as_long_before_as_they_chose() {
    let g = group("private");
    let meeting = circle(&g);
    let (ana, bo, cy, di, eve) = (
        g.joined("ana"),
        g.joined("bob"),
        g.joined("cyd"),
        g.joined("dia"),
        g.joined("eve"),
    );
    let conn = &mut *g.conn();
    for who in [&ana, &bo, &cy, &di] {
        rsvp(conn, who, meeting.id, FIRST, Response::Going).unwrap();
    }
    rsvp(conn, &eve, meeting.id, FIRST, Response::Maybe).unwrap();
    lead(&g, &bo, ReminderLead::Minutes15);
    lead(&g, &cy, ReminderLead::Day);
    lead(&g, &di, ReminderLead::Never);
    assert_eq!(
        notifications::preferences(conn, bo.id).unwrap().reminder,
        ReminderLead::Minutes15
    );

    // Two days before: nobody. The day before, at 19:00: Cy (one day). Twice: still once.
    assert_eq!(send_due_reminders(conn, at("2038-01-05 19:00")).unwrap(), 0);
    assert_eq!(send_due_reminders(conn, at("2038-01-06 19:00")).unwrap(), 1);
    assert_eq!(send_due_reminders(conn, at("2038-01-06 19:01")).unwrap(), 0);
    let cys = g.items(&cy, "meeting_reminder");
    assert_eq!(cys.len(), 1);
    assert_eq!(cys[0].link, Some(format!("/m/{}", meeting.id)));
    assert_eq!(cys[0].group_name.as_deref(), Some("Grief, together"));
    assert!(cys[0].body.contains("Evening circle"), "{:?}", cys[0].body);
    assert!(
        cys[0].body.contains("Thu 7 Jan 2038, 19:00 (UTC)"),
        "{:?}",
        cys[0].body
    );
    // An hour before: Ana (the default). A quarter before: Bob. Never: Dia. Maybe: not Eve.
    assert_eq!(send_due_reminders(conn, at("2038-01-07 18:00")).unwrap(), 1);
    assert_eq!(g.items(&ana, "meeting_reminder").len(), 1);
    assert!(g.items(&bo, "meeting_reminder").is_empty());
    assert_eq!(send_due_reminders(conn, at("2038-01-07 18:45")).unwrap(), 1);
    assert_eq!(send_due_reminders(conn, at("2038-01-07 18:59")).unwrap(), 0);
    assert_eq!(g.items(&bo, "meeting_reminder").len(), 1);
    assert!(g.items(&di, "meeting_reminder").is_empty());
    assert!(g.items(&eve, "meeting_reminder").is_empty());
    // Once it started, nobody is reminded of it (a worker that was down does not remind late).
    rsvp(conn, &eve, meeting.id, FIRST, Response::Going).unwrap();
    assert_eq!(send_due_reminders(conn, at("2038-01-07 19:01")).unwrap(), 0);
    for who in [&ana, &bo, &cy] {
        assert_eq!(
            g.items(who, "meeting_reminder").len(),
            1,
            "{}",
            who.username
        );
    }
}

#[test]
fn a_member_who_left_the_group_or_a_cancelled_date_reminds_nobody() {
    let g = group("private");
    let meeting = circle(&g);
    let (ana, bo) = (g.joined("ana"), g.joined("bob"));
    let conn = &mut *g.conn();
    let second = "20380114T1900";
    for key in [FIRST, second] {
        rsvp(conn, &ana, meeting.id, key, Response::Going).unwrap();
        rsvp(conn, &bo, meeting.id, key, Response::Going).unwrap();
    }
    // Ana leaves: her answers go, and she hears nothing more of the group.
    memberships::leave(conn, &ana, &g.board).unwrap();
    assert_eq!(send_due_reminders(conn, at("2038-01-07 18:30")).unwrap(), 1);
    assert!(g.items(&ana, "meeting_reminder").is_empty());
    assert_eq!(g.items(&bo, "meeting_reminder").len(), 1);
    // An answer left behind by a membership that ended some other way: the policy, not the
    // answer, decides (Bob may no longer read the private group).
    use crate::db::schema::memberships as rows;
    use diesel::prelude::*;
    diesel::delete(rows::table.find((g.board.id, bo.id)))
        .execute(conn)
        .unwrap();
    let bob_before = g.items(&bo, "meeting_reminder").len();
    assert_eq!(send_due_reminders(conn, at("2038-01-14 18:30")).unwrap(), 0);
    assert_eq!(g.items(&bo, "meeting_reminder").len(), bob_before);
    memberships::join(conn, &bo, &g.board, "").unwrap();
    memberships::answer_request(conn, &g.admin, &g.board, "bob", true, "").unwrap();
    // The second date is cancelled: nobody is reminded of it.
    cancel_occurrence(conn, &g.admin, meeting.id, second).unwrap();
    assert_eq!(send_due_reminders(conn, at("2038-01-14 18:30")).unwrap(), 0);
}

#[test]
fn two_connections_sending_at_once_remind_each_member_once() {
    let g = group("public");
    let meeting = circle(&g);
    let people: Vec<MemberActor> = (0..12).map(|i| g.joined(&format!("m{i:02}"))).collect();
    {
        let conn = &mut *g.conn();
        for who in &people {
            rsvp(conn, who, meeting.id, FIRST, Response::Going).unwrap();
        }
    }
    let now = at("2038-01-07 18:30");
    let barrier = std::sync::Barrier::new(2);
    let sent: Vec<usize> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (pool, barrier) = (&g.pool, &barrier);
                scope.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    barrier.wait();
                    send_due_reminders(&mut conn, now).unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    assert_eq!(sent.iter().sum::<usize>(), people.len(), "{sent:?}");
    for who in &people {
        assert_eq!(
            g.items(who, "meeting_reminder").len(),
            1,
            "{}",
            who.username
        );
    }
    // A restart runs it again: nothing more.
    assert_eq!(send_due_reminders(&mut g.conn(), now).unwrap(), 0);
}

#[test]
fn a_moved_or_cancelled_meeting_is_a_notification_about_it_for_those_who_answered() {
    let g = group("public");
    let meeting = circle(&g);
    let (ana, bo, cy) = (g.joined("ana"), g.joined("bob"), g.joined("cyd"));
    let conn = &mut *g.conn();
    rsvp(conn, &ana, meeting.id, FIRST, Response::Going).unwrap();
    rsvp(conn, &bo, meeting.id, FIRST, Response::Maybe).unwrap();
    rsvp(conn, &cy, meeting.id, FIRST, Response::NotGoing).unwrap();
    move_occurrence(conn, &g.admin, meeting.id, FIRST, "2038-01-08", "18:00").unwrap();
    for who in [&ana, &bo] {
        let changed = g.items(who, "meeting_changed");
        assert_eq!(changed.len(), 1, "{}", who.username);
        assert_eq!(changed[0].link, Some(format!("/m/{}", meeting.id)));
        assert!(
            changed[0].body.contains("Fri 8 Jan 2038, 18:00 (UTC)"),
            "{:?}",
            changed[0].body
        );
    }
    assert!(g.items(&cy, "meeting_changed").is_empty(), "not going");
    // The moved meeting reminds at its new time.
    assert_eq!(send_due_reminders(conn, at("2038-01-07 18:30")).unwrap(), 0);
    assert_eq!(send_due_reminders(conn, at("2038-01-08 17:30")).unwrap(), 1);
    cancel_occurrence(conn, &g.admin, meeting.id, FIRST).unwrap();
    let cancelled = g.items(&ana, "meeting_cancelled");
    assert_eq!(cancelled.len(), 1);
    assert!(cancelled[0].body.contains("is cancelled"));
    assert!(g.items(&cy, "meeting_cancelled").is_empty());
}
