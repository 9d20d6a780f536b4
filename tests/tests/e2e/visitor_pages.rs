//! Visitors' pages are kept between writes; every change reaches the next visitor at once.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

/// Visitors' pages are kept between writes (`visitor_pages`): whatever changes, the next
/// visitor sees it at once, never the page as it was.
#[test]
fn visitors_see_every_change_at_once() {
    let app = TestApp::new();
    let world = app.group("pets").facilitated_by("fay").build();
    let fay = world.browser("fay");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "Missing Milo", "first words");
    let path = thread.path();
    let visitor = app.browser();
    // Seen twice, so the second answer may come from what was kept.
    for _ in 0..2 {
        assert_eq!(visitor.visit(&path).count(".post"), 1);
        assert!(visitor.visit("/b/pets").texts(".thread-item .meta")[0].contains("0 replies"));
        // The visitor's home shows groups, not threads (issue 14): the group page does.
        assert!(visitor.visit("/b/pets").body.contains("Missing Milo"));
    }
    ana.reply_to(&path, "still looking for him")
        .assert_redirect();
    assert!(visitor.visit(&path).body.contains("still looking for him"));
    assert!(visitor.visit("/b/pets").texts(".thread-item .meta")[0].contains("1 reply"));

    // A moderator's decision reaches visitors on their next page.
    let page = fay.visit(&path);
    let reply_id = page.attrs(".post .meta a[href^='/p/']", "href")[1]
        .trim_start_matches("/p/")
        .to_owned();
    fay.decide(
        &page,
        &reply_id,
        "hide",
        &[("reason", "Off topic for this group")],
    )
    .assert_redirect();
    let seen = visitor.visit(&path);
    assert!(!seen.body.contains("still looking for him"));
    assert_eq!(
        seen.texts(".post-deleted"),
        ["This post was hidden by the moderators."]
    );
    assert!(visitor.visit("/b/pets").texts(".thread-item .meta")[0].contains("0 replies"));

    // So do a new thread, a lock and a renamed author.
    ana.start_thread("pets", "Found a photo", "of Milo").path();
    assert_eq!(
        visitor.visit("/b/pets").texts(".thread-item h2 a"),
        ["Found a photo", "Missing Milo"]
    );
    let id = thread.thread_id();
    fay.fill(
        &path,
        &format!("/t/{id}/moderate"),
        &[("action", "lock"), ("reason", "a break")],
    )
    .assert_redirect();
    assert!(visitor.visit(&path).texts("p.notice")[0].contains("Locked by a facilitator: a break"));
    ana.fill(
        "/settings",
        "/settings",
        &[
            ("display_name", "Ana R."),
            ("pronouns", ""),
            ("bio", ""),
            ("time_zone", "UTC"),
        ],
    )
    .assert_redirect();
    assert!(visitor.visit(&path).texts(".post-header p")[0].contains("Ana R."));
    // None of it set a cookie or forbade caching for the visitor's browser: plain reading.
    let reply = visitor.get("/b/pets");
    assert_eq!(reply.header("set-cookie"), None);
    assert_eq!(reply.header("cache-control"), None);
}

/// Renames a thread behind the server's back (it cannot know), so a visitor who still sees the
/// old title was served the page kept for visitors.
fn rename_unseen(app: &TestApp, thread_id: &str, title: &str) {
    use diesel::RunQueryDsl;
    let sql = format!("UPDATE threads SET title = '{title}' WHERE id = {thread_id}");
    diesel::sql_query(sql).execute(&mut *app.conn()).unwrap();
}

/// Only what can change visitors' pages makes them out of date: a visitor's failed sign-in (the
/// audit found it cleared them), a refused registration, a member signing in and out do not.
#[test]
fn failed_forms_and_sign_ins_keep_the_visitors_pages() {
    let app = TestApp::new();
    app.group("pets").build();
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "Missing Milo", "first words");
    let (path, id) = (thread.path(), thread.thread_id());
    let visitor = app.browser();
    assert_eq!(visitor.visit(&path).texts("h1"), ["Missing Milo"]);
    rename_unseen(&app, &id, "Renamed quietly");
    // PostgreSQL keeps nothing (other nodes may write): every page is read afresh.
    let kept_title = if app.is_postgres() {
        "Renamed quietly"
    } else {
        "Missing Milo"
    };
    assert_eq!(visitor.visit(&path).texts("h1"), [kept_title]);

    let stranger = app.browser();
    stranger
        .sign_in("ana", "not her password at all")
        .assert_status(401);
    stranger
        .sign_in("nobody", "not anyone's password")
        .assert_status(401);
    stranger.register("x", "short").assert_status(422);
    let bea = app.signed_in("bea", SiteRole::Member);
    bea.fill("/", "/signout", &[]).assert_redirect();
    assert_eq!(visitor.visit(&path).texts("h1"), [kept_title]);

    // A reply is a write visitors see: the next page is read afresh, with the new title.
    ana.reply_to(&path, "still looking for him")
        .assert_redirect();
    let page = visitor.visit(&path);
    assert_eq!(page.texts("h1"), ["Renamed quietly"]);
    assert!(page.body.contains("still looking for him"));
}

/// A visitor's page depends on their cookies (the zone its times are written in), so it says
/// `Vary: Cookie`: a shared cache in front of Hearth keeps one copy per cookie, never handing
/// Toronto's page to someone else. Kept pages say it too; static files, which depend on no
/// cookie, stay shareable as they are.
#[test]
fn visitors_pages_vary_by_cookie_and_static_files_do_not() {
    let app = TestApp::new();
    let world = app.group("night").with_members(["mia"]).build();
    let thread = world.start_thread("mia", "Cannot sleep", "The nights are long.");
    let path = thread.path();
    let toronto = app.browser();
    toronto.set_cookie("hearth_zone", "America/Toronto");
    let varies = |reply: &hearth_tests::Reply| {
        reply
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case("cookie"))
    };
    // Twice each: the second answer may be a kept page.
    for _ in 0..2 {
        for visitor in [&toronto, &app.browser()] {
            for page in ["/", "/groups", "/b/night", path.as_str()] {
                let reply = visitor.get(page);
                reply.assert_status(200);
                assert!(varies(&reply), "{page}: {:?}", reply.headers);
                assert_eq!(reply.header("cache-control"), None, "{page}");
            }
        }
    }
    // Signed in: not stored at all, and varying all the same.
    let mia = world.browser("mia");
    let reply = mia.get(&path);
    assert!(varies(&reply));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // A page that is not found varies too (it has the header a visitor's zone changes).
    assert!(varies(&app.browser().get("/no-such-page")));
    let css = app.browser().get("/static/hearth.css");
    assert!(!varies(&css), "{:?}", css.headers);
    assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));
}
