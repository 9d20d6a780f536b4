//! Account control: recovery codes (shown once, single use, regenerated), "Forgot your
//! password?", changing the password, the signed-in devices, and their throttling and CSRF.

use std::time::Duration;

use diesel::prelude::*;
use hearth_core::accounts::throttle::ThrottlePolicy;
use hearth_core::accounts::{passwords, recovery, sessions};
use hearth_core::ids::MemberId;
use hearth_core::model::SiteRole;
use hearth_tests::{Browser, Reply, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a lantern by the harbour wall";
const FIREFOX_ANDROID: &str =
    "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// The codes the recovery-codes page shows.
fn shown_codes(page: &Reply) -> Vec<String> {
    page.texts(".recovery-codes code")
}

fn forgot(browser: &Browser, username: &str, code: &str, new_password: &str) -> Reply {
    browser.fill(
        "/forgot-password",
        "/forgot-password",
        &[
            ("username", username),
            ("code", code),
            ("password", new_password),
        ],
    )
}

fn member_id(app: &TestApp, username: &str) -> MemberId {
    hearth_core::accounts::members::by_username(&mut app.conn(), username)
        .unwrap()
        .id
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// One text column of the database, for what a page must not tell (test-made names only).
fn texts_in(app: &TestApp, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Text>(&mut *app.conn())
        .unwrap()
        .into_iter()
        .map(|row| row.value)
        .collect()
}

fn stored_hash(app: &TestApp, username: &str) -> String {
    texts_in(
        app,
        &format!("SELECT password_hash AS value FROM members WHERE username_lower = '{username}'"),
    )
    .remove(0)
}

#[test]
fn codes_shown_after_registering_reset_the_password_once() {
    let app = TestApp::new();
    let ana = app.browser();
    let registered = ana.register("ana", PASSWORD);
    assert_eq!(registered.assert_redirect(), "/recovery-codes");
    let page = ana.follow(registered);
    page.assert_status(200);
    let codes = shown_codes(&page);
    assert_eq!(codes.len(), 10, "{}", page.body);
    assert!(page
        .texts("main")
        .join(" ")
        .contains("Keep these somewhere safe"));
    assert_eq!(page.attrs("main a.button", "href"), ["/"]);
    assert!(
        !page.url.contains(&codes[0]) && page.header("cache-control") == Some("no-store"),
        "the codes are in no URL and kept by no cache"
    );
    // Shown once: the page again has none.
    let again = ana.visit("/recovery-codes");
    assert!(shown_codes(&again).is_empty());
    assert!(again.texts("main").join(" ").contains("shown only once"));

    let home = ana.visit("/");
    ana.submit(&home, "/signout", &[]).assert_redirect();

    // A wrong code and an unknown name get the same answer, and keep the name typed.
    let wrong = forgot(&ana, "ana", "0000-0000-0000-0000", NEW_PASSWORD);
    wrong.assert_status(401);
    let unknown = forgot(&ana, "nobody", &codes[0], NEW_PASSWORD);
    unknown.assert_status(401);
    assert_eq!(
        wrong.texts(".error-summary"),
        unknown.texts(".error-summary")
    );
    assert!(wrong.texts(".error-summary")[0].contains("do not match"));
    assert_eq!(wrong.attrs("#username", "value"), ["ana"]);
    assert_eq!(wrong.attrs("#code", "value"), Vec::<String>::new());

    // The right code signs ana in with the new password.
    let reset = forgot(&ana, "ana", &codes[2].to_uppercase(), NEW_PASSWORD);
    assert_eq!(
        reset.assert_redirect(),
        "/settings?done=recovered#change-password"
    );
    let settings = ana.follow(reset);
    settings.assert_status(200);
    assert!(settings
        .texts("[role=status]")
        .join(" ")
        .contains("9 recovery codes left"));

    app.browser().sign_in("ana", PASSWORD).assert_status(401);
    app.browser().sign_in("ana", NEW_PASSWORD).assert_redirect();
    // The same code a second time is refused; another one still works.
    let stranger = app.browser();
    forgot(&stranger, "ana", &codes[2], "another fine long passphrase").assert_status(401);
    forgot(&stranger, "ana", &codes[5], "another fine long passphrase").assert_redirect();
}

#[test]
fn a_recovery_code_ends_every_session_and_a_weak_password_keeps_the_name() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let member_id = member_id(&app, "ana");
    let codes = recovery::issue(&mut app.conn(), member_id, hearth_core::clock::now()).unwrap();
    let weak = forgot(&app.browser(), "ana", &codes[0], "short");
    weak.assert_status(422);
    assert_eq!(weak.attrs("#username", "value"), ["ana"]);
    assert!(!weak.texts(".field-error").is_empty());
    ana.get("/settings").assert_status(200);

    forgot(&app.browser(), "ana", &codes[0], NEW_PASSWORD).assert_redirect();
    ana.get("/settings").assert_status(401);
}

/// Signing in with a recovery code is signing in: a member who asked to leave is first offered
/// to cancel, as after signing in with the password.
#[test]
fn a_recovery_code_offers_to_cancel_a_departure_first() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let member_id = member_id(&app, "ana");
    let codes = recovery::issue(&mut app.conn(), member_id, hearth_core::clock::now()).unwrap();
    ana.fill(
        "/settings/leave",
        "/settings/leave",
        &[("mode", "delete"), ("password", PASSWORD)],
    )
    .assert_redirect();
    let phone = app.browser();
    assert_eq!(
        forgot(&phone, "ana", &codes[0], NEW_PASSWORD).assert_redirect(),
        "/settings/leaving"
    );
    let offer = phone.visit("/settings/leaving");
    assert_eq!(
        offer.count("form[action='/settings/leaving/cancel'] button"),
        1,
        "{}",
        offer.body
    );
}

