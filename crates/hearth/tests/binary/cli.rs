//! The binary as an operator runs it: a real `hearth` process, its stdout, its database file.

use std::process::Command;

use hearth_tests::PASSWORD;

use crate::served::{Served, HEARTH};

/// `hearth admin create NAME --data-dir DIR --password-file FILE`, as an operator types it.
fn admin_create(
    username: &str,
    data_dir: &str,
    password_file: &std::path::Path,
) -> std::process::Output {
    Command::new(HEARTH)
        .args([
            "admin",
            "create",
            username,
            "--data-dir",
            data_dir,
            "--password-file",
        ])
        .arg(password_file)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

/// The command exited 0 and printed exactly `expected` (one line) on stdout.
#[track_caller]
fn assert_succeeds_saying(output: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected);
}

/// The README's promise: nothing configured, one command, a setup link, then a community.
#[test]
fn from_nothing_to_a_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(dir.path(), &[], &[]);
    assert!(
        dir.path().join("data/hearth.db").exists(),
        "serve creates ./data/hearth.db"
    );
    let link = served.wait_for(&format!("{}/setup/", served.base_url));
    let setup_path = link.trim_start_matches(&served.base_url).to_owned();

    let admin = served.browser();
    let reply = admin.fill(
        &setup_path,
        &setup_path,
        &[
            ("username", "ada"),
            ("password", PASSWORD),
            ("time_zone", "UTC"),
        ],
    );
    assert_eq!(reply.assert_redirect(), "/recovery-codes?next=/admin");
    admin.create_board("pet-loss", "Pet loss");

    let ana = served.browser();
    ana.register("ana", PASSWORD).assert_redirect();
    let body_ana = "Milo died on Tuesday and the house is so quiet.";
    let thread = ana.start_thread("pet-loss", "Losing Milo", body_ana);
    let ben = served.browser();
    ben.register("ben", PASSWORD).assert_redirect();
    let body_ben = "I am so sorry. The quiet is the hardest part.";
    ben.reply_to(&thread.path(), body_ben).assert_redirect();
    let page = served.browser().visit(&thread.path());
    assert_eq!(page.texts(".post-body"), [body_ana, body_ben]);

    // The link worked once; a restart would not print another now that an admin exists.
    served.browser().get(&setup_path).assert_status(404);

    // Nothing a member wrote, no password, no token and no address reaches the log.
    let output = served.output();
    let token = setup_path.trim_start_matches("/setup/");
    let session = ana.cookie("hearth_session").unwrap();
    let log: Vec<&str> = output
        .lines()
        .filter(|l| !l.starts_with("  http") && !l.starts_with("Hearth is running"))
        .collect();
    for secret in [
        PASSWORD,
        body_ana,
        body_ben,
        "Losing Milo",
        session.as_str(),
    ] {
        assert!(
            log.iter().all(|l| !l.contains(secret)),
            "{secret:?} appears in the log:\n{output}"
        );
    }
    // The server's own address may be logged; a client's address (another port) may not.
    let own_address = served.base_url.trim_start_matches("http://").to_owned();
    assert!(
        log.iter()
            .all(|l| !l.replace(&own_address, "").contains("127.0.0.1")),
        "a client address was logged:\n{output}"
    );
    assert_eq!(
        output.matches(token).count(),
        1,
        "the setup token is printed once, for the operator, and never logged"
    );
    assert!(
        output.contains("route=\"/t/{thread}\""),
        "requests are logged by route pattern:\n{output}"
    );
}

#[test]
fn admin_create_works_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("somewhere");
    let data_arg = data.to_string_lossy().into_owned();
    let served = Served::start(dir.path(), &["--data-dir", &data_arg], &[]);
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let output = admin_create("bob", &data_arg, &password_file);
    assert_succeeds_saying(&output, "created administrator bob");
    let bob = served.browser();
    bob.sign_in("bob", PASSWORD).assert_redirect();
    bob.visit("/admin").assert_status(200);

    // A second account of the same name is refused with a reason, and nothing changes.
    let again = admin_create("BOB", &data_arg, &password_file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already taken"));
}

