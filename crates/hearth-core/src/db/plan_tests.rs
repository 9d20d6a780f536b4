//! The hot queries use indexes: no full scans and no sorting in memory, so page 500 costs what
//! page 1 costs and a million posts cost what ten thousand do. The real operations run with an
//! instrumented connection; each statement they sent is asked for SQLite's query plan.

use std::sync::{Arc, Mutex};

use diesel::connection::{Connection, InstrumentationEvent};
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use crate::accounts::sessions;
use crate::accounts::throttle::{self, RegistrationLimits, SignInKeys, ThrottlePolicy, Verdict};
use crate::clock;

/// Stands for the site's throttle secret.
const TEST_SECRET: &[u8] = b"the site's throttle secret";
use crate::db::DbConn;
use crate::forum::boards;
use crate::forum::posts::{self, ReplyForm};
use crate::forum::reads;
use crate::forum::threads::{self, BoardCursor};
use crate::safety::gate::PostingRules;
use crate::safety::limits::{self, PostingLimits};
use crate::test_support::{admin_board_thread, registration, sqlite_pool, PASSWORD};
use crate::{meetings, moderation::review, notifications};

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
/// every server process applies the same list at once; sorted in Rust, not by the statement).
/// And the one row of a `SELECT` from no table, whose
/// columns are subqueries of their own (the thread page's read marker).
const READ_WHOLE: [&str; 2] = ["SCAN watched_words", "SCAN CONSTANT ROW"];

/// SQLite's plan for `sql`, a step a line.
fn plan_of(conn: &mut DbConn, sql: &str) -> Vec<String> {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!()
    };
    let plan: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(sqlite)
        .unwrap();
    plan.into_iter().map(|step| step.detail).collect()
}

/// Plan steps that read a whole table or sort rows outside an index.
fn slow_steps(conn: &mut DbConn, sql: &str) -> Vec<String> {
    plan_of(conn, sql)
        .into_iter()
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
        notifications::unread_count(conn, resumed.member.id).unwrap();
        boards::by_slug_for(conn, &actor, "board").unwrap();
        threads::board_page(conn, &board, None, None).unwrap();
        threads::board_page(conn, &board, None, Some(cursor)).unwrap();
        // A member's board page: each thread with their marker and what is new after it.
        threads::board_page(conn, &board, Some(admin.id), None).unwrap();
        threads::board_page(conn, &board, Some(admin.id), Some(cursor)).unwrap();
        // The board page shows the group's next meeting.
        meetings::next_occurrence(conn, board.id, clock::now()).unwrap();
        let (_, thread) = threads::by_id_for(conn, &actor, thread.id).unwrap();
        posts::thread_page(conn, &thread, 1).unwrap();
        // And the reactions under its posts.
        crate::forum::reactions::for_page(conn, thread.id, 1, 20, Some(admin.id)).unwrap();
        // The thread page reads the member's marker, and writes it when the page moved it.
        reads::state_of(conn, admin.id, &thread, 1).unwrap();
        reads::record(conn, admin.id, thread.id, 1, clock::now()).unwrap();
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
        let keys = SignInKeys::new(TEST_SECRET, std::net::Ipv4Addr::LOCALHOST.into(), "ada");
        let policy = ThrottlePolicy::default();
        let Verdict::Allow(wrong) = throttle::reserve(conn, &keys, &policy, now).unwrap() else {
            panic!("the first attempt is allowed");
        };
        throttle::authenticate(conn, &keys, wrong, "ada", "not the password").unwrap_err();
        let Verdict::Allow(right) = throttle::reserve(conn, &keys, &policy, now).unwrap() else {
            panic!("the second attempt is allowed");
        };
        throttle::authenticate(conn, &keys, right, "ada", PASSWORD).unwrap();
        throttle::purge(conn, &policy, now).unwrap();
        // And registration's throttle runs on every new account.
        throttle::register(
            conn,
            TEST_SECRET,
            &registration("newcomer"),
            &RegistrationLimits::default(),
            std::net::Ipv4Addr::LOCALHOST.into(),
            now,
        )
        .unwrap();
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
    // A member's board page counts the posts new to them beside each thread from the index
    // alone, never from the posts' rows.
    let listings: Vec<&String> = statements
        .iter()
        .filter(|sql| {
            sql.starts_with("SELECT") && sql.contains("`thread_reads`.`last_read_position`)")
        })
        .filter(|sql| sql.contains("COUNT(*)"))
        .collect();
    assert_eq!(listings.len(), 2, "{statements:#?}");
    for sql in listings {
        let plan = plan_of(conn, sql);
        let counted = plan
            .iter()
            .filter(|step| step.contains("USING COVERING INDEX posts_visible_position"))
            .count();
        assert_eq!(counted, 2, "{plan:#?}\n    in: {sql}");
    }
}