#[test]
fn a_forged_codes_cookie_shows_nothing() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let made_up = ["abcd-efgh-jkmn-pqrs"; 10].join(".");
    ana.set_cookie("hearth_new_codes", &made_up);
    let page = ana.visit("/recovery-codes");
    assert!(shown_codes(&page).is_empty());
    assert!(!page.body.contains("abcd-efgh"));
    app.browser().get("/recovery-codes").assert_status(401);
    // An account made without codes (by an operator, or before codes existed) is told so.
    let settings = ana.visit("/settings");
    assert!(settings
        .texts("[role=status]")
        .join(" ")
        .contains("You have no recovery codes"));
}

#[test]
fn new_codes_in_settings_need_the_password_and_end_the_old_ones() {
    let app = TestApp::new();
    let ana = app.browser();
    let old = shown_codes(&ana.follow(ana.register("ana", PASSWORD)));
    let settings = ana.visit("/settings");
    assert!(settings
        .texts("#recovery + p strong")
        .contains(&"10".to_owned()));

    let refused = ana.submit(
        &settings,
        "/settings/recovery-codes",
        &[("codes_password", "not my password")],
    );
    refused.assert_status(422);
    assert!(refused
        .texts(".field-error")
        .join(" ")
        .contains("not your password"));
    assert!(recovery::are_current(&mut app.conn(), member_id(&app, "ana"), &old).unwrap());

    let made = ana.submit(
        &settings,
        "/settings/recovery-codes",
        &[("codes_password", PASSWORD)],
    );
    assert_eq!(made.assert_redirect(), "/recovery-codes?next=/settings");
    let page = ana.follow(made);
    let new = shown_codes(&page);
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)));
    assert_eq!(page.attrs("main a.button", "href"), ["/settings"]);

    for code in &old[1..4] {
        forgot(&app.browser(), "ana", code, NEW_PASSWORD).assert_status(401);
    }
    forgot(&app.browser(), "ana", &new[0], NEW_PASSWORD).assert_redirect();
}

#[test]
fn changing_the_password_ends_the_other_clients_session_and_keeps_this_one() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let phone = app.browser();
    phone.sign_in("ana", PASSWORD).assert_redirect();
    let settings = ana.visit("/settings");

    let wrong = ana.submit(
        &settings,
        "/settings/password",
        &[
            ("current_password", "not my password"),
            ("password", NEW_PASSWORD),
        ],
    );
    wrong.assert_status(422);
    assert_eq!(wrong.attrs("#current_password", "aria-invalid"), ["true"]);
    assert!(wrong
        .texts(".field-error")
        .join(" ")
        .contains("not your current password"));
    // What the other forms show is what was saved, and no password comes back.
    assert_eq!(
        wrong.attrs("#current_password", "value"),
        Vec::<String>::new()
    );
    assert_eq!(wrong.attrs("#password", "value"), Vec::<String>::new());

    let weak = ana.submit(
        &settings,
        "/settings/password",
        &[("current_password", PASSWORD), ("password", "password123")],
    );
    weak.assert_status(422);
    assert_eq!(weak.attrs("#password", "aria-invalid"), ["true"]);
    phone.get("/settings").assert_status(200);

    let changed = ana.submit(
        &settings,
        "/settings/password",
        &[("current_password", PASSWORD), ("password", NEW_PASSWORD)],
    );
    assert_eq!(
        changed.assert_redirect(),
        "/settings?done=password#change-password"
    );
    let after = ana.follow(changed);
    after.assert_status(200);
    assert!(after
        .texts("[role=status]")
        .join(" ")
        .contains("Your password was changed"));
    phone.get("/settings").assert_status(401);
    app.browser().sign_in("ana", PASSWORD).assert_status(401);
    app.browser().sign_in("ana", NEW_PASSWORD).assert_redirect();
}

