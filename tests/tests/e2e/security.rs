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

#[test]
fn cross_site_requests_are_refused_even_with_a_token() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let page = admin.visit("/b/pet-loss/new");
    let token = page.attrs("input[name=csrf_token]", "value").remove(0);
    let key = page.attrs("input[name=submission_key]", "value").remove(0);
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
fn every_response_carries_the_security_headers() {
    let app = TestApp::new();
    let browser = app.browser();
    for path in ["/", "/signin", "/no-such-page", "/static/hearth.css"] {
        let reply = browser.get(path);
        let csp = reply.header("content-security-policy").unwrap_or_default();
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP {csp:?} lacks {directive}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
    }
}

#[test]
fn error_pages_say_what_to_do_next() {
    let app = TestApp::new();
    let missing = app.browser().get("/b/no-such-board");
    missing.assert_status(404);
    assert_eq!(missing.texts("h1"), ["We could not find that page"]);
    assert_eq!(missing.attrs("main a[href='/']", "href"), ["/"]);
    let needs_sign_in = app.browser().get("/settings");
    needs_sign_in.assert_status(401);
    assert!(needs_sign_in.attrs("main a.button", "href")[0].starts_with("/signin?next=/settings"));
}

/// Script-capable markup anywhere in a page's member-written parts.
fn dangerous_markup(page: &hearth_tests::Page) -> Vec<String> {
    let html = page.html();
    let mut found = Vec::new();
    for element in html
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let name = element.value().name();
        if [
            "script", "iframe", "object", "embed", "svg", "math", "img", "style",
        ]
        .contains(&name)
        {
            found.push(format!("<{name}>"));
        }
        for (attribute, value) in element.value().attrs() {
            let lowered = value.to_ascii_lowercase();
            if attribute.starts_with("on") || lowered.trim_start().starts_with("javascript:") {
                found.push(format!("{name}[{attribute}={value}]"));
            }
        }
    }
    found
}

#[test]
fn script_in_posts_titles_and_names_never_reaches_the_page() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let mallory = app.signed_in("mallory", SiteRole::Member);
    mallory
        .fill(
            "/settings",
            "/settings",
            &[
                ("display_name", "<img src=x onerror=alert(1)>"),
                ("bio", "<script>alert(1)</script>"),
                ("time_zone", "UTC"),
            ],
        )
        .assert_redirect();
    let body = "<script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n<a href=\"#\" onclick=\"alert(1)\">x</a>\n\n![x](https://evil.example/pixel.png)";
    let thread = mallory.start_thread("pet-loss", "<svg onload=alert(1)>", body);
    let pages = [
        thread.url.clone(),
        format!("{}/b/pet-loss", app.base_url),
        format!("{}/u/mallory", app.base_url),
        format!("{}/", app.base_url),
    ];
    for url in pages {
        let page = admin.visit(&url);
        page.assert_status(200);
        let base_script_free: Vec<String> = dangerous_markup(&page);
        assert!(base_script_free.is_empty(), "{url}: {base_script_free:?}");
    }
    // The text is shown, harmlessly, as text.
    assert_eq!(thread.texts("h1"), ["<svg onload=alert(1)>"]);
    // The external image became a plain link: the reader's browser fetches nothing.
    assert!(thread
        .attrs(".post-body a", "href")
        .contains(&"https://evil.example/pixel.png".to_owned()));
}

#[test]
fn a_server_failure_is_a_page_that_says_so() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    // Break the database under the running server.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("DROP TABLE post_revisions"),
        &mut *app.conn(),
    )
    .unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query("ALTER TABLE boards RENAME TO boards_gone"),
        &mut *app.conn(),
    )
    .unwrap();
    let reply = app.browser().get("/");
    reply.assert_status(500);
    assert_eq!(reply.texts("h1"), ["Something went wrong on our side"]);
    assert!(
        !reply.body.contains("boards"),
        "no database detail reaches the reader"
    );
}

#[test]
fn forbidden_pages_explain_why() {
    let app = TestApp::new();
    let member = app.signed_in("ana", SiteRole::Member);
    let reply = member.get("/admin");
    reply.assert_status(403);
    assert_eq!(reply.texts("h1"), ["You can't do that here"]);
    assert_eq!(
        reply.texts("main p")[0],
        "Only site administrators can do that."
    );
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
