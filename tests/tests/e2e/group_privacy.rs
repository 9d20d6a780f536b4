//! What a private group keeps to itself: a facilitator ends a membership, a ban there ends it
//! too; the public log names no thread that moved into it and nothing about a post that raised
//! a concern for someone's safety; profiles, the directory's order and member counts give
//! nothing of it away. Proposal decisions are logged, never one's own, with a staff mentor.

use hearth_core::model::SiteRole;
use hearth_tests::{weekly_meeting, Browser, Page, TestApp, World};

const LINK: &str = "https://meet.example.org/circle-room";

/// The private group `circle` ("Quiet circle") with its facilitator `fay` and `members`.
fn circle<const N: usize>(app: &TestApp, members: [&str; N]) -> World {
    app.group("circle")
        .named("Quiet circle")
        .private()
        .facilitated_by("fay")
        .with_members(members)
        .build()
}

/// `fay` schedules a weekly meeting in the circle and `ana` says she is going to its second
/// date; returns the meeting's path and the path of ana's private feed.
fn ana_goes_to_a_meeting(app: &TestApp, world: &World) -> (String, String) {
    let fay = world.browser("fay");
    let mut fields = weekly_meeting("Circle evening", "", "2038-01-07", "19:00", "UTC");
    fields.push(("online_url", LINK));
    let meeting = fay
        .fill("/b/circle/meetings/new", "/b/circle/meetings/new", &fields)
        .assert_redirect();
    let ana = world.browser("ana");
    let page = ana.visit(&meeting);
    ana.submit(
        &page,
        &format!("{meeting}/o/20380114T1900/rsvp"),
        &[("response", "going")],
    )
    .assert_redirect();
    let calendar = ana.visit("/calendar");
    let made = ana.submit(&calendar, "/calendar/reset", &[]);
    let url = made.attrs("#feed-url", "value").remove(0);
    let feed = reqwest::Url::parse(&url).unwrap().path().to_owned();
    let body = app.browser().get(&feed).body;
    assert!(
        body.contains("BEGIN:VEVENT") && body.contains(LINK),
        "{body}"
    );
    (meeting, feed)
}

/// Everything inside the circle is not found for `browser`, and its feed lists nothing of it.
#[track_caller]
fn reads_nothing_there(app: &TestApp, browser: &Browser, urls: &[&str], feed: &str) {
    for url in urls {
        browser.get(url).assert_status(404);
    }
    let front = browser.visit("/b/circle");
    front.assert_status(200);
    assert_eq!(front.count(".thread-list"), 0, "the public face only");
    let body = app.browser().get(feed).body;
    assert!(!body.contains("BEGIN:VEVENT"), "{body}");
    assert!(!body.contains(LINK), "{body}");
}

fn notices(browser: &Browser) -> Vec<String> {
    browser.visit("/notifications").texts(".notice-list li")
}

fn members_listed(page: &Page) -> Vec<String> {
    page.texts(".member-list li a")
}

#[test]
fn a_facilitator_removes_a_member_who_then_reads_nothing_of_the_group() {
    let app = TestApp::new();
    let world = circle(&app, ["ana", "ben"]);
    let thread = world
        .start_thread("fay", "Only for us", "Something private")
        .path();
    let (meeting, feed) = ana_goes_to_a_meeting(&app, &world);
    let (fay, ana, ben) = (
        world.browser("fay"),
        world.browser("ana"),
        world.browser("ben"),
    );
    ana.get(&thread).assert_status(200);

    // Members do not remove members.
    let token = ben
        .visit("/b/circle")
        .attrs("input[name=csrf_token]", "value")[0]
        .clone();
    ben.post(
        "/b/circle/members/remove",
        &[("csrf_token", &token), ("username", "ana")],
    )
    .assert_status(403);
    // A reason too long is refused with the text kept.
    let long = "x".repeat(1_001);
    let refused = fay.fill(
        "/b/circle/members",
        "/b/circle/members/remove",
        &[("username", "ana"), ("reason", &long)],
    );
    refused.assert_status(422);
    assert!(refused.body.contains(&long));
    ana.get(&thread).assert_status(200);

    let members = fay.visit("/b/circle/members");
    assert!(members_listed(&members).contains(&"ana".to_owned()));
    fay.submit(
        &members,
        "/b/circle/members/remove",
        &[("username", "ana"), ("reason", "you asked us to")],
    )
    .assert_redirect();
    reads_nothing_there(
        &app,
        &ana,
        &[&thread, &meeting, "/b/circle/meetings", "/b/circle/log"],
        &feed,
    );
    assert!(
        notices(&ana)
            .iter()
            .any(|n| n.contains("ended your membership") && n.contains("you asked us to")),
        "{:?}",
        notices(&ana)
    );
    assert!(!members_listed(&fay.visit("/b/circle/members")).contains(&"ana".to_owned()));
    // Removing her again: she is not a member.
    let again = fay.fill(
        "/b/circle/members",
        "/b/circle/members/remove",
        &[("username", "ana")],
    );
    again.assert_status(422);
    assert!(again.body.contains("not a member"));
    // Logged for the facilitators; not in what the members read.
    assert!(fay
        .visit("/b/circle/log")
        .texts(".log-list li")
        .iter()
        .any(|l| l.contains("fay ended the membership of ana")));
    assert!(!ben
        .visit("/b/circle/log")
        .body
        .contains("ended the membership of"));
    ben.get(&thread).assert_status(200);
}