#[derive(QueryableByName)]
struct Recompiled {
    #[diesel(sql_type = Text)]
    sql: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    reprep: i64,
}

/// What the pages every reader loads send to SQLite is compiled once per connection and then
/// only run: a statement diesel cannot cache (one holding an SQL literal, or an `IN` list whose
/// length varies) is compiled on every request, and so is one SQLite expires when a new value
/// is bound (a `LIMIT ?`). Both cost a tenth of a page or more (docs/performance.md).
#[test]
fn the_pages_people_read_most_are_compiled_once() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, board, thread) = admin_board_thread(conn, "first");
    let session = sessions::start(conn, &admin, chrono::TimeDelta::days(1)).unwrap();
    let read_pages = |conn: &mut DbConn| {
        // The session layer, without the review queue's count, which only moderators' pages
        // show: it is read through a partial index, which needs its condition written out.
        let resumed = sessions::resume(conn, &session.token).unwrap();
        notifications::unread_count(conn, resumed.member.id).unwrap();
        let actor = crate::policy::Actor::Member(Box::new(resumed.member.clone()));
        // A board page.
        let shown = boards::group_by_slug(conn, &actor, "board").unwrap();
        crate::groups::memberships::standing(conn, shown.id, admin.id).unwrap();
        crate::groups::categories(conn).unwrap();
        threads::board_page(conn, &board, None, None).unwrap();
        threads::board_page(conn, &board, Some(admin.id), None).unwrap();
        meetings::next_occurrence(conn, board.id, clock::now()).unwrap();
        // A thread page.
        let (_, thread) = threads::by_id_for(conn, &actor, thread.id).unwrap();
        posts::thread_page(conn, &thread, 1).unwrap();
        crate::forum::reactions::for_page(conn, thread.id, 1, 20, Some(admin.id)).unwrap();
        reads::state_of(conn, admin.id, &thread, 1).unwrap();
        crate::accounts::mutes::muted_by(conn, admin.id).unwrap();
        crate::groups::must_accept_rules(conn, &resumed.member, &board).unwrap();
    };
    read_pages(conn);
    let compiled = compiled_once(conn, |conn| {
        read_pages(conn);
        read_pages(conn);
    });
    assert!(
        compiled.sent >= 20,
        "two rounds of page loads sent only {} statements",
        compiled.sent
    );
    compiled.assert_all_prepared(|_| false);
}

/// What a round of an operation sent that SQLite had to compile for it.
struct Compiled {
    /// Statements sent.
    sent: usize,
    /// Statements diesel compiled again although it had them cached.
    compiled_again: Vec<String>,
    /// Statements diesel did not keep prepared (compiled on every run).
    uncached: Vec<String>,
    /// Kept statements SQLite compiled again after a new bound value.
    expired: Vec<String>,
}

impl Compiled {
    /// Every statement sent was prepared before and run as it was, but those `allowed`.
    fn assert_all_prepared(&self, allowed: impl Fn(&str) -> bool) {
        assert!(self.compiled_again.is_empty(), "{:#?}", self.compiled_again);
        let uncached: Vec<&String> = self.uncached.iter().filter(|s| !allowed(s)).collect();
        assert!(
            uncached.is_empty(),
            "statements compiled on every run:\n{}",
            uncached
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            self.expired.is_empty(),
            "statements compiled again after a new bound value:\n{}",
            self.expired.join("\n")
        );
    }
}

/// Runs `round` (after the caller ran it once, so its statements are prepared) with every
/// statement it sends recorded, then asks SQLite which of them it kept prepared and which it
/// compiled again.
fn compiled_once(conn: &mut DbConn, round: impl FnOnce(&mut DbConn)) -> Compiled {
    let DbConn::Sqlite(sqlite) = &mut *conn else {
        unreachable!()
    };
    // The counts of re-preparing start from here.
    let before: Vec<Recompiled> = diesel::sql_query("SELECT sql, reprep FROM sqlite_stmt")
        .load(sqlite)
        .unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let sink = sent.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        let entry = match event {
            InstrumentationEvent::StartQuery { query, .. } => format!("sent: {query}"),
            InstrumentationEvent::CacheQuery { sql, .. } => format!("compiled again: {sql}"),
            _ => return,
        };
        sink.lock().unwrap().push(entry);
    });
    round(conn);
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    let events = sent.lock().unwrap().clone();
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!()
    };
    // A statement diesel could not cache is finalized after each run: it is not among the
    // connection's prepared statements.
    let cached: Vec<Recompiled> = diesel::sql_query("SELECT sql, reprep FROM sqlite_stmt")
        .load(sqlite)
        .unwrap();
    assert!(!cached.is_empty());
    let sent_sql: Vec<&str> = events
        .iter()
        .filter_map(|e| e.strip_prefix("sent: "))
        .map(|e| e.split(" -- binds:").next().unwrap_or_default())
        .collect();
    let reprepared_before =
        |sql: &str| before.iter().find(|b| b.sql == sql).map_or(0, |b| b.reprep);
    Compiled {
        sent: sent_sql.len(),
        compiled_again: events
            .iter()
            .filter(|e| e.starts_with("compiled again"))
            .cloned()
            .collect(),
        uncached: sent_sql
            .iter()
            .filter(|sql| !cached.iter().any(|c| c.sql == **sql))
            .map(|sql| (*sql).to_owned())
            .collect(),
        expired: cached
            .iter()
            .filter(|s| s.reprep > reprepared_before(&s.sql) && sent_sql.contains(&s.sql.as_str()))
            .map(|s| format!("{} times: {}", s.reprep - reprepared_before(&s.sql), s.sql))
            .collect(),
    }
}

