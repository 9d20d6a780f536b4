use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::TimeZone;
use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use super::*;
use crate::db::DbConfig;

/// A migrated SQLite database at `dir/data/hearth.db`, with a table the tests write numbers to.
fn live_database(dir: &Path) -> (PathBuf, db::Pool) {
    let path = dir.join("data/hearth.db");
    let pool = db::open(&DbConfig {
        database_url: path.to_string_lossy().into_owned(),
        pool_size: 2,
    })
    .unwrap();
    pool.get()
        .unwrap()
        .batch_execute("CREATE TABLE numbers (n INTEGER NOT NULL)")
        .unwrap();
    (path, pool)
}

fn numbers_in(path: &Path) -> Vec<i64> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    diesel::sql_query("SELECT n FROM numbers ORDER BY n")
        .load::<Number>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| row.n)
        .collect()
}

fn message(error: Error) -> String {
    error.to_string()
}

/// A backup taken while another connection commits a row at a time holds every row committed
/// before it started, no half-written one, and passes its own checks.
#[test]
fn a_backup_during_writes_holds_everything_committed_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (database, pool) = live_database(dir.path());
    let committed = AtomicI64::new(0);
    let writing = AtomicBool::new(true);
    let to = dir.path().join("copy.db");
    let (before, verified) = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut conn = pool.get().unwrap();
            let mut n = 0;
            while writing.load(Ordering::SeqCst) {
                n += 1;
                db::write_tx(&mut conn, |c| {
                    diesel::sql_query(format!("INSERT INTO numbers (n) VALUES ({n})"))
                        .execute(c)?;
                    Ok(())
                })
                .unwrap();
                committed.store(n, Ordering::SeqCst);
            }
        });
        while committed.load(Ordering::SeqCst) < 200 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let before = committed.load(Ordering::SeqCst);
        let verified = back_up(&database, &to);
        writing.store(false, Ordering::SeqCst);
        (before, verified)
    });
    let verified = verified.unwrap();
    assert_eq!(verified.path, to);
    assert_eq!(verified.bytes, std::fs::metadata(&to).unwrap().len());
    assert!(verified.migrations > 0);
    let copied = numbers_in(&to);
    let last = *copied.last().unwrap();
    assert!(last >= before, "the copy ends at {last}, before {before}");
    assert_eq!(copied, (1..=last).collect::<Vec<_>>(), "a gapless prefix");
    assert!(
        committed.load(Ordering::SeqCst) > last,
        "the writer went on during the copy"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&to).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads a backup");
    }
}

#[test]
fn a_backup_never_overwrites_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (database, _pool) = live_database(dir.path());
    let to = dir.path().join("taken.db");
    std::fs::write(&to, "keep me").unwrap();
    let error = message(back_up(&database, &to).unwrap_err());
    assert!(error.contains("already exists"), "{error}");
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "keep me");
    let missing =
        message(back_up(&dir.path().join("nothing.db"), &dir.path().join("x.db")).unwrap_err());
    assert!(missing.contains("there is no database at"), "{missing}");
    assert!(
        !dir.path().join("nothing.db").exists(),
        "no database is created"
    );
}

#[test]
fn verify_refuses_what_is_not_a_whole_hearth_database() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the pages you are looking for").unwrap();
    let said = message(verify(&text).unwrap_err());
    assert!(
        said.ends_with("is not a SQLite database (a Hearth backup is one)"),
        "{said}"
    );

    let foreign = dir.path().join("foreign.db");
    SqliteConnection::establish(&foreign.to_string_lossy())
        .unwrap()
        .batch_execute("CREATE TABLE t (x INTEGER)")
        .unwrap();
    let said = message(verify(&foreign).unwrap_err());
    assert!(
        said.contains("not Hearth's (it has no migrations table)"),
        "{said}"
    );

    let (database, pool) = live_database(dir.path());
    drop(pool);
    let good = dir.path().join("good.db");
    back_up(&database, &good).unwrap();
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&good).unwrap();
    // Past the header and the first page: the insides of the tables and indexes.
    let page = 4096;
    for (i, byte) in bytes.iter_mut().enumerate().skip(2 * page) {
        if i % 7 == 0 {
            *byte = byte.wrapping_add(0x5a);
        }
    }
    std::fs::write(&damaged, bytes).unwrap();
    let said = message(verify(&damaged).unwrap_err());
    assert!(
        said.contains("is damaged: SQLite's integrity check says"),
        "{said}"
    );

    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    SqliteConnection::establish(&newer.to_string_lossy())
        .unwrap()
        .batch_execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .unwrap();
    let said = message(verify(&newer).unwrap_err());
    assert!(
        said.contains("comes from a newer version of Hearth"),
        "{said}"
    );
    assert!(verify(&good).is_ok());
}

