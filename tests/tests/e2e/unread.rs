//! What is new for a member: "3 new" on board pages (after reading, after others post, after a
//! moderator hides a post, never an awaiting one), `/unread` and what it keeps to itself,
//! "mark all read" per group, and a member's home; a visitor's home stays as it was.

use hearth_tests::{weekly_meeting, Browser, Page, TestApp, World};

/// The "3 new" link beside the thread titled `title` on a board page, as (text, href), if any.
fn new_link(page: &Page, title: &str) -> Option<(String, String)> {
    let html = page.html();
    let items = scraper::Selector::parse(".thread-item").unwrap();
    let heading = scraper::Selector::parse("h2 a").unwrap();
    let unread = scraper::Selector::parse("a.unread").unwrap();
    let item = html.select(&items).find(|item| {
        item.select(&heading)
            .next()
            .is_some_and(|a| a.text().collect::<String>().trim() == title)
    })?;
    item.select(&unread).next().map(|a| {
        // Its own words, without the ones only screen readers hear.
        let text: String = a
            .children()
            .filter_map(|node| node.value().as_text().map(|t| t.to_string()))
            .collect();
        let href = a.value().attr("href").unwrap_or_default().to_owned();
        (text, href)
    })
}

fn shown_words(link: &(String, String)) -> String {
    link.0.trim().to_owned()
}

/// The ids of the posts on a thread page, in order (from their permalinks).
fn post_ids(page: &Page) -> Vec<String> {
    page.attrs(".post .meta a[href^='/p/']", "href")
        .into_iter()
        .map(|href| href.trim_start_matches("/p/").to_owned())
        .collect()
}

fn unread_titles(browser: &Browser) -> Vec<String> {
    browser
        .visit("/unread")
        .texts(".unread-list .thread-item h2 a")
}

fn pets(app: &TestApp) -> World {
    app.group("pets")
        .facilitated_by("fay")
        .with_members(["ana", "ben"])
        .build()
}

#[test]
fn board_pages_count_what_is_new_to_the_reader() {
    let mut config = hearth_tests::test_config();
    // Members' first posts await approval: ben's reply below.
    config.posting.new_account_premod_posts = 1;
    let app = TestApp::with_config(config);
    let world = pets(&app);
    let (fay, ana, ben) = (
        world.browser("fay"),
        world.browser("ana"),
        world.browser("ben"),
    );
    let thread = world.start_thread("fay", "Cannot sleep", "It is 3 a.m. again");
    let path = thread.path();

    // Never opened: new as a whole, from its first post. Visitors see no markers.
    let (words, href) = new_link(&ana.visit("/b/pets"), "Cannot sleep").expect("new for ana");
    assert_eq!(words, "New");
    assert_eq!(href, format!("{path}#post-1"));
    assert_eq!(app.browser().visit("/b/pets").count("a.unread"), 0);

    // Read: nothing new.
    ana.visit(&path);
    assert_eq!(new_link(&ana.visit("/b/pets"), "Cannot sleep"), None);

    // Two replies: "2 new", linking to the first of them.
    fay.reply_to(&path, "I am here").assert_redirect();
    fay.reply_to(&path, "Try some warm milk").assert_redirect();
    let link = new_link(&ana.visit("/b/pets"), "Cannot sleep").expect("new replies");
    assert_eq!(shown_words(&link), "2 new");
    assert_eq!(link.1, format!("{path}#post-2"));

    // A moderator hides the first: it is not new any more, and reading starts after it.
    let page = fay.visit(&path);
    let first_reply = post_ids(&page)[1].clone();
    fay.decide(
        &page,
        &first_reply,
        "hide",
        &[("reason", "Off-topic for this group")],
    )
    .assert_redirect();
    let link = new_link(&ana.visit("/b/pets"), "Cannot sleep").expect("one left");
    assert_eq!(shown_words(&link), "1 new");
    assert_eq!(link.1, format!("{path}#post-3"));

    // A reply awaiting approval is not new.
    ben.reply_to(&path, "Me too, every night").assert_redirect();
    let link = new_link(&ana.visit("/b/pets"), "Cannot sleep").expect("still one");
    assert_eq!(shown_words(&link), "1 new");

    // Following the link reads the thread: nothing new.
    ana.visit(&link.1);
    assert_eq!(new_link(&ana.visit("/b/pets"), "Cannot sleep"), None);
}

