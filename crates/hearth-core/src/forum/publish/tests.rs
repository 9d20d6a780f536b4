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

// What a refused request costs, and edits: the same gate as a new post.

fn edits_only(per_minute: u32, per_day: u32, revisions_kept: u32) -> PostingRules {
    PostingRules {
        limits: crate::safety::limits::PostingLimits::NONE,
        edits: crate::safety::limits::EditLimits {
            per_minute,
            per_day,
            revisions_kept,
        },
        ..PostingRules::default()
    }
}

/// Jo's reply in the world's thread, to edit.
fn jos_reply(conn: &mut DbConn, w: &World, rules: &PostingRules) -> crate::model::Post {
    reply(conn, rules, &w.jo, w.thread.id, &reply_form('r'))
        .unwrap()
        .post
}

fn stored(conn: &mut DbConn, post: crate::ids::PostId) -> crate::model::Post {
    crate::forum::posts::by_id(conn, post).unwrap()
}

fn revision_texts(conn: &mut DbConn, post: crate::ids::PostId) -> Vec<String> {
    crate::forum::posts::revisions(conn, post)
        .unwrap()
        .into_iter()
        .map(|r| r.source)
        .collect()
}

fn open_items(conn: &mut DbConn, post: crate::ids::PostId) -> Vec<String> {
    use crate::db::schema::review_items;
    review_items::table
        .filter(review_items::post_id.eq(post))
        .filter(review_items::state.eq("open"))
        .order(review_items::id.asc())
        .select(review_items::kind)
        .load(conn)
        .unwrap()
}

#[test]
fn a_reply_over_the_posting_limit_is_refused_before_it_is_rendered() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = PostingRules {
        limits: crate::safety::limits::PostingLimits {
            per_minute: 1,
            new_account_per_minute: 1,
            ..crate::safety::limits::PostingLimits::NONE
        },
        ..PostingRules::default()
    };
    let before = super::hooks::renders();
    reply(&mut conn, &rules, &w.jo, w.thread.id, &reply_form('a')).unwrap();
    assert_eq!(
        super::hooks::renders(),
        before + 1,
        "a post is rendered once"
    );
    let second = ReplyForm {
        body: "And one more thing.".to_owned(),
        ..reply_form('b')
    };
    let refused = reply(&mut conn, &rules, &w.jo, w.thread.id, &second);
    assert!(
        matches!(refused, Err(Error::RateLimited { .. })),
        "{refused:?}"
    );
    assert_eq!(
        super::hooks::renders(),
        before + 1,
        "the refused reply was never rendered"
    );
    assert_eq!(posts_in(&mut conn, w.thread.id), 2);
}

#[test]
fn edits_over_the_edit_limit_are_refused_before_they_are_rendered() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(2, 0, 50);
    let post = jos_reply(&mut conn, &w, &rules);
    for n in 1..=2 {
        crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, &format!("edit {n}")).unwrap();
    }
    let before = super::hooks::renders();
    let refused = crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "edit 3");
    match refused {
        Err(Error::RateLimited { reason, .. }) => {
            assert!(reason.contains("limit of 2 edits a minute"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(super::hooks::renders(), before, "nothing was rendered");
    assert_eq!(stored(&mut conn, post.id).source, "edit 2");
    assert_eq!(revision_texts(&mut conn, post.id).len(), 2);

    // The limit counts the edits of the last minute, in the database.
    use crate::db::schema::post_revisions;
    diesel::update(post_revisions::table)
        .set(post_revisions::replaced_at.eq(crate::clock::now() - chrono::TimeDelta::minutes(2)))
        .execute(&mut conn)
        .unwrap();
    crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "edit 3").unwrap();

    // A per-day limit counts every post's edits.
    let daily = edits_only(0, 3, 50);
    let refused = crate::forum::posts::edit(&mut conn, &daily, &w.jo, post.id, "edit 4");
    assert!(
        matches!(refused, Err(Error::RateLimited { .. })),
        "{refused:?}"
    );
}

#[test]
fn a_post_keeps_its_original_and_its_newest_revisions() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 3);
    let post = jos_reply(&mut conn, &w, &rules);
    for n in 1..=6 {
        crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, &format!("version {n}"))
            .unwrap();
    }
    assert_eq!(stored(&mut conn, post.id).source, "version 6");
    assert_eq!(
        revision_texts(&mut conn, post.id),
        ["I am here, reading along.", "version 4", "version 5"],
        "the original and the newest, oldest first"
    );
    // Another post's revisions are not touched.
    let other = ReplyForm {
        body: "A second reply.".to_owned(),
        ..reply_form('s')
    };
    let other = reply(&mut conn, &rules, &w.jo, w.thread.id, &other)
        .unwrap()
        .post;
    crate::forum::posts::edit(&mut conn, &rules, &w.jo, other.id, "changed").unwrap();
    assert_eq!(revision_texts(&mut conn, other.id), ["A second reply."]);
    assert_eq!(revision_texts(&mut conn, post.id).len(), 3);
}

