use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

use super::*;

#[derive(QueryableByName)]
struct TextValue {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct NumberValue {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

fn sqlite_pool() -> (tempfile::TempDir, Pool) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir
        .path()
        .join("sub/dir/hearth.db")
        .to_string_lossy()
        .into_owned();
    let pool = open(&DbConfig {
        database_url,
        pool_size: 2,
    })
    .unwrap();
    (dir, pool)
}

/// Reads a pragma through its table-valued function, e.g. `pragma_synchronous`.
fn pragma_number(conn: &mut DbConn, pragma: &str, column: &str) -> i64 {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!()
    };
    diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{pragma}"))
        .get_result::<NumberValue>(sqlite)
        .unwrap()
        .value
}

#[test]
fn every_sqlite_connection_is_durable_and_patient() {
    let (_dir, pool) = sqlite_pool();
    // Check two pooled connections: the settings are per connection.
    let mut first = pool.get().unwrap();
    let mut second = pool.get().unwrap();
    for conn in [&mut *first, &mut *second] {
        let DbConn::Sqlite(sqlite) = &mut *conn else {
            panic!("a SQLite path opens SQLite")
        };
        let mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result::<JournalMode>(sqlite)
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        // synchronous: 2 is FULL.
        assert_eq!(pragma_number(conn, "synchronous", "synchronous"), 2);
        assert_eq!(pragma_number(conn, "foreign_keys", "foreign_keys"), 1);
        assert_eq!(
            pragma_number(conn, "busy_timeout", "timeout"),
            i64::from(SQLITE_BUSY_TIMEOUT_MS)
        );
    }
}

#[test]
fn a_counters_write_commits_and_leaves_the_connection_durable() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let inside = write_tx_counter(conn, |conn| {
        diesel::sql_query("CREATE TABLE counted (n INTEGER)").execute(conn)?;
        diesel::sql_query("INSERT INTO counted (n) VALUES (7)").execute(conn)?;
        Ok(pragma_number(conn, "synchronous", "synchronous"))
    })
    .unwrap();
    // NORMAL (1) inside, FULL (2) again after, also after a transaction that failed.
    assert_eq!(inside, 1);
    assert_eq!(pragma_number(conn, "synchronous", "synchronous"), 2);
    let failed: Result<()> = write_tx_counter(conn, |conn| {
        diesel::sql_query("INSERT INTO counted (n) VALUES (8)").execute(conn)?;
        Err(crate::error::Error::NotFound)
    });
    assert!(failed.is_err());
    assert_eq!(pragma_number(conn, "synchronous", "synchronous"), 2);
    let other = &mut *pool.get().unwrap();
    assert_eq!(pragma_number(other, "synchronous", "synchronous"), 2);
    let DbConn::Sqlite(sqlite) = other else {
        unreachable!()
    };
    let stored = diesel::sql_query("SELECT n AS value FROM counted")
        .load::<NumberValue>(sqlite)
        .unwrap();
    assert_eq!(stored.iter().map(|r| r.value).collect::<Vec<_>>(), [7]);
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[test]
fn open_creates_the_data_directory_and_migrates() {
    let (dir, pool) = sqlite_pool();
    assert!(dir.path().join("sub/dir/hearth.db").exists());
    let mut conn = pool.get().unwrap();
    assert_eq!(
        run_migrations(&mut conn).unwrap(),
        0,
        "everything ran at open"
    );
    let DbConn::Sqlite(sqlite) = &mut *conn else {
        unreachable!()
    };
    let tables: Vec<TextValue> = diesel::sql_query(
        "SELECT name AS value FROM sqlite_master WHERE type = 'table' AND name = 'posts'",
    )
    .load(sqlite)
    .unwrap();
    assert_eq!(
        tables.iter().map(|t| t.value.as_str()).collect::<Vec<_>>(),
        ["posts"]
    );
}

