//! Search engines may index what helps people find a group, never members' stories: the
//! `search_engines` setting, `/robots.txt` and each page's `<meta name="robots">`.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;
use hearth_web::robots::SearchEngines;

fn robots_meta(app: &TestApp, path: &str) -> String {
    let page = app.browser().visit(path);
    assert_eq!(page.status, 200, "{path}");
    let robots = page.attrs("meta[name=robots]", "content");
    assert_eq!(robots.len(), 1, "{path} has one robots tag");
    let description = page.attrs("meta[name=description]", "content");
    assert!(
        description.len() == 1 && !description[0].trim().is_empty(),
        "{path} describes itself: {description:?}"
    );
    robots[0].clone()
}

#[test]
fn by_default_groups_can_be_found_but_threads_and_profiles_are_not_indexed() {
    let app = TestApp::new();
    app.group("pets").build();
    app.group("circle").private().build();
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "Missing Milo", "first words");
    // The directory and a group's front page as outsiders see it (its name, description and
    // facts) help people find a group.
    for path in ["/groups", "/b/circle", "/help"] {
        assert_eq!(robots_meta(&app, path), "index, follow", "{path}");
    }
    // A page listing threads' titles and their authors (a public group's page, the home page)
    // is members' words, as threads and profiles are.
    assert!(app.browser().visit("/b/pets").body.contains("Missing Milo"));
    for path in [
        "/",
        "/b/pets",
        thread.path().as_str(),
        "/u/ana",
        "/b/pets/meetings",
        "/signin",
    ] {
        assert_eq!(robots_meta(&app, path), "noindex, nofollow", "{path}");
    }
    let group = app.browser().visit("/b/pets");
    assert!(
        !group.attrs("meta[name=description]", "content")[0].contains("first words"),
        "no member's words in a description"
    );
    // An error page is never indexed either.
    let missing = app.browser().get("/t/999999-nothing");
    missing.assert_status(404);
    assert_eq!(
        missing.attrs("meta[name=robots]", "content"),
        ["noindex, nofollow"]
    );

    let robots = app.browser().get("/robots.txt");
    robots.assert_status(200);
    assert!(robots
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/plain"));
    let rules: Vec<&str> = robots.body.lines().collect();
    for rule in [
        "User-agent: *",
        "Allow: /groups$",
        "Allow: /b/",
        "Disallow: /b/*/",
        "Disallow: /",
    ] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
}

#[test]
fn an_operator_can_keep_everything_out_of_search_engines() {
    let app = TestApp::with_config(hearth_web::WebConfig {
        search_engines: SearchEngines::None,
        ..hearth_tests::test_config()
    });
    app.group("pets").build();
    app.group("circle").private().build();
    for path in ["/", "/groups", "/b/pets", "/b/circle", "/help"] {
        assert_eq!(robots_meta(&app, path), "noindex, nofollow", "{path}");
    }
    let robots = app.browser().get("/robots.txt");
    assert_eq!(robots.body, "User-agent: *\nDisallow: /\n");
}

#[test]
fn a_public_community_can_let_threads_be_indexed() {
    let app = TestApp::with_config(hearth_web::WebConfig {
        search_engines: SearchEngines::Public,
        ..hearth_tests::test_config()
    });
    app.group("pets").build();
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "Missing Milo", "first words");
    for path in [thread.path().as_str(), "/b/pets", "/", "/u/ana"] {
        assert_eq!(robots_meta(&app, path), "index, follow", "{path}");
    }
    assert_eq!(robots_meta(&app, "/signin"), "noindex, nofollow");
    let robots = app.browser().get("/robots.txt");
    assert!(robots.body.lines().any(|l| l == "Disallow: /settings"));
    assert!(!robots.body.lines().any(|l| l == "Disallow: /"));
}
