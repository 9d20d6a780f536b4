use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

#[test]
fn an_admin_creates_a_board_and_it_is_listed_on_the_home_page() {
    let app = TestApp::new();
    let admin = app.signed_in("ada", SiteRole::Admin);
    let board = admin.create_board("pet-loss", "Pet loss");
    assert_eq!(board.texts("h1"), ["Pet loss"]);
    let home = app.browser().visit("/");
    assert_eq!(home.texts(".board-item h2"), ["Pet loss"]);
    assert!(home.texts(".board-item .meta")[0].starts_with("0 threads"));
}

#[test]
fn a_board_address_must_be_unique_and_well_formed() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let taken = admin.fill(
        "/admin/boards/new",
        "/admin/boards/new",
        &[("slug", "pet-loss"), ("name", "Again")],
    );
    taken.assert_status(422);
    assert!(taken.texts("#slug-error")[0].contains("already uses"));
    assert_eq!(taken.attrs("#name", "value"), ["Again"]);
    let malformed = admin.fill(
        "/admin/boards/new",
        "/admin/boards/new",
        &[("slug", "Pet Loss!"), ("name", "X")],
    );
    malformed.assert_status(422);
}

#[test]
fn members_cannot_create_boards() {
    let app = TestApp::new();
    let member = app.signed_in("ana", SiteRole::Member);
    member.get("/admin/boards/new").assert_status(403);
    let home = member.visit("/");
    let token = home.attrs("input[name=csrf_token]", "value").remove(0);
    let reply = member.post(
        "/admin/boards/new",
        &[("csrf_token", &token), ("slug", "mine"), ("name", "Mine")],
    );
    reply.assert_status(403);
    app.browser().get("/b/mine").assert_status(404);
}

#[test]
fn home_shows_thread_counts_and_the_latest_thread() {
    let app = TestApp::new();
    let admin = app.with_board("moving");
    admin.start_thread("moving", "New in Leeds", "Hello!");
    admin.start_thread("moving", "Finding a GP", "Any tips?");
    let home = app.browser().visit("/");
    let meta = &home.texts(".board-item .meta")[0];
    assert!(meta.starts_with("2 threads"), "{meta}");
    assert!(meta.contains("in Finding a GP"), "{meta}");
}

#[test]
fn board_pages_list_threads_by_latest_activity_and_page_on() {
    let app = TestApp::new();
    let admin = app.with_board("grief");
    for n in 1..=32 {
        admin.start_thread("grief", &format!("Thread number {n}"), "body");
    }
    // A cursor before the start of time has nothing after it.
    let none_after = admin.visit("/b/grief?after=0.0.0");
    assert_eq!(none_after.count(".thread-item"), 0);
    // A reply moves an old thread to the top.
    let board = admin.visit("/b/grief");
    let old_thread = board
        .attrs(".thread-item h2 a", "href")
        .last()
        .unwrap()
        .clone();
    admin
        .reply_to(&old_thread, "bumping this")
        .assert_redirect();
    let board = admin.visit("/b/grief");
    let titles = board.texts(".thread-item h2 a");
    assert_eq!(titles.len(), 30);
    assert_eq!(titles[0], "Thread number 3");
    assert_eq!(titles[1], "Thread number 32");
    let older = board.attrs("a[rel=next]", "href").remove(0);
    let page_two = admin.visit(&older);
    assert_eq!(
        page_two.texts(".thread-item h2 a"),
        ["Thread number 2", "Thread number 1"]
    );
    assert_eq!(page_two.count("a[rel=next]"), 0);
}

#[test]
fn a_malformed_page_cursor_is_not_found() {
    let app = TestApp::new();
    app.with_board("grief");
    app.browser()
        .get("/b/grief?after=nonsense")
        .assert_status(404);
}