#[test]
fn a_ban_in_a_private_group_ends_the_membership() {
    let app = TestApp::new();
    let world = circle(&app, ["ana"]);
    let thread = world
        .start_thread("fay", "Only for us", "Something private")
        .path();
    let (meeting, feed) = ana_goes_to_a_meeting(&app, &world);
    let (fay, ana) = (world.browser("fay"), world.browser("ana"));
    fay.fill(
        "/u/ana",
        "/u/ana/ban",
        &[("board", "circle"), ("reason", "cooling off")],
    )
    .assert_redirect();
    reads_nothing_there(&app, &ana, &[&thread, &meeting, "/b/circle/new"], &feed);
    assert!(!members_listed(&fay.visit("/b/circle/members")).contains(&"ana".to_owned()));
    assert!(notices(&ana)
        .iter()
        .any(|n| n.contains("ended your membership") && n.contains("cooling off")));
    // While the ban lasts she cannot ask to join again.
    let front = ana.visit("/b/circle");
    let token = front.attrs("input[name=csrf_token]", "value")[0].clone();
    let refused = ana.post("/b/circle/join", &[("csrf_token", &token)]);
    refused.assert_status(403);
    assert!(
        refused.body.contains("cannot ask to join again yet")
            && !refused.body.contains("still read"),
        "{}",
        refused.body
    );
    assert!(fay
        .visit("/b/circle/members")
        .texts(".request-list li")
        .is_empty());
}

#[test]
fn the_public_log_names_no_thread_moved_into_a_private_group() {
    let app = TestApp::new();
    let world = circle(&app, ["cyd"]);
    let admin = world.admin.clone();
    admin.create_board("open", "Open room");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("open", "My hardest week", "I need to talk");
    let path = thread.path();
    admin
        .fill(
            &path,
            &format!("/t/{}/moderate", thread.thread_id()),
            &[
                ("action", "move"),
                ("board", "circle"),
                ("reason", "safer there"),
            ],
        )
        .assert_redirect();
    let dan = app.signed_in("dan", SiteRole::Member);
    for (who, browser) in [("visitor", app.browser()), ("member", dan)] {
        let log = browser.visit("/b/open/log");
        let lines = log.texts(".log-list li");
        assert_eq!(lines.len(), 1, "{who}: {lines:?}");
        assert!(lines[0].contains("moved a thread"), "{who}: {lines:?}");
        for secret in ["My hardest week", "Quiet circle", "safer there", "ana"] {
            assert!(!log.body.contains(secret), "{who}: {secret} in {lines:?}");
        }
    }
    // A member of the circle may read the thread, so its title and where it went are theirs.
    let cy = world
        .browser("cyd")
        .visit("/b/open/log")
        .texts(".log-list li");
    assert!(
        cy[0].contains("My hardest week") && cy[0].contains("to Quiet circle"),
        "{cy:?}"
    );
    let site = admin.visit("/log").texts(".log-list li");
    assert!(
        site[0].contains("My hardest week") && site[0].contains("safer there"),
        "{site:?}"
    );
}

