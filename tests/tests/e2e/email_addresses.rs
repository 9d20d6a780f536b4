//! A member's e-mail address on /settings/email: verified by a link that works once, nothing
//! else mailed before that, limits on verification mail, an address verified by someone else
//! refused without saying whose, and every page saying so when the community sends no e-mail.

use std::time::Duration;

use hearth_core::model::SiteRole;
use hearth_tests::{test_config, SmtpSink, TestApp, PASSWORD};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn an_address_is_verified_by_its_link_once_and_gets_nothing_else_before() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let ana = app.signed_in("ana", SiteRole::Member);

    let page = ana.visit("/settings/email");
    page.assert_status(200);
    assert_eq!(page.texts("h1"), ["Your e-mail address"]);
    ana.submit(
        &page,
        "/settings/email",
        &[("address", " Ana@Example.org "), ("password", PASSWORD)],
    )
    .assert_redirect();
    let page = ana.visit("/settings/email");
    assert_eq!(
        page.texts(".email-current .email-address"),
        ["Ana@Example.org"]
    );
    assert_eq!(page.texts(".email-status"), ["Waiting for you to confirm"]);

    let mail = sink.wait_for_to("Ana@Example.org", 1, WAIT).remove(0);
    assert!(mail.subject().starts_with("Confirm your e-mail address"));
    assert!(mail.is_text_and_html_alternative());
    assert!(mail.message_id().is_some());
    let link = mail.link_containing("/email/verify/").expect("a link");
    assert!(
        mail.html().contains(&link),
        "the HTML part has the link too"
    );
    let path = link.trim_start_matches(&app.base_url).to_owned();

    // Unverified, the address gets nothing else: a password reset for ana sends nothing.
    let reset = app
        .browser()
        .fill("/forgot/email", "/forgot/email", &[("who", "ana")]);
    reset.assert_status(200);
    let reset = app.browser().fill(
        "/forgot/email",
        "/forgot/email",
        &[("who", "ana@example.org")],
    );
    reset.assert_status(200);
    app.wait_until_all_mail_sent(WAIT);
    sink.assert_no_more_than(1, Duration::from_secs(2));

    // Opening the link changes nothing until the button is pressed; it works without
    // signing in, once.
    let stranger = app.browser();
    let page = stranger.visit(&path);
    page.assert_status(200);
    assert_eq!(page.texts("main .email-address"), ["Ana@Example.org"]);
    assert_eq!(
        ana.visit("/settings/email").texts(".email-status"),
        ["Waiting for you to confirm"]
    );
    let done = stranger.submit(&page, &path, &[]);
    done.assert_status(200);
    assert!(done.texts("main").join(" ").contains("is confirmed"));
    assert_eq!(
        ana.visit("/settings/email").texts(".email-status"),
        ["Verified"]
    );
    stranger.submit(&page, &path, &[]).assert_status(404);
    stranger.get(&path).assert_status(404);

    // Verified, it gets the mail it asks for.
    app.browser()
        .fill("/forgot/email", "/forgot/email", &[("who", "ana")])
        .assert_status(200);
    let mails = sink.wait_for_to("Ana@Example.org", 2, WAIT);
    assert!(mails[1].subject().starts_with("Choose a new password"));
}

#[test]
fn a_changed_or_removed_address_loses_its_link() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.fill(
        "/settings/email",
        "/settings/email",
        &[("address", "old@example.org"), ("password", PASSWORD)],
    )
    .assert_redirect();
    let old = sink.wait_for_to("old@example.org", 1, WAIT).remove(0);
    let old_path = old
        .link_containing("/email/verify/")
        .unwrap()
        .trim_start_matches(&app.base_url)
        .to_owned();
    ana.fill(
        "/settings/email",
        "/settings/email",
        &[("address", "new@example.org"), ("password", PASSWORD)],
    )
    .assert_redirect();
    sink.wait_for_to("new@example.org", 1, WAIT);
    // The first link no longer works: a newer one replaced it.
    ana.get(&old_path).assert_status(404);
    assert_eq!(
        ana.visit("/settings/email")
            .texts(".email-current .email-address"),
        ["new@example.org"]
    );
    let page = ana.visit("/settings/email");
    ana.submit(
        &page,
        "/settings/email/remove",
        &[("remove_password", PASSWORD)],
    )
    .assert_redirect();
    let page = ana.visit("/settings/email");
    assert_eq!(page.count(".email-current"), 0);
    let new = sink.messages_to("new@example.org").remove(0);
    let new_path = new
        .link_containing("/email/verify/")
        .unwrap()
        .trim_start_matches(&app.base_url)
        .to_owned();
    ana.get(&new_path).assert_status(404);
}

