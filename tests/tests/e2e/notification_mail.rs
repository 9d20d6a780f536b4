//! Notifications by e-mail over real HTTP: the settings section keeps what was typed when it is
//! refused; a reply reaches a real SMTP server as the batched mail once the scheduler runs; and
//! the mail's one-click unsubscribe works without signing in, for that member only.

use std::time::Duration;

use diesel::prelude::*;
use hearth_core::clock;
use hearth_core::ids::MemberId;
use hearth_core::model::SiteRole;
use hearth_core::notifications::email::{mail_preferences, EmailMode};
use hearth_core::notifications::mailing::{self, MailLimits, MailSchedule};
use hearth_core::notifications::unsubscribe;
use hearth_tests::{SmtpSink, TestApp};

/// A verified address, written as the verification link would leave it (the test's own
/// constants in the SQL: no member input).
fn verify_address(app: &TestApp, member: MemberId, address: &str) {
    assert!(address
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"@.-".contains(&b)));
    diesel::sql_query(format!(
        "INSERT INTO email_addresses (member_id, address, address_lower, verified_at, created_at) \
         VALUES ({member}, '{address}', '{address}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    ))
    .execute(&mut *app.conn())
    .unwrap();
}

fn mode_of(app: &TestApp, member: MemberId) -> EmailMode {
    mail_preferences(&mut app.conn(), member).unwrap().mode
}

const AS_IT_HAPPENS: [(&str, &str); 5] = [
    ("email_mode", "now"),
    ("digest_hour", "7"),
    ("digest_weekday", "0"),
    ("quiet_from", ""),
    ("quiet_to", ""),
];

#[test]
fn the_settings_section_saves_the_choice_and_keeps_what_was_typed_when_refused() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let id = hearth_core::accounts::members::by_username(&mut app.conn(), "ana")
        .unwrap()
        .id;
    let page = ana.visit("/settings");
    assert_eq!(
        page.attrs("input[name=email_mode][checked]", "value"),
        ["never"],
        "never by default"
    );
    // Quiet hours with a start and no end: refused, with the typed time kept.
    let refused = ana.submit(
        &page,
        "/settings/mail",
        &[
            ("email_mode", "daily"),
            ("digest_hour", "18"),
            ("digest_weekday", "2"),
            ("quiet_from", "22:30"),
            ("quiet_to", ""),
        ],
    );
    refused.assert_status(422);
    assert_eq!(refused.attrs("#quiet_from", "value"), ["22:30"]);
    assert_eq!(
        refused.attrs("input[name=email_mode][checked]", "value"),
        ["daily"]
    );
    assert_eq!(refused.texts("#quiet_to-error").len(), 1);
    assert_eq!(mode_of(&app, id), EmailMode::Never);

    let saved = ana.submit(
        &page,
        "/settings/mail",
        &[
            ("email_mode", "daily"),
            ("digest_hour", "18"),
            ("digest_weekday", "2"),
            ("quiet_from", "22:30"),
            ("quiet_to", "07:00"),
            ("private_words", "on"),
        ],
    );
    assert_eq!(saved.assert_redirect(), "/settings#mail");
    let page = ana.visit("/settings");
    assert_eq!(
        page.attrs("input[name=email_mode][checked]", "value"),
        ["daily"]
    );
    assert_eq!(page.attrs("#digest_hour option[selected]", "value"), ["18"]);
    assert_eq!(
        page.attrs("#digest_weekday option[selected]", "value"),
        ["2"]
    );
    assert_eq!(page.attrs("#quiet_to", "value"), ["07:00"]);
    assert_eq!(page.count("#private_words[checked]"), 1);
    let prefs = mail_preferences(&mut app.conn(), id).unwrap();
    assert_eq!(prefs.mode, EmailMode::Daily);
    assert!(prefs.private_words);

    // Without the form's token the section is refused like every other form.
    let stranger = app.browser();
    let forged = stranger.post("/settings/mail", &AS_IT_HAPPENS);
    assert_ne!(forged.status, 303);
    let forged = ana.post("/settings/mail", &AS_IT_HAPPENS);
    forged.assert_status(403);
    assert_eq!(mode_of(&app, id), EmailMode::Daily);
}

