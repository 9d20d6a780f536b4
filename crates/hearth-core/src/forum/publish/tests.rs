//! What can change between the page that authorized a post and the posting transaction: each
//! race is run through the hook at that moment, by another member on another connection, on
//! SQLite and (with `HEARTH_TEST_POSTGRES_URL`) PostgreSQL.

use diesel::prelude::*;

use super::hooks::set_before_write;
use crate::db::schema::{boards, posts, threads};
use crate::db::{DbConn, Pool};
use crate::error::{Denied, Error};
use crate::forum::boards::{self as board_ops, NewBoardForm};
use crate::forum::posts::{reply, ReplyForm};
use crate::forum::threads::{start, NewThreadForm};
use crate::ids::{BoardId, ThreadId};
use crate::model::{Board, SiteRole, Thread};
use crate::moderation::actions::{self, ThreadChange};
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;
use crate::test_support::{admin_board_thread, any_pool, member};

struct World {
    _database: crate::db::testing::TestDatabase,
    pool: Pool,
    admin: MemberActor,
    board: Board,
    thread: Thread,
    jo: MemberActor,
}

fn world() -> World {
    let (database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let (admin, board, thread) = admin_board_thread(&mut conn, "How is everyone today?");
    let jo = member(&mut conn, "jo_reader", SiteRole::Member);
    World {
        _database: database,
        pool,
        admin,
        board,
        thread,
        jo,
    }
}

fn reply_form(key: char) -> ReplyForm {
    ReplyForm {
        body: "I am here, reading along.".to_owned(),
        submission_key: key.to_string().repeat(16),
        accept_rules_version: None,
    }
}

/// Posts stored in a thread, awaiting or not.
fn posts_in(conn: &mut DbConn, thread: ThreadId) -> i64 {
    posts::table
        .filter(posts::thread_id.eq(thread))
        .count()
        .get_result(conn)
        .unwrap()
}

fn counters(conn: &mut DbConn, board: BoardId) -> (i64, i64) {
    boards::table
        .find(board)
        .select((boards::thread_count, boards::post_count))
        .get_result(conn)
        .unwrap()
}

fn reply_count(conn: &mut DbConn, thread: ThreadId) -> i64 {
    threads::table
        .find(thread)
        .select(threads::reply_count)
        .get_result(conn)
        .unwrap()
}

/// Without a race, the same reply goes through: the refusals below are the race's doing.
#[test]
fn a_reply_with_nothing_in_between_is_posted_and_counted() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let before = counters(&mut conn, w.board.id);
    let rules = PostingRules::default();
    let posted = reply(&mut conn, &rules, &w.jo, w.thread.id, &reply_form('a')).unwrap();
    assert_eq!(posted.post.position, 2);
    assert_eq!(reply_count(&mut conn, w.thread.id), 1);
    assert_eq!(counters(&mut conn, w.board.id), (before.0, before.1 + 1));
}

#[test]
fn a_reply_racing_a_lock_is_refused_and_stores_nothing() {
    let w = world();
    let (pool, admin, thread_id) = (w.pool.clone(), w.admin.clone(), w.thread.id);
    set_before_write(move || {
        let mut other = pool.get().unwrap();
        actions::change_thread(
            &mut other,
            &admin,
            thread_id,
            ThreadChange::Lock(true),
            "a break",
        )
        .unwrap();
    });
    let mut conn = w.pool.get().unwrap();
    let before = counters(&mut conn, w.board.id);
    let refused = reply(
        &mut conn,
        &PostingRules::default(),
        &w.jo,
        thread_id,
        &reply_form('b'),
    );
    assert!(
        matches!(refused, Err(Error::Denied(Denied::ThreadLocked))),
        "{refused:?}"
    );
    assert_eq!(posts_in(&mut conn, thread_id), 1, "only the opening post");
    assert_eq!(reply_count(&mut conn, thread_id), 0);
    assert_eq!(counters(&mut conn, w.board.id), before);
}