#[test]
fn config_file_then_environment_override_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hearth.toml");
    std::fs::write(&config, "site_name = \"Circle\"\ndata_dir = \"./store\"\n").unwrap();
    let config_arg = config.to_string_lossy().into_owned();
    {
        let served = Served::start(dir.path(), &["--config", &config_arg], &[]);
        assert_eq!(served.browser().visit("/").texts("title"), ["Circle"]);
        assert!(dir.path().join("store/hearth.db").exists());
    }
    let served = Served::start(
        dir.path(),
        &["--config", &config_arg],
        &[("HEARTH_SITE_NAME", "Evening Circle")],
    );
    assert_eq!(
        served.browser().visit("/").texts("title"),
        ["Evening Circle"]
    );
}

#[test]
fn migrate_creates_the_schema_and_can_run_again() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = Command::new(HEARTH)
            .current_dir(dir.path())
            .arg("migrate")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert_succeeds_saying(&output, "the database is up to date");
    }
    assert!(dir.path().join("data/hearth.db").exists());
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let output = Command::new(HEARTH)
        .args(["--config", "/nonexistent/hearth.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "hearth: the config file /nonexistent/hearth.toml does not exist"
    );
}

#[test]
fn an_unreadable_crisis_phrase_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hearth.toml");
    std::fs::write(
        &config,
        "crisis_phrases_file = \"/nonexistent/phrases.txt\"\n",
    )
    .unwrap();
    let output = Command::new(HEARTH)
        .args(["--config"])
        .arg(&config)
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read the crisis phrase file /nonexistent/phrases.txt"),
        "{stderr}"
    );
}

#[test]
fn a_postgres_url_switches_to_postgresql() {
    let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
        eprintln!(
            "{} is not set: the PostgreSQL start-up test did not run",
            hearth_tests::POSTGRES_VARIABLE
        );
        return;
    };
    let database = hearth_tests::TestDatabase::create_postgres(admin_url);
    let dir = tempfile::tempdir().unwrap();
    let url = database.config().database_url;
    let mut served = Served::start(dir.path(), &[], &[("DATABASE_URL", &url)]);
    let output = served.output();
    assert!(output.contains("backend=Postgres"), "{output}");
    assert!(
        !dir.path().join("data/hearth.db").exists(),
        "no SQLite file is made when PostgreSQL is chosen"
    );
    served.browser().visit("/").assert_status(200);
}

