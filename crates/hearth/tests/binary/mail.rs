//! The mail worker of the real binary: a `hearth serve` killed with SIGKILL mid-queue loses no
//! mail (what it had claimed goes again, under the same Message-ID, once its lease runs out);
//! two nodes on one PostgreSQL database send each mail once; `hearth admin test-email` says
//! what the SMTP server answered.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::time::Duration;

use hearth_core::clock;
use hearth_core::mail::{enqueue, Mail, MailKind};
use hearth_tests::{SmtpSink, TestDatabase, POSTGRES_VARIABLE};

use crate::served::{Served, HEARTH};

fn queue_mails(database: &TestDatabase, n: usize) -> HashSet<String> {
    let pool = hearth_core::db::open(&database.config()).unwrap();
    let conn = &mut *pool.get().unwrap();
    let now = clock::now();
    for i in 0..n {
        let mail = Mail {
            member_id: None,
            to: format!("person{i}@example.org"),
            kind: MailKind::Notification,
            subject: format!("Mail {i}"),
            text: format!("Mail number {i}"),
            html: format!("<p>Mail number {i}</p>"),
            unsubscribe_url: None,
        };
        enqueue(conn, &mail, now, now).unwrap();
    }
    hearth_core::mail::outbox::queued(conn)
        .unwrap()
        .into_iter()
        .map(|row| row.message_token)
        .collect()
}

fn outbox(database: &TestDatabase) -> Vec<hearth_core::mail::outbox::Queued> {
    let pool = hearth_core::db::open(&database.config()).unwrap();
    let conn = &mut *pool.get().unwrap();
    hearth_core::mail::outbox::queued(conn).unwrap()
}

/// The left part of each received message's Message-ID, with how often it came.
fn tokens_received(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for message in sink.messages() {
        let id = message.message_id().expect("a Message-ID");
        let (token, host) = id.split_once('@').expect("token@host");
        assert_eq!(host, "127.0.0.1", "the host of public_url");
        *seen.entry(token.to_owned()).or_insert(0) += 1;
    }
    seen
}

fn env_for<'a>(
    database_url: &'a str,
    sink_env: &'a [(String, String)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut env: Vec<(&str, &str)> = vec![("DATABASE_URL", database_url), ("RUST_LOG", "info")];
    env.extend(sink_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    env.extend_from_slice(extra);
    env
}

#[test]
fn a_server_killed_mid_queue_loses_no_mail() {
    const MAILS: usize = 12;
    let database = TestDatabase::create();
    let tokens = queue_mails(&database, MAILS);
    let sink = SmtpSink::start();
    // Each message is recorded, then answered after 300 ms: the kill lands while a mail the
    // sink already has is still claimed and unmarked.
    sink.answer_slowly(Duration::from_millis(300));
    let url = database.config().database_url;
    let sink_env = sink.environment();
    let env = env_for(&url, &sink_env, &[("HEARTH_EMAIL__CLAIM_SECONDS", "5")]);
    let dir = tempfile::tempdir().unwrap();
    let mut first = Served::start(dir.path(), &[], &env);
    sink.wait_for(3, Duration::from_secs(30));
    first.kill();
    let rows = outbox(&database);
    let sent_before = rows.iter().filter(|r| r.sent_at.is_some()).count();
    let held = rows
        .iter()
        .filter(|r| r.sent_at.is_none() && r.claimed_until.is_some())
        .count();
    assert!(sent_before < MAILS, "killed before the queue was empty");
    assert!(held > 0, "killed while mail was claimed: {rows:?}");

    sink.answer_slowly(Duration::ZERO);
    let _second = Served::start(dir.path(), &[], &env);
    sink.wait_for(MAILS, Duration::from_secs(60));
    // Every row is marked sent in the end.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while outbox(&database).iter().any(|r| r.sent_at.is_none()) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            outbox(&database)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let received = tokens_received(&sink);
    let received_tokens: HashSet<String> = received.keys().cloned().collect();
    assert_eq!(
        received_tokens, tokens,
        "every mail arrived, under its own Message-ID"
    );
    // At least once: a mail the killed process sent without marking came again, with the same
    // Message-ID, and nothing else came twice.
    let twice = received.values().filter(|&&n| n > 1).count();
    assert!(twice <= held, "{received:?}");
    assert!(received.values().all(|&n| n <= 2), "{received:?}");
}

#[test]
fn two_postgres_nodes_send_each_mail_once() {
    const MAILS: usize = 40;
    let Ok(admin_url) = std::env::var(POSTGRES_VARIABLE) else {
        eprintln!("{POSTGRES_VARIABLE} is not set: the two-node mail test did not run");
        return;
    };
    let database = TestDatabase::create_postgres(admin_url);
    let url = database.config().database_url;
    let sink = SmtpSink::start();
    let sink_env = sink.environment();
    let env = env_for(&url, &sink_env, &[]);
    let dir = tempfile::tempdir().unwrap();
    let a = Served::start(dir.path(), &[], &env);
    let b = Served::start(dir.path(), &[], &env);
    // Queued while both workers are polling.
    let tokens = queue_mails(&database, MAILS);
    sink.wait_for(MAILS, Duration::from_secs(60));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while outbox(&database).iter().any(|r| r.sent_at.is_none()) {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    }
    let messages = sink.assert_no_more_than(MAILS, Duration::from_secs(3));
    assert_eq!(messages.len(), MAILS);
    let received = tokens_received(&sink);
    assert!(received.values().all(|&n| n == 1), "{received:?}");
    assert_eq!(received.keys().cloned().collect::<HashSet<_>>(), tokens);
    drop((a, b));
}

fn test_email(env: &[(String, String)], address: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(HEARTH)
        .current_dir(dir.path())
        .args(["admin", "test-email", address])
        .env_remove("DATABASE_URL")
        .env_remove("HEARTH_EMAIL__SMTP_HOST")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap()
}

#[test]
fn test_email_sends_at_once_and_says_what_the_server_answered() {
    let sink = SmtpSink::start();
    let output = test_email(&sink.environment(), "operator@example.org");
    assert!(output.status.success(), "{output:?}");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("accepted the test mail to operator@example.org"),
        "{said}"
    );
    let got = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].recipient(), "operator@example.org");
    assert!(got[0].is_text_and_html_alternative());
    assert!(got[0].subject().starts_with("A test mail from Hearth"));

    // Refused: the server's answer in plain words, and a failing exit.
    sink.refuse_next(1);
    let output = test_email(&sink.environment(), "operator@example.org");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("refused it for now"), "{said}");
    assert!(said.contains("try again later"), "{said}");
    assert_eq!(sink.messages().len(), 1);

    // Nothing listening.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut env = sink.environment();
    for (key, value) in &mut env {
        if key == "HEARTH_EMAIL__SMTP_PORT" {
            *value = port.to_string();
        }
    }
    let output = test_email(&env, "operator@example.org");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("could not be reached"), "{said}");

    // E-mail off.
    let output = test_email(&[], "operator@example.org");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("e-mail is off"), "{said}");
}