/// A reply — the write members repeat most — sends statements SQLite compiled before: the
/// posting transaction, the search index, and telling the thread's author and followers.
/// Diesel prepares an UPDATE, an upsert or raw SQL afresh on every run unless it is
/// `db::Cached`; only the transaction's own statements and `IN` lists (their length varies)
/// may be compiled each time.
#[test]
fn a_reply_sends_only_statements_compiled_before() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (_admin, board, thread) = admin_board_thread(conn, "first");
    let replier = crate::test_support::member(conn, "bea", crate::model::SiteRole::Member);
    crate::groups::memberships::join(conn, &replier, &board, "").unwrap();
    let account = crate::accounts::members::by_id(conn, replier.id).unwrap();
    let replier = crate::accounts::actors::actor_for(conn, account).unwrap();
    // Four replies in a minute from a new account: within limits raised for the test (the
    // limits' statements run all the same).
    let rules = PostingRules {
        limits: PostingLimits {
            new_account_per_minute: 10,
            ..PostingLimits::default()
        },
        ..PostingRules::default()
    };
    let n = std::cell::Cell::new(0);
    let reply = |conn: &mut DbConn| {
        n.set(n.get() + 1);
        let form = ReplyForm {
            body: format!("Thinking of you tonight, reply {}.", n.get()),
            submission_key: format!("{:0>16}", n.get()),
            ..Default::default()
        };
        let posted = posts::reply(conn, &rules, &replier, thread.id, &form).unwrap();
        assert!(posted.post.position > 1);
    };
    reply(conn);
    reply(conn);
    let compiled = compiled_once(conn, |conn| {
        reply(conn);
        reply(conn);
    });
    assert!(
        compiled.sent >= 30,
        "two replies sent only {} statements",
        compiled.sent
    );
    compiled.assert_all_prepared(|sql| {
        ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]
            .iter()
            .any(|t| sql.starts_with(t))
            || sql.contains(" IN (")
    });
}

/// The notification mail scheduler runs every minute on every node: it walks the members who
/// chose mail by a partial index, and each member's waiting notifications by another.
#[test]
fn the_notification_mail_scheduler_uses_indexes_only() {
    use crate::db::schema::email_addresses;
    use crate::notifications::email::{save_mail_preferences, EmailMode, MailPreferences};
    use crate::notifications::mailing::{send_due, MailLimits, MailSchedule};
    use diesel::ExpressionMethods;

    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, _board, thread) = admin_board_thread(conn, "first");
    let now = clock::now();
    diesel::insert_into(email_addresses::table)
        .values((
            email_addresses::member_id.eq(admin.id),
            email_addresses::address.eq("ada@example.org"),
            email_addresses::address_lower.eq("ada@example.org"),
            email_addresses::verified_at.eq(Some(now)),
            email_addresses::created_at.eq(now),
        ))
        .execute(conn)
        .unwrap();
    let prefs = MailPreferences {
        mode: EmailMode::Now,
        ..MailPreferences::default()
    };
    save_mail_preferences(conn, admin.id, &prefs).unwrap();
    let bea = crate::test_support::member(conn, "bea", crate::model::SiteRole::Member);
    let reply = ReplyForm {
        body: "a reply".to_owned(),
        submission_key: "r".repeat(16),
        ..Default::default()
    };
    posts::reply(conn, &PostingRules::default(), &bea, thread.id, &reply).unwrap();
    let schedule = MailSchedule {
        enabled: true,
        site_name: "Hearth".to_owned(),
        public_url: "https://hearth.example".to_owned(),
        limits: MailLimits::default(),
    };
    let later = now + chrono::TimeDelta::hours(1);
    let statements = statements_of(conn, |conn| {
        let run = send_due(conn, &schedule, None, later).unwrap();
        assert_eq!(run.mails, 1);
    });
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
        "scheduler queries that scan or sort:\n{}",
        slow.join("\n")
    );
    let walk = statements
        .iter()
        .find(|sql| sql.contains("email_mode <> 'never'"))
        .expect("the walk over members who chose mail");
    let plan = plan_of(conn, walk);
    assert!(
        plan.iter()
            .any(|step| step.contains("notification_preferences_mail")),
        "{plan:#?}"
    );
}