#[test]
fn the_unsubscribe_link_works_without_signing_in_for_its_member_only() {
    let app = TestApp::new();
    let ana = app.member("ana", SiteRole::Member);
    let bob = app.member("bob", SiteRole::Member);
    for who in [&ana, &bob] {
        let prefs = hearth_core::notifications::email::MailPreferences {
            mode: EmailMode::Now,
            ..Default::default()
        };
        hearth_core::notifications::email::save_mail_preferences(&mut app.conn(), who.id, &prefs)
            .unwrap();
    }
    let ana_token = unsubscribe::token_for(&mut app.conn(), ana.id).unwrap();
    let bob_token = unsubscribe::token_for(&mut app.conn(), bob.id).unwrap();

    // A token for another member cannot be made from one's own: bob's signature under ana's id.
    let (_, bob_signed) = bob_token.split_once('.').unwrap();
    let forged = format!("{}.{bob_signed}", ana.id);
    // One character changed anywhere.
    let mut tampered = ana_token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let visitor = app.browser();
    for bad in [forged.as_str(), tampered.as_str(), "1.abc.def", "nothing"] {
        visitor
            .get(&format!("/unsubscribe/{bad}"))
            .assert_status(404);
        visitor
            .post(
                &format!("/unsubscribe/{bad}"),
                &[("List-Unsubscribe", "One-Click")],
            )
            .assert_status(404);
    }
    assert_eq!(mode_of(&app, ana.id), EmailMode::Now);
    assert_eq!(mode_of(&app, bob.id), EmailMode::Now);

    // The page: one button, no sign-in, and opening it changes nothing.
    let page = visitor.visit(&format!("/unsubscribe/{ana_token}"));
    assert_eq!(page.count("main form button"), 1, "{}", page.body);
    assert_eq!(mode_of(&app, ana.id), EmailMode::Now);
    // A mail client's one-click POST: no cookie, no form token, from nowhere in particular.
    let client = app.browser();
    let done = client.post(
        &format!("/unsubscribe/{ana_token}"),
        &[("List-Unsubscribe", "One-Click")],
    );
    done.assert_status(200);
    assert!(
        done.texts("h1")
            .iter()
            .any(|h| h.contains("no more notification e-mail")),
        "{}",
        done.body
    );
    assert_eq!(mode_of(&app, ana.id), EmailMode::Never);
    assert_eq!(mode_of(&app, bob.id), EmailMode::Now, "only ana's");
    // Sent twice (a client retrying): the same answer.
    client
        .post(
            &format!("/unsubscribe/{ana_token}"),
            &[("List-Unsubscribe", "One-Click")],
        )
        .assert_status(200);
}

#[test]
fn a_reply_reaches_the_smtp_server_as_one_batched_mail_with_its_unsubscribe_link() {
    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let world = app
        .group("night-owls")
        .named("Night owls")
        .with_members(["ana", "bob"])
        .build();
    let ana = world.browser("ana");
    let ana_id = hearth_core::accounts::members::by_username(&mut app.conn(), "ana")
        .unwrap()
        .id;
    verify_address(&app, ana_id, "ana@example.org");
    ana.fill("/settings", "/settings/mail", &AS_IT_HAPPENS)
        .assert_redirect();
    let thread = world.start_thread("ana", "Awake at 3am again", "Is anyone else up?");
    let bob = world.browser("bob");
    bob.reply_to(&thread.path(), "I am, the kettle is on.")
        .assert_redirect();
    bob.reply_to(&thread.path(), "Tea with honey helps me.")
        .assert_redirect();

    // The scheduler of `hearth serve`, with a one-minute batch, a minute later.
    let schedule = MailSchedule {
        enabled: true,
        site_name: "Hearth".to_owned(),
        public_url: app.base_url.clone(),
        limits: MailLimits {
            batch_minutes: 1,
            ..MailLimits::default()
        },
    };
    let early = mailing::send_due(&mut app.conn(), &schedule, None, clock::now()).unwrap();
    assert_eq!(early.mails, 0, "still collecting");
    // A minute passes (the replies' news is made a minute older: the mail worker sends only
    // what is due by the real clock).
    let minute_ago = clock::now() - chrono::TimeDelta::minutes(1);
    diesel::sql_query(format!(
        "UPDATE notifications SET mail_pending_since = '{}' WHERE mail_pending_since IS NOT NULL",
        minute_ago.format("%Y-%m-%d %H:%M:%S%.6f")
    ))
    .execute(&mut *app.conn())
    .unwrap();
    let now = clock::now();
    let run = mailing::send_due(&mut app.conn(), &schedule, None, now).unwrap();
    assert_eq!(run.mails, 1);
    let got = sink.wait_for(1, Duration::from_secs(20));
    let mail = &got[0];
    assert_eq!(mail.recipient(), "ana@example.org");
    assert!(
        mail.subject().contains("Awake at 3am again"),
        "{}",
        mail.subject()
    );
    assert!(mail.text().contains("2 new replies"), "{}", mail.text());
    assert!(mail.text().contains("the kettle is on"), "{}", mail.text());
    assert!(mail.is_text_and_html_alternative());
    assert!(mail.html().contains(&format!("{}/p/", app.base_url)));
    let unsubscribe = mail
        .header("List-Unsubscribe")
        .expect("a List-Unsubscribe header");
    let url = unsubscribe.trim_start_matches('<').trim_end_matches('>');
    assert!(
        url.starts_with(&format!("{}/unsubscribe/", app.base_url)),
        "{url}"
    );

    // Nothing more for the same news, however often the scheduler runs.
    let again = mailing::send_due(
        &mut app.conn(),
        &schedule,
        None,
        now + chrono::TimeDelta::minutes(30),
    )
    .unwrap();
    assert_eq!(again.mails, 0);

    // The mail client's one-click unsubscribe, exactly as RFC 8058 sends it.
    let path = url.trim_start_matches(&app.base_url);
    app.browser()
        .post(path, &[("List-Unsubscribe", "One-Click")])
        .assert_status(200);
    assert_eq!(mode_of(&app, ana_id), EmailMode::Never);
    bob.reply_to(&thread.path(), "Goodnight, owls.")
        .assert_redirect();
    let after = mailing::send_due(
        &mut app.conn(),
        &schedule,
        None,
        now + chrono::TimeDelta::hours(2),
    )
    .unwrap();
    assert_eq!(after.mails, 0, "unsubscribed");
}
