//! Community health over HTTP: the dashboard and the unanswered lane for a facilitator (their
//! group only, not even another group's name), the staff (every group), a member (404 on
//! both) and a visitor (asked to sign in); charts with their tables; a first post leaving the
//! lane once someone else answers it.

use hearth_tests::{Page, TestApp, World};

/// "grief", a private group facilitated by fran with member joan; "pets", facilitated by paul
/// with member olga.
fn two_groups(app: &TestApp) -> (World, World) {
    let grief = app
        .group("grief")
        .named("Grief circle")
        .private()
        .facilitated_by("fran")
        .with_members(["joan"])
        .build();
    let pets = app
        .group("pets")
        .named("Pet loss")
        .facilitated_by("paul")
        .with_members(["olga"])
        .build();
    (grief, pets)
}

fn waiting_titles(page: &Page) -> Vec<String> {
    page.texts(".unanswered-entry h2")
}

fn facts(page: &Page) -> Vec<String> {
    page.texts(".health-facts strong")
}

#[test]
fn a_facilitator_sees_their_groups_figures_and_waiting_first_posts_only() {
    let app = TestApp::new();
    let (grief, pets) = two_groups(&app);
    let joan_thread = grief.start_thread("joan", "The house is so quiet", "Since March.");
    pets.start_thread("olga", "Our old cat Pixel", "Seventeen years.");
    let fran = grief.browser("fran");

    let health = fran.visit("/moderation/health");
    health.assert_status(200);
    assert_eq!(
        facts(&health)[0],
        "1 first post is waiting for a reply, for less than a minute."
    );
    assert_eq!(health.texts("h1"), ["Community health"]);
    // Which first post waits, named and linked where the count is.
    assert_eq!(
        health.texts(".health-facts .health-waiting a"),
        ["The house is so quiet"]
    );
    assert_eq!(
        health.attrs(".health-waiting a", "href"),
        [joan_thread.path()]
    );
    // Two charts, each an image with a title, each drawn from a table beside it.
    assert_eq!(health.count("svg[role='img'] > title"), 2);
    assert_eq!(health.count(".health-table table"), 2);
    let rows = health.texts(".health-table table tbody tr");
    assert_eq!(rows.len(), 60, "30 days in each table");
    // Today's row of the posts table: joan's first post.
    assert!(rows[0].ends_with('1'), "{rows:?}");
    assert_eq!(
        health.count("section[aria-labelledby='posts-heading'] .chart-bar"),
        1,
        "one day with posts, one bar"
    );
    // Nothing of pets: not its name, its thread or its numbers.
    for leak in ["Pet loss", "Our old cat", "pets"] {
        assert!(!health.body.contains(leak), "{leak} on fran's dashboard");
    }
    fran.get("/moderation/health?group=pets").assert_status(404);
    fran.get("/moderation/health?group=no-such-group")
        .assert_status(404);

    // The 90-day view is a link; the page says which one is shown.
    let longer = fran.visit(&health.attrs(".health-window a", "href")[0]);
    assert_eq!(longer.texts(".health-window [aria-current]"), ["90 days"]);
    assert_eq!(longer.texts(".health-table table tbody tr").len(), 180);

    let lane = fran.visit("/moderation/unanswered");
    lane.assert_status(200);
    assert_eq!(waiting_titles(&lane), ["The house is so quiet"]);
    let thread = joan_thread.path();
    assert_eq!(
        lane.attrs(".unanswered-entry a.button", "href"),
        [format!("{thread}#reply")]
    );
    assert!(lane.texts(".unanswered-entry .meta")[0].contains("Grief circle"));
    assert!(!lane.body.contains("Pixel") && !lane.body.contains("Pet loss"));

    // The queue's header leads to both pages.
    let queue = fran.visit("/review");
    let links = queue.attrs(".queue-links a", "href");
    assert!(
        links.contains(&"/moderation/unanswered".to_owned()),
        "{links:?}"
    );
    assert!(
        links.contains(&"/moderation/health".to_owned()),
        "{links:?}"
    );

    // joan answering herself changes nothing; fran's reply takes the post out of the lane.
    grief
        .browser("joan")
        .reply_to(&thread, "Still quiet.")
        .assert_redirect();
    assert_eq!(
        waiting_titles(&fran.visit("/moderation/unanswered")).len(),
        1
    );
    fran.reply_to(&thread, "I'm here, Joan.").assert_redirect();
    let lane = fran.visit("/moderation/unanswered");
    assert!(waiting_titles(&lane).is_empty());
    let health = fran.visit("/moderation/health");
    assert_eq!(facts(&health)[0], "No first post is waiting for a reply.");
    assert_eq!(health.count(".health-waiting"), 0);
    assert!(health.texts("#replies-heading + p")[0]
        .starts_with("Of the 1 first post of the last 30 days, 1 has a reply from someone else"));
}

