//! Registration, signing in and out, and the session cookie.

use hearth_core::model::SiteRole;
use hearth_tests::{TestApp, PASSWORD};

#[test]
fn register_signs_the_new_member_in() {
    let app = TestApp::new();
    let browser = app.browser();
    let reply = browser.register("Ana", PASSWORD);
    assert_eq!(reply.assert_redirect(), "/recovery-codes");
    let home = browser.visit("/");
    assert!(
        home.texts("header nav a").contains(&"Ana".to_owned()),
        "{}",
        home.body
    );
    assert_eq!(home.header("cache-control"), Some("no-store"));
}

#[test]
fn usernames_are_unique_whatever_their_case() {
    let app = TestApp::new();
    app.browser().register("Ana", PASSWORD).assert_redirect();
    let again = app.browser().register("aNA", PASSWORD);
    again.assert_status(422);
    assert!(
        again
            .texts(".field-error")
            .iter()
            .any(|t| t.contains("already taken")),
        "{}",
        again.body
    );
}

#[test]
fn a_refused_registration_keeps_what_was_typed() {
    let app = TestApp::new();
    let browser = app.browser();
    let reply = browser.fill(
        "/register",
        "/register",
        &[
            ("username", "ana"),
            ("display_name", "Ana from Leeds"),
            ("password", "password1234"),
            ("time_zone", "Europe/London"),
        ],
    );
    reply.assert_status(422);
    assert_eq!(reply.attrs("#username", "value"), ["ana"]);
    assert_eq!(reply.attrs("#display_name", "value"), ["Ana from Leeds"]);
    assert_eq!(
        reply.attrs("#time_zone option[selected]", "value"),
        ["Europe/London"]
    );
    // The password is never echoed back into the page.
    assert!(!reply.body.contains("password1234"));
    assert_eq!(reply.attrs("#password", "aria-invalid"), ["true"]);
}

#[test]
fn short_and_common_passwords_are_refused_with_a_reason() {
    let app = TestApp::new();
    let short = app.browser().register("ana", "too short");
    short.assert_status(422);
    assert!(short.texts("#password-error")[0].contains("at least 12"));
    let common = app.browser().register("bea", "qwertyuiopasdfghjkl");
    common.assert_status(422);
    assert!(
        common.texts("#password-error")[0].contains("common"),
        "{}",
        common.body
    );
}

#[test]
fn sign_in_answers_alike_for_unknown_user_and_wrong_password() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let wrong_password = app
        .browser()
        .sign_in("ana", "not the right password at all");
    let unknown_user = app
        .browser()
        .sign_in("nobody-here", "not the right password at all");
    wrong_password.assert_status(401);
    unknown_user.assert_status(401);
    assert_eq!(
        wrong_password.texts("[role=alert]"),
        unknown_user.texts("[role=alert]")
    );
    assert_eq!(wrong_password.attrs("#username", "value"), ["ana"]);
}

#[test]
fn signing_in_issues_a_new_session_id() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    browser.sign_in("ana", PASSWORD).assert_redirect();
    let first = browser.cookie("hearth_session").expect("a session cookie");
    browser.sign_in("ana", PASSWORD).assert_redirect();
    let second = browser.cookie("hearth_session").expect("a session cookie");
    assert_ne!(first, second);
    // The session the browser had before is over.
    let replay = app.browser();
    replay.set_cookie("hearth_session", &first);
    replay.get("/settings").assert_status(401);
}

#[test]
fn session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    let reply = browser.sign_in("ana", PASSWORD);
    let cookie = reply.headers.get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        v.starts_with("hearth_session=").then(|| v.to_owned())
    });
    let cookie = cookie.expect("a session cookie is set");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    // The test server is plain http, so the cookie cannot be Secure there.
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[test]
fn sign_out_really_ends_the_session() {
    let app = TestApp::new();
    let browser = app.signed_in("ana", SiteRole::Member);
    let old_cookie = browser.cookie("hearth_session").expect("a session cookie");
    browser.visit("/settings").assert_status(200);
    let home = browser.visit("/");
    let reply = browser.submit(&home, "/signout", &[]);
    assert_eq!(reply.assert_redirect(), "/");
    browser.get("/settings").assert_status(401);
    // Someone who kept a copy of the cookie gets nothing either.
    let thief = app.browser();
    thief.set_cookie("hearth_session", &old_cookie);
    thief.get("/settings").assert_status(401);
}