/// The lock is still being written, uncommitted, when the reply reaches its transaction: the
/// reply waits for it (the thread row on PostgreSQL, the write lock on SQLite) and then sees
/// the thread locked. A reply that read the thread before taking its row would slip through
/// on PostgreSQL, where a plain read does not wait for an uncommitted write.
#[test]
fn a_reply_meeting_a_lock_still_in_flight_waits_for_it_and_is_refused() {
    let w = world();
    let (pool, thread_id) = (w.pool.clone(), w.thread.id);
    let (written, wait_for_write) = std::sync::mpsc::channel();
    let locker = std::thread::spawn(move || {
        let mut conn = pool.get().unwrap();
        conn.transaction(|conn| {
            diesel::update(threads::table.find(thread_id))
                .set(threads::locked.eq(true))
                .execute(conn)?;
            written.send(()).unwrap();
            // Held open so that the reply arrives while the lock is uncommitted.
            std::thread::sleep(std::time::Duration::from_millis(300));
            diesel::QueryResult::Ok(())
        })
        .unwrap();
    });
    wait_for_write.recv().unwrap();
    let mut conn = w.pool.get().unwrap();
    let refused = reply(
        &mut conn,
        &PostingRules::default(),
        &w.jo,
        thread_id,
        &reply_form('g'),
    );
    locker.join().unwrap();
    assert!(
        matches!(refused, Err(Error::Denied(Denied::ThreadLocked))),
        "{refused:?}"
    );
    assert_eq!(posts_in(&mut conn, thread_id), 1, "only the opening post");
}

#[test]
fn a_reply_racing_a_move_counts_on_the_board_the_thread_moved_to() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let elsewhere = board_ops::create(
        &mut conn,
        &w.admin,
        &NewBoardForm {
            slug: "elsewhere".to_owned(),
            name: "Elsewhere".to_owned(),
            visibility: "public".to_owned(),
            ..Default::default()
        },
    )
    .unwrap();
    let (pool, admin, thread_id, to) = (w.pool.clone(), w.admin.clone(), w.thread.id, elsewhere.id);
    set_before_write(move || {
        let mut other = pool.get().unwrap();
        actions::change_thread(&mut other, &admin, thread_id, ThreadChange::Move(to), "").unwrap();
    });
    let posted = reply(
        &mut conn,
        &PostingRules::default(),
        &w.jo,
        thread_id,
        &reply_form('c'),
    )
    .unwrap();
    assert_eq!(posted.thread.board_id, elsewhere.id);
    assert_eq!(reply_count(&mut conn, thread_id), 1);
    // The old board lost the thread with its opening post and gained nothing; the new one has
    // both posts.
    assert_eq!(counters(&mut conn, w.board.id), (0, 0));
    assert_eq!(counters(&mut conn, elsewhere.id), (1, 2));
}

#[test]
fn a_reply_racing_a_move_into_a_group_the_member_cannot_read_is_refused() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let private = board_ops::create(
        &mut conn,
        &w.admin,
        &NewBoardForm {
            slug: "circle".to_owned(),
            name: "Circle".to_owned(),
            visibility: "private".to_owned(),
            ..Default::default()
        },
    )
    .unwrap();
    let (pool, admin, thread_id, to) = (w.pool.clone(), w.admin.clone(), w.thread.id, private.id);
    set_before_write(move || {
        let mut other = pool.get().unwrap();
        actions::change_thread(&mut other, &admin, thread_id, ThreadChange::Move(to), "").unwrap();
    });
    let refused = reply(
        &mut conn,
        &PostingRules::default(),
        &w.jo,
        thread_id,
        &reply_form('f'),
    );
    assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
    assert_eq!(posts_in(&mut conn, thread_id), 1, "only the opening post");
    assert_eq!(counters(&mut conn, private.id), (1, 1));
}

#[test]
fn a_reply_racing_a_suspension_is_refused() {
    let w = world();
    let (pool, admin, target) = (w.pool.clone(), w.admin.clone(), w.jo.member.clone());
    set_before_write(move || {
        let mut other = pool.get().unwrap();
        let until = crate::clock::now() + chrono::TimeDelta::days(7);
        actions::suspend(&mut other, &admin, &target, Some(until), "a pause").unwrap();
    });
    let mut conn = w.pool.get().unwrap();
    let refused = reply(
        &mut conn,
        &PostingRules::default(),
        &w.jo,
        w.thread.id,
        &reply_form('d'),
    );
    assert!(
        matches!(refused, Err(Error::Denied(Denied::Suspended))),
        "{refused:?}"
    );
    assert_eq!(posts_in(&mut conn, w.thread.id), 1);
}