#[test]
fn the_staff_see_every_group_and_a_member_or_visitor_neither_page() {
    let app = TestApp::new();
    let (grief, pets) = two_groups(&app);
    grief.start_thread("joan", "The house is so quiet", "Since March.");
    pets.start_thread("olga", "Our old cat Pixel", "Seventeen years.");

    let admin = grief.admin.clone();
    let health = admin.visit("/moderation/health");
    assert_eq!(
        facts(&health)[0],
        "2 first posts are waiting for a reply, the oldest for less than a minute."
    );
    assert_eq!(
        health.texts(".lead")[0],
        "The whole site, over the last 30 days."
    );
    // Both named, the longest waiting first, each with its group.
    assert_eq!(
        health.texts(".health-waiting a"),
        ["The house is so quiet", "Our old cat Pixel"]
    );
    let meta = health.texts(".health-waiting .meta");
    assert!(
        meta[0].ends_with("Grief circle") && meta[1].ends_with("Pet loss"),
        "{meta:?}"
    );
    let groups: Vec<String> = health.texts(".health-groups h3 a");
    assert_eq!(groups, ["Grief circle", "Pet loss"]);
    let one = admin.visit(&health.attrs(".health-groups h3 a", "href")[1]);
    assert_eq!(one.texts("h1"), ["Community health: Pet loss"]);
    assert_eq!(one.texts(".health-waiting a"), ["Our old cat Pixel"]);
    assert_eq!(
        facts(&one)[0],
        "1 first post is waiting for a reply, for less than a minute."
    );
    let lane = admin.visit("/moderation/unanswered");
    assert_eq!(
        waiting_titles(&lane),
        ["The house is so quiet", "Our old cat Pixel"]
    );
    // The admin page leads here too.
    let links = admin.visit("/admin").attrs("main a", "href");
    assert!(
        links.contains(&"/moderation/health".to_owned()),
        "{links:?}"
    );

    // paul, pets' facilitator, sees nothing of the private grief.
    let paul = pets.browser("paul");
    let lane = paul.visit("/moderation/unanswered");
    assert_eq!(waiting_titles(&lane), ["Our old cat Pixel"]);
    let health = paul.visit("/moderation/health");
    assert!(!health.body.contains("Grief circle") && !health.body.contains("quiet"));
    paul.get("/moderation/health?group=grief")
        .assert_status(404);

    // A member: not found, as a page that does not exist.
    let joan = grief.browser("joan");
    joan.get("/moderation/health").assert_status(404);
    joan.get("/moderation/unanswered").assert_status(404);
    joan.get("/moderation/health?group=grief")
        .assert_status(404);
    // A visitor is asked to sign in.
    let visitor = app.browser();
    for path in ["/moderation/health", "/moderation/unanswered"] {
        let reply = visitor.get(path);
        reply.assert_status(401);
        assert!(reply.body.contains("/signin?next="), "{path}");
    }
}