#[test]
fn the_devices_list_shows_each_session_and_ends_one() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let android = Browser::with_user_agent(&app.base_url, FIREFOX_ANDROID);
    android.sign_in("ana", PASSWORD).assert_redirect();
    let iphone = Browser::with_user_agent(&app.base_url, SAFARI_IPHONE);
    iphone.sign_in("ana", PASSWORD).assert_redirect();
    let bens = app.signed_in("ben", SiteRole::Member);

    let settings = android.visit("/settings");
    // This device first, then the others.
    assert_eq!(
        settings.texts(".device .device-name strong"),
        ["Firefox on Android", "Safari on iPhone"]
    );
    assert_eq!(
        settings.texts(".this-device .device-name strong"),
        ["Firefox on Android"]
    );
    assert_eq!(settings.count(".badge"), 1);
    for raw in ["Gecko", "rv:128", "17_5", "127.0.0.1"] {
        assert!(!settings.body.contains(raw), "{raw} is on the page");
    }
    // Only the hint is stored, never the header.
    let hints = texts_in(&app, "SELECT device_hint AS value FROM sessions");
    assert!(
        hints.iter().all(|hint| !hint.contains("Mozilla")),
        "{hints:?}"
    );

    // Ending another member's session is not found, and changes nothing.
    let ben_id = sessions::list_for(&mut app.conn(), member_id(&app, "ben")).unwrap()[0].id;
    let csrf = settings.attrs("input[name=csrf_token]", "value")[0].clone();
    android
        .post(
            &format!("/settings/sessions/{ben_id}/end"),
            &[("csrf_token", csrf.as_str())],
        )
        .assert_status(404);
    bens.get("/settings").assert_status(200);

    let iphone_form = settings.attrs(".device:not(.this-device) form", "action");
    assert_eq!(iphone_form.len(), 1);
    let ended = android.submit(&settings, &iphone_form[0], &[]);
    assert_eq!(ended.assert_redirect(), "/settings?done=session#devices");
    iphone.get("/settings").assert_status(401);
    android.get("/settings").assert_status(200);
    assert_eq!(android.visit("/settings").count(".device"), 1);

    // "Sign out everywhere else" keeps this one.
    let laptop = app.browser();
    laptop.sign_in("ana", PASSWORD).assert_redirect();
    let settings = android.visit("/settings");
    assert_eq!(settings.count(".device"), 2);
    android
        .submit(&settings, "/settings/sessions/end-others", &[])
        .assert_redirect();
    laptop.get("/settings").assert_status(401);
    android.get("/settings").assert_status(200);
    bens.get("/settings").assert_status(200);
}

#[test]
fn guessing_codes_is_refused_before_any_code_is_checked() {
    const WINDOW: u32 = 3;
    let app = TestApp::with_config(hearth_web::WebConfig {
        recovery_throttle: ThrottlePolicy {
            window_seconds: WINDOW,
            slow_after: 100,
            account_limit: 3,
            account_ceiling: 100,
            ip_limit: 100,
        },
        ..hearth_tests::test_config()
    });
    let member_id = app.member("ana", SiteRole::Member).id;
    let codes = recovery::issue(&mut app.conn(), member_id, hearth_core::clock::now()).unwrap();
    let before = stored_hash(&app, "ana");
    let guesser = app.browser();
    for guess in [
        "1111-1111-1111-1111",
        "2222-2222-2222-2222",
        "3333-3333-3333-3333",
    ] {
        forgot(&guesser, "ana", guess, NEW_PASSWORD).assert_status(401);
    }
    // The next attempt is refused even with a right code: nothing was checked or changed.
    let refused = forgot(&guesser, "ana", &codes[0], NEW_PASSWORD);
    refused.assert_status(429);
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=u64::from(WINDOW)).contains(&retry_after));
    let text = refused.texts("main").join(" ");
    assert!(
        text.contains("too many unsuccessful attempts to use a recovery code"),
        "{text}"
    );
    assert!(text.contains("your code was not checked"), "{text}");
    assert!(text.contains("you can try again in"), "{text}");
    assert_eq!(stored_hash(&app, "ana"), before);
    assert_eq!(recovery::remaining(&mut app.conn(), member_id).unwrap(), 10);
    // Guessing codes does not lock ana out of signing in.
    app.browser().sign_in("ana", PASSWORD).assert_redirect();

    std::thread::sleep(Duration::from_secs(retry_after) + Duration::from_millis(300));
    forgot(&guesser, "ana", &codes[0], NEW_PASSWORD).assert_redirect();
}