#[test]
fn a_new_thread_racing_a_ban_from_its_board_is_refused() {
    let w = world();
    let (pool, admin, board, target) = (
        w.pool.clone(),
        w.admin.clone(),
        w.board.clone(),
        w.jo.member.clone(),
    );
    set_before_write(move || {
        let mut other = pool.get().unwrap();
        actions::ban_from_board(&mut other, &admin, &board, &target, Some(None), "a pause")
            .unwrap();
    });
    let mut conn = w.pool.get().unwrap();
    let before = counters(&mut conn, w.board.id);
    let form = NewThreadForm {
        title: "Tonight is hard".to_owned(),
        body: "Is anyone around?".to_owned(),
        submission_key: "e".repeat(16),
        accept_rules_version: None,
    };
    let refused = start(&mut conn, &PostingRules::default(), &w.jo, &w.board, &form);
    assert!(
        matches!(refused, Err(Error::Denied(Denied::BannedFromBoard))),
        "{refused:?}"
    );
    assert_eq!(counters(&mut conn, w.board.id), before);
}

/// A form sent again with a new key (Back, then Send) is the reply it made; other text, an
/// older reply, a deleted one, or the setting at 0 make a new post.
#[test]
fn the_same_reply_sent_again_within_minutes_is_the_same_post() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    // Without posting limits: this test posts faster than a new account may.
    let rules = PostingRules {
        limits: crate::safety::limits::PostingLimits::NONE,
        ..PostingRules::default()
    };
    let first = reply(&mut conn, &rules, &w.jo, w.thread.id, &reply_form('h')).unwrap();
    let again = reply(&mut conn, &rules, &w.jo, w.thread.id, &reply_form('i')).unwrap();
    assert_eq!(again.post.id, first.post.id);
    assert_eq!(posts_in(&mut conn, w.thread.id), 2);
    assert_eq!(reply_count(&mut conn, w.thread.id), 1);

    let other_text = ReplyForm {
        body: "Something else entirely.".to_owned(),
        ..reply_form('j')
    };
    let other = reply(&mut conn, &rules, &w.jo, w.thread.id, &other_text).unwrap();
    assert_ne!(other.post.id, first.post.id);

    let off = PostingRules {
        same_reply_minutes: 0,
        ..rules.clone()
    };
    let repeated = reply(&mut conn, &off, &w.jo, w.thread.id, &reply_form('k')).unwrap();
    assert_ne!(repeated.post.id, first.post.id, "0 turns it off");

    // Older than the window: the same words are a new reply.
    diesel::update(posts::table.filter(posts::thread_id.eq(w.thread.id)))
        .set(posts::created_at.eq(crate::clock::now() - chrono::TimeDelta::minutes(11)))
        .execute(&mut conn)
        .unwrap();
    let later = reply(&mut conn, &rules, &w.jo, w.thread.id, &reply_form('l')).unwrap();
    assert_ne!(later.post.id, first.post.id);
    assert_ne!(later.post.id, repeated.post.id);
    assert_eq!(posts_in(&mut conn, w.thread.id), 5);
}

/// A body whose HTML would be many times larger than its source is refused before anything is
/// written, with a message the member can act on.
#[test]
fn a_reply_too_complex_to_show_is_refused_and_stores_nothing() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = PostingRules::default();
    let form = ReplyForm {
        body: "<a@b>".repeat(9_000),
        ..reply_form('c')
    };
    let error = reply(&mut conn, &rules, &w.jo, w.thread.id, &form).unwrap_err();
    let Error::Invalid(invalid) = error else {
        panic!("expected a form error, got {error:?}");
    };
    let message = invalid.message_for("body").expect("a message for the body");
    assert!(message.contains("please simplify"), "{message}");
    assert_eq!(posts_in(&mut conn, w.thread.id), 1);
    assert_eq!(reply_count(&mut conn, w.thread.id), 0);
}
