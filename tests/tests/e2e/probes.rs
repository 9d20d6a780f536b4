//! `/healthz` (alive) and `/readyz` (the database answers and is migrated), on both backends:
//! plain text, never cached, no cookies read or set.

use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use hearth_core::model::SiteRole;
use hearth_tests::{TestApp, POSTGRES_VARIABLE};

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

#[track_caller]
fn assert_probe(reply: &hearth_tests::Reply, status: u16, body: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body, body);
    assert!(
        reply.headers.get("set-cookie").is_none(),
        "a probe sets no cookie: {:?}",
        reply.headers
    );
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
}

/// Waits up to ten seconds for `/readyz` to say `status`.
fn ready_becomes(app: &TestApp, status: u16) -> hearth_tests::Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = app.browser().get("/readyz");
        if reply.status == status || Instant::now() > deadline {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn probes_answer_in_plain_text_and_leave_cookies_alone() {
    let app = TestApp::new();
    let visitor = app.browser();
    assert_probe(&visitor.get("/healthz"), 200, "ok");
    assert_probe(&visitor.get("/readyz"), 200, "ok");
    // A cookie that is no session's is not answered with a removal cookie, as pages do.
    let stale = app.browser();
    stale.set_cookie("hearth_session", "not-a-session-token");
    assert_probe(&stale.get("/healthz"), 200, "ok");
    assert_probe(&stale.get("/readyz"), 200, "ok");
    assert!(stale.get("/").headers.get("set-cookie").is_some());
    let member = app.signed_in("ana", SiteRole::Member);
    assert_probe(&member.get("/readyz"), 200, "ok");
}

/// A database this version has not migrated (as one restored from an older version) is not
/// ready; once migrated it is.
#[test]
fn readyz_is_503_while_a_migration_is_pending() {
    let app = TestApp::new();
    let newest: Value =
        diesel::sql_query("SELECT max(version) AS value FROM __diesel_schema_migrations")
            .get_result(&mut *app.conn())
            .unwrap();
    diesel::sql_query(format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{}'",
        newest.value
    ))
    .execute(&mut *app.conn())
    .unwrap();
    assert_probe(
        &app.browser().get("/readyz"),
        503,
        "a database migration is pending",
    );
    assert_probe(&app.browser().get("/healthz"), 200, "ok");
    diesel::sql_query(format!(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{}')",
        newest.value
    ))
    .execute(&mut *app.conn())
    .unwrap();
    assert_probe(&app.browser().get("/readyz"), 200, "ok");
}

/// With every connection of the pool taken, `/readyz` gives up within seconds and says the
/// database is unreachable; `/healthz` never needed one.
#[test]
fn readyz_is_503_when_no_connection_can_be_had_and_healthz_is_not() {
    let app = TestApp::new();
    let held: Vec<_> = std::iter::from_fn(|| app.pool.try_get()).collect();
    assert!(!held.is_empty());
    let started = Instant::now();
    let healthz = app.browser().get("/healthz");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_probe(&healthz, 200, "ok");
    let started = Instant::now();
    assert_probe(
        &app.browser().get("/readyz"),
        503,
        "the database is unreachable",
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(held);
    assert_probe(&ready_becomes(&app, 200), 200, "ok");
}

/// PostgreSQL: while the server refuses this database's connections (and has ended the open
/// ones), `/readyz` is 503 and `/healthz` 200; when it takes them again, ready again.
#[test]
fn readyz_is_503_while_postgresql_refuses_the_database() {
    let app = TestApp::new();
    if !app.is_postgres() {
        return;
    }
    let admin_url = std::env::var(POSTGRES_VARIABLE).unwrap();
    let name: Value = diesel::sql_query("SELECT current_database() AS value")
        .get_result(&mut *app.conn())
        .unwrap();
    let name = name.value;
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
    ))
    .execute(&mut admin)
    .unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid)::text AS value FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .load::<Value>(&mut admin)
    .unwrap();
    let refused = ready_becomes(&app, 503);
    assert_probe(&refused, 503, "the database is unreachable");
    assert_probe(&app.browser().get("/healthz"), 200, "ok");
    diesel::sql_query(format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .unwrap();
    assert_probe(&ready_becomes(&app, 200), 200, "ok");
}