/// `hearth serve` deletes expired sessions when it starts (and every hour after).
#[test]
fn serve_deletes_expired_sessions() {
    use diesel::prelude::*;
    use hearth_core::accounts::sessions;
    use hearth_core::db::{self, DbConfig};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database_url = data.join("hearth.db").to_string_lossy().into_owned();
    let pool = db::open(&DbConfig {
        database_url,
        pool_size: 1,
    })
    .unwrap();
    let sessions_left = |pool: &db::Pool| -> i64 {
        diesel::sql_query("SELECT COUNT(*) AS n FROM sessions")
            .get_result::<Count>(&mut *pool.get().unwrap())
            .unwrap()
            .n
    };
    let ana = hearth_tests::register_member(
        &mut pool.get().unwrap(),
        "ana",
        hearth_core::model::SiteRole::Member,
    );
    let ended =
        sessions::start(&mut pool.get().unwrap(), &ana, chrono::TimeDelta::days(30)).unwrap();
    diesel::sql_query(format!(
        "UPDATE sessions SET expires_at = '2000-01-01 00:00:00' WHERE id = {}",
        ended.session.id
    ))
    .execute(&mut *pool.get().unwrap())
    .unwrap();
    assert_eq!(sessions_left(&pool), 1);
    let data_arg = data.to_string_lossy().into_owned();
    let served = Served::start(dir.path(), &["--data-dir", &data_arg], &[]);
    served.browser().visit("/").assert_status(200);
    // The purge runs on its own thread as the server starts: wait for it, a few seconds at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sessions_left(&pool) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(sessions_left(&pool), 0);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A server other machines can reach without https says so as it starts; one on loopback, or
/// one behind an https address, does not.
#[test]
fn serving_beyond_loopback_without_https_warns_at_start() {
    const WARNING: &str = "beyond this machine, but its public_url";
    let exposed_dir = tempfile::tempdir().unwrap();
    let mut exposed = Served::start_on("0.0.0.0:0", exposed_dir.path(), &[], &[]);
    let said = exposed.output();
    assert!(said.contains(WARNING), "{said}");
    drop(exposed);

    let proxied_dir = tempfile::tempdir().unwrap();
    let mut proxied = Served::start_on(
        "0.0.0.0:0",
        proxied_dir.path(),
        &[],
        &[("HEARTH_PUBLIC_URL", "https://forum.example.org")],
    );
    assert_eq!(proxied.base_url, "https://forum.example.org");
    let said = proxied.output();
    assert!(!said.contains(WARNING), "{said}");
    drop(proxied);

    let local_dir = tempfile::tempdir().unwrap();
    let mut local = Served::start(local_dir.path(), &[], &[]);
    let said = local.output();
    assert!(!said.contains(WARNING), "{said}");
}

/// Behind a proxy Hearth was not told about, every visitor would share the proxy's address for
/// sign-in limits: the first request that carries `X-Forwarded-For` makes the server say so.
#[test]
fn a_forwarded_address_hearth_does_not_trust_is_pointed_out_once() {
    const HINT: &str = "trust_x_forwarded_for is off";
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(dir.path(), &[], &[]);
    let plain = served.browser();
    plain.sign_in("nobody", "not a password").assert_status(401);
    let said = served.output();
    assert!(!said.contains(HINT), "{said}");
    let proxied = hearth_tests::Browser::forwarded_for(&served.base_url, "203.0.113.9");
    proxied
        .sign_in("nobody", "not a password")
        .assert_status(401);
    proxied
        .sign_in("nobody", "not a password")
        .assert_status(401);
    let said = served.output();
    assert_eq!(said.matches(HINT).count(), 1, "{said}");
    assert!(
        !said.contains("203.0.113.9"),
        "no address in the log: {said}"
    );
}

/// `hearth admin reset-password NAME --password-file FILE` with the database `env` names (none:
/// the SQLite file in `data_dir`).
fn reset_password(
    username: &str,
    data_dir: &str,
    password_file: &std::path::Path,
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = Command::new(HEARTH);
    command
        .args([
            "admin",
            "reset-password",
            username,
            "--data-dir",
            data_dir,
            "--password-file",
        ])
        .arg(password_file)
        .env_remove("DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// While the server runs: the new password works, the old one does not, every session of the
/// member ended, and the command prints nothing secret.
fn reset_password_works_while_the_server_runs(env: &[(&str, &str)]) {
    const NEW_PASSWORD: &str = "a lantern by the harbour wall";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_string_lossy().into_owned();
    let served = Served::start(dir.path(), &["--data-dir", &data_arg], env);
    let ana = served.browser();
    ana.register("ana", PASSWORD).assert_redirect();
    let phone = served.browser();
    phone.sign_in("ana", PASSWORD).assert_redirect();
    phone.visit("/settings").assert_status(200);

    let password_file = dir.path().join("new-password");
    std::fs::write(&password_file, format!("{NEW_PASSWORD}\n")).unwrap();
    let output = reset_password("ana", &data_arg, &password_file, env);
    assert_succeeds_saying(&output, "set a new password for ana; 2 sessions ended");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains(NEW_PASSWORD) && !printed.contains(PASSWORD));

    for browser in [&ana, &phone] {
        let settings = browser.get("/settings");
        assert_ne!(settings.status, 200, "a session outlived the reset");
    }
    served.browser().sign_in("ana", PASSWORD).assert_status(401);
    served
        .browser()
        .sign_in("ana", NEW_PASSWORD)
        .assert_redirect();

    // An unknown name and a weak password are refused with a reason, changing nothing.
    let unknown = reset_password("nobody", &data_arg, &password_file, env);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no member called nobody"));
    std::fs::write(&password_file, "short\n").unwrap();
    let weak = reset_password("ana", &data_arg, &password_file, env);
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12 characters"));
    served
        .browser()
        .sign_in("ana", NEW_PASSWORD)
        .assert_redirect();
}

#[test]
fn reset_password_works_while_the_server_runs_on_sqlite() {
    reset_password_works_while_the_server_runs(&[]);
}

#[test]
fn reset_password_works_while_the_server_runs_on_postgres() {
    let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
        eprintln!(
            "{} is not set: the PostgreSQL reset-password test did not run",
            hearth_tests::POSTGRES_VARIABLE
        );
        return;
    };
    let database = hearth_tests::TestDatabase::create_postgres(admin_url);
    let url = database.config().database_url;
    reset_password_works_while_the_server_runs(&[("DATABASE_URL", &url)]);
}