/// A restore keeps the database it replaces (with the write-ahead log that belongs to it),
/// and brings an older database up to this version before it is put in place.
#[test]
fn restore_migrates_the_copy_and_keeps_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let (database, pool) = live_database(dir.path());
    let old = dir.path().join("old.db");
    db::testing::sqlite_one_version_behind(&old.to_string_lossy());
    {
        let conn = &mut *pool.get().unwrap();
        diesel::sql_query("INSERT INTO numbers (n) VALUES (7)")
            .execute(conn)
            .unwrap();
    }
    // The server was killed: its pool still holds the file open, its WAL has the row.
    std::mem::forget(pool);
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 17, 30, 5).unwrap();
    let restored = restore(&old, &database, false, now).unwrap();
    assert_eq!(restored.migrations_run, 1);
    assert!(!restored.was_live);
    let kept = restored.kept.unwrap();
    assert_eq!(
        kept,
        dir.path()
            .join("data/hearth.db.before-restore-20261201-173005")
    );
    assert_eq!(
        numbers_in(&kept),
        [7],
        "the old database, whole, beside the new one"
    );
    let mut conn =
        DbConn::Sqlite(SqliteConnection::establish(&database.to_string_lossy()).unwrap());
    assert!(!db::pending_migrations(&mut conn).unwrap());
    let leftovers: Vec<String> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("restoring"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn restore_refuses_a_database_a_server_holds_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (database, pool) = live_database(dir.path());
    let backup = dir.path().join("backup.db");
    back_up(&database, &backup).unwrap();
    pool.get()
        .unwrap()
        .batch_execute("INSERT INTO numbers (n) VALUES (1)")
        .unwrap();
    let serving = DatabaseLock::for_serving(&database).unwrap();
    let second = DatabaseLock::for_serving(&database).unwrap();
    let now = Utc::now();
    let said = message(restore(&backup, &database, false, now).unwrap_err());
    assert!(
        said.contains("is in use by a running hearth serve"),
        "{said}"
    );
    assert_eq!(numbers_in(&database), [1], "nothing changed");
    drop(second);
    let forced = restore(&backup, &database, true, now).unwrap();
    assert!(forced.was_live);
    assert!(numbers_in(&database).is_empty());
    drop(serving);
    let held = DatabaseLock::try_exclusive(&database).unwrap().unwrap();
    let said = message(DatabaseLock::for_serving(&database).unwrap_err());
    assert!(said.contains("is being restored"), "{said}");
    drop(held);
    assert!(DatabaseLock::for_serving(&database).is_ok());
}

#[test]
fn prune_keeps_the_newest_backups_and_nothing_else_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "hearth-20261101-030000.db",
        "hearth-20261102-030000.db",
        "hearth-20261103-030000.db",
        "hearth-20261104-030000.db",
        "hearth-before-upgrade.db",
        "notes.txt",
    ];
    for name in names {
        std::fs::write(dir.path().join(name), name).unwrap();
    }
    let deleted = prune(dir.path(), 2).unwrap();
    assert_eq!(
        deleted,
        [
            dir.path().join("hearth-20261102-030000.db"),
            dir.path().join("hearth-20261101-030000.db")
        ]
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "hearth-20261103-030000.db",
            "hearth-20261104-030000.db",
            "hearth-before-upgrade.db",
            "notes.txt"
        ]
    );
    assert_eq!(
        default_file_name(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
        "hearth-20260102-030405.db"
    );
    assert!(is_backup_name(&default_file_name(Utc::now())));
    assert_eq!(
        newest_backup_time(dir.path()),
        Some(Utc.with_ymd_and_hms(2026, 11, 4, 3, 0, 0).unwrap())
    );
    assert!(!overdue(
        dir.path(),
        Utc.with_ymd_and_hms(2026, 11, 5, 2, 59, 0).unwrap()
    ));
    assert!(overdue(
        dir.path(),
        Utc.with_ymd_and_hms(2026, 11, 5, 3, 0, 0).unwrap()
    ));
    assert!(overdue(&dir.path().join("none yet"), Utc::now()));
}