#[test]
fn unread_lists_new_posts_in_the_members_groups_and_nothing_else() {
    let app = TestApp::new();
    let world = pets(&app);
    let circle = app
        .group("circle")
        .named("Quiet circle")
        .private()
        .facilitated_by("cal")
        .joined_by(["ana"])
        .build();
    let closed = app.group("closed").private().facilitated_by("dee").build();
    let (fay, ana, cal) = (
        world.browser("fay"),
        world.browser("ana"),
        circle.browser("cal"),
    );
    let in_pets = world
        .start_thread("fay", "Missing Milo", "He ran off today")
        .path();
    let in_circle = circle
        .start_thread("cal", "Only for the circle", "circle words stay here")
        .path();
    closed.start_thread("dee", "A closed door", "closed words stay here");
    let mut titles = unread_titles(&ana);
    titles.sort();
    assert_eq!(titles, ["Missing Milo", "Only for the circle"]);

    // Read, then a reply a moderator hides: nothing new, and nothing of it shown.
    ana.visit(&in_pets);
    fay.reply_to(&in_pets, "hidden words").assert_redirect();
    let page = fay.visit(&in_pets);
    let reply = post_ids(&page)[1].clone();
    fay.decide(
        &page,
        &reply,
        "hide",
        &[("reason", "Off-topic for this group")],
    )
    .assert_redirect();
    let unread = ana.visit("/unread");
    assert_eq!(
        unread.texts(".unread-list .thread-item h2 a"),
        ["Only for the circle"]
    );
    assert!(!unread.body.contains("hidden words"));

    // Out of the private group, her marker there shows nothing of it, however much is new.
    ana.visit(&in_circle);
    cal.reply_to(&in_circle, "after she left").assert_redirect();
    assert_eq!(unread_titles(&ana), ["Only for the circle"]);
    cal.fill(
        "/b/circle/members",
        "/b/circle/members/remove",
        &[("username", "ana"), ("reason", "you asked us to")],
    )
    .assert_redirect();
    cal.reply_to(&in_circle, "more circle words")
        .assert_redirect();
    let unread = ana.visit("/unread");
    for secret in [
        "Only for the circle",
        "Quiet circle",
        "circle words",
        "A closed door",
        "closed words",
    ] {
        assert!(!unread.body.contains(secret), "{secret} leaked");
    }
    assert_eq!(unread.count(".unread-list .thread-item"), 0);
    // Nor is it offered to mark read, nor can she: it is not there for her.
    assert_eq!(unread.count("form[action='/b/circle/read']"), 0);
    let token = unread.attrs("input[name=csrf_token]", "value").remove(0);
    ana.post("/b/circle/read", &[("csrf_token", &token)])
        .assert_status(404);

    // Visitors have no unread page.
    app.browser().get("/unread").assert_status(401);
}

#[test]
fn mark_all_read_clears_one_group_until_someone_posts_again() {
    let app = TestApp::new();
    let world = pets(&app);
    let other = app
        .group("other")
        .facilitated_by("olga")
        .joined_by(["ana"])
        .build();
    let ana = world.browser("ana");
    let milo = world
        .start_thread("fay", "Missing Milo", "He ran off")
        .path();
    world.start_thread("fay", "Finding a vet", "Any tips?");
    other.start_thread("olga", "Elsewhere", "In the other group");
    assert_eq!(unread_titles(&ana).len(), 3);

    // From /unread, back to /unread.
    let page = ana.visit("/unread");
    let back = ana
        .submit(&page, "/b/pets/read", &[("next", "/unread")])
        .assert_redirect();
    assert_eq!(back, "/unread");
    assert_eq!(unread_titles(&ana), ["Elsewhere"]);

    // From the group's page, back to it.
    let page = ana.visit("/b/other");
    let back = ana
        .submit(&page, "/b/other/read", &[("next", "/b/other")])
        .assert_redirect();
    assert_eq!(back, "/b/other");
    let unread = ana.visit("/unread");
    assert_eq!(unread.count(".unread-list .thread-item"), 0);
    assert!(unread.body.contains("all caught up"));

    // A new reply is new again.
    world
        .browser("fay")
        .reply_to(&milo, "Found him!")
        .assert_redirect();
    assert_eq!(unread_titles(&ana), ["Missing Milo"]);

    // Without the form's token nothing is marked.
    ana.post("/b/pets/read", &[("next", "/unread")])
        .assert_status(403);
    assert_eq!(unread_titles(&ana), ["Missing Milo"]);
}