/// The statement of `statements` that lists the first posts still waiting.
fn waiting_sql_of(statements: &[String]) -> String {
    statements
        .iter()
        .find(|sql| sql.contains("NOT EXISTS (SELECT 1 FROM posts r"))
        .cloned()
        .expect("the first posts waiting")
}

/// The community-health dashboard reads a window of days: the site's posts of that window
/// through `posts_created` alone, a facilitator's through their groups' threads, and no
/// statement over posts or threads reads either table whole, however long the community has
/// been posting.
#[test]
fn the_dashboard_reads_its_window_through_indexes() {
    use crate::health::{self, Window};
    use crate::model::SiteRole;
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, board, _) = admin_board_thread(conn, "first");
    crate::test_support::member(conn, "fran", SiteRole::Member);
    crate::moderation::actions::set_facilitator(conn, &admin, &board, "fran", true).unwrap();
    let second = boards::NewBoardForm {
        slug: "second".to_owned(),
        name: "Second".to_owned(),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    boards::create(conn, &admin, &second).unwrap();
    let fran = {
        let account = crate::accounts::members::by_username(conn, "fran").unwrap();
        crate::accounts::actors::actor_for(conn, account).unwrap()
    };
    let zone = health::zone_named("Europe/Berlin");
    for (who, every_group) in [(&admin, true), (&fran, false)] {
        let statements = statements_of(conn, |conn| {
            health::dashboard(conn, who, None, Window::Days90, zone, clock::now()).unwrap();
            health::unanswered(conn, who, 1, clock::now()).unwrap();
        });
        let over_posts: Vec<&String> = statements
            .iter()
            .filter(|sql| {
                sql.starts_with("SELECT") && (sql.contains("`posts`") || sql.contains(" posts p "))
            })
            .collect();
        assert!(over_posts.len() >= 4, "{statements:#?}");
        for sql in &over_posts {
            let scans: Vec<String> = plan_of(conn, sql)
                .into_iter()
                .filter(|step| step.starts_with("SCAN"))
                .collect();
            assert!(scans.is_empty(), "{scans:?}\n    in: {sql}");
        }
        let per_day = over_posts
            .iter()
            .find(|sql| sql.contains("`posts`.`created_at` >="))
            .expect("the posts per day");
        let plan = plan_of(conn, per_day);
        assert_eq!(
            plan.iter()
                .any(|step| step.contains("USING COVERING INDEX posts_created")),
            every_group,
            "{plan:#?}\n    in: {per_day}"
        );
        // The window's first posts: the staff's from the first posts' own index, not every
        // post of the window (a facilitator's too, or from their groups' threads: no scan).
        let first_posts = over_posts
            .iter()
            .find(|sql| sql.contains("AS replied_at"))
            .expect("the window's first posts");
        if every_group {
            let plan = plan_of(conn, first_posts);
            assert!(
                plan.iter()
                    .any(|step| step.contains("USING COVERING INDEX posts_first (position=?")),
                "{plan:#?}\n    in: {first_posts}"
            );
        }
        // What answers each first post (its first reply by someone else) and what keeps it
        // waiting, from the replies' index alone: never a reply's row.
        let waiting = waiting_sql_of(&statements);
        for probe in [first_posts.as_str(), waiting.as_str()] {
            let plan = plan_of(conn, probe);
            assert!(
                plan.iter().any(|step| step
                    .contains("SEARCH r USING COVERING INDEX posts_visible_position (thread_id=?")),
                "{plan:#?}\n    in: {probe}"
            );
        }
    }
    // The site-wide count of first posts waiting (`/metrics`) reads the first posts' index,
    // not every post ever made.
    let statements = statements_of(conn, |conn| {
        crate::maintenance::gauges::unanswered_first_posts(conn).unwrap();
    });
    assert_eq!(statements.len(), 1, "{statements:#?}");
    let plan = plan_of(conn, &statements[0]);
    assert!(
        plan.iter()
            .any(|step| step.contains("SEARCH p USING COVERING INDEX posts_first (position=?")),
        "{plan:#?}"
    );
    assert!(
        !plan.iter().any(|step| step.starts_with("SCAN")),
        "{plan:#?}"
    );
}
