//! Error pages (not found, sign-in needed, forbidden, server failure) say what to do next.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

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

/// An error page replaces the page a handler answered, not what the layers said about it: a
/// signed-in member's error page is no more cacheable than their pages.
#[test]
fn an_error_page_keeps_the_caching_rule_of_the_page_it_replaces() {
    let app = TestApp::new();
    let member = app.signed_in("ana", SiteRole::Member);
    let page = member.get("/");
    page.assert_status(200);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let missing = member.get("/b/no-such-board");
    missing.assert_status(404);
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    assert!(missing.texts("h1")[0].contains("could not find"));
}