#[test]
fn a_members_home_shows_their_groups_with_new_threads_and_their_next_meeting() {
    let app = TestApp::new();
    let world = pets(&app);
    let ana = world.browser("ana");
    world.start_thread("fay", "Missing Milo", "He ran off");
    let vet = world.start_thread("fay", "Finding a vet", "Any tips?");
    app.group("elsewhere").build();
    // She watches the vet thread (through the core: the page's control is not here yet).
    {
        use hearth_core::{accounts::actors, accounts::members, forum::threads, ids::ThreadId};
        let conn = &mut *app.conn();
        let member = members::by_username(conn, "ana").unwrap();
        let member = actors::actor_for(conn, member).unwrap();
        let id = ThreadId(vet.thread_id().parse().unwrap());
        let (board, thread) = threads::by_id_for(conn, &member.actor(), id).unwrap();
        hearth_core::notifications::levels::set_for_thread(
            conn,
            &member,
            &board,
            &thread,
            hearth_core::notifications::Level::Watching,
        )
        .unwrap();
    }
    let next_week = (chrono::Utc::now() + chrono::TimeDelta::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let fields = weekly_meeting("Sunday circle", "", &next_week, "19:00", "UTC");
    world
        .browser("fay")
        .fill("/b/pets/meetings/new", "/b/pets/meetings/new", &fields)
        .assert_redirect();

    let home = ana.visit("/");
    assert_eq!(home.texts("h1"), ["Your home"]);
    assert_eq!(home.texts(".group-news h3"), ["Board pets"]);
    assert_eq!(
        home.texts(".group-news .unread-count"),
        ["2 threads with new posts"]
    );
    let meetings = home.texts(".next-meetings li");
    assert_eq!(meetings.len(), 1, "{meetings:?}");
    assert!(meetings[0].contains("Sunday circle"), "{meetings:?}");
    let watched = home.texts(".home-watched li");
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert!(watched[0].starts_with("Finding a vet"), "{watched:?}");
    assert_eq!(home.count(".home-watched a.unread"), 1, "new to her");
    // The groups she may see are still listed, hers and others.
    assert_eq!(
        home.count(".board-list .board-item h3 a[href='/b/elsewhere']"),
        1
    );

    // Marked read from home: nothing new there.
    let back = ana
        .submit(&home, "/b/pets/read", &[("next", "/")])
        .assert_redirect();
    assert_eq!(back, "/");
    let home = ana.visit("/");
    assert_eq!(home.count(".group-news .unread-count"), 0);
    assert_eq!(home.texts(".group-news .meta"), ["Nothing new"]);

    // A visitor's home is the welcome and the directory, as before.
    let visitor = app.browser().visit("/");
    assert!(visitor.texts("h1")[0].starts_with("Welcome to"));
    assert_eq!(visitor.count(".group-news"), 0);
    assert_eq!(visitor.count(".next-meetings"), 0);
    assert_eq!(visitor.count("a[href='/unread']"), 0);
    // The groups as the directory's cards.
    assert_eq!(visitor.count(".group-item h2 a[href='/b/pets']"), 1);
}

/// A reading waits in the server for a second at most, then reaches the database by itself,
/// with no listing visited to write it.
#[test]
fn a_reading_is_written_within_seconds_without_a_listing() {
    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    #[derive(QueryableByName)]
    struct Marker {
        #[diesel(sql_type = Integer)]
        last_read_position: i32,
    }

    let app = TestApp::new();
    let world = pets(&app);
    let thread = world.start_thread("fay", "Cannot sleep", "It is 3 a.m. again");
    let ana = world.browser("ana");
    ana.visit(&thread.path());
    let ana_id = hearth_core::accounts::members::by_username(&mut app.conn(), "ana")
        .unwrap()
        .id;
    let query = format!(
        "SELECT last_read_position FROM thread_reads WHERE thread_id = {} AND member_id = {ana_id}",
        thread.thread_id()
    );
    let marker = || -> Option<i32> {
        diesel::sql_query(&query)
            .get_result::<Marker>(&mut *app.conn())
            .optional()
            .unwrap()
            .map(|m| m.last_read_position)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while marker().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(marker(), Some(1), "ana's marker is in the database");
}
