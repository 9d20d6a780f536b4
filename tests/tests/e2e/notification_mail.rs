//! Notifications by e-mail over real HTTP: the settings section keeps what was typed when it is
//! refused; a reply reaches a real SMTP server as the batched mail once the scheduler runs; the
//! mail's one-click unsubscribe works without signing in, for that member only; a daily digest
//! comes at the member's hour in their zone, without a private group's words; quiet hours in
//! the member's zone hold mail until they end.

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
    let schedule = schedule(
        &app,
        MailLimits {
            batch_minutes: 1,
            ..MailLimits::default()
        },
    );
    let early = mailing::send_due(&mut app.conn(), &schedule, None, clock::now()).unwrap();
    assert_eq!(early.mails, 0, "still collecting");
    // A minute passes (the replies' news is made a minute older: the mail worker sends only
    // what is due by the real clock).
    let minute_ago = clock::now() - chrono::TimeDelta::minutes(1);
    news_waiting_since(&app, minute_ago);
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

/// The scheduler as `hearth serve` runs it, with `limits`.
fn schedule(app: &TestApp, limits: MailLimits) -> MailSchedule {
    MailSchedule {
        enabled: true,
        site_name: "Hearth".to_owned(),
        public_url: app.base_url.clone(),
        limits,
    }
}

/// Every notification waiting for mail has waited since `since` (tests move news back in time
/// rather than the clock forward: the mail worker sends what is due by the real clock).
fn news_waiting_since(app: &TestApp, since: chrono::NaiveDateTime) {
    diesel::sql_query(format!(
        "UPDATE notifications SET mail_pending_since = '{}' WHERE mail_pending_since IS NOT NULL",
        since.format("%Y-%m-%d %H:%M:%S%.6f")
    ))
    .execute(&mut *app.conn())
    .unwrap();
}

/// The member's zone, written as the settings form would leave it (the test's own constants).
fn set_zone(app: &TestApp, member: MemberId, zone: &str) {
    assert!(zone.bytes().all(|b| b.is_ascii_alphabetic() || b == b'/'));
    diesel::sql_query(format!(
        "UPDATE members SET time_zone = '{zone}' WHERE id = {member}"
    ))
    .execute(&mut *app.conn())
    .unwrap();
}

/// A daily digest reaches the real SMTP server at the member's own hour in their zone, while a
/// member far to the west, who chose the same hour, gets nothing yet; and the digest of news
/// from a private group says who and where, never the thread's title nor the words.
#[test]
fn the_daily_digest_comes_at_the_members_hour_in_their_zone_without_a_private_groups_words() {
    use chrono::Timelike;
    use hearth_core::notifications::email::{save_mail_preferences, MailPreferences};

    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let world = app
        .group("night-owls")
        .named("Night owls")
        .private()
        .with_members(["ana", "cal", "bob"])
        .build();
    let id = |name: &str| {
        hearth_core::accounts::members::by_username(&mut app.conn(), name)
            .unwrap()
            .id
    };
    let (ana, cal) = (id("ana"), id("cal"));
    let now = clock::now();
    let toronto: chrono_tz::Tz = "America/Toronto".parse().unwrap();
    let hour = now.and_utc().with_timezone(&toronto).hour();
    // Ana in Toronto and Cal in Honolulu both chose Toronto's hour now: it has come for Ana, and
    // is five hours away for Cal.
    for (member, zone, address) in [
        (ana, "America/Toronto", "ana@example.org"),
        (cal, "Pacific/Honolulu", "cal@example.org"),
    ] {
        set_zone(&app, member, zone);
        verify_address(&app, member, address);
        let daily = MailPreferences {
            mode: EmailMode::Daily,
            digest_hour: hour,
            ..MailPreferences::default()
        };
        save_mail_preferences(&mut app.conn(), member, &daily).unwrap();
    }
    let thread = world.start_thread("bob", "Lighthouse vigil for Tomas", "Who can come?");
    world
        .browser("bob")
        .reply_to(
            &thread.path(),
            "@ana @cal I lit a marigoldlamp for him tonight.",
        )
        .assert_redirect();
    // The news waited since before this hour began (a digest takes what waited before its hour).
    let before_the_hour = now
        - chrono::TimeDelta::seconds(i64::from(now.minute() * 60 + now.second()))
        - chrono::TimeDelta::minutes(1);
    news_waiting_since(&app, before_the_hour);

    let schedule = schedule(&app, MailLimits::default());
    let run = mailing::send_due(&mut app.conn(), &schedule, None, clock::now()).unwrap();
    assert_eq!(run.mails, 1, "Ana's digest only");
    let got = sink.wait_for_to("ana@example.org", 1, Duration::from_secs(20));
    let mail = &got[0];
    assert!(mail.is_text_and_html_alternative());
    assert!(
        mail.text()
            .contains("bob mentioned you in a thread in Night owls"),
        "{}",
        mail.text()
    );
    for secret in ["Lighthouse", "lighthouse", "Tomas", "tomas", "marigoldlamp"] {
        assert!(
            !mail.subject().contains(secret),
            "{secret}: {}",
            mail.subject()
        );
        assert!(!mail.text().contains(secret), "{secret}: {}", mail.text());
        assert!(!mail.html().contains(secret), "{secret}: {}", mail.html());
    }
    assert_eq!(sink.assert_no_more_than(1, Duration::from_secs(2)).len(), 1);
    assert!(
        sink.messages_to("cal@example.org").is_empty(),
        "not Cal's hour yet"
    );
}