#[test]
fn the_public_log_says_nothing_of_a_post_that_raised_a_safety_concern() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Missing Milo", "Has anyone seen him?");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    // A post in crisis, then hidden (say, for a phone number in it).
    let crisis = ana
        .reply_to(&path, "Since Milo died I want to end my life.")
        .assert_redirect();
    let crisis_id = crisis.trim_start_matches("/help?post=").to_owned();
    let queue = admin.visit("/review");
    admin
        .decide(&queue, &crisis_id, "hide", &[("reason", "a phone number")])
        .assert_redirect();
    // Another post: a report dismissed; its words of crisis come later, with an edit.
    let later = ana.reply_to(&path, "An ordinary day.").assert_redirect();
    let page = ana.visit(later.split('#').next().unwrap());
    let later_id = page
        .attrs(".post .meta a[href^='/p/']", "href")
        .pop()
        .unwrap();
    let later_id = later_id.trim_start_matches("/p/").to_owned();
    ben.report(&later_id, "spam", "").assert_redirect();
    let queue = admin.visit("/review");
    admin
        .decide(&queue, &later_id, "dismiss", &[])
        .assert_redirect();
    let edit = format!("/p/{later_id}/edit");
    ana.fill(&edit, &edit, &[("body", "Actually I want to die.")])
        .assert_redirect();

    for (who, browser) in [("visitor", app.browser()), ("member", ben.clone())] {
        let log = browser.visit("/b/pets/log");
        let lines = log.texts(".log-list li");
        assert!(lines.is_empty(), "{who}: {lines:?}");
    }
    let full = admin.visit("/b/pets/log").texts(".log-list li");
    assert_eq!(full.len(), 2, "the moderators see both: {full:?}");
}

/// Nor about the thread of such a post: locking it names the thread and who started it.
#[test]
fn the_public_log_says_nothing_of_the_thread_of_a_post_that_raised_a_safety_concern() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let ana = app.signed_in("ana", SiteRole::Member);
    // Posting it leads to the help page; the thread is on the group's page.
    ana.start_thread(
        "pets",
        "I can't go on",
        "Since Milo died I want to end my life.",
    );
    let path = admin
        .visit("/b/pets")
        .attrs(".thread-item a[href^='/t/']", "href")[0]
        .clone();
    let id = path
        .trim_start_matches("/t/")
        .split('-')
        .next()
        .unwrap()
        .to_owned();
    admin
        .fill(
            &path,
            &format!("/t/{id}/moderate"),
            &[("action", "lock"), ("reason", "a break")],
        )
        .assert_redirect();
    for (who, browser) in [("visitor", app.browser()), ("admin", admin.clone())] {
        let lines = browser.visit("/b/pets/log").texts(".log-list li");
        let about_it = lines
            .iter()
            .any(|l| l.contains("I can't go on") || l.contains("ana"));
        assert_eq!(about_it, who == "admin", "{who}: {lines:?}");
    }
}

#[test]
fn proposal_decisions_are_logged_never_ones_own_and_a_mentor_is_staff() {
    let app = TestApp::new();
    let admin = app.admin();
    let moe = app.signed_in("moe", SiteRole::Moderator);
    app.member("meg", SiteRole::Moderator);
    app.member("mia", SiteRole::Member);
    let ana = app.signed_in("ana", SiteRole::Member);
    let propose = |browser: &Browser, name: &str, slug: &str| {
        browser
            .fill(
                "/groups/propose",
                "/groups/propose",
                &[
                    ("name", name),
                    ("slug", slug),
                    ("meeting_format", "online"),
                    ("time_zone", "UTC"),
                    ("language", "en"),
                    ("visibility", "public"),
                    ("why", "Nobody else does this."),
                ],
            )
            .assert_redirect();
    };
    propose(&moe, "Night shift", "night-shift");
    propose(&ana, "Pet loss Leeds", "pet-loss-leeds");
    propose(&ana, "Crypto tips", "crypto");

    // A moderator does not decide on their own proposal.
    let list = moe.visit("/admin/proposals");
    let refused = moe.submit(&list, "/admin/proposals/1", &[("decision", "approve")]);
    refused.assert_status(403);
    assert!(
        refused.body.contains("Another moderator or administrator"),
        "{}",
        refused.body
    );
    // A mentor is one of the staff.
    let refused = moe.submit(
        &list,
        "/admin/proposals/2",
        &[("decision", "approve"), ("mentor", "mia")],
    );
    refused.assert_status(422);
    assert!(
        refused.body.contains("mentor must be one of the site"),
        "{}",
        refused.body
    );
    app.browser().get("/b/pet-loss-leeds").assert_status(404);
    moe.submit(
        &list,
        "/admin/proposals/2",
        &[("decision", "approve"), ("mentor", "meg")],
    )
    .assert_redirect();
    let settings = admin.visit("/b/pet-loss-leeds/settings");
    assert!(settings.body.contains("/u/meg"), "meg facilitates it");
    let list = admin.visit("/admin/proposals");
    admin
        .submit(
            &list,
            "/admin/proposals/3",
            &[
                ("decision", "decline"),
                ("reason", "Not a peer support group"),
            ],
        )
        .assert_redirect();
    admin
        .submit(&list, "/admin/proposals/1", &[("decision", "approve")])
        .assert_redirect();

    let site = admin.visit("/log").texts(".log-list li");
    assert!(
        site[0].contains("opened the group proposed by") && site[0].contains("moe"),
        "{site:?}"
    );
    assert!(
        site[1].contains("declined the group proposed by")
            && site[1].contains("Crypto tips")
            && site[1].contains("Not a peer support group"),
        "{site:?}"
    );
    assert!(
        site[2].contains("opened the group proposed by") && site[2].contains("mentor: meg"),
        "{site:?}"
    );
    assert!(app
        .browser()
        .visit("/b/pet-loss-leeds/log")
        .texts(".log-list li")
        .is_empty());
}