/// On https the cookies carry the `__Host-` prefix (`Secure`, `Path=/`, no `Domain`), so a
/// neighbouring subdomain or a plain-http page cannot plant them; the unprefixed names mean
/// nothing there.
#[test]
fn behind_https_the_cookies_are_secure_and_host_only() {
    let config = hearth_web::WebConfig {
        public_url: "https://forum.example.org".to_owned(),
        ..hearth_tests::test_config()
    };
    let app = TestApp::with_config(config);
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    let form = browser.visit("/signin");
    let set_cookies = |headers: &reqwest::header::HeaderMap| -> Vec<String> {
        headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    };
    let visitor = set_cookies(&form.headers);
    assert!(
        visitor.iter().any(|c| c.starts_with("__Host-hearth_csrf=")
            && c.contains("Secure")
            && c.contains("Path=/")
            && !c.contains("Domain")),
        "{visitor:?}"
    );
    let reply = browser.submit(
        &form,
        "/signin",
        &[("username", "ana"), ("password", PASSWORD)],
    );
    reply.assert_redirect();
    let cookies = set_cookies(&reply.headers);
    let session = cookies
        .iter()
        .find(|v| v.starts_with("__Host-hearth_session="))
        .unwrap_or_else(|| panic!("a prefixed session cookie in {cookies:?}"));
    assert!(
        session.contains("Secure") && !session.contains("Domain"),
        "{session}"
    );
    assert!(!cookies.iter().any(|c| c.starts_with("hearth_session=")));
    browser.get("/settings").assert_status(200);

    // The same session under the plain name, as a planted cookie would carry it: not read.
    let token = browser
        .cookie("__Host-hearth_session")
        .expect("the jar keeps it");
    let planted = app.browser();
    planted.set_cookie("hearth_session", &token);
    planted.get("/settings").assert_status(401);
}

#[test]
fn sign_in_returns_to_the_page_asked_for_but_never_off_site() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    let form = browser.visit("/signin?next=/settings");
    let reply = browser.submit(
        &form,
        "/signin",
        &[("username", "ana"), ("password", PASSWORD)],
    );
    assert_eq!(reply.assert_redirect(), "/settings");
    for hostile in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let browser = app.browser();
        let form = browser.visit(&format!("/signin?next={hostile}"));
        let reply = browser.submit(
            &form,
            "/signin",
            &[("username", "ana"), ("password", PASSWORD)],
        );
        assert_eq!(reply.assert_redirect(), "/", "{hostile}");
    }
}

/// Registering and signing in are confirmed as every action is: a greeting on the next page,
/// once, from the session (never in the address); a refused sign-in greets nobody.
#[test]
fn registering_and_signing_in_greet_the_member_on_the_next_page_once() {
    let app = TestApp::new();
    let flash = |page: &hearth_tests::Page| page.texts("main [role=status].flash");
    let browser = app.browser();
    let registered = browser.register("Ana", PASSWORD);
    assert_eq!(registered.assert_redirect(), "/recovery-codes");
    assert_eq!(
        flash(&browser.follow(registered)),
        ["Welcome to Hearth, Ana"]
    );
    assert!(flash(&browser.visit("/")).is_empty(), "shown once");

    let home = browser.visit("/");
    browser.submit(&home, "/signout", &[]).assert_redirect();
    let refused = browser.sign_in("Ana", "not the password");
    refused.assert_status(401);
    assert!(flash(&refused).is_empty());
    let signed_in = browser.sign_in("Ana", PASSWORD);
    let location = signed_in.assert_redirect();
    assert!(!location.contains("welcome"), "{location}");
    let page = browser.follow(signed_in);
    assert_eq!(flash(&page), ["Welcome back, Ana"]);
    assert!(flash(&browser.visit("/")).is_empty(), "shown once");
}
