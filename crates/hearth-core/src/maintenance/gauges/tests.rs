//! The gauges on both backends, against a seeded database whose answers are known.

use super::*;
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::ids::ThreadId;
use crate::mail::{enqueue, Mail, MailKind};
use crate::model::{Board, Post, SiteRole, Thread};
use crate::moderation::review::{self, Decision, Seen};
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;
use crate::test_support::{any_pool, member};

/// Posting rules with the built-in crisis phrases and limits no test reaches.
fn rules() -> PostingRules {
    PostingRules {
        limits: crate::safety::limits::PostingLimits {
            per_minute: 1000,
            new_account_per_minute: 1000,
            ..Default::default()
        },
        ..PostingRules::default()
    }
}

fn group(conn: &mut DbConn, admin: &MemberActor, slug: &str) -> Board {
    let form = NewBoardForm {
        slug: slug.to_owned(),
        name: format!("Group {slug}"),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    boards::create(conn, admin, &form).unwrap()
}

fn start(conn: &mut DbConn, author: &MemberActor, board: &Board, body: &str) -> Thread {
    let form = NewThreadForm {
        title: format!("About {body}"),
        body: body.to_owned(),
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    threads::start(conn, &rules(), author, board, &form)
        .unwrap()
        .thread
}

fn reply(conn: &mut DbConn, author: &MemberActor, thread: ThreadId, body: &str) -> Post {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    posts::reply(conn, &rules(), author, thread, &form)
        .unwrap()
        .post
}

fn hide(conn: &mut DbConn, moderator: &MemberActor, post: &Post) {
    review::decide(
        conn,
        &rules(),
        moderator,
        post.id,
        Seen::of(post),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
}

fn opening(conn: &mut DbConn, thread: &Thread) -> Post {
    threads::opening_post(conn, thread).unwrap().unwrap()
}

#[test]
fn unanswered_first_posts_count_only_visible_threads_nobody_else_answered() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets");
    let joan = member(conn, "joan", SiteRole::Member);
    let olga = member(conn, "olga", SiteRole::Member);
    for someone in [&joan, &olga] {
        memberships::join(conn, someone, &pets, "").unwrap();
    }
    assert_eq!(unanswered_first_posts(conn).unwrap(), 0);

    // Unanswered: nobody replied.
    start(conn, &joan, &pets, "alone");
    // Answered by someone else.
    let answered = start(conn, &joan, &pets, "answered");
    reply(conn, &olga, answered.id, "I hear you");
    // Self-answered: only its author wrote again, so it still waits for someone.
    let self_answered = start(conn, &joan, &pets, "talking to myself");
    reply(conn, &joan, self_answered.id, "an update, still here");
    // Hidden opening post: no one can read it, so it is not a first post waiting.
    let hidden = start(conn, &olga, &pets, "hidden");
    let first = opening(conn, &hidden);
    hide(conn, &ada, &first);
    // Answered only by a reply a moderator hid: nobody's answer is visible, so it waits.
    let hidden_answer = start(conn, &olga, &pets, "answer hidden");
    let answer = reply(conn, &joan, hidden_answer.id, "a reply then hidden");
    hide(conn, &ada, &answer);
    // Answered only by a reply its author deleted: it waits too.
    let deleted_answer = start(conn, &joan, &pets, "answer deleted");
    let answer = reply(conn, &olga, deleted_answer.id, "a reply then deleted");
    posts::delete_own(conn, &olga, answer.id).unwrap();
    // The opening post deleted by its author: gone, not waiting.
    let gone = start(conn, &olga, &pets, "gone");
    let first = opening(conn, &gone);
    posts::delete_own(conn, &olga, first.id).unwrap();

    // alone, talking to myself, answer hidden, answer deleted.
    assert_eq!(unanswered_first_posts(conn).unwrap(), 4);
    assert_eq!(read(conn, 7).unwrap().unanswered_first_posts, 4);
    // Someone answers one of them: one fewer.
    reply(conn, &olga, self_answered.id, "you are not alone");
    assert_eq!(unanswered_first_posts(conn).unwrap(), 3);
}

#[test]
fn open_check_ins_are_the_queues_waiting_check_ins() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets");
    let joan = member(conn, "joan", SiteRole::Member);
    let olga = member(conn, "olga", SiteRole::Member);
    for someone in [&joan, &olga] {
        memberships::join(conn, someone, &pets, "").unwrap();
    }
    let thread = start(conn, &joan, &pets, "a hard week");
    assert_eq!(open_check_ins(conn).unwrap(), 0);

    let first = reply(
        conn,
        &joan,
        thread.id,
        "some days I think I will kill myself",
    );
    let second = reply(conn, &joan, thread.id, "I keep thinking of killing myself");
    // A report is an open item too, but not a check-in.
    let opening_id = opening(conn, &thread).id;
    assert!(review::report(
        conn,
        &review::ReportLimits::default(),
        &olga,
        opening_id,
        "spam",
        "",
    )
    .unwrap());
    assert_eq!(open_check_ins(conn).unwrap(), 2);

    review::decide(
        conn,
        &rules(),
        &ada,
        first.id,
        Seen::of(&first),
        &Decision::Handled {
            note: "we talked".to_owned(),
        },
    )
    .unwrap();
    assert_eq!(open_check_ins(conn).unwrap(), 1);
    assert_eq!(read(conn, 7).unwrap().open_check_ins, 1);
    // The one left is the second post's.
    let waiting: Vec<Option<crate::ids::PostId>> = review_items::table
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .select(review_items::post_id)
        .load(conn)
        .unwrap();
    assert_eq!(waiting, [Some(second.id)]);
}

fn queue_mail(conn: &mut DbConn, member: &MemberActor, n: usize) {
    let now = crate::clock::now();
    let mail = Mail {
        member_id: Some(member.id),
        to: format!("someone{n}@example.org"),
        kind: MailKind::Notification,
        subject: "news".to_owned(),
        text: "words".to_owned(),
        html: "<p>words</p>".to_owned(),
        unsubscribe_url: None,
    };
    crate::db::write_tx(conn, |conn| enqueue(conn, &mail, now, now)).unwrap();
}

#[test]
fn outbox_unsent_counts_mail_still_to_be_tried() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    for n in 0..3 {
        queue_mail(conn, &ada, n);
    }
    // One try each: a failure is given up at once.
    let settings = crate::mail::EmailSettings {
        retry_seconds: Vec::new(),
        ..Default::default()
    };
    let max_attempts = settings.max_attempts();
    assert_eq!(outbox_unsent(conn, max_attempts).unwrap(), 3);
    // The first is sent, the other two are refused and given up.
    let mut calls = 0;
    crate::mail::delivery::send_due_with(conn, &settings, |_| {
        calls += 1;
        if calls == 1 {
            Ok(())
        } else {
            Err(crate::mail::sender::SendError("refused".to_owned()))
        }
    })
    .unwrap();
    assert_eq!(calls, 3);
    assert_eq!(outbox_unsent(conn, max_attempts).unwrap(), 0);
    queue_mail(conn, &ada, 3);
    assert_eq!(read(conn, max_attempts).unwrap().outbox_unsent, 1);
    // Under a bound allowing more tries, the two refused ones still wait as well.
    assert_eq!(outbox_unsent(conn, max_attempts + 1).unwrap(), 3);
}
