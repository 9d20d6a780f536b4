//! Decisions on posts keep every counter equal to what the rows say, whatever order they come in.

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

use super::*;
use crate::forum::posts::ReplyForm;
use crate::model::SiteRole;
use crate::safety::gate::PostingRules;
use crate::test_support::{admin_board_thread, member, sqlite_pool};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every stored counter agrees with the visible, published rows it counts.
fn assert_counters_match_rows(conn: &mut DbConn, after: &str) {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!()
    };
    for query in [
        "SELECT count(*) AS n FROM threads t WHERE reply_count != (SELECT count(*) FROM posts p WHERE p.thread_id = t.id AND p.state = 'published' AND p.moderation = 'visible' AND p.position > 1)",
        "SELECT count(*) AS n FROM boards b WHERE post_count != (SELECT count(*) FROM posts p JOIN threads t ON t.id = p.thread_id WHERE t.board_id = b.id AND p.state = 'published' AND p.moderation = 'visible' AND t.state = 'published' AND t.moderation = 'visible')",
        "SELECT count(*) AS n FROM boards b WHERE thread_count != (SELECT count(*) FROM threads t WHERE t.board_id = b.id AND t.state = 'published' AND t.moderation = 'visible')",
        "SELECT count(*) AS n FROM members m WHERE post_count != (SELECT count(*) FROM posts p WHERE p.author_id = m.id AND p.state = 'published' AND p.moderation = 'visible')",
    ] {
        let count: Count = diesel::sql_query(query).get_result(sqlite).unwrap();
        assert_eq!(count.n, 0, "after {after}: {query}");
    }
}

fn reply(conn: &mut DbConn, who: &MemberActor, thread: ThreadId, n: u32) -> Post {
    let form = ReplyForm {
        body: format!("reply {n}"),
        submission_key: format!("reply-key-{n:012}"),
        ..Default::default()
    };
    posts::reply(conn, &PostingRules::default(), who, thread, &form)
        .unwrap()
        .post
}

/// What a moderator saw of a post never edited.
const UNEDITED: Seen = Seen { edited_at: None };

fn hide() -> Decision {
    Decision::Hide {
        reason: "It goes against the ground rules".to_owned(),
    }
}

#[test]
fn hiding_and_restoring_posts_and_whole_threads_keeps_every_counter_right() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, board, thread) = admin_board_thread(conn, "opening words");
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    let first = reply(conn, &ana, thread.id, 1);
    reply(conn, &ana, thread.id, 2);
    reply(conn, &ben, thread.id, 3);
    assert_counters_match_rows(conn, "three replies");
    let opening = posts::at_position(conn, thread.id, 1).unwrap().unwrap();

    decide(
        conn,
        &PostingRules::default(),
        &admin,
        first.id,
        UNEDITED,
        &hide(),
    )
    .unwrap();
    assert_counters_match_rows(conn, "hiding a reply");
    assert!(
        matches!(
            decide(
                conn,
                &PostingRules::default(),
                &admin,
                first.id,
                UNEDITED,
                &hide()
            ),
            Err(Error::Invalid(_))
        ),
        "hiding twice is refused and changes nothing"
    );
    assert_counters_match_rows(conn, "hiding it again");

    decide(
        conn,
        &PostingRules::default(),
        &admin,
        opening.id,
        UNEDITED,
        &hide(),
    )
    .unwrap();
    assert_counters_match_rows(conn, "hiding the opening post (and so the thread)");
    let board_now = crate::forum::boards::by_id(conn, board.id).unwrap();
    assert_eq!((board_now.thread_count, board_now.post_count), (0, 0));

    decide(
        conn,
        &PostingRules::default(),
        &admin,
        opening.id,
        UNEDITED,
        &Decision::Restore,
    )
    .unwrap();
    assert_counters_match_rows(conn, "restoring the opening post");
    decide(
        conn,
        &PostingRules::default(),
        &admin,
        first.id,
        UNEDITED,
        &Decision::Restore,
    )
    .unwrap();
    assert_counters_match_rows(conn, "restoring the reply");
    let board_now = crate::forum::boards::by_id(conn, board.id).unwrap();
    assert_eq!((board_now.thread_count, board_now.post_count), (1, 4));
    let log: i64 = crate::db::schema::moderation_log::table
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(
        log, 4,
        "each decision that changed something wrote one log row"
    );
}

#[test]
fn posts_held_for_approval_count_nowhere_until_approved() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, board, thread) = admin_board_thread(conn, "welcome");
    let ana = member(conn, "ana", SiteRole::Member);
    let held = PostingRules {
        new_account_premod_posts: 5,
        ..PostingRules::default()
    };
    let form = crate::forum::threads::NewThreadForm {
        title: "Hello".to_owned(),
        body: "my first words".to_owned(),
        submission_key: "held-thread-key-0001".to_owned(),
        ..Default::default()
    };
    let started = crate::forum::threads::start(conn, &held, &ana, &board, &form).unwrap();
    assert_eq!(started.post.moderation, Moderation::Awaiting);
    let waiting_reply = posts::reply(
        conn,
        &held,
        &ana,
        thread.id,
        &ReplyForm {
            body: "a reply".to_owned(),
            submission_key: "held-reply-key-0001".to_owned(),
            ..Default::default()
        },
    )
    .unwrap()
    .post;
    assert_counters_match_rows(conn, "two held posts");
    let board_now = crate::forum::boards::by_id(conn, board.id).unwrap();
    assert_eq!((board_now.thread_count, board_now.post_count), (1, 1));

    decide(
        conn,
        &PostingRules::default(),
        &admin,
        started.post.id,
        UNEDITED,
        &Decision::Approve,
    )
    .unwrap();
    assert_counters_match_rows(conn, "approving the held thread");
    decide(
        conn,
        &PostingRules::default(),
        &admin,
        waiting_reply.id,
        UNEDITED,
        &hide(),
    )
    .unwrap();
    assert_counters_match_rows(conn, "hiding the held reply");
    let board_now = crate::forum::boards::by_id(conn, board.id).unwrap();
    assert_eq!((board_now.thread_count, board_now.post_count), (2, 2));
    assert!(
        queue(conn, &admin, None, 1).unwrap().entries.is_empty(),
        "both decisions closed their items"
    );
}