#[test]
fn a_failed_write_transaction_leaves_nothing_behind() {
    let (_dir, pool) = sqlite_pool();
    let mut conn = pool.get().unwrap();
    let outcome: Result<()> = write_tx(&mut conn, |conn| {
        diesel::sql_query("INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ('x', '2026-01-01 00:00:00', '2026-01-02 00:00:00')")
            .execute(conn)?;
        Err(Error::Internal("fails after the insert".to_owned()))
    });
    assert!(outcome.is_err());
    let DbConn::Sqlite(sqlite) = &mut *conn else {
        unreachable!()
    };
    let n = diesel::sql_query("SELECT count(*) AS value FROM setup_tokens")
        .get_result::<NumberValue>(sqlite)
        .unwrap();
    assert_eq!(n.value, 0);
    // And the connection is usable again afterwards.
    write_tx(&mut conn, |_| Ok(())).unwrap();
}

#[test]
fn concurrent_writers_queue_instead_of_failing() {
    let (_dir, pool) = sqlite_pool();
    std::thread::scope(|scope| {
        for n in 0..4 {
            let pool = pool.clone();
            scope.spawn(move || {
                for i in 0..25 {
                    let mut conn = pool.get().unwrap();
                    write_tx(&mut conn, |conn| {
                        // Read, then write: a deferred transaction here could fail to upgrade
                        // its lock with SQLITE_BUSY; an immediate one simply waits its turn.
                        diesel::sql_query("SELECT count(*) AS value FROM setup_tokens").get_result::<NumberValue>(conn)?;
                        diesel::sql_query(format!(
                            "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ('{n}-{i}', '2026-01-01 00:00:00', '2026-01-02 00:00:00')"
                        ))
                        .execute(conn)?;
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
    });
    let mut conn = pool.get().unwrap();
    let DbConn::Sqlite(sqlite) = &mut *conn else {
        unreachable!()
    };
    let n = diesel::sql_query("SELECT count(*) AS value FROM setup_tokens")
        .get_result::<NumberValue>(sqlite)
        .unwrap();
    assert_eq!(n.value, 100);
}

#[test]
fn postgres_urls_choose_postgres_and_anything_else_is_a_sqlite_path() {
    assert_eq!(
        Backend::of_url("postgres://u:p@localhost/db"),
        Backend::Postgres
    );
    assert_eq!(
        Backend::of_url("postgresql://localhost/db"),
        Backend::Postgres
    );
    assert_eq!(Backend::of_url("./data/hearth.db"), Backend::Sqlite);
    assert_eq!(
        Backend::of_url("/var/lib/hearth/postgres.db"),
        Backend::Sqlite
    );
}

#[test]
fn write_transactions_refuse_to_nest() {
    let (_dir, pool) = sqlite_pool();
    let mut outer = pool.get().unwrap();
    let mut inner = pool.get().unwrap();
    let nested: Result<Result<()>> = write_tx(&mut outer, |_| Ok(write_tx(&mut inner, |_| Ok(()))));
    assert!(matches!(nested.unwrap(), Err(Error::Internal(_))));
    // Afterwards both connections write normally.
    write_tx(&mut outer, |_| Ok(())).unwrap();
    write_tx(&mut inner, |_| Ok(())).unwrap();
}

#[test]
fn a_writer_that_panicked_does_not_block_the_next() {
    let (_dir, pool) = sqlite_pool();
    let panicked = std::thread::scope(|scope| {
        let pool = &pool;
        scope
            .spawn(move || {
                let mut conn = pool.get().unwrap();
                let _: Result<()> = write_tx(&mut conn, |_| panic!("a bug inside a transaction"));
            })
            .join()
    });
    assert!(panicked.is_err());
    // The half-done transaction's connection was discarded; writing goes on.
    let mut conn = pool.get().unwrap();
    write_tx(&mut conn, |_| Ok(())).unwrap();
    // And a thread that panicked inside a write transaction is not left marked as inside one.
    let same_thread = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut conn = pool.get().unwrap();
        let _: Result<()> = write_tx(&mut conn, |_| panic!("again"));
    }));
    assert!(same_thread.is_err());
    let mut conn = pool.get().unwrap();
    write_tx(&mut conn, |_| Ok(())).unwrap();
}

fn count_setup_tokens(conn: &mut DbConn) -> i64 {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!()
    };
    diesel::sql_query("SELECT count(*) AS value FROM setup_tokens")
        .get_result::<NumberValue>(sqlite)
        .unwrap()
        .value
}

const INSERT_TOKEN: &str = "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ('r', '2026-01-01 00:00:00', '2026-01-02 00:00:00')";

#[test]
fn readers_see_committed_writes_and_cannot_write() {
    let (dir, pool) = sqlite_pool();
    let url = dir
        .path()
        .join("sub/dir/hearth.db")
        .to_string_lossy()
        .into_owned();
    let readers = Readers::for_url(&url, 1024).expect("a SQLite path has readers");
    assert!(Readers::for_url("postgres://h@127.0.0.1/hearth", 1024).is_none());
    assert_eq!(readers.run(|conn| Ok(count_setup_tokens(conn))).unwrap(), 0);
    // A write through the pool is seen by the next read on the idle reader.
    write_tx(&mut pool.get().unwrap(), |conn| {
        diesel::sql_query(INSERT_TOKEN).execute(conn)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(readers.run(|conn| Ok(count_setup_tokens(conn))).unwrap(), 1);
    // A write transaction is refused before it takes the write lock…
    let in_tx: Result<()> = readers.run(|conn| write_tx(conn, |_| Ok(())));
    assert!(matches!(in_tx, Err(Error::Internal(_))));
    // …and a bare statement by SQLite itself (`query_only`).
    let bare: Result<usize> =
        readers.run(|conn| Ok(diesel::sql_query(INSERT_TOKEN).execute(conn)?));
    assert!(bare.is_err());
    assert_eq!(count_setup_tokens(&mut pool.get().unwrap()), 1);
    // Outside a read, this thread writes normally again.
    write_tx(&mut pool.get().unwrap(), |_| Ok(())).unwrap();
    // The reader keeps its page cache setting.
    readers
        .run(|conn| {
            assert_eq!(pragma_number(conn, "cache_size", "cache_size"), -1024);
            assert_eq!(pragma_number(conn, "query_only", "query_only"), 1);
            Ok(())
        })
        .unwrap();
}

#[derive(QueryableByName)]
struct PlanCacheMode {
    #[diesel(sql_type = Text)]
    plan_cache_mode: String,
}

/// Every PostgreSQL connection plans each statement once (see `prepare_postgres`). Runs when
/// `HEARTH_TEST_POSTGRES_URL` names a server, as in `.ci/run`.
#[test]
fn postgres_connections_keep_one_plan_per_statement() {
    let Ok(url) = std::env::var("HEARTH_TEST_POSTGRES_URL") else {
        return;
    };
    let mut conn = ConnectionManager::new(&url)
        .connect()
        .expect("the test server accepts connections");
    let DbConn::Pg(pg) = &mut conn else {
        panic!("a postgres:// URL opens PostgreSQL")
    };
    let mode = diesel::sql_query("SHOW plan_cache_mode")
        .get_result::<PlanCacheMode>(pg)
        .unwrap();
    assert_eq!(mode.plan_cache_mode, "force_generic_plan");
}

/// The data directory and the database hold members' words: neither is readable by others.
#[cfg(unix)]
#[test]
fn a_new_data_directory_and_database_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database = data.join("hearth.db");
    let pool = open(&DbConfig {
        database_url: database.to_string_lossy().into_owned(),
        pool_size: 1,
    })
    .unwrap();
    drop(pool);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&database), 0o600);
}

#[derive(QueryableByName)]
struct ConnectionSecurity {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

/// The bundled libpq speaks TLS: with `sslmode=require` the connection is encrypted (a libpq
/// built without OpenSSL refuses that URL). Runs when `HEARTH_TEST_POSTGRES_URL` names a server
/// with TLS on, as Debian's PostgreSQL is in `.ci/run`.
#[test]
fn postgres_connections_can_require_tls() {
    let Ok(url) = std::env::var("HEARTH_TEST_POSTGRES_URL") else {
        return;
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut conn = ConnectionManager::new(&format!("{url}{separator}sslmode=require"))
        .connect()
        .expect("the test server accepts TLS connections");
    let DbConn::Pg(pg) = &mut conn else {
        panic!("a postgres:// URL opens PostgreSQL")
    };
    let security = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<ConnectionSecurity>(pg)
        .unwrap();
    assert!(security.ssl, "the connection is encrypted");
}

/// Bans made before a ban ended a private group's membership left their members in: the
/// migration `bans_end_private_memberships` ends those (not an expired ban's, not a public
/// group's) and counts the group's members again. Its SQL runs here on a database that holds
/// such rows, on either backend.
#[test]
fn the_migration_ends_memberships_that_older_bans_left_in_private_groups() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::db::schema::{board_bans, boards, memberships};
    use crate::model::SiteRole;
    use crate::test_support::{admin_board_thread, any_pool, member};

    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let (admin, board, _) = admin_board_thread(&mut conn, "Hello");
    let ana = member(&mut conn, "ana", SiteRole::Member);
    let bo = member(&mut conn, "bob", SiteRole::Member);
    let now = crate::clock::now();
    diesel::update(boards::table.find(board.id))
        .set((boards::visibility.eq("private"), boards::member_count.eq(2)))
        .execute(&mut conn)
        .unwrap();
    for (who, until) in [(&ana, None), (&bo, Some(now - chrono::TimeDelta::days(1)))] {
        diesel::insert_into(memberships::table)
            .values((
                memberships::board_id.eq(board.id),
                memberships::member_id.eq(who.id),
                memberships::state.eq("member"),
                memberships::message.eq(""),
                memberships::created_at.eq(now),
                memberships::joined_at.eq(Some(now)),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::insert_into(board_bans::table)
            .values((
                board_bans::board_id.eq(board.id),
                board_bans::member_id.eq(who.id),
                board_bans::until.eq(until),
                board_bans::reason.eq("before bans ended memberships"),
                board_bans::created_by.eq(admin.id),
                board_bans::created_at.eq(now - chrono::TimeDelta::days(2)),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    const MIGRATION: &str = "2026-12-01-120000_bans_end_private_memberships/up.sql";
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    match &mut *conn {
        DbConn::Sqlite(c) => {
            c.batch_execute(&std::fs::read_to_string(root.join("sqlite").join(MIGRATION)).unwrap())
        }
        DbConn::Pg(c) => c.batch_execute(
            &std::fs::read_to_string(root.join("postgres").join(MIGRATION)).unwrap(),
        ),
    }
    .unwrap();
    let left: Vec<i64> = memberships::table
        .filter(memberships::board_id.eq(board.id))
        .select(memberships::member_id)
        .load::<crate::ids::MemberId>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|id| id.0)
        .collect();
    assert_eq!(left, [bo.id.0], "only the expired ban's member stays");
    let count: i64 = boards::table
        .find(board.id)
        .select(boards::member_count)
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(count, 1);
}

/// `/readyz` asks this: false on a migrated database; true once the newest migration is
/// missing from the migrations table (a database an older version left), on both backends.
#[test]
fn pending_migrations_sees_a_database_an_older_version_left() {
    let (_database, pool) = crate::test_support::any_pool();
    let conn = &mut *pool.get().unwrap();
    assert!(!pending_migrations(conn).unwrap());
    assert!(unknown_migrations(conn).unwrap().is_empty());
    let newest: TextValue =
        diesel::sql_query("SELECT max(version) AS value FROM __diesel_schema_migrations")
            .get_result(conn)
            .unwrap();
    diesel::sql_query(format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{}'",
        newest.value
    ))
    .execute(conn)
    .unwrap();
    assert!(pending_migrations(conn).unwrap());
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .execute(conn)
        .unwrap();
    assert_eq!(unknown_migrations(conn).unwrap(), ["29991231000000"]);
}

#[test]
fn an_older_sqlite_database_has_a_migration_pending_until_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db").to_string_lossy().into_owned();
    testing::sqlite_one_version_behind(&path);
    let mut conn = DbConn::Sqlite(diesel::SqliteConnection::establish(&path).unwrap());
    assert!(pending_migrations(&mut conn).unwrap());
    assert_eq!(run_migrations(&mut conn).unwrap(), 1);
    assert!(!pending_migrations(&mut conn).unwrap());
}
