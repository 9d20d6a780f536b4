use hearth_core::accounts::setup;
use hearth_tests::{TestApp, PASSWORD};

#[test]
fn the_setup_link_creates_the_first_admin_once() {
    let app = TestApp::new();
    let token = setup::issue_token_if_needed(&mut app.conn())
        .unwrap()
        .expect("no admin yet, so a token");
    let path = format!("/setup/{token}");
    let browser = app.browser();
    let reply = browser.fill(
        &path,
        &path,
        &[
            ("username", "ada"),
            ("password", PASSWORD),
            ("time_zone", "UTC"),
        ],
    );
    assert_eq!(reply.assert_redirect(), "/recovery-codes?next=/admin");
    // The first administrator is shown their recovery codes once, then goes on to /admin.
    let codes = browser.follow(reply);
    assert_eq!(codes.count(".recovery-codes code"), 10, "{}", codes.body);
    assert_eq!(codes.attrs("main a.button", "href"), ["/admin"]);
    let admin_page = browser.visit("/admin");
    admin_page.assert_status(200);
    assert_eq!(admin_page.texts("h1"), ["Administration"]);
    // The link is spent, and no new one is issued now that an admin exists.
    app.browser().get(&path).assert_status(404);
    assert_eq!(setup::issue_token_if_needed(&mut app.conn()).unwrap(), None);
}

#[test]
fn a_wrong_setup_token_is_not_found() {
    let app = TestApp::new();
    setup::issue_token_if_needed(&mut app.conn()).unwrap();
    app.browser().get("/setup/not-the-token").assert_status(404);
}
