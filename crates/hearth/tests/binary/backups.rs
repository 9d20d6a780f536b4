//! `hearth backup` and `hearth restore` as an operator runs them, against a real server that
//! is taking replies meanwhile; and the server telling systemd it is ready.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::crash::{prepare, Client};
use crate::served::{Served, HEARTH};

/// `hearth ARGS…` with no database URL from the environment.
fn hearth(args: &[&str]) -> Output {
    Command::new(HEARTH)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("HEARTH_DATABASE_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_refused(output: &Output, reason: &str) {
    assert!(!output.status.success(), "{}", stdout(output));
    let said = stderr(output);
    assert!(said.starts_with("hearth: "), "{said}");
    assert!(said.contains(reason), "{said}");
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    text: String,
}

/// Replies a client posted, each with the moment its 303 arrived.
fn post_while(
    browser: &hearth_tests::Browser,
    client: &Client,
    thread_id: i64,
    label: &str,
    running: &AtomicBool,
) -> Vec<(String, Instant)> {
    let mut acknowledged = Vec::new();
    let mut n = 0;
    while running.load(Ordering::SeqCst) {
        n += 1;
        let body = format!("{label} reply {n}");
        let key = format!("{label}-key-{n:06}");
        let fields = [
            ("csrf_token", client.csrf_token.as_str()),
            ("submission_key", key.as_str()),
            ("body", body.as_str()),
        ];
        let reply = browser
            .try_post(&format!("/t/{thread_id}/reply"), &fields)
            .expect("the server answers");
        assert_eq!(reply.status, 303, "{label}: {}", reply.body);
        acknowledged.push((body, Instant::now()));
    }
    acknowledged
}

/// The test: a backup taken while replies stream in, restored into a fresh data
/// directory and served, holds every reply acknowledged before the backup started.
#[test]
fn a_backup_during_a_stream_of_replies_restores_every_acknowledged_reply() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_string_lossy().into_owned();
    let community = prepare(&data.join("hearth.db").to_string_lossy());
    let served = Served::start(
        dir.path(),
        &["--data-dir", &data_arg],
        &[("RUST_LOG", "warn")],
    );
    let backup_file = dir.path().join("offsite/backup.db");
    let backup_arg = backup_file.to_string_lossy().into_owned();
    let running = AtomicBool::new(true);
    let acknowledged = Mutex::new(Vec::new());
    let (backup_started, backup) = std::thread::scope(|scope| {
        for (n, client) in community.clients.iter().enumerate() {
            let browser = served.browser();
            browser.set_cookie("hearth_session", &client.token);
            let thread_id = community.thread_ids[n % community.thread_ids.len()];
            let (acknowledged, running) = (&acknowledged, &running);
            scope.spawn(move || {
                let label = format!("client-{n}");
                let posted = post_while(&browser, client, thread_id, &label, running);
                acknowledged.lock().unwrap().extend(posted);
            });
        }
        std::thread::sleep(Duration::from_millis(700));
        let started = Instant::now();
        let backup = hearth(&["backup", "--data-dir", &data_arg, "--to", &backup_arg]);
        // Replies go on a little after the backup, as they would on a live site.
        std::thread::sleep(Duration::from_millis(300));
        running.store(false, Ordering::SeqCst);
        (started, backup)
    });
    assert!(backup.status.success(), "{}", stderr(&backup));
    let said = stdout(&backup);
    assert!(said.starts_with("backed up "), "{said}");
    assert!(said.contains(&format!("to {backup_arg}: ")), "{said}");
    assert!(said.trim_end().ends_with("integrity check ok"), "{said}");

    let acknowledged = acknowledged.into_inner().unwrap();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, at)| *at < backup_started)
        .map(|(body, _)| body)
        .collect();
    let after = acknowledged.len() - before.len();
    eprintln!(
        "{} replies acknowledged before the backup started, {after} during and after it",
        before.len()
    );
    assert!(
        before.len() >= 20,
        "replies before the backup: {}",
        before.len()
    );
    assert!(after > 0, "replies went on during and after the backup");
    drop(served);

    let fresh = dir.path().join("fresh");
    let fresh_arg = fresh.to_string_lossy().into_owned();
    let restored = hearth(&["restore", &backup_arg, "--data-dir", &fresh_arg]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(
        stdout(&restored).starts_with(&format!("restored {backup_arg} (")),
        "{}",
        stdout(&restored)
    );
    let mut served = Served::start(
        dir.path(),
        &["--data-dir", &fresh_arg],
        &[("RUST_LOG", "warn")],
    );
    let visitor = served.browser();
    let ready = visitor.get("/readyz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "ok"));
    let mut conn =
        diesel::SqliteConnection::establish(&fresh.join("hearth.db").to_string_lossy()).unwrap();
    let stored: Vec<Row> = diesel::sql_query("SELECT source AS text FROM posts")
        .load(&mut conn)
        .unwrap();
    let stored: std::collections::HashSet<&str> = stored.iter().map(|r| r.text.as_str()).collect();
    let missing: Vec<&&String> = before
        .iter()
        .filter(|body| !stored.contains(body.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} replies acknowledged before the backup are missing, e.g. {:?}",
        missing.len(),
        before.len(),
        missing.first()
    );
    // And the server shows them: the first reply of each thread, on its page.
    for (n, thread_id) in community.thread_ids.iter().enumerate() {
        let page = visitor.visit(&format!("/t/{thread_id}"));
        assert_eq!(page.status, 200);
        let first = format!("client-{n} reply 1");
        assert!(
            page.texts(".post-body").contains(&first),
            "{first:?} on /t/{thread_id}"
        );
    }
    let log = served.output();
    assert!(
        !log.contains("client-0 reply"),
        "no member's words in the log"
    );
}

/// What an operator can get wrong: restoring under a running server, restoring a file that is
/// not a backup or is damaged, backing up over an existing file.
#[test]
fn restore_refuses_a_live_database_and_files_that_are_not_backups() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_string_lossy().into_owned();
    let served = Served::start(dir.path(), &["--data-dir", &data_arg], &[]);
    served.browser().visit("/").assert_status(200);

    // The default name, in the data directory.
    let made = hearth(&["backup", "--data-dir", &data_arg]);
    assert!(made.status.success(), "{}", stderr(&made));
    let backups: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("hearth-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let name = &backups[0];
    assert_eq!(name.len(), "hearth-20261201-172100.db".len(), "{name}");
    assert!(name.ends_with(".db"));
    let backup = data.join(name);
    let backup_arg = backup.to_string_lossy().into_owned();

    let again = hearth(&["backup", "--data-dir", &data_arg, "--to", &backup_arg]);
    assert_refused(&again, "already exists: a backup never overwrites a file");

    let database = data.join("hearth.db");
    let before = std::fs::read(&database).unwrap();
    let live = hearth(&["restore", &backup_arg, "--data-dir", &data_arg]);
    assert_refused(&live, "is in use by a running hearth serve");
    assert_refused(&live, "--force");
    assert_eq!(
        std::fs::read(&database).unwrap(),
        before,
        "nothing was touched"
    );
    assert!(!data.read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("before-restore")));

    let elsewhere = dir.path().join("elsewhere");
    let elsewhere_arg = elsewhere.to_string_lossy().into_owned();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "a grocery list, not a database\n").unwrap();
    let not_a_database = hearth(&[
        "restore",
        &text.to_string_lossy(),
        "--data-dir",
        &elsewhere_arg,
    ]);
    assert_refused(&not_a_database, "is not a SQLite database");
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    for (i, byte) in bytes.iter_mut().enumerate().skip(8192) {
        if i % 5 == 0 {
            *byte ^= 0xa5;
        }
    }
    std::fs::write(&damaged, bytes).unwrap();
    let corrupt = hearth(&[
        "restore",
        &damaged.to_string_lossy(),
        "--data-dir",
        &elsewhere_arg,
    ]);
    assert_refused(&corrupt, "is damaged: SQLite's integrity check says");
    assert!(
        !elsewhere.join("hearth.db").exists(),
        "a refused restore puts nothing in place"
    );
    drop(served);

    // With the server stopped it goes through, and keeps what it replaced.
    let restored = hearth(&["restore", &backup_arg, "--data-dir", &data_arg]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let said = stdout(&restored);
    assert!(
        said.contains("the database it replaced is kept as "),
        "{said}"
    );
    let mut kept: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("hearth.db.before-restore-"))
        .collect();
    kept.sort();
    // The killed server left a write-ahead log: it belongs to the old database, and moved with it.
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(
        kept[1].ends_with("-shm") && kept[2].ends_with("-wal"),
        "{kept:?}"
    );
    assert!(!data.join("hearth.db-wal").exists());
    let mut served = Served::start(dir.path(), &["--data-dir", &data_arg], &[]);
    served.browser().get("/readyz").assert_status(200);
    assert!(!served.output().contains("ERROR"));

    // `--force` under a running server goes through and says, in one sentence, what to do.
    let forced = hearth(&["restore", &backup_arg, "--data-dir", &data_arg, "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let warned = stderr(&forced);
    assert!(
        warned.contains("still has it open: restart it now (systemctl restart hearth)"),
        "{warned}"
    );
}

/// Under systemd (`Type=notify`) the server says READY=1 once it listens.
#[test]
fn serve_tells_systemd_it_is_ready() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let served = Served::start(
        dir.path(),
        &[],
        &[("NOTIFY_SOCKET", &socket_path.to_string_lossy())],
    );
    let mut message = [0u8; 64];
    let n = socket.recv(&mut message).unwrap();
    assert_eq!(&message[..n], b"READY=1\n");
    served.browser().get("/healthz").assert_status(200);
}