#[test]
fn daily_backups_run_at_the_hour_of_the_servers_zone() {
    let at = |hour| DailyBackups {
        daily: true,
        keep: 7,
        hour,
    };
    let utc = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
    assert_eq!(
        at(3).next_after(utc(2026, 12, 1, 2, 59), &Utc),
        utc(2026, 12, 1, 3, 0)
    );
    assert_eq!(
        at(3).next_after(utc(2026, 12, 1, 3, 0), &Utc),
        utc(2026, 12, 2, 3, 0)
    );
    let berlin = chrono_tz::Europe::Berlin;
    // 03:00 in Berlin is 02:00 UTC in winter, 01:00 UTC in summer.
    assert_eq!(
        at(3).next_after(utc(2026, 12, 1, 12, 0), &berlin),
        utc(2026, 12, 2, 2, 0)
    );
    assert_eq!(
        at(3).next_after(utc(2026, 7, 1, 12, 0), &berlin),
        utc(2026, 7, 2, 1, 0)
    );
    // On 29 March 2026 Berlin's clocks jump from 02:00 to 03:00: 02:00 happens at 03:00.
    assert_eq!(
        at(2).next_after(utc(2026, 3, 28, 12, 0), &berlin),
        utc(2026, 3, 29, 1, 0)
    );
    assert!(at(24).check().is_err());
    assert!(DailyBackups { keep: 0, ..at(3) }.check().is_err());
    assert!(DailyBackups::default().check().is_ok());
}

#[test]
fn postgres_advice_masks_the_password_and_checks_pg_dump() {
    let url = "postgres://hearth:s3cret@db.example.org:5432/hearth?sslmode=require&password=other";
    assert_eq!(
        masked_url(url),
        "postgres://hearth:****@db.example.org:5432/hearth?sslmode=require&password=****"
    );
    assert_eq!(
        masked_url("postgres://localhost/hearth"),
        "postgres://localhost/hearth"
    );
    assert_eq!(major_version("15.18 (Debian 15.18-0+deb12u1)"), Some(15));
    assert_eq!(major_version("pg_dump (PostgreSQL) 16.2"), Some(16));
    let server = "15.18 (Debian 15.18-0+deb12u1)";
    let missing = postgres_advice(url, server, None);
    assert!(
        !missing.contains("s3cret") && !missing.contains("other"),
        "{missing}"
    );
    assert!(missing.contains("pg_dump --format=custom"), "{missing}");
    assert!(missing.contains("pg_restore --clean"), "{missing}");
    assert!(missing.contains("pg_dump is not installed"), "{missing}");
    assert!(missing.contains("postgresql-client-15"), "{missing}");
    let older = postgres_advice(url, server, Some("pg_dump (PostgreSQL) 13.4"));
    assert!(
        older.contains("version 13, older than the server (15)"),
        "{older}"
    );
    let fine = postgres_advice(url, server, Some("pg_dump (PostgreSQL) 17.1"));
    assert!(fine.contains("can dump this server"), "{fine}");
}

/// The server's version comes from the server itself.
#[test]
fn postgres_server_version_is_read_from_the_server() {
    let (_database, pool) = crate::test_support::any_pool();
    let conn = &mut *pool.get().unwrap();
    match conn {
        DbConn::Pg(_) => {
            let version = postgres_server_version(conn).unwrap();
            assert!(
                major_version(&version).is_some_and(|v| v >= 12),
                "{version}"
            );
        }
        DbConn::Sqlite(_) => assert!(postgres_server_version(conn).is_err()),
    }
}
