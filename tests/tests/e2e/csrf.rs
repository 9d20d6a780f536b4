//! Forged and cross-site form posts are refused, and a refused form hands the words back.

use hearth_core::model::SiteRole;
use hearth_tests::{TestApp, PASSWORD};

#[test]
fn a_post_without_a_csrf_token_is_refused() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let reply = admin.post(
        "/b/pet-loss/new",
        &[
            ("title", "Forged"),
            ("body", "forged"),
            ("submission_key", "abcdefghijklmnopqrstuvwxyz"),
        ],
    );
    reply.assert_status(403);
    assert!(reply.texts("h1")[0].contains("expired"), "{}", reply.body);
    assert_eq!(app.browser().visit("/b/pet-loss").count(".thread-item"), 0);
}

#[test]
fn a_post_with_another_sessions_token_is_refused() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let other = app.signed_in("ana", SiteRole::Member);
    let foreign_token = other
        .visit("/")
        .attrs("input[name=csrf_token]", "value")
        .remove(0);
    let page = admin.visit("/b/pet-loss/new");
    let reply = admin.submit(
        &page,
        "/b/pet-loss/new",
        &[
            ("csrf_token", &foreign_token),
            ("title", "Forged"),
            ("body", "x"),
        ],
    );
    reply.assert_status(403);
}

/// The CSRF token and submission key of a fresh new-thread form on `pet-loss`.
fn new_thread_tokens(browser: &hearth_tests::Browser) -> (String, String) {
    let page = browser.visit("/b/pet-loss/new");
    let token = page.attrs("input[name=csrf_token]", "value").remove(0);
    let key = page.attrs("input[name=submission_key]", "value").remove(0);
    (token, key)
}

#[test]
fn cross_site_requests_are_refused_even_with_a_token() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let (token, key) = new_thread_tokens(&admin);
    let fields = [
        ("csrf_token", token.as_str()),
        ("submission_key", key.as_str()),
        ("title", "Hello"),
        ("body", "x"),
    ];
    admin
        .post_with_headers(
            "/b/pet-loss/new",
            &fields,
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .assert_status(403);
    admin
        .post_with_headers(
            "/b/pet-loss/new",
            &fields,
            &[("Origin", "https://evil.example")],
        )
        .assert_status(403);
    // What Chromium really sends for our own form under `Referrer-Policy: no-referrer`.
    let own_form = [("Origin", "null"), ("Sec-Fetch-Site", "same-origin")];
    admin
        .post_with_headers("/b/pet-loss/new", &fields, &own_form)
        .assert_redirect();
}

#[test]
fn a_visitor_form_needs_the_visitor_cookie() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    let page = browser.visit("/signin");
    let token = page.attrs("input[name=csrf_token]", "value").remove(0);
    let fields = [
        ("csrf_token", token.as_str()),
        ("username", "ana"),
        ("password", PASSWORD),
    ];
    // Another browser replaying the token without the cookie is refused.
    app.browser().post("/signin", &fields).assert_status(403);
    browser.post("/signin", &fields).assert_redirect();
}

#[test]
fn a_refused_form_shows_the_text_so_nothing_is_lost() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let page = admin.visit("/b/pet-loss/new");
    let key = page.attrs("input[name=submission_key]", "value").remove(0);
    let words = "Three paragraphs I wrote at 3 am and cannot write again.";
    let fields = [
        ("csrf_token", "stale-token"),
        ("submission_key", key.as_str()),
        ("title", "Tonight"),
        ("body", words),
    ];
    let reply = admin.post_with_headers(
        "/b/pet-loss/new",
        &fields,
        &[("Sec-Fetch-Site", "same-origin")],
    );
    reply.assert_status(403);
    assert_eq!(reply.texts("textarea#kept-text"), [words]);
    // Cross-site, nothing is echoed back: the page cannot be used to put words on our site.
    let cross = admin.post_with_headers(
        "/b/pet-loss/new",
        &fields,
        &[("Sec-Fetch-Site", "cross-site")],
    );
    cross.assert_status(403);
    assert_eq!(cross.count("textarea"), 0);
}

/// A visitor's token must be one this server signed: a value someone made up and planted in
/// the browser (with a matching form) proves nothing.
#[test]
fn a_visitor_token_the_server_did_not_make_is_refused() {
    let app = TestApp::new();
    app.member("ana", SiteRole::Member);
    let planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let browser = app.browser();
    browser.set_cookie("hearth_csrf", planted);
    let fields = [
        ("csrf_token", planted),
        ("username", "ana"),
        ("password", PASSWORD),
    ];
    browser.post("/signin", &fields).assert_status(403);
    assert_eq!(browser.cookie("hearth_session"), None);
    // The page then hands out a token of its own, which works.
    browser.sign_in("ana", PASSWORD).assert_redirect();
}

/// The `Origin` of a form must be the configured public address: a client's own `Host` or
/// forwarded headers cannot vouch for another origin.
#[test]
fn the_origin_is_checked_against_the_public_address_only() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let (token, key) = new_thread_tokens(&admin);
    let fields = [
        ("csrf_token", token.as_str()),
        ("submission_key", key.as_str()),
        ("title", "Hello"),
        ("body", "x"),
    ];
    for headers in [
        [
            ("Origin", "http://evil.example"),
            ("X-Forwarded-Host", "evil.example"),
        ],
        [
            ("Origin", "http://evil.example"),
            ("Forwarded", "host=evil.example"),
        ],
        [("Origin", "http://evil.example"), ("Host", "evil.example")],
    ] {
        let refused = admin.post_with_headers("/b/pet-loss/new", &fields, &headers);
        refused.assert_status(403);
        // Said plainly, with the address to use: reloading would not help.
        assert_eq!(refused.texts("h1"), ["This form came from another address"]);
        let address = format!(
            "accepted only from this site's own address ({})",
            app.base_url
        );
        assert!(
            refused.texts("main p").iter().any(|p| p.contains(&address)),
            "{}",
            refused.body
        );
    }
    assert_eq!(app.browser().visit("/b/pet-loss").count(".thread-item"), 0);
    // The site's own address as a browser writes it: capitals are the same origin.
    let own = app.base_url.replace("http://", "HTTP://");
    admin
        .post_with_headers("/b/pet-loss/new", &fields, &[("Origin", own.as_str())])
        .assert_redirect();
}

/// Our own form, sent from the site opened at another address than `public_url` (the browser
/// says `Sec-Fetch-Site: same-origin`): refused, with the words handed back.
#[test]
fn a_form_from_another_address_of_this_site_keeps_the_text() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let (token, key) = new_thread_tokens(&admin);
    let words = "Everything I wanted to say tonight.";
    let fields = [
        ("csrf_token", token.as_str()),
        ("submission_key", key.as_str()),
        ("title", "Tonight"),
        ("body", words),
    ];
    let port = app.base_url.rsplit(':').next().unwrap().to_owned();
    let other_address = format!("http://localhost:{port}");
    let refused = admin.post_with_headers(
        "/b/pet-loss/new",
        &fields,
        &[
            ("Origin", other_address.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    );
    refused.assert_status(403);
    assert_eq!(refused.texts("h1"), ["This form came from another address"]);
    assert_eq!(refused.texts("textarea#kept-text"), [words]);
    assert_eq!(app.browser().visit("/b/pet-loss").count(".thread-item"), 0);
}