/// A post edited tens of thousands of times before there was a bound is pruned by its next
/// edit in one statement (not one bound parameter per revision, past what a backend takes).
#[test]
fn a_post_with_seventy_thousand_old_revisions_is_pruned_by_its_next_edit() {
    use crate::db::schema::post_revisions;
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 3);
    let post = jos_reply(&mut conn, &w, &rules);
    let now = crate::clock::now();
    for batch in 0..70 {
        let rows: Vec<_> = (0..1_000)
            .map(|n| {
                (
                    post_revisions::post_id.eq(post.id),
                    post_revisions::editor_id.eq(w.jo.id),
                    post_revisions::source.eq(format!("old {batch}-{n}")),
                    post_revisions::html.eq("<p>old</p>"),
                    post_revisions::render_version.eq(post.render_version),
                    post_revisions::replaced_at.eq(now - chrono::TimeDelta::days(30)),
                )
            })
            .collect();
        crate::db::per_connection!(&mut *conn, |c| diesel::insert_into(post_revisions::table)
            .values(&rows)
            .execute(c))
        .unwrap();
    }
    crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "new words").unwrap();
    assert_eq!(
        revision_texts(&mut conn, post.id),
        ["old 0-0", "old 69-999", "I am here, reading along."],
        "the first version and the newest, oldest first"
    );
}

#[test]
fn a_text_over_the_byte_limit_is_refused_even_under_the_character_limit() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 50);
    // 40,000 characters (under 50,000), 120,000 bytes (over the default 100,000).
    let euros = "€".repeat(40_000);
    assert!(euros.chars().count() < crate::forum::posts::MAX_BODY_CHARS);
    assert!(euros.len() > rules.max_body_bytes);
    let body_message = |outcome: crate::error::Result<super::Posted>| match outcome {
        Err(Error::Invalid(invalid)) => format!("{invalid:?}"),
        other => panic!("expected the form again, got {other:?}"),
    };
    let form = ReplyForm {
        body: euros.clone(),
        ..reply_form('e')
    };
    let message = body_message(reply(&mut conn, &rules, &w.jo, w.thread.id, &form));
    assert!(message.contains("at most 100000 bytes"), "{message}");
    assert_eq!(posts_in(&mut conn, w.thread.id), 1);

    let post = jos_reply(&mut conn, &w, &rules);
    let message = body_message(crate::forum::posts::edit(
        &mut conn, &rules, &w.jo, post.id, &euros,
    ));
    assert!(message.contains("bytes"), "{message}");
    assert_eq!(
        stored(&mut conn, post.id).source,
        "I am here, reading along."
    );
    // Under both limits it is a post.
    let fits = "€".repeat(30_000);
    crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, &fits).unwrap();
}

#[test]
fn an_edit_with_a_hold_word_awaits_approval_and_counts_nowhere_until_then() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 50);
    crate::safety::watched::add(&mut conn, &w.admin, "cheap pills", "hold").unwrap();
    crate::safety::watched::add(&mut conn, &w.admin, "my phone number", "flag").unwrap();
    let post = jos_reply(&mut conn, &w, &rules);
    let before = counters(&mut conn, w.board.id);
    assert_eq!(reply_count(&mut conn, w.thread.id), 1);

    let edited = crate::forum::posts::edit(
        &mut conn,
        &rules,
        &w.jo,
        post.id,
        "Buy cheap pills here, my phone number is below",
    )
    .unwrap();
    assert_eq!(edited.post.moderation, crate::model::Moderation::Awaiting);
    assert_eq!(open_items(&mut conn, post.id), ["awaiting", "watched_word"]);
    assert_eq!(reply_count(&mut conn, w.thread.id), 0);
    assert_eq!(counters(&mut conn, w.board.id), (before.0, before.1 - 1));
}

#[test]
fn an_edit_in_a_group_that_holds_new_members_posts_awaits_approval() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 50);
    let post = jos_reply(&mut conn, &w, &rules);
    assert_eq!(post.moderation, crate::model::Moderation::Visible);
    // The group starts holding its new members' first three posts; Jo has one approved.
    actions::set_board_settings(
        &mut conn,
        &w.admin,
        &w.board,
        &actions::BoardSettings {
            premod_first_posts: 3,
        },
    )
    .unwrap();
    let edited =
        crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "Something new").unwrap();
    assert_eq!(edited.post.moderation, crate::model::Moderation::Awaiting);
    assert_eq!(open_items(&mut conn, post.id), ["awaiting"]);

    // Edited again while it waits: it still waits, with its one item.
    let again =
        crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "Something newer").unwrap();
    assert_eq!(again.post.moderation, crate::model::Moderation::Awaiting);
    assert_eq!(open_items(&mut conn, post.id), ["awaiting"]);
}

