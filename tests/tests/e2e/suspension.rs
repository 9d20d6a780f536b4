//! A suspension removes every power while it lasts, and signs the member out everywhere.

use hearth_core::model::SiteRole;
use hearth_tests::{Browser, Page, TestApp, PASSWORD};

/// The form token of `browser`'s session, read from a page of theirs that carries a form.
fn csrf_token(page: &Page) -> String {
    page.attrs("input[name=csrf_token]", "value")
        .into_iter()
        .next()
        .expect("a page with a form token")
}

/// Sends `fields` to `path` with the session's token, as a page the member kept open would.
fn post_as(browser: &Browser, token: &str, path: &str, fields: &[(&str, &str)]) -> u16 {
    let mut values = vec![("csrf_token", token)];
    values.extend_from_slice(fields);
    browser.post(path, &values).status
}

#[test]
fn a_suspended_facilitator_is_signed_out_and_holds_no_power() {
    let app = TestApp::new();
    let world = app
        .group("circle")
        .private()
        .facilitated_by("fay")
        .with_members(["joan"])
        .build();
    let admin = world.admin.clone();
    let fay = world.browser("fay");
    let thread = world.start_thread("joan", "A hard week", "It has been a hard week");
    let thread_path = thread.path();
    let post = thread.attrs(".post .meta a[href^='/p/']", "href")[0]
        .trim_start_matches("/p/")
        .to_owned();
    let olly = app.signed_in("olly", SiteRole::Member);
    olly.fill("/b/circle", "/b/circle/join", &[("message", "let me in")])
        .assert_redirect();
    fay.visit("/review").assert_status(200);

    let until = (chrono::Utc::now() + chrono::TimeDelta::days(7))
        .format("%Y-%m-%d")
        .to_string();
    admin
        .fill(
            "/u/fay",
            "/u/fay/suspend",
            &[("until", &until), ("reason", "a break")],
        )
        .assert_redirect();

    // Every session of hers ended with the suspension.
    fay.get("/settings").assert_status(401);

    // Signed in again, she reads her group as a member does, and can do nothing else.
    let fay = app.browser();
    fay.sign_in("fay", PASSWORD).assert_redirect();
    fay.visit(&thread_path).assert_status(200);
    let token = csrf_token(&fay.visit("/settings"));
    let home = fay.visit("/");
    assert_eq!(home.count("a[href='/review']"), 0, "no queue in the header");

    fay.get("/b/circle/members").assert_status(403);
    assert_eq!(
        post_as(
            &fay,
            &token,
            "/b/circle/members",
            &[("username", "olly"), ("answer", "approve"), ("message", "")],
        ),
        403
    );
    olly.get(&thread_path).assert_status(404);
    assert_eq!(
        world
            .admin
            .visit("/b/circle/members")
            .count(".request-list li"),
        1,
        "olly's request is still open"
    );

    fay.get("/review").assert_status(403);
    fay.get("/b/circle/review").assert_status(403);

    assert_eq!(
        post_as(
            &fay,
            &token,
            &format!("/p/{post}/moderate"),
            &[("decision", "hide"), ("reason", "off topic")],
        ),
        403
    );
    let seen = world.browser("joan").visit(&thread_path);
    assert!(seen.body.contains("It has been a hard week"));
    assert!(!seen.body.contains("off topic"), "the post was not hidden");

    fay.get("/b/circle/meetings/new").assert_status(403);
    assert_eq!(
        post_as(
            &fay,
            &token,
            "/b/circle/meetings/new",
            &[
                ("title", "Evening circle"),
                ("date", "2030-03-12"),
                ("time", "19:00"),
                ("time_zone", "UTC"),
                ("duration_minutes", "90"),
                ("repeat", "none"),
                ("end", "never"),
            ],
        ),
        403
    );
    assert!(!admin
        .visit("/b/circle/meetings")
        .body
        .contains("Evening circle"));
}
