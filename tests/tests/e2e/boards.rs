use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

#[test]
fn an_admin_creates_a_board_and_it_is_listed_on_the_home_page() {
    let app = TestApp::new();
    let admin = app.signed_in("ada", SiteRole::Admin);
    let board = admin.create_board("pet-loss", "Pet loss");
    assert_eq!(board.texts("h1"), ["Pet loss"]);
    // A visitor's home shows it as the directory's card; a member's home lists it with its
    // threads.
    let home = app.browser().visit("/");
    assert_eq!(home.texts(".group-item h2"), ["Pet loss"]);
    assert_eq!(
        app.browser().visit("/groups").texts(".group-item h2"),
        home.texts(".group-item h2"),
        "the same card"
    );
    let home = admin.visit("/");
    assert_eq!(home.texts(".board-item h3"), ["Pet loss"]);
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
    let home = app.signed_in("ana", SiteRole::Member).visit("/");
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

/// The thread row's one line of the opening post: plain text cut at a character (never markup),
/// escaped, following an edit, and gone once the opening post is deleted.
#[test]
fn a_thread_row_shows_a_plain_text_excerpt_of_its_opening_post() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let ana = app.signed_in("ana", SiteRole::Member);
    let body = format!(
        "**Milo** was my <b onclick=\"x()\">best</b> friend & [my](https://example.org) shadow.\n\n{}",
        "We walked every morning by the river, whatever the weather. ".repeat(5)
    );
    let thread = ana.start_thread("pets", "Missing Milo", &body);
    let path = thread.path();
    let excerpt_of = |page: &hearth_tests::Page| -> (String, usize) {
        let html = page.html();
        let selector = scraper::Selector::parse(".thread-item .excerpt").unwrap();
        let found = html.select(&selector).next().expect("an excerpt");
        (
            found.text().collect::<String>(),
            found.children().filter(|c| c.value().is_element()).count(),
        )
    };
    let board = app.browser().visit("/b/pets");
    let (text, elements) = excerpt_of(&board);
    assert_eq!(elements, 0, "plain text only");
    assert!(
        text.starts_with("Milo was my <b onclick=\"x()\">best</b> friend & my shadow. We walked"),
        "{text}"
    );
    assert!(text.ends_with('…'), "{text}");
    assert!(text.chars().count() <= 141, "{}", text.chars().count());
    // Escaped: the raw tag is text, in the HTML as &lt;b.
    assert!(board.body.contains("&lt;b onclick="), "escaped");
    assert_eq!(board.count(".thread-item .excerpt b"), 0);

    // An edit of the opening post is the new excerpt.
    let page = ana.visit(&path);
    let edit = page.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    ana.fill(&edit, &edit, &[("body", "Milo, fourteen years.")])
        .assert_redirect();
    assert_eq!(
        excerpt_of(&app.browser().visit("/b/pets")).0,
        "Milo, fourteen years."
    );

    // Deleted by its author (a reply keeps the thread): no words of it remain on the list.
    admin
        .reply_to(&path, "We are here with you.")
        .assert_redirect();
    let delete = edit.replace("/edit", "/delete");
    ana.fill(&delete, &delete, &[]).assert_redirect();
    let board = app.browser().visit("/b/pets");
    assert_eq!(board.texts(".thread-item h2 a"), ["Missing Milo"]);
    assert_eq!(board.count(".thread-item .excerpt"), 0);
    assert!(!board.body.contains("fourteen years"));
}

/// A brand-new site: its admin is shown how to begin, a visitor sees a welcome and nothing odd.
#[test]
fn a_brand_new_site_offers_its_admin_the_first_group_and_welcomes_visitors() {
    let app = TestApp::new();
    let admin = app.signed_in("ada", SiteRole::Admin);
    let home = admin.visit("/");
    assert_eq!(
        home.attrs(".first-run a.button", "href"),
        ["/admin/boards/new"]
    );
    assert_eq!(
        home.texts(".first-run a.button"),
        ["Create the first group"]
    );
    let visitor = app.browser().visit("/");
    visitor.assert_status(200);
    assert_eq!(visitor.count(".first-run"), 0);
    assert!(visitor.texts("h1")[0].starts_with("Welcome to"));
    assert_eq!(
        visitor.attrs("form[action='/groups'] input[type=search]", "name"),
        ["q"]
    );
    assert!(!visitor.body.contains("Create the first"));
    let member = app.signed_in("ana", SiteRole::Member).visit("/");
    assert_eq!(member.count(".first-run"), 0);
    // Once a group exists, the hint is gone.
    admin.create_board("pet-loss", "Pet loss");
    assert_eq!(admin.visit("/").count(".first-run"), 0);
    assert_eq!(
        app.browser().visit("/").texts(".group-item h2 a"),
        ["Pet loss"]
    );
}