#[test]
fn an_address_another_member_verified_gets_the_same_answer_and_no_mail() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let ben = app.signed_in("ben", SiteRole::Member);
    app.verify_address(&ben, &sink, "shared@example.org");
    let ana = app.signed_in("ana", SiteRole::Member);
    // Held by ben or by nobody, ana sees the same: a redirect, the same words, the address
    // waiting for her to confirm it.
    let mut seen = Vec::new();
    for address in ["SHARED@example.org", "nobody@example.org"] {
        let answer = ana.fill(
            "/settings/email",
            "/settings/email",
            &[("address", address), ("password", PASSWORD)],
        );
        answer.assert_redirect();
        let page = ana.visit("/settings/email?asked=1");
        let words = page.texts("main").join(" ");
        assert!(!words.contains("ben"), "{words}");
        assert!(!words.contains("cannot be used"), "{words}");
        seen.push((
            page.texts("#email-asked"),
            page.texts(".email-status"),
            page.texts(".email-current .email-address"),
        ));
    }
    assert_eq!(seen[0].0, ["If this address can be used, we sent a link to it. Open it to confirm the address; until then it gets nothing else from us."]);
    assert_eq!(seen[0].0, seen[1].0);
    assert_eq!(seen[0].1, seen[1].1);
    assert_eq!(seen[0].2, ["SHARED@example.org"]);
    app.wait_until_all_mail_sent(WAIT);
    assert_eq!(
        sink.messages_to("shared@example.org").len(),
        1,
        "only ben's link"
    );
    sink.wait_for_to("nobody@example.org", 1, WAIT);

    // An address someone only claimed is not theirs: the one who verifies it has it.
    let cara = app.signed_in("cara", SiteRole::Member);
    cara.fill(
        "/settings/email",
        "/settings/email",
        &[("address", "claimed@example.org"), ("password", PASSWORD)],
    )
    .assert_redirect();
    app.verify_address(&ana, &sink, "claimed@example.org");
    assert_eq!(cara.visit("/settings/email").count(".email-current"), 0);
}

#[test]
fn verification_mail_is_limited_per_member_and_per_address() {
    let sink = SmtpSink::start();
    let mut config = test_config();
    config.email = sink.email_settings();
    config.email.verification_mails_per_hour = 2;
    let app = TestApp::with_config(config);
    let ana = app.signed_in("ana", SiteRole::Member);
    for n in 0..2 {
        ana.fill(
            "/settings/email",
            "/settings/email",
            &[
                ("address", &format!("ana{n}@example.org")),
                ("password", PASSWORD),
            ],
        )
        .assert_redirect();
    }
    let refused = ana.fill(
        "/settings/email",
        "/settings/email",
        &[("address", "ana9@example.org"), ("password", PASSWORD)],
    );
    refused.assert_status(429);
    assert!(refused
        .body
        .contains("most 2 verification mails can be sent in an hour"));

    // Another member cannot flood one address either.
    for name in ["ben", "cara"] {
        let browser = app.signed_in(name, SiteRole::Member);
        browser
            .fill(
                "/settings/email",
                "/settings/email",
                &[("address", "target@example.org"), ("password", PASSWORD)],
            )
            .assert_redirect();
    }
    let dan = app.signed_in("dan", SiteRole::Member);
    dan.fill(
        "/settings/email",
        "/settings/email",
        &[("address", "target@example.org"), ("password", PASSWORD)],
    )
    .assert_status(429);
    app.wait_until_all_mail_sent(WAIT);
    let messages = sink.assert_no_more_than(4, Duration::from_secs(1));
    assert_eq!(messages.len(), 4);
    assert_eq!(sink.messages_to("target@example.org").len(), 2);
}