#[test]
fn a_decision_on_a_post_edited_since_the_moderator_saw_it_is_refused() {
    use crate::moderation::review::{decide, Decision, Seen};
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = PostingRules {
        new_account_premod_posts: 5,
        ..edits_only(0, 0, 50)
    };
    let post = jos_reply(&mut conn, &w, &rules);
    assert_eq!(post.moderation, crate::model::Moderation::Awaiting);
    let seen = Seen::of(&stored(&mut conn, post.id));
    crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "Now something else").unwrap();

    let refused = decide(
        &mut conn,
        &PostingRules::default(),
        &w.admin,
        post.id,
        seen,
        &Decision::Approve,
    );
    match refused {
        Err(Error::Invalid(invalid)) => assert!(
            format!("{invalid:?}").contains("This post was edited after you opened it"),
            "{invalid:?}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        stored(&mut conn, post.id).moderation,
        crate::model::Moderation::Awaiting,
        "nothing changed"
    );
    assert_eq!(open_items(&mut conn, post.id), ["awaiting"]);
    let hide = Decision::Hide {
        reason: "against the rules".to_owned(),
    };
    assert!(decide(
        &mut conn,
        &PostingRules::default(),
        &w.admin,
        post.id,
        seen,
        &hide
    )
    .is_err());
    let logged: i64 = crate::db::schema::moderation_log::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(logged, 0);

    // Seen as it is now, the decision applies.
    let now_seen = Seen::of(&stored(&mut conn, post.id));
    assert_ne!(now_seen, seen);
    decide(
        &mut conn,
        &PostingRules::default(),
        &w.admin,
        post.id,
        now_seen,
        &Decision::Approve,
    )
    .unwrap();
    assert_eq!(
        stored(&mut conn, post.id).moderation,
        crate::model::Moderation::Visible
    );
}

#[test]
fn a_decision_meeting_an_edit_committed_after_the_post_was_loaded_changes_nothing() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 50);
    let post = jos_reply(&mut conn, &w, &rules);
    let as_loaded = stored(&mut conn, post.id);
    assert!(crate::forum::posts::claim_text(&mut conn, &as_loaded).unwrap());
    crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "changed").unwrap();
    assert!(!crate::forum::posts::claim_text(&mut conn, &as_loaded).unwrap());
    let edited = stored(&mut conn, post.id);
    assert!(crate::forum::posts::claim_text(&mut conn, &edited).unwrap());
}

#[test]
fn members_banned_from_the_group_and_posts_in_locked_threads_cannot_be_edited() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = edits_only(0, 0, 50);
    let post = jos_reply(&mut conn, &w, &rules);

    actions::change_thread(
        &mut conn,
        &w.admin,
        w.thread.id,
        ThreadChange::Lock(true),
        "a break",
    )
    .unwrap();
    let refused = crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "changed");
    assert!(
        matches!(refused, Err(Error::Denied(Denied::ThreadLocked))),
        "{refused:?}"
    );
    assert!(crate::forum::posts::for_edit(&mut conn, &w.jo, post.id).is_err());
    actions::change_thread(
        &mut conn,
        &w.admin,
        w.thread.id,
        ThreadChange::Lock(false),
        "over",
    )
    .unwrap();

    actions::ban_from_board(
        &mut conn,
        &w.admin,
        &w.board,
        &w.jo.member,
        Some(None),
        "a pause",
    )
    .unwrap();
    let account = crate::accounts::members::by_id(&mut conn, w.jo.id).unwrap();
    let banned = crate::accounts::actors::actor_for(&mut conn, account).unwrap();
    let refused = crate::forum::posts::edit(&mut conn, &rules, &banned, post.id, "changed");
    assert!(
        matches!(refused, Err(Error::Denied(Denied::BannedFromBoard))),
        "{refused:?}"
    );
    assert_eq!(
        stored(&mut conn, post.id).source,
        "I am here, reading along."
    );
}

#[test]
fn an_edit_racing_a_ban_from_its_group_is_refused() {
    let w = world();
    let rules = edits_only(0, 0, 50);
    let mut conn = w.pool.get().unwrap();
    let post = jos_reply(&mut conn, &w, &rules);
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
    let refused = crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, "changed");
    assert!(
        matches!(refused, Err(Error::Denied(Denied::BannedFromBoard))),
        "{refused:?}"
    );
    assert_eq!(
        stored(&mut conn, post.id).source,
        "I am here, reading along."
    );
    assert!(revision_texts(&mut conn, post.id).is_empty());
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

/// An edit goes through the same renderer bound as a new post: refused, the stored text kept.
#[test]
fn an_edit_too_complex_to_show_is_refused_and_changes_nothing() {
    let w = world();
    let mut conn = w.pool.get().unwrap();
    let rules = PostingRules::default();
    let post = jos_reply(&mut conn, &w, &rules);
    let error =
        crate::forum::posts::edit(&mut conn, &rules, &w.jo, post.id, &"<a@b>".repeat(9_000))
            .unwrap_err();
    let Error::Invalid(invalid) = error else {
        panic!("expected a form error, got {error:?}");
    };
    assert!(invalid
        .message_for("body")
        .is_some_and(|m| m.contains("please simplify")));
    assert_eq!(stored(&mut conn, post.id).source, post.source);
    assert!(revision_texts(&mut conn, post.id).is_empty());
}
