//! The outbox's worker sends queued mail to a real SMTP server: multipart text and HTML with
//! Message-ID, Date and, for mail a member may stop, RFC 8058's unsubscribe headers; it tries
//! again after the server refuses.

use std::time::Duration;

use hearth_core::clock;
use hearth_core::mail::{enqueue, Mail, MailKind};
use hearth_tests::{test_config, SmtpSink, TestApp};

fn queue(app: &TestApp, to: &str, subject: &str, unsubscribe_url: Option<&str>) {
    let now = clock::now();
    let mail = Mail {
        member_id: None,
        to: to.to_owned(),
        kind: MailKind::Notification,
        subject: subject.to_owned(),
        text: format!("{subject}, in words\n"),
        html: format!("<p>{subject}, in <em>HTML</em></p>"),
        unsubscribe_url: unsubscribe_url.map(str::to_owned),
    };
    enqueue(&mut app.conn(), &mail, now, now).unwrap();
}

#[test]
fn queued_mail_arrives_with_its_headers_and_both_bodies() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let unsubscribe = format!("{}/unsubscribe/some-token", app.base_url);
    queue(
        &app,
        "ana@example.org",
        "A reply for Ana",
        Some(&unsubscribe),
    );
    queue(&app, "ben@example.org", "A reply for Ben", None);
    let mut got = sink.wait_for(2, Duration::from_secs(20));
    got.sort_by_key(|m| m.recipient().to_owned());

    let ana = &got[0];
    assert_eq!(ana.recipient(), "ana@example.org");
    assert_eq!(ana.envelope_from, "hearth@example.org");
    assert_eq!(ana.subject(), "A reply for Ana");
    assert!(ana.is_text_and_html_alternative());
    assert_eq!(ana.text().trim_end(), "A reply for Ana, in words");
    assert_eq!(
        ana.html().trim_end(),
        "<p>A reply for Ana, in <em>HTML</em></p>"
    );
    let parsed = ana.parsed();
    assert!(parsed.date().is_some(), "a Date header");
    let from = parsed.from().and_then(|f| f.first()).unwrap();
    assert_eq!(from.address(), Some("hearth@example.org"));
    assert_eq!(from.name(), Some("Hearth"));
    let to = parsed.to().and_then(|t| t.first()).unwrap();
    assert_eq!(to.address(), Some("ana@example.org"));
    // `<token@host of public_url>`; the token is the row's.
    let token = app
        .outbox()
        .into_iter()
        .find(|row| row.to == "ana@example.org")
        .unwrap()
        .message_token;
    assert_eq!(ana.message_id(), Some(format!("{token}@127.0.0.1")));
    assert_eq!(
        ana.header("List-Unsubscribe"),
        Some(format!("<{unsubscribe}>"))
    );
    assert_eq!(
        ana.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    let ben = &got[1];
    assert_eq!(ben.recipient(), "ben@example.org");
    assert!(ben.is_text_and_html_alternative());
    assert_eq!(ben.header("List-Unsubscribe"), None);
    assert_eq!(ben.header("List-Unsubscribe-Post"), None);
    assert_ne!(ben.message_id(), ana.message_id());

    // Both are marked sent, and nothing is sent twice.
    app.wait_until_all_mail_sent(Duration::from_secs(10));
    sink.assert_no_more_than(2, Duration::from_secs(2));
    let rows = app.outbox();
    assert!(rows
        .iter()
        .all(|row| row.sent_at.is_some() && row.attempts == 1));
}

#[test]
fn a_mail_the_server_refused_is_sent_again_after_its_wait() {
    let sink = SmtpSink::start();
    let mut config = test_config();
    config.email = sink.email_settings();
    config.email.retry_seconds = vec![2, 2];
    sink.refuse_next(1);
    let app = TestApp::with_config(config);
    queue(&app, "ana@example.org", "Try again", None);
    let got = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(sink.refused(), 1, "the first attempt was refused");
    assert_eq!(got[0].subject(), "Try again");
    app.wait_until_all_mail_sent(Duration::from_secs(10));
    let row = &app.outbox()[0];
    assert_eq!(row.attempts, 2);
    assert!(row.sent_at.is_some());
    sink.assert_no_more_than(1, Duration::from_secs(3));
}

#[test]
fn without_an_smtp_host_nothing_is_sent_and_mail_waits() {
    let sink = SmtpSink::start();
    let app = TestApp::new();
    queue(&app, "ana@example.org", "Nobody sends me", None);
    sink.assert_no_more_than(0, Duration::from_secs(2));
    let rows = app.outbox();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].attempts, rows[0].sent_at), (0, None));
}
