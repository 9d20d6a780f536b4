//! A forgotten password reset by mail (/forgot/email): the same answer whatever was typed, a
//! link that works once, a new password that ends every session, limits per network.

use std::time::Duration;

use hearth_core::model::SiteRole;
use hearth_tests::{test_config, Browser, SmtpSink, TestApp, PASSWORD};

const WAIT: Duration = Duration::from_secs(20);
const NEW_PASSWORD: &str = "harbour lantern violet thistle";

fn ask(app: &TestApp, who: &str) -> hearth_tests::Reply {
    app.browser()
        .fill("/forgot/email", "/forgot/email", &[("who", who)])
}

/// The page's words and form fields, without the per-browser CSRF token.
fn answer_of(reply: &hearth_tests::Reply) -> (u16, Vec<String>, Vec<String>) {
    (
        reply.status,
        reply.texts("main"),
        reply.attrs("main input:not([name=csrf_token])", "name"),
    )
}

fn reset_path(app: &TestApp, sink: &SmtpSink, address: &str, n: usize) -> String {
    let mail = sink.wait_for_to(address, n, WAIT).pop().unwrap();
    assert!(mail.subject().starts_with("Choose a new password"));
    assert!(mail.is_text_and_html_alternative());
    mail.link_containing("/forgot/email/")
        .expect("a reset link")
        .trim_start_matches(&app.base_url)
        .to_owned()
}

#[test]
fn every_request_gets_the_same_answer_whether_or_not_an_account_matches() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let ana = app.signed_in("ana", SiteRole::Member);
    app.verify_address(&ana, &sink, "ana@example.org");
    app.member("ben", SiteRole::Member); // no address at all

    let answers: Vec<_> = [
        "ana",
        "ANA@example.org",
        "nobody@example.org",
        "nobody",
        "ben",
    ]
    .iter()
    .map(|who| answer_of(&ask(&app, who)))
    .collect();
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, 200);
    assert!(answers[0]
        .1
        .join(" ")
        .contains("If that matches an account"));
    // Only the two requests that named ana sent anything, and only to her verified address.
    app.wait_until_all_mail_sent(WAIT);
    let messages = sink.assert_no_more_than(3, Duration::from_secs(1));
    assert_eq!(messages.len(), 3, "ana's verification and two resets");
    assert_eq!(sink.messages_to("ana@example.org").len(), 3);
}

#[test]
fn a_reset_link_sets_the_password_once_and_ends_every_session() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let ana = app.signed_in("ana", SiteRole::Member);
    app.verify_address(&ana, &sink, "ana@example.org");
    let other_device = app.browser();
    other_device.sign_in("ana", PASSWORD).assert_redirect();
    other_device.visit("/settings").assert_status(200);

    ask(&app, "ana").assert_status(200);
    let first = reset_path(&app, &sink, "ana@example.org", 2);
    // A newer link replaces the older one.
    ask(&app, "ana@example.org").assert_status(200);
    let path = reset_path(&app, &sink, "ana@example.org", 3);
    assert_ne!(first, path);
    app.browser().get(&first).assert_status(404);

    let stranger = Browser::new(&app.base_url);
    let page = stranger.visit(&path);
    page.assert_status(200);
    assert_eq!(page.attrs("#username", "value"), ["ana"]);
    // A weak password is refused with the reason; the link still works.
    let weak = stranger.submit(&page, &path, &[("password", "password1234")]);
    weak.assert_status(422);
    assert_eq!(weak.count("#password-error"), 1);
    let done = stranger.submit(&page, &path, &[("password", NEW_PASSWORD)]);
    done.assert_status(200);
    assert!(done
        .texts("main")
        .join(" ")
        .contains("signed out everywhere"));

    // Every session ended, the old password is gone, the new one works.
    ana.get("/settings").assert_status(401);
    other_device.get("/settings").assert_status(401);
    app.browser().sign_in("ana", PASSWORD).assert_status(401);
    app.browser().sign_in("ana", NEW_PASSWORD).assert_redirect();

    // The link works once.
    stranger.get(&path).assert_status(404);
    stranger
        .submit(
            &page,
            &path,
            &[("password", "another quite long phrase here")],
        )
        .assert_status(404);
    app.browser().sign_in("ana", NEW_PASSWORD).assert_redirect();
}

#[test]
fn reset_requests_are_limited_per_network_and_per_account() {
    let sink = SmtpSink::start();
    let mut config = test_config();
    config.email = sink.email_settings();
    config.email.reset_requests_per_hour = 2;
    let app = TestApp::with_config(config);
    ask(&app, "one@example.org").assert_status(200);
    ask(&app, "two@example.org").assert_status(200);
    let refused = ask(&app, "three@example.org");
    refused.assert_status(429);
    assert!(refused.body.contains("password-reset mails"));
}
