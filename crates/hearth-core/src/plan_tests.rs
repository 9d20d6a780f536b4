//! The hot queries use indexes: no full scans and no sorting in memory, so page 500 costs what
//! page 1 costs and a million posts cost what ten thousand do. The real operations run with an
//! instrumented connection; each statement they sent is asked for SQLite's query plan.

use std::sync::{Arc, Mutex};

use diesel::connection::{Connection, InstrumentationEvent};
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use crate::boards;
use crate::clock;
use crate::db::DbConn;
use crate::gate::PostingRules;
use crate::limits::{self, PostingLimits};
use crate::posts::{self, ReplyForm};
use crate::sessions;
use crate::test_support::{admin_board_thread, sqlite_pool};
use crate::threads::{self, BoardCursor};
use crate::throttle::{self, SignInKeys, ThrottlePolicy};
use crate::{meetings, notices, review};

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Every statement `operation` sends, as SQL text with `?` placeholders.
fn statements_of(conn: &mut DbConn, operation: impl FnOnce(&mut DbConn)) -> Vec<String> {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = captured.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text
                .split(" -- binds:")
                .next()
                .unwrap_or_default()
                .to_owned();
            sink.lock().unwrap().push(sql);
        }
    });
    operation(conn);
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    let statements = captured.lock().unwrap().clone();
    statements
}

/// Statements that read only open review items, through an index on their state: that set is
/// as short as the moderators keep it, however large the community, so sorting it is allowed.
const OPEN_ITEMS_ONLY: &str = "WHERE review_items.state = 'open'";

/// Tables read whole on purpose: the admins' watched words (tens of rows, read for each post so
/// every server process applies the same list at once).
const READ_WHOLE: [&str; 1] = ["SCAN watched_words"];

/// Plan steps that read a whole table or sort rows outside an index.
fn slow_steps(conn: &mut DbConn, sql: &str) -> Vec<String> {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!()
    };
    let plan: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(sqlite)
        .unwrap();
    plan.into_iter()
        .map(|step| step.detail)
        .filter(|detail| {
            (detail.starts_with("SCAN") && !READ_WHOLE.contains(&detail.as_str()))
                || (detail.contains("TEMP B-TREE") && !sql.contains(OPEN_ITEMS_ONLY))
        })
        .collect()
}

#[test]
fn the_pages_people_read_most_use_indexes_only() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, board, thread) = admin_board_thread(conn, "first");
    let session = sessions::start(conn, &admin, chrono::TimeDelta::days(1)).unwrap();
    let actor = admin.actor();
    let form = meetings::MeetingForm {
        title: "Circle".to_owned(),
        date: "2038-01-07".to_owned(),
        time: "19:00".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
        duration_minutes: "60".to_owned(),
        repeat: "weekly".to_owned(),
        interval_weeks: "1".to_owned(),
        ..Default::default()
    };
    meetings::schedule(conn, &admin, &board, &form).unwrap();
    let cursor = BoardCursor {
        pinned: false,
        last_activity_at: thread.last_activity_at,
        id: thread.id,
    };

    let statements = statements_of(conn, |conn| {
        let resumed = sessions::resume(conn, &session.token).unwrap();
        // Every signed-in page shows these counts in its header.
        review::open_count(conn, &resumed.member).unwrap();
        notices::unread_count(conn, resumed.member.id).unwrap();
        boards::by_slug_for(conn, &actor, "board").unwrap();
        threads::board_page(conn, &board, None).unwrap();
        threads::board_page(conn, &board, Some(cursor)).unwrap();
        // The board page shows the group's next meeting.
        meetings::next_occurrence(conn, board.id, clock::now()).unwrap();
        let (_, thread) = threads::by_id_for(conn, &actor, thread.id).unwrap();
        posts::thread_page(conn, &thread, 1).unwrap();
        let reply = ReplyForm {
            body: "a reply".to_owned(),
            submission_key: "r".repeat(16),
            ..Default::default()
        };
        posts::reply(conn, &PostingRules::default(), &admin, thread.id, &reply).unwrap();
        // Posting limits and slow mode run before every post.
        let now = clock::now();
        limits::check_posting(
            conn,
            admin.id,
            admin.created_at,
            Some((thread.id, 60)),
            &PostingLimits::default(),
            now,
        )
        .unwrap_err();
        // Sign-in throttling runs on every sign-in attempt.
        let keys = SignInKeys::new(std::net::Ipv4Addr::LOCALHOST.into(), "ada");
        let policy = ThrottlePolicy::default();
        throttle::check(conn, &keys, &policy, now).unwrap();
        throttle::record_failure(conn, &keys, &policy, now).unwrap();
        throttle::clear_account(conn, &keys, &policy, now).unwrap();
    });
    assert!(statements.len() >= 10, "{statements:#?}");
    let mut slow = Vec::new();
    for sql in statements.iter().filter(|sql| {
        sql.starts_with("SELECT") || sql.starts_with("UPDATE") || sql.starts_with("DELETE")
    }) {
        for step in slow_steps(conn, sql) {
            slow.push(format!("{step}\n    in: {sql}"));
        }
    }
    assert!(
        slow.is_empty(),
        "hot queries that scan or sort:\n{}",
        slow.join("\n")
    );
}