/// Quiet hours in the member's own zone hold mail as it happens: nothing is queued for the
/// SMTP server while they last, and the scheduler's first run after they end queues it.
#[test]
fn quiet_hours_in_the_members_zone_hold_mail_until_they_end() {
    use chrono::{NaiveTime, Timelike};
    use hearth_core::notifications::email::{save_mail_preferences, MailPreferences, QuietHours};

    let sink = SmtpSink::start();
    let app = TestApp::with_email(&sink);
    let world = app
        .group("night-owls")
        .named("Night owls")
        .with_members(["ana", "bob"])
        .build();
    let ana = hearth_core::accounts::members::by_username(&mut app.conn(), "ana")
        .unwrap()
        .id;
    // The quiet hours below end with this clock hour: start well inside it.
    let seconds_left = 3600 - i64::from(clock::now().minute() * 60 + clock::now().second());
    if seconds_left < 30 {
        std::thread::sleep(Duration::from_secs(
            u64::try_from(seconds_left).unwrap_or(0) + 1,
        ));
    }
    let now = clock::now();
    let toronto: chrono_tz::Tz = "America/Toronto".parse().unwrap();
    let local_hour = now.and_utc().with_timezone(&toronto).hour();
    // Quiet from the start of this hour in Toronto to the start of the next one.
    let quiet = QuietHours {
        from: NaiveTime::from_hms_opt(local_hour, 0, 0).unwrap(),
        to: NaiveTime::from_hms_opt((local_hour + 1) % 24, 0, 0).unwrap(),
    };
    set_zone(&app, ana, "America/Toronto");
    verify_address(&app, ana, "ana@example.org");
    let prefs = MailPreferences {
        mode: EmailMode::Now,
        quiet: Some(quiet),
        ..MailPreferences::default()
    };
    save_mail_preferences(&mut app.conn(), ana, &prefs).unwrap();
    let thread = world.start_thread("ana", "Awake at 3am again", "Is anyone else up?");
    world
        .browser("bob")
        .reply_to(&thread.path(), "I am, the kettle is on.")
        .assert_redirect();
    // The news is older than a batch, so only the quiet hours hold it.
    let long_ago = now - chrono::TimeDelta::minutes(20);
    news_waiting_since(&app, long_ago);
    let schedule = schedule(&app, MailLimits::default());
    let during = mailing::send_due(&mut app.conn(), &schedule, None, clock::now()).unwrap();
    assert_eq!(during.mails, 0, "held in quiet hours");
    assert!(
        app.outbox().is_empty(),
        "nothing waits in the outbox either"
    );
    assert_eq!(sink.assert_no_more_than(0, Duration::from_secs(1)).len(), 0);

    // The first run after they end (the start of the next hour, a minute after) queues it.
    let next_hour = now - chrono::TimeDelta::seconds(i64::from(now.minute() * 60 + now.second()))
        + chrono::TimeDelta::hours(1);
    let after = next_hour + chrono::TimeDelta::minutes(1);
    let run = mailing::send_due(&mut app.conn(), &schedule, None, after).unwrap();
    assert_eq!(run.mails, 1, "released when they end");
    let queued = app.outbox();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].to, "ana@example.org");
    assert_eq!(queued[0].kind, "notification");
    assert!(queued[0].send_after >= next_hour, "not before they end");
}