#[test]
fn without_email_every_email_page_says_so_and_the_rest_works() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let off = "This community does not send e-mail";
    let page = ana.visit("/settings/email");
    page.assert_status(200);
    assert!(page.texts("#email-off")[0].starts_with(off));
    assert_eq!(page.count("form[action=\"/settings/email\"]"), 0);
    let settings = ana.visit("/settings");
    assert!(settings.texts("main").join(" ").contains(off));
    let forgot = app.browser().visit("/forgot/email");
    forgot.assert_status(200);
    assert!(forgot.texts("#email-off")[0].starts_with(off));
    // A form sent anyway is told the same.
    let sent = ana.post(
        "/settings/email",
        &[
            ("address", "ana@example.org"),
            (
                "csrf_token",
                &page
                    .attrs("input[name=csrf_token]", "value")
                    .first()
                    .cloned()
                    .unwrap_or_default(),
            ),
        ],
    );
    sent.assert_status(422);
    assert!(sent.body.contains(off));
    assert!(app.outbox().is_empty());
    // Everything else works.
    ana.visit("/settings").assert_status(200);
    app.browser().visit("/signin").assert_status(200);
}

#[test]
fn a_signed_in_session_without_the_password_cannot_move_the_accounts_mail() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let ana = app.signed_in("ana", SiteRole::Member);
    app.verify_address(&ana, &sink, "ana@example.org");

    // Someone at ana's signed-in device, without her password.
    for password in ["", "a wrong guess"] {
        let refused = ana.fill(
            "/settings/email",
            "/settings/email",
            &[("address", "thief@example.org"), ("password", password)],
        );
        refused.assert_status(422);
        assert!(refused
            .texts("#password-error")
            .join(" ")
            .contains("not your password"));
        assert_eq!(refused.attrs("#address", "value"), ["thief@example.org"]);
        assert_eq!(refused.attrs("#password", "value"), Vec::<String>::new());
    }
    let refused = ana.fill(
        "/settings/email",
        "/settings/email/remove",
        &[("remove_password", "a wrong guess")],
    );
    refused.assert_status(422);
    assert!(refused
        .texts("#remove_password-error")
        .join(" ")
        .contains("not your password"));
    app.wait_until_all_mail_sent(WAIT);
    assert!(sink.messages_to("thief@example.org").is_empty());

    // With it, the change waits for the new address; the old one is told and keeps the mail.
    ana.fill(
        "/settings/email",
        "/settings/email",
        &[("address", "ana.new@example.org"), ("password", PASSWORD)],
    )
    .assert_redirect();
    let notice = sink.wait_for_to("ana@example.org", 2, WAIT).pop().unwrap();
    assert!(
        notice.subject().contains("is being changed"),
        "{}",
        notice.subject()
    );
    assert!(notice.text().contains("change your password"));
    let page = ana.visit("/settings/email");
    assert_eq!(
        page.texts(".email-address"),
        ["ana@example.org", "ana.new@example.org"]
    );
    app.browser()
        .fill("/forgot/email", "/forgot/email", &[("who", "ana")])
        .assert_status(200);
    let reset = sink.wait_for_to("ana@example.org", 3, WAIT).pop().unwrap();
    assert!(reset.subject().starts_with("Choose a new password"));
    assert!(sink
        .messages_to("ana.new@example.org")
        .iter()
        .all(|m| !m.subject().starts_with("Choose a new password")));

    // Once the new one is verified, the old reset link stops working and mail goes there.
    let reset_path = reset
        .link_containing("/forgot/email/")
        .unwrap()
        .trim_start_matches(&app.base_url)
        .to_owned();
    let verify_path = sink
        .wait_for_to("ana.new@example.org", 1, WAIT)
        .remove(0)
        .link_containing("/email/verify/")
        .unwrap()
        .trim_start_matches(&app.base_url)
        .to_owned();
    let stranger = app.browser();
    let page = stranger.visit(&verify_path);
    stranger.submit(&page, &verify_path, &[]).assert_status(200);
    app.browser().get(&reset_path).assert_status(404);
    assert_eq!(
        ana.visit("/settings/email").texts(".email-address"),
        ["ana.new@example.org"]
    );
}