#[test]
fn guessing_the_current_password_is_throttled_without_checking_it() {
    let app = TestApp::with_config(hearth_web::WebConfig {
        sign_in_throttle: ThrottlePolicy {
            window_seconds: 600,
            slow_after: 100,
            account_limit: 3,
            account_ceiling: 100,
            ip_limit: 100,
        },
        ..hearth_tests::test_config()
    });
    let ana = app.signed_in("ana", SiteRole::Member);
    let hash = stored_hash(&app, "ana");
    let settings = ana.visit("/settings");
    let guess = |current: &str| {
        ana.submit(
            &settings,
            "/settings/password",
            &[("current_password", current), ("password", NEW_PASSWORD)],
        )
    };
    for n in 0..3 {
        guess(&format!("guess number {n} at it")).assert_status(422);
    }
    let checked = passwords::verifications::against(&hash);
    let refused = guess(PASSWORD);
    refused.assert_status(429);
    assert!(refused
        .texts("main")
        .join(" ")
        .contains("password was not checked"));
    assert_eq!(
        passwords::verifications::against(&hash),
        checked,
        "argon2 ran"
    );
    assert_eq!(stored_hash(&app, "ana"), hash);
}

#[test]
fn every_account_form_needs_its_token() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let phone = app.browser();
    phone.sign_in("ana", PASSWORD).assert_redirect();
    let member_id = member_id(&app, "ana");
    let codes = recovery::issue(&mut app.conn(), member_id, hearth_core::clock::now()).unwrap();
    let phone_id = sessions::list_for(&mut app.conn(), member_id)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .max()
        .unwrap();
    let hash = stored_hash(&app, "ana");
    for (path, fields) in [
        (
            "/settings/password".to_owned(),
            vec![("current_password", PASSWORD), ("password", NEW_PASSWORD)],
        ),
        ("/settings/sessions/end-others".to_owned(), vec![]),
        (format!("/settings/sessions/{phone_id}/end"), vec![]),
        (
            "/settings/recovery-codes".to_owned(),
            vec![("codes_password", PASSWORD)],
        ),
        (
            "/forgot-password".to_owned(),
            vec![
                ("username", "ana"),
                ("code", codes[0].as_str()),
                ("password", NEW_PASSWORD),
            ],
        ),
    ] {
        ana.post(&path, &fields).assert_status(403);
        let mut forged = fields.clone();
        forged.push(("csrf_token", "a-token-this-session-never-had-0000000000000"));
        ana.post(&path, &forged).assert_status(403);
    }
    app.browser()
        .post(
            "/forgot-password",
            &[
                ("username", "ana"),
                ("code", &codes[0]),
                ("password", NEW_PASSWORD),
            ],
        )
        .assert_status(403);
    phone.get("/settings").assert_status(200);
    assert_eq!(stored_hash(&app, "ana"), hash);
    assert!(recovery::are_current(&mut app.conn(), member_id, &codes).unwrap());
}

#[test]
fn last_seen_is_written_once_per_interval_not_per_request() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let last_seen = |app: &TestApp| {
        texts_in(
            app,
            "SELECT CAST(last_seen_at AS TEXT) AS value FROM sessions",
        )
        .remove(0)
    };
    ana.visit("/settings").assert_status(200);
    let first = last_seen(&app);
    // Requests within the interval (five minutes by default) write nothing.
    for _ in 0..3 {
        ana.visit("/").assert_status(200);
    }
    assert_eq!(last_seen(&app), first);
    // A session last seen an hour ago is marked by its next request, once.
    diesel::sql_query("UPDATE sessions SET last_seen_at = created_at - INTERVAL '1 hour'")
        .execute(&mut *app.conn())
        .or_else(|_| {
            diesel::sql_query("UPDATE sessions SET last_seen_at = datetime(created_at, '-1 hour')")
                .execute(&mut *app.conn())
        })
        .unwrap();
    let old = last_seen(&app);
    assert_ne!(old, first);
    ana.visit("/").assert_status(200);
    let marked = last_seen(&app);
    assert!(marked > old, "{marked} after {old}");
    ana.visit("/").assert_status(200);
    assert_eq!(last_seen(&app), marked);
}