/// "3 posts" on a profile, as a number.
fn post_count(page: &Page) -> String {
    let meta = page.texts("h1 + p.meta").remove(0);
    meta.rsplit(" · ").next().unwrap().to_owned()
}

#[test]
fn a_profile_counts_only_the_posts_its_reader_may_read() {
    let app = TestApp::new();
    let world = circle(&app, ["ana", "cyd"]);
    world.admin.create_board("open", "Open room");
    let thread = world.start_thread("ana", "Between us", "first");
    world
        .browser("ana")
        .reply_to(&thread.path(), "second")
        .assert_redirect();
    world
        .browser("ana")
        .start_thread("open", "Hello all", "in the open");
    let dan = app.signed_in("dan", SiteRole::Member);
    assert_eq!(post_count(&app.browser().visit("/u/ana")), "1 post");
    assert_eq!(post_count(&dan.visit("/u/ana")), "1 post");
    assert_eq!(post_count(&world.browser("cyd").visit("/u/ana")), "3 posts");
}

fn directory_names(browser: &Browser) -> Vec<String> {
    browser.visit("/groups").texts(".group-item h2 a")
}

#[test]
fn the_directory_is_not_ordered_by_a_private_groups_activity() {
    let app = TestApp::new();
    let world = circle(&app, ["ana"]);
    let admin = world.admin.clone();
    admin.create_board("alpha", "Alpha");
    admin.create_board("beta", "Beta");
    admin.start_thread("alpha", "A first", "hello");
    admin.start_thread("beta", "B first", "hello");
    let visitor = app.browser();
    let before = directory_names(&visitor);
    assert_eq!(before[0], "Beta", "{before:?}");
    world.start_thread("ana", "News from the circle", "we met");
    assert_eq!(directory_names(&visitor), before);
    assert_eq!(directory_names(&world.browser("ana")), before);
}

#[test]
fn a_private_groups_member_count_is_coarse_for_outsiders() {
    let app = TestApp::new();
    let world = circle(&app, ["ana", "cyd"]);
    world.admin.create_board("open", "Open room");
    let members_of = |page: &Page, name: &str| {
        page.texts(".group-item")
            .into_iter()
            .find(|t| t.contains(name))
            .unwrap()
    };
    let visitor = app.browser();
    let directory = visitor.visit("/groups");
    let circle_card = members_of(&directory, "Quiet circle");
    assert!(
        circle_card.contains("fewer than 10 members"),
        "{circle_card}"
    );
    assert!(!circle_card.contains("2 members"), "{circle_card}");
    let front = visitor
        .visit("/b/circle")
        .texts(".group-facts li")
        .join(" ");
    assert!(front.contains("fewer than 10 members"), "{front}");
    // A public group's count is exact; so is the circle's for its members.
    assert!(members_of(&directory, "Open room").contains("0 members"));
    let inside = world.browser("ana").visit("/groups");
    let card = members_of(&inside, "Quiet circle");
    assert!(card.contains("2 members"), "{card}");
}