/// On PostgreSQL `hearth backup` and `hearth restore` say how to use pg_dump and pg_restore
/// with this database, its password masked, and check pg_dump's version against the server's.
#[test]
fn on_postgresql_backup_and_restore_explain_pg_dump() {
    let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
        eprintln!(
            "{} is not set: the PostgreSQL backup test did not run",
            hearth_tests::POSTGRES_VARIABLE
        );
        return;
    };
    let database = hearth_tests::TestDatabase::create_postgres(admin_url);
    let url = database.config().database_url;
    hearth_core::db::open(&database.config()).unwrap();
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password.to_owned())
        .unwrap();
    for args in [
        &["backup"][..],
        &["restore", "/nonexistent/backup.dump"][..],
    ] {
        let output = Command::new(HEARTH)
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let said = stdout(&output);
        assert!(said.contains("pg_dump --format=custom"), "{said}");
        assert!(said.contains("pg_restore --clean"), "{said}");
        assert!(said.contains(":****@"), "{said}");
        assert!(!said.contains(&password), "the password is masked: {said}");
        assert!(
            said.contains("pg_dump on PATH is version")
                || said.contains("pg_dump is not installed"),
            "{said}"
        );
    }
}

fn backups_in(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// With `[backups] daily = true` a server whose newest backup is a day old or more makes one
/// as it starts (then every day at the hour), checked, and keeps the newest `keep`; its log
/// names files and sizes. A server restarted soon after does not make another.
#[test]
fn serve_makes_the_daily_backup_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let folder = data.join("backups");
    std::fs::create_dir_all(&folder).unwrap();
    for name in [
        "hearth-20260101-030000.db",
        "hearth-20260102-030000.db",
        "hearth-20260103-030000.db",
        "keep-this-one.db",
    ] {
        std::fs::write(folder.join(name), name).unwrap();
    }
    let data_arg = data.to_string_lossy().into_owned();
    let settings = [
        ("HEARTH_BACKUPS__DAILY", "true"),
        ("HEARTH_BACKUPS__KEEP", "2"),
        ("RUST_LOG", "info"),
    ];
    let mut served = Served::start(dir.path(), &["--data-dir", &data_arg], &settings);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut output = served.output();
    while !output.contains("daily backup made") && Instant::now() < deadline {
        output = served.output();
    }
    let log = output
        .lines()
        .find(|line| line.contains("daily backup made"))
        .unwrap_or_else(|| panic!("no daily backup: {output}"))
        .to_owned();
    assert!(log.contains("file=hearth-"), "{log}");
    assert!(log.contains("bytes="), "{log}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while backups_in(&folder).len() > 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let names = backups_in(&folder);
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[0], "hearth-20260103-030000.db");
    assert!(
        names[1].starts_with("hearth-2") && names[1] != names[0],
        "{names:?}"
    );
    assert_eq!(names[2], "keep-this-one.db");
    hearth_core::maintenance::backup::verify(&folder.join(&names[1])).unwrap();
    let output = served.output();
    assert_eq!(output.matches("old backup deleted").count(), 2, "{output}");
    assert!(
        !output.contains(&dir.path().to_string_lossy().into_owned()),
        "names, not paths: {output}"
    );
    drop(served);

    let mut again = Served::start(dir.path(), &["--data-dir", &data_arg], &settings);
    again.browser().get("/healthz").assert_status(200);
    std::thread::sleep(Duration::from_millis(700));
    assert!(!again.output().contains("daily backup made"));
    assert_eq!(backups_in(&folder).len(), 3);
}

/// On PostgreSQL the daily backups do not run, and the server says so once.
#[test]
fn on_postgresql_daily_backups_are_declined_once() {
    let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
        return;
    };
    let database = hearth_tests::TestDatabase::create_postgres(admin_url);
    let url = database.config().database_url;
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(
        dir.path(),
        &[],
        &[
            ("DATABASE_URL", &url),
            ("HEARTH_BACKUPS__DAILY", "true"),
            ("RUST_LOG", "info"),
        ],
    );
    let output = served.output();
    assert_eq!(
        output.matches("daily backups are for SQLite only").count(),
        1,
        "{output}"
    );
    assert!(!dir.path().join("data/backups").exists());
}
