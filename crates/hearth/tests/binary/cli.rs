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

/// A running `hearth serve` on SQLite (its file in `data`) or, with `postgres`, on a fresh
/// PostgreSQL database; the `hearth` commands of the admin CLI run beside it with the same
/// database. `None` when PostgreSQL is asked for and `HEARTH_TEST_POSTGRES_URL` is not set.
struct Site {
    served: Served,
    data_arg: String,
    env: Vec<(String, String)>,
    pool: hearth_core::db::Pool,
    _database: Option<hearth_tests::TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Site {
    fn start(postgres: bool) -> Option<Site> {
        let database = if postgres {
            let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
                eprintln!(
                    "{} is not set: the PostgreSQL admin CLI test did not run",
                    hearth_tests::POSTGRES_VARIABLE
                );
                return None;
            };
            Some(hearth_tests::TestDatabase::create_postgres(admin_url))
        } else {
            None
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let data_arg = data.to_string_lossy().into_owned();
        let env: Vec<(String, String)> = database
            .iter()
            .map(|d| ("DATABASE_URL".to_owned(), d.config().database_url))
            .collect();
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let served = Served::start(dir.path(), &["--data-dir", &data_arg], &env_refs);
        let database_url = match &database {
            Some(d) => d.config().database_url,
            None => data.join("hearth.db").to_string_lossy().into_owned(),
        };
        let pool = hearth_core::db::open(&hearth_core::db::DbConfig {
            database_url,
            pool_size: 1,
        })
        .unwrap();
        Some(Site {
            served,
            data_arg,
            env,
            pool,
            _database: database,
            _dir: dir,
        })
    }

    /// `hearth ARGS --data-dir DATA` with this site's database, and `extra` variables.
    fn hearth(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
        let mut command = Command::new(HEARTH);
        command
            .args(args)
            .args(["--data-dir", &self.data_arg])
            .env_remove("DATABASE_URL")
            .env_remove("HEARTH_DATABASE_URL")
            .env_remove("HEARTH_PUBLIC_URL");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for (key, value) in extra {
            command.env(key, value);
        }
        command.output().unwrap()
    }

    /// An administrator made with `hearth admin create`.
    fn admin(&self, username: &str) {
        let dir = tempfile::tempdir().unwrap();
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        let file = password_file.to_string_lossy().into_owned();
        let made = self.hearth(
            &["admin", "create", username, "--password-file", &file],
            &[],
        );
        assert_succeeds_saying(&made, &format!("created administrator {username}"));
    }

    fn query<
        T: diesel::deserialize::QueryableByName<
                <hearth_core::db::DbConn as diesel::Connection>::Backend,
            > + 'static,
    >(
        &self,
        sql: &str,
    ) -> Vec<T> {
        use diesel::RunQueryDsl;
        diesel::sql_query(sql)
            .load(&mut *self.pool.get().unwrap())
            .unwrap()
    }
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_fails_saying(output: &std::process::Output, expected: &str) {
    assert!(!output.status.success(), "{}", stdout(output));
    assert!(
        stderr(output).contains(expected),
        "expected {expected:?} in: {}",
        stderr(output)
    );
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Listed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    username: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    site_role: String,
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Logged {
    #[diesel(sql_type = diesel::sql_types::Text)]
    actor: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    member: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    reason: String,
}

const LOG_SQL: &str = "SELECT a.username AS actor, l.action AS action, m.username AS member, \
     l.reason AS reason FROM moderation_log l JOIN members a ON a.id = l.actor_id \
     JOIN members m ON m.id = l.member_id ORDER BY l.id";

/// The rows of `hearth admin list`'s table (header and count line left out), split on runs of
/// two spaces or more.
fn table_rows(output: &std::process::Output) -> Vec<Vec<String>> {
    let text = stdout(output);
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "{text}");
    lines.remove(0);
    lines.pop();
    lines
        .into_iter()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// list, promote, demote, suspend, unsuspend: each through the real binary while the server
/// runs, seen in the database and through the web.
fn admin_commands_work_while_the_server_runs(postgres: bool) {
    let Some(site) = Site::start(postgres) else {
        return;
    };
    site.admin("ada");
    let ada = site.served.browser();
    ada.sign_in("ada", PASSWORD).assert_redirect();
    ada.create_board("pet-loss", "Pet loss");
    let ana = site.served.browser();
    ana.register("ana", PASSWORD).assert_redirect();
    let ben = site.served.browser();
    ben.register("ben", PASSWORD).assert_redirect();
    site.served
        .browser()
        .register("cal_m", PASSWORD)
        .assert_redirect();
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "INSERT INTO email_addresses (member_id, address, address_lower, created_at) \
             SELECT id, 'ana@example.org', 'ana@example.org', created_at FROM members \
             WHERE username = 'ana'",
        )
        .execute(&mut *site.pool.get().unwrap())
        .unwrap();
    }

    // The list is the database's members, by username, without addresses unless asked.
    let listed = site.hearth(&["admin", "list"], &[]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let in_database: Vec<Listed> = site.query(
        "SELECT username, site_role FROM members WHERE status <> 'deleted' \
         ORDER BY username_lower",
    );
    let rows = table_rows(&listed);
    let shown: Vec<(String, String)> = rows
        .iter()
        .map(|row| (row[0].clone(), row[2].clone()))
        .collect();
    let expected: Vec<(String, String)> = in_database
        .iter()
        .map(|m| (m.username.clone(), m.site_role.clone()))
        .collect();
    assert_eq!(shown, expected);
    assert_eq!(shown.len(), 4);
    assert!(
        stdout(&listed).starts_with("USERNAME"),
        "{}",
        stdout(&listed)
    );
    assert!(!stdout(&listed).contains("ana@example.org"));
    assert!(stdout(&listed).trim_end().ends_with("4 members"));
    let with_email = site.hearth(&["admin", "list", "--with-email", "--search", "AN"], &[]);
    assert!(
        stdout(&with_email).contains("ana@example.org (unverified)"),
        "{}",
        stdout(&with_email)
    );
    assert_eq!(
        table_rows(&with_email).len(),
        1,
        "only ana's name holds 'an'"
    );
    let admins = site.hearth(&["admin", "list", "--role", "admin"], &[]);
    assert_eq!(table_rows(&admins)[0][0], "ada");
    assert_eq!(table_rows(&admins).len(), 1);
    let limited = site.hearth(&["admin", "list", "--limit", "2"], &[]);
    assert_eq!(table_rows(&limited).len(), 2);
    assert!(stdout(&limited).contains("2 of 4 members shown"));

    // Promote: the moderators' queue opens for ana at once, and the log names the first admin.
    assert_ne!(ana.get("/review").status, 200);
    let promoted = site.hearth(&["admin", "promote", "ana", "moderator"], &[]);
    assert!(promoted.status.success(), "{}", stderr(&promoted));
    assert!(stdout(&promoted).contains("ana is now moderator (was member)"));
    ana.visit("/review").assert_status(200);
    assert_eq!(
        site.query::<Logged>(LOG_SQL),
        [Logged {
            actor: "ada".to_owned(),
            action: "change_site_role".to_owned(),
            member: "ana".to_owned(),
            reason: "member → moderator: an operator at the command line".to_owned(),
        }]
    );

    let log = ada.visit("/log");
    assert!(
        log.body.contains("site role") && log.body.contains("an operator at the command line"),
        "the site log shows the change: {}",
        log.body
    );

    // The last admin stays one; an unknown name is said so; nothing changes.
    let last = site.hearth(&["admin", "demote", "ada"], &[]);
    assert_fails_saying(&last, "only administrator");
    let nobody = site.hearth(&["admin", "promote", "nobody", "admin"], &[]);
    assert_fails_saying(
        &nobody,
        "there is no member called nobody; nothing was changed",
    );
    let sideways = site.hearth(&["admin", "promote", "ada", "moderator"], &[]);
    assert_fails_saying(&sideways, "hearth admin demote ada moderator");
    ada.visit("/admin").assert_status(200);

    // Demote: the queue closes again.
    let demoted = site.hearth(
        &["admin", "demote", "ana", "--reason", "stepping back"],
        &[],
    );
    assert!(demoted.status.success(), "{}", stderr(&demoted));
    assert_ne!(ana.get("/review").status, 200);
    assert_eq!(
        site.query::<Logged>(LOG_SQL)[1].reason,
        "moderator → member: stepping back (an operator at the command line)"
    );

    // Suspend: signed out, told why, and refused a new thread after signing in to read.
    let no_reason = site.hearth(&["admin", "suspend", "ben", "--days", "3"], &[]);
    assert!(!no_reason.status.success());
    let suspended = site.hearth(
        &[
            "admin",
            "suspend",
            "ben",
            "--days",
            "3",
            "--reason",
            "cooling off",
        ],
        &[],
    );
    assert!(suspended.status.success(), "{}", stderr(&suspended));
    assert_ne!(ben.get("/settings").status, 200, "ben's session ended");
    ben.sign_in("ben", PASSWORD).assert_redirect();
    let told = ben.visit("/notifications");
    assert!(told.body.contains("cooling off"), "{}", told.body);
    ben.get("/b/pet-loss/new").assert_status(403);
    let only_ben = site.hearth(&["admin", "list", "--suspended"], &[]);
    let rows = table_rows(&only_ben);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "ben");
    assert!(rows[0].last().unwrap().ends_with("UTC"), "{rows:?}");
    assert_eq!(
        site.query::<Logged>(LOG_SQL)[2],
        Logged {
            actor: "ada".to_owned(),
            action: "suspend".to_owned(),
            member: "ben".to_owned(),
            reason: "cooling off (an operator at the command line)".to_owned(),
        }
    );
    // An admin is not suspended from the command line either (as on the web).
    let admin = site.hearth(
        &[
            "admin", "suspend", "ada", "--days", "1", "--reason", "a test",
        ],
        &[],
    );
    assert_fails_saying(&admin, "nothing was changed");

    let lifted = site.hearth(&["admin", "unsuspend", "ben"], &[]);
    assert!(lifted.status.success(), "{}", stderr(&lifted));
    ben.start_thread("pet-loss", "Hello", "Is anyone here?");
    assert_eq!(
        table_rows(&site.hearth(&["admin", "list", "--suspended"], &[])).len(),
        0
    );
}

#[test]
fn admin_commands_work_while_the_server_runs_on_sqlite() {
    admin_commands_work_while_the_server_runs(false);
}

#[test]
fn admin_commands_work_while_the_server_runs_on_postgres() {
    admin_commands_work_while_the_server_runs(true);
}

/// `reset-password --generate` prints a password that signs the member in over HTTP;
/// `--link` prints a link to the page where they choose one. Sessions end either way.
fn reset_password_by_generating_or_linking(postgres: bool) {
    let Some(site) = Site::start(postgres) else {
        return;
    };
    let ana = site.served.browser();
    ana.register("ana", PASSWORD).assert_redirect();
    let phone = site.served.browser();
    phone.sign_in("ana", PASSWORD).assert_redirect();

    let generated = site.hearth(&["admin", "reset-password", "ana", "--generate"], &[]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let said = stdout(&generated);
    assert!(
        said.starts_with("set a new password for ana; 2 sessions ended"),
        "{said}"
    );
    let password = said.lines().last().unwrap().trim().to_owned();
    assert!(password.len() >= 20, "{said}");
    for browser in [&ana, &phone] {
        assert_ne!(
            browser.get("/settings").status,
            200,
            "a session outlived the reset"
        );
    }
    site.served
        .browser()
        .sign_in("ana", PASSWORD)
        .assert_status(401);
    let signed_in = site.served.browser();
    signed_in.sign_in("ana", &password).assert_redirect();

    // A link needs the public address; then it opens the page that sets a new password.
    let no_url = site.hearth(&["admin", "reset-password", "ana", "--link"], &[]);
    assert_fails_saying(&no_url, "public_url");
    let base = site.served.base_url.clone();
    let linked = site.hearth(
        &["admin", "reset-password", "ana", "--link"],
        &[("HEARTH_PUBLIC_URL", &base)],
    );
    assert!(linked.status.success(), "{}", stderr(&linked));
    let said = stdout(&linked);
    assert!(said.contains("1 session ended"), "{said}");
    let link = said.lines().last().unwrap().trim().to_owned();
    assert!(link.starts_with(&format!("{base}/forgot/email/")), "{said}");
    assert_ne!(
        signed_in.get("/settings").status,
        200,
        "the link ended the session"
    );
    let path = link.trim_start_matches(&base).to_owned();
    const CHOSEN: &str = "a heron over the winter canal";
    let browser = site.served.browser();
    let done = browser.fill(&path, &path, &[("password", CHOSEN)]);
    done.assert_status(200);
    site.served
        .browser()
        .sign_in("ana", CHOSEN)
        .assert_redirect();
    site.served
        .browser()
        .sign_in("ana", &password)
        .assert_status(401);
    assert_ne!(
        site.served.browser().get(&path).status,
        200,
        "the link works once"
    );
    assert!(!stderr(&linked).contains(&link));
}

#[test]
fn reset_password_by_generating_or_linking_on_sqlite() {
    reset_password_by_generating_or_linking(false);
}

#[test]
fn reset_password_by_generating_or_linking_on_postgres() {
    reset_password_by_generating_or_linking(true);
}

#[derive(diesel::QueryableByName)]
struct Stale {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `hearth rerender` renders old posts again and says how many, and how many changed.
fn rerender_reports_what_it_did(postgres: bool) {
    let Some(site) = Site::start(postgres) else {
        return;
    };
    site.admin("ada");
    let ada = site.served.browser();
    ada.sign_in("ada", PASSWORD).assert_redirect();
    ada.create_board("pet-loss", "Pet loss");
    let thread = ada.start_thread("pet-loss", "Milo", "**Milo** was my dog.");
    ada.reply_to(&thread.path(), "He loved the sea.")
        .assert_redirect();
    {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE posts SET render_version = 0")
            .execute(&mut *site.pool.get().unwrap())
            .unwrap();
        diesel::sql_query(
            "UPDATE posts SET html = '<p>stale</p>' WHERE id = (SELECT MIN(id) FROM posts)",
        )
        .execute(&mut *site.pool.get().unwrap())
        .unwrap();
    }
    let done = site.hearth(&["rerender"], &[]);
    assert!(done.status.success(), "{}", stderr(&done));
    let said = stdout(&done);
    assert!(
        said.starts_with("rendered again: 2 posts (1 changed), 0 bios (0 changed), 1 sets of ground rules (0 changed) in "),
        "{said}"
    );
    let stale: Vec<Stale> = site.query("SELECT COUNT(*) AS n FROM posts WHERE render_version = 0");
    assert_eq!(stale[0].n, 0);
    let page = site.served.browser().visit(&thread.path());
    assert!(page.body.contains("<strong>Milo</strong>"), "{}", page.body);
}

#[test]
fn rerender_reports_what_it_did_on_sqlite() {
    rerender_reports_what_it_did(false);
}

#[test]
fn rerender_reports_what_it_did_on_postgres() {
    rerender_reports_what_it_did(true);
}

/// `hearth reindex` rebuilds the search index from the posts while the server runs: after the
/// index is emptied nothing is found, after the rebuild every visible post is again and a
/// deleted one is not; it says how many it looked at and indexed.
fn reindex_rebuilds_the_search_index(postgres: bool) {
    let Some(site) = Site::start(postgres) else {
        return;
    };
    site.admin("ada");
    let ada = site.served.browser();
    ada.sign_in("ada", PASSWORD).assert_redirect();
    ada.create_board("pet-loss", "Pet loss");
    let thread = ada.start_thread("pet-loss", "Milo", "Milo loved marmalade.");
    ada.reply_to(&thread.path(), "And the lighthouse walk.")
        .assert_redirect();
    ada.reply_to(&thread.path(), "A pelican once stole his ball.")
        .assert_redirect();
    let newest: Vec<Stale> = site.query("SELECT MAX(id) AS n FROM posts");
    let delete = format!("/p/{}/delete", newest[0].n);
    ada.fill(&delete, &delete, &[]).assert_redirect();
    let visitor = site.served.browser();
    let hits = |words: &str| {
        visitor
            .visit(&format!("/search?q={words}"))
            .texts(".search-hit")
            .len()
    };
    assert_eq!(hits("marmalade"), 1, "indexed as it was written");
    {
        use diesel::RunQueryDsl;
        diesel::sql_query("DELETE FROM post_search")
            .execute(&mut *site.pool.get().unwrap())
            .unwrap();
    }
    assert_eq!(hits("marmalade"), 0, "the index is empty");

    let done = site.hearth(&["reindex"], &[]);
    assert!(done.status.success(), "{}", stderr(&done));
    let said = stdout(&done);
    assert!(
        said.starts_with(
            "indexed 2 of 3 posts (the others are hidden, awaiting approval or deleted) in "
        ),
        "{said}"
    );
    assert_eq!(hits("marmalade"), 1);
    assert_eq!(hits("lighthouse"), 1);
    assert_eq!(hits("pelican"), 0, "a deleted post stays out");
}

#[test]
fn reindex_rebuilds_the_search_index_on_sqlite() {
    reindex_rebuilds_the_search_index(false);
}

#[test]
fn reindex_rebuilds_the_search_index_on_postgres() {
    reindex_rebuilds_the_search_index(true);
}

/// `hearth migrate` on an empty PostgreSQL database makes the schema, says so, and changes
/// nothing the second time; a server then starts on it with nothing left to migrate.
#[test]
fn migrate_creates_the_schema_on_postgres_and_can_run_again() {
    let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
        eprintln!(
            "{} is not set: the PostgreSQL migrate test did not run",
            hearth_tests::POSTGRES_VARIABLE
        );
        return;
    };
    let database = hearth_tests::TestDatabase::create_postgres(admin_url);
    let url = database.config().database_url;
    let dir = tempfile::tempdir().unwrap();
    let pending = || {
        let mut conn = hearth_core::db::connect(&url).unwrap();
        hearth_core::db::pending_migrations(&mut conn).unwrap()
    };
    assert!(pending(), "a new database has every migration to run");
    for _ in 0..2 {
        let output = Command::new(HEARTH)
            .current_dir(dir.path())
            .arg("migrate")
            .env_remove("HEARTH_DATABASE_URL")
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert_succeeds_saying(&output, "the database is up to date");
        assert!(!pending());
    }
    assert!(!dir.path().join("data/hearth.db").exists());
    let served = Served::start(dir.path(), &[], &[("DATABASE_URL", &url)]);
    let ready = served.browser().get("/readyz");
    ready.assert_status(200);
}

/// `hearth check-config ARGS` in `dir`, with the variables `env` (and no database variable
/// of the caller's).
fn check_config(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = Command::new(HEARTH);
    command
        .current_dir(dir)
        .args(args)
        .arg("check-config")
        .env_remove("DATABASE_URL")
        .env_remove("HEARTH_DATABASE_URL")
        .env_remove(hearth_tests::POSTGRES_VARIABLE);
    // The repository's tools' variables only as the test sets them.
    for (key, _) in std::env::vars() {
        if key.starts_with("HEARTH_") {
            command.env_remove(key);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[track_caller]
fn assert_keeps_secrets(output: &std::process::Output, secrets: &[&str]) {
    let (out, err) = (stdout(output), stderr(output));
    for secret in secrets {
        assert!(!out.contains(secret), "{secret:?} on stdout:\n{out}");
        assert!(!err.contains(secret), "{secret:?} on stderr:\n{err}");
    }
}

/// Good settings: shown as TOML with the secrets masked, no problem, exit 0; on PostgreSQL the
/// database URL's password is masked too.
fn check_config_passes_good_settings(postgres: bool) {
    const SMTP_SECRET: &str = "smtp-hunter-1111";
    let database = if postgres {
        let Ok(admin_url) = std::env::var(hearth_tests::POSTGRES_VARIABLE) else {
            eprintln!(
                "{} is not set: the PostgreSQL check-config test did not run",
                hearth_tests::POSTGRES_VARIABLE
            );
            return;
        };
        Some(hearth_tests::TestDatabase::create_postgres(admin_url))
    } else {
        None
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hearth.toml");
    std::fs::write(
        &config,
        format!(
            "site_name = \"Circle\"\npublic_url = \"https://forum.example.org\"\n\
             trust_x_forwarded_for = true\n\
             [email]\nsmtp_host = \"smtp.example.org\"\nfrom_address = \"forum@example.org\"\n\
             user = \"forum\"\npassword = \"{SMTP_SECRET}\"\n"
        ),
    )
    .unwrap();
    let config_arg = config.to_string_lossy().into_owned();
    let url = database.as_ref().map(|d| d.config().database_url);
    let env: Vec<(&str, &str)> = url.iter().map(|u| ("DATABASE_URL", u.as_str())).collect();

    // Before the first start: no database yet is a note, not a problem (SQLite only).
    if !postgres {
        let fresh = check_config(dir.path(), &["--config", &config_arg], &env);
        assert!(fresh.status.success(), "{}", stderr(&fresh));
        assert!(
            stderr(&fresh).contains("note: there is no database"),
            "{}",
            stderr(&fresh)
        );
    }
    let migrated = Command::new(HEARTH)
        .current_dir(dir.path())
        .args(["--config", &config_arg, "migrate"])
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{}", stderr(&migrated));

    // The repository's own tools' variables, set in the same shell, are not settings: neither
    // unknown nor shown.
    let mut env = env;
    env.extend([
        ("HEARTH_BIN", "/tmp/hearth"),
        ("HEARTH_BROWSER_TABS", "3"),
        ("HEARTH_CHROMIUM", "/usr/bin/chromium"),
        ("HEARTH_SCREENSHOTS", "/tmp/shots"),
        ("HEARTH_XSS_CORPUS", "/tmp/corpus"),
        ("HEARTH_XSS_SETTLE_MS", "50"),
        ("HEARTH_XSS_BYPASS_CSP", "1"),
        ("HEARTH_XSS_PAYLOADS", "/tmp/payloads"),
    ]);
    let checked = check_config(dir.path(), &["--config", &config_arg], &env);
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert_eq!(stderr(&checked).trim(), "no problems found");
    let shown: toml::Table = toml::from_str(&stdout(&checked)).unwrap();
    assert_eq!(shown["site_name"].as_str(), Some("Circle"));
    assert_eq!(shown["email"]["password"].as_str(), Some("***"));
    assert_eq!(shown["email"]["user"].as_str(), Some("forum"));
    assert_eq!(shown["posting_limits"]["per_minute"].as_integer(), Some(5));
    for tool in [
        "bin",
        "browser_tabs",
        "chromium",
        "screenshots",
        "xss_corpus",
    ] {
        assert!(!shown.contains_key(tool), "{tool} shown as a setting");
    }
    let mut secrets = vec![SMTP_SECRET];
    if let Some(url) = &url {
        let password = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('@').next())
            .and_then(|user_info| user_info.split(':').nth(1))
            .unwrap();
        assert!(!password.is_empty());
        secrets.push(password);
        let shown_url = shown["database_url"].as_str().unwrap();
        assert!(shown_url.contains(":***@"), "{shown_url}");
        assert_keeps_secrets(&checked, &secrets);
    } else {
        assert_keeps_secrets(&checked, &secrets);
    }
}

#[test]
fn check_config_passes_good_settings_on_sqlite() {
    check_config_passes_good_settings(false);
}

#[test]
fn check_config_passes_good_settings_on_postgres() {
    check_config_passes_good_settings(true);
}

/// A made-up problem of each kind, each reported on its own line with what to do, exit 1,
/// and no secret anywhere in what is printed.
#[test]
fn check_config_reports_every_problem_and_no_secret() {
    const SMTP_SECRET: &str = "smtp-hunter-2222";
    const DATABASE_SECRET: &str = "db-hunter-3333";
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("a-file");
    std::fs::write(&not_a_folder, "").unwrap();
    let config = dir.path().join("hearth.toml");
    std::fs::write(
        &config,
        format!(
            "sitename = \"Typo\"\nchromium = \"/usr/bin/chromium\"\n\
             listen = \"0.0.0.0:8080\"\npublic_url = \"forum.example.org\"\n\
             trust_x_forwarded_for = true\ncrisis_phrases_file = \"/nonexistent/phrases.txt\"\n\
             data_dir = \"{}\"\n\
             [posting_limits]\nper_minut = 3\n\
             [email]\nsmtp_host = \"smtp.example.org\"\npassword = \"{SMTP_SECRET}\"\n",
            not_a_folder.join("data").display()
        ),
    )
    .unwrap();
    let config_arg = config.to_string_lossy().into_owned();
    let unreachable = format!("postgres://hearth:{DATABASE_SECRET}@127.0.0.1:1/hearth");
    let checked = check_config(
        dir.path(),
        &["--config", &config_arg],
        &[("DATABASE_URL", &unreachable)],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", stderr(&checked));
    let err = stderr(&checked);
    let problems: Vec<&str> = err.lines().filter(|l| l.starts_with("problem: ")).collect();
    for expected in [
        "cannot read crisis_phrases_file = /nonexistent/phrases.txt",
        "public_url = \"forum.example.org\" is not an http(s) address",
        "trust_x_forwarded_for is on, but Hearth listens on 0.0.0.0:8080",
        "email.from_address must be an address",
        "is not writable",
        "unknown setting `sitename`",
        // A tool's variable name in the file is no tool's: a setting Hearth does not know.
        "unknown setting `chromium`",
        "unknown setting `posting_limits.per_minut`",
        "cannot reach the database postgres://hearth:***@127.0.0.1:1/hearth",
    ] {
        assert_eq!(
            problems.iter().filter(|p| p.contains(expected)).count(),
            1,
            "{expected:?} once among:\n{err}"
        );
    }
    assert_eq!(problems.len(), 9, "{err}");
    assert!(
        err.trim_end().ends_with("hearth: 9 problems found"),
        "{err}"
    );
    assert_keeps_secrets(&checked, &[SMTP_SECRET, DATABASE_SECRET]);
    let shown: toml::Table = toml::from_str(&stdout(&checked)).unwrap();
    assert!(
        !shown.contains_key("sitename") && shown["site_name"].as_str() == Some("Hearth"),
        "an unknown setting is not shown as in effect"
    );
    assert_eq!(shown["listen"].as_str(), Some("0.0.0.0:8080"));
    assert!(
        !not_a_folder.join("data").exists() && std::fs::read(&not_a_folder).unwrap().is_empty(),
        "check-config writes nothing"
    );

    // A database with migrations waiting (an empty SQLite file), and an unreadable password
    // file: each said, with what to do.
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("hearth.db"), "").unwrap();
    let data_arg = data.to_string_lossy().into_owned();
    let waiting = check_config(
        dir.path(),
        &["--data-dir", &data_arg],
        &[("HEARTH_EMAIL__PASSWORD_FILE", "/nonexistent/smtp-password")],
    );
    assert_eq!(waiting.status.code(), Some(1));
    let err = stderr(&waiting);
    assert!(
        err.contains("has migrations waiting: run `hearth migrate`"),
        "{err}"
    );
    assert!(
        err.contains("/nonexistent/smtp-password"),
        "an unreadable *_file is named even with e-mail off: {err}"
    );
    assert!(
        err.trim_end().ends_with("hearth: 2 problems found"),
        "{err}"
    );
}
