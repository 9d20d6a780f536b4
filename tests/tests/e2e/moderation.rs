//! Facilitators and moderators at work: roles, reports and the review queue, decisions on
//! posts, thread controls, actions on members, pre-moderation, and the moderation log.

use hearth_core::model::SiteRole;
use hearth_tests::{Browser, Page, Reply, TestApp, World, PASSWORD};

/// The reason the tests give for hiding a post that a report said was about someone at risk.
const PERSONAL_DETAILS: &str = "It shares someone's personal details";

/// The id of the `n`th post on a thread page, counted from 0 (from its permalink).
fn post_id(page: &Page, n: usize) -> String {
    page.attrs(".post .meta a[href^='/p/']", "href")[n]
        .trim_start_matches("/p/")
        .to_owned()
}

/// The id of the first post on a thread page (from its permalink).
fn first_post_id(page: &Page) -> String {
    post_id(page, 0)
}

/// `moderator` opens the review queue of `pets` and sends `decision` on `post` from it.
fn decide_from_queue(
    moderator: &Browser,
    post: &str,
    decision: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let queue = moderator.visit("/b/pets/review");
    moderator.decide(&queue, post, decision, fields)
}

/// An admin with boards `pets` and `moving`, and `fay` made facilitator of `pets` through its settings page.
fn community(app: &TestApp) -> World {
    let world = app
        .group("pets")
        .named("Pet loss")
        .described("A place to talk")
        .facilitated_by("fay")
        .build();
    world.admin.create_board("moving", "Moving city");
    world
}

/// A thread `ana` starts in `pets`, its first post reported by `ben` as someone at risk;
/// returns the thread page and that post's id.
fn reported_at_risk(app: &TestApp, title: &str, body: &str) -> (Page, String) {
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pets", title, body);
    let post = first_post_id(&thread);
    ben.report(&post, "at_risk", "").assert_redirect();
    (thread, post)
}

fn review_count(page: &Page) -> Option<String> {
    page.texts(".site-header a[href='/review'] .count")
        .into_iter()
        .next()
}

fn log_rows(app: &TestApp) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM moderation_log")
        .get_result::<N>(&mut *app.conn())
        .unwrap()
        .n
}

#[test]
fn a_facilitator_moderates_their_own_board_and_no_other() {
    let app = TestApp::new();
    let world = community(&app);
    let (admin, fay) = (world.browser("admin"), world.browser("fay"));
    let settings = admin.visit("/b/pets/settings");
    assert_eq!(settings.texts("#facilitators-heading + ul li a"), ["fay"]);

    let home = fay.visit("/");
    assert_eq!(
        home.count(".site-header a[href='/review']"),
        1,
        "the review link shows"
    );
    fay.get("/b/pets/review").assert_status(200);
    fay.get("/b/moving/review").assert_status(403);
    fay.get("/b/moving/settings").assert_status(403);
    // Facilitators set their board's pre-moderation but do not appoint facilitators.
    let own = fay.visit("/b/pets/settings");
    assert_eq!(own.count("form[action='/b/pets/facilitators']"), 0);
    let token = own.attrs("input[name=csrf_token]", "value").remove(0);
    fay.post(
        "/b/pets/facilitators",
        &[
            ("csrf_token", &token),
            ("username", "fay"),
            ("change", "remove"),
        ],
    )
    .assert_status(403);
    // Members do not see the review queue at all.
    let ana = app.signed_in("ana", SiteRole::Member);
    assert_eq!(ana.visit("/").count(".site-header a[href='/review']"), 0);
    ana.get("/review").assert_status(403);
    ana.get("/b/pets/review").assert_status(403);
    // Removing the facilitator takes the powers away at once.
    admin
        .fill(
            "/b/pets/settings",
            "/b/pets/facilitators",
            &[("username", "fay"), ("change", "remove")],
        )
        .assert_redirect();
    fay.get("/b/pets/review").assert_status(403);
    assert_eq!(log_rows(&app), 2, "adding and removing were logged");
}

#[test]
fn reports_reach_the_queue_at_risk_first_and_only_moderators_see_who_reported() {
    let app = TestApp::new();
    let world = community(&app);
    let fay = world.browser("fay");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let spammy = ana.start_thread("pets", "Buy now", "cheap things");
    let worrying = ana.start_thread("pets", "Tonight", "I do not know what to do");
    let spammy_id = first_post_id(&spammy);
    let worrying_id = first_post_id(&worrying);

    // Authors cannot report their own posts; the link is not offered.
    assert_eq!(spammy.count(".post-actions a[href$='/report']"), 0);
    let report = |post: &str, reason: &str, note: &str| ben.report(post, reason, note);
    let sent = report(&spammy_id, "spam", "selling things");
    assert_eq!(
        sent.assert_redirect(),
        format!("/p/{spammy_id}/report?sent=1")
    );
    report(&worrying_id, "at_risk", "").assert_redirect();
    // A second report of the same post by the same member changes nothing.
    report(&worrying_id, "at_risk", "again").assert_redirect();
    // No reason chosen: the form comes back with the note kept.
    let refused = report(&spammy_id, "", "my note");
    refused.assert_status(422);

    let queue = fay.visit("/b/pets/review");
    let titles = queue.texts(".review-entry h2 a");
    assert_eq!(titles, ["Tonight", "Buy now"], "at-risk first");
    assert_eq!(queue.count(".review-entry.at-risk"), 1);
    assert_eq!(
        queue.count(".lane-urgent .review-entry:first-child .review-reasons li"),
        1
    );
    assert!(
        queue.texts(".review-reasons")[1].contains("ben"),
        "moderators see the reporter"
    );
    assert_eq!(review_count(&fay.visit("/")), Some("2 waiting".to_owned()));
    // The site-wide queue of a facilitator is their boards' queue.
    assert_eq!(fay.visit("/review").texts(".review-entry h2 a"), titles);
    // The author and other members never learn who reported.
    // (Their name in the words or a link to them, not in the markup: a random form token can hold "ben".)
    let seen_by_ana = ana.visit(&worrying.path());
    assert!(!seen_by_ana.body.contains("/u/ben"), "{}", seen_by_ana.body);
    assert!(
        !seen_by_ana.texts("main").join(" ").contains("ben"),
        "{}",
        seen_by_ana.body
    );
}

#[test]
fn hiding_shows_the_author_the_reason_and_the_public_log_says_a_facilitator() {
    let app = TestApp::new();
    let world = community(&app);
    let fay = world.browser("fay");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "Hello", "first words");
    let path = thread.path();
    ana.reply_to(&path, "something unkind").assert_redirect();
    let page = fay.visit(&path);
    let reply_id = post_id(&page, 1);
    let hidden = fay.decide(
        &page,
        &reply_id,
        "hide",
        &[
            ("reason", "It is unkind to another member"),
            ("detail", "please be gentle"),
        ],
    );
    hidden.assert_redirect();

    let visitor = app.browser().visit(&path);
    assert!(!visitor.body.contains("something unkind"));
    assert_eq!(
        visitor.texts(".post-deleted"),
        ["This post was hidden by the moderators."]
    );
    let board = app.browser().visit("/b/pets");
    assert!(board.texts(".thread-item .meta")[0].contains("0 replies"));
    let own = ana.visit(&path);
    assert!(
        own.body.contains("something unkind"),
        "the author still sees their text"
    );
    assert!(own
        .texts(".notice")
        .iter()
        .any(|n| n.contains("please be gentle")));
    let notices = ana.visit("/notifications");
    assert!(notices.texts(".notice-list li")[0].contains("It is unkind to another member"));
    assert_eq!(
        ana.visit("/")
            .texts(".site-header a[href='/notifications'] .count"),
        ["1 unread"]
    );
    ana.fill("/notifications", "/notifications/read", &[])
        .assert_redirect();
    assert_eq!(
        ana.visit("/")
            .count(".site-header a[href='/notifications'] .count"),
        0
    );

    let public = app.browser().visit("/b/pets/log");
    assert_eq!(public.count(".log-list li"), 1);
    let line = &public.texts(".log-list li")[0];
    assert!(line.contains("A facilitator hid a post by ana"), "{line}");
    assert!(
        !public.body.contains("fay"),
        "the public log names no moderator"
    );
    let full = fay.visit("/b/pets/log");
    assert!(full.texts(".log-list li")[0].contains("fay hid a post"));

    let page = fay.visit(&path);
    fay.decide(&page, &reply_id, "restore", &[])
        .assert_redirect();
    let visitor = app.browser().visit(&path);
    assert!(visitor.body.contains("something unkind"));
    assert!(app.browser().visit("/b/pets").texts(".thread-item .meta")[0].contains("1 reply"));
    assert_eq!(
        log_rows(&app),
        3,
        "facilitator, hide and restore each wrote a row"
    );
}

#[test]
fn an_at_risk_posts_content_never_reaches_the_public_log() {
    let app = TestApp::new();
    let world = community(&app);
    let fay = world.browser("fay");
    let (_thread, post) = reported_at_risk(&app, "Tonight", "private pain words");
    decide_from_queue(&fay, &post, "hide", &[("reason", PERSONAL_DETAILS)]).assert_redirect();
    let public = app.browser().visit("/b/pets/log");
    // Not even the entry: who wrote it, in which thread, and when, would say too much.
    assert_eq!(public.count(".log-list li"), 0);
    assert!(!public.body.contains("private pain words"));
    assert!(!public.body.contains("personal details"));
    let full = fay.visit("/b/pets/log");
    assert!(
        full.body.contains("private pain words"),
        "moderators see the excerpt"
    );
}

#[test]
fn new_members_first_posts_await_approval_when_the_board_asks() {
    let app = TestApp::new();
    let world = community(&app);
    let fay = world.browser("fay");
    fay.fill(
        "/b/pets/settings",
        "/b/pets/settings",
        &[("premod_first_posts", "1")],
    )
    .assert_redirect();
    fay.fill(
        "/b/pets/settings",
        "/b/pets/settings",
        &[("premod_first_posts", "many")],
    )
    .assert_status(422);
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "My first post", "hello, I am new");
    assert!(thread
        .texts(".notice")
        .iter()
        .any(|n| n.contains("waiting for a facilitator's approval")));
    let path = thread.path();
    assert_eq!(
        app.browser().get(&path).status,
        404,
        "others do not see it yet"
    );
    assert_eq!(app.browser().visit("/b/pets").count(".thread-item"), 0);

    let queue = fay.visit("/b/pets/review");
    assert_eq!(queue.texts(".review-entry h2 a"), ["My first post"]);
    assert!(queue.texts(".review-reasons")[0].contains("Awaiting approval"));
    let post = first_post_id(&thread);
    fay.decide(&queue, &post, "approve", &[]).assert_redirect();
    assert_eq!(app.browser().get(&path).status, 200);
    assert_eq!(app.browser().visit("/b/pets").count(".thread-item"), 1);
    assert_eq!(fay.visit("/b/pets/review").count(".review-entry"), 0);
    // The member's next post is through at once; on another board nothing is held.
    ana.reply_to(&path, "thanks for having me")
        .assert_redirect();
    assert_eq!(post_bodies_seen_by_visitor(&app, &path).len(), 2);
}

fn post_bodies_seen_by_visitor(app: &TestApp, path: &str) -> Vec<String> {
    app.browser().visit(path).texts(".post .post-body")
}

#[test]
fn a_sites_new_accounts_wait_for_approval_everywhere() {
    let mut config = hearth_tests::test_config();
    config.posting.new_account_premod_posts = 2;
    let app = TestApp::with_config(config);
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "hello all");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.reply_to(&path, "first").assert_redirect();
    ana.reply_to(&path, "second").assert_redirect();
    assert_eq!(post_bodies_seen_by_visitor(&app, &path), ["hello all"]);
    let queue = admin.visit("/review");
    assert_eq!(queue.count(".review-entry"), 2);
    assert_eq!(
        review_count(&admin.visit("/")),
        Some("2 waiting".to_owned())
    );
}

/// A post's id leads nowhere for a reader who may not read it: its permalink is not found and
/// the help page offers no way back to it, while its author is taken there.
#[test]
fn an_awaiting_or_hidden_posts_address_is_not_found_for_other_readers() {
    let mut config = hearth_tests::test_config();
    config.posting.new_account_premod_posts = 1;
    let app = TestApp::with_config(config);
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "hello all");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.reply_to(&path, "waiting for approval")
        .assert_redirect();
    let awaiting = post_id(&ana.visit(&path), 1);
    let ben = app.signed_in("ben", SiteRole::Member);
    let permalink = format!("/p/{awaiting}");
    let help = format!("/help?post={awaiting}");
    ben.get(&permalink).assert_status(404);
    app.browser().get(&permalink).assert_status(404);
    assert_eq!(ben.visit(&help).count(".back-link"), 0);
    ana.get(&permalink).assert_redirect();
    assert_eq!(ana.visit(&help).count(".back-link"), 1);

    // Approved, then hidden: others see that something was hidden in the thread, never where
    // its address leads.
    let queue = admin.visit("/review");
    admin
        .decide(&queue, &awaiting, "approve", &[])
        .assert_redirect();
    ben.get(&permalink).assert_redirect();
    let queue = admin.visit(&path);
    admin
        .decide(
            &queue,
            &awaiting,
            "hide",
            &[("reason", "Off-topic for this group")],
        )
        .assert_redirect();
    ben.get(&permalink).assert_status(404);
    assert_eq!(ben.visit(&help).count(".back-link"), 0);
    ana.get(&permalink).assert_redirect();
}

#[test]
fn lock_pin_and_move_threads() {
    let app = TestApp::new();
    let world = community(&app);
    let (admin, fay) = (world.browser("admin"), world.browser("fay"));
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "Moving soon", "new city next month");
    let path = thread.path();
    let id = thread.thread_id();
    let action = format!("/t/{id}/moderate");
    fay.fill(&path, &action, &[("action", "lock"), ("reason", "a break")])
        .assert_redirect();
    let page = ana.visit(&path);
    assert_eq!(page.count("section.reply form"), 0);
    assert!(page.texts("section.reply p")[0].contains("locked"));
    fay.fill(&path, &action, &[("action", "pin")])
        .assert_redirect();
    assert_eq!(
        app.browser().visit("/b/pets").texts(".badge"),
        ["Pinned", "Locked"]
    );
    // A facilitator of board a only cannot move a thread to board b…
    let page = fay.visit(&path);
    assert_eq!(page.count("select[name=board]"), 0);
    let token = page.attrs("input[name=csrf_token]", "value").remove(0);
    fay.post(
        &action,
        &[
            ("csrf_token", &token),
            ("action", "move"),
            ("board", "moving"),
        ],
    )
    .assert_status(403);
    // …a site admin can.
    admin
        .fill(
            &path,
            &action,
            &[
                ("action", "move"),
                ("board", "moving"),
                ("reason", "fits better"),
            ],
        )
        .assert_redirect();
    assert_eq!(app.browser().visit("/b/pets").count(".thread-item"), 0);
    assert_eq!(
        app.browser().visit("/b/moving").texts(".thread-item h2 a"),
        ["Moving soon"]
    );
    let log = admin.visit("/log");
    let lines = log.texts(".log-list li");
    assert!(
        lines[0].contains("moved a thread") && lines[0].contains("to Moving city: fits better"),
        "{lines:?}"
    );
    assert_eq!(log_rows(&app), 4, "add facilitator, lock, pin, move");
}

#[test]
fn warnings_suspensions_and_board_bans() {
    let app = TestApp::new();
    let world = community(&app);
    let (admin, fay) = (world.browser("admin"), world.browser("fay"));
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.start_thread("pets", "Hello there", "hello");

    // A facilitator warns about their board; the member reads it as a notice.
    fay.fill(
        "/u/ana",
        "/u/ana/warn",
        &[("board", "pets"), ("message", "Please keep to the topic.")],
    )
    .assert_redirect();
    let notices = ana.visit("/notifications");
    assert!(notices.texts(".notice-list li")[0].contains("Please keep to the topic."));
    // Facilitators cannot suspend, nor act on staff.
    assert_eq!(
        fay.visit("/u/ana").count("form[action='/u/ana/suspend']"),
        0
    );
    assert_eq!(
        fay.visit("/u/admin").count("form[action='/u/admin/warn']"),
        0
    );

    // Banned from board a: can read it, cannot post there; board b is fine.
    fay.fill(
        "/u/ana",
        "/u/ana/ban",
        &[("board", "pets"), ("reason", "cooling off")],
    )
    .assert_redirect();
    let refused = ana.get("/b/pets/new");
    refused.assert_status(403);
    assert!(refused.body.contains("stopped you posting in this group"));
    ana.get("/b/pets").assert_status(200);
    ana.start_thread("moving", "Elsewhere", "still here");
    fay.fill(
        "/u/ana",
        "/u/ana/ban",
        &[("board", "pets"), ("change", "lift")],
    )
    .assert_redirect();
    ana.get("/b/pets/new").assert_status(200);

    // A site-wide suspension until a date: reading yes, posting no.
    let until = (chrono::Utc::now() + chrono::TimeDelta::days(7))
        .format("%Y-%m-%d")
        .to_string();
    admin
        .fill(
            "/u/ana",
            "/u/ana/suspend",
            &[("until", &until), ("reason", "a break")],
        )
        .assert_redirect();
    // The suspension signed her out everywhere; she signs in again to read.
    ana.get("/settings").assert_status(401);
    ana.sign_in("ana", PASSWORD).assert_redirect();
    let refused = ana.get("/b/moving/new");
    refused.assert_status(403);
    assert!(refused.body.contains("suspended"));
    let past = admin.fill(
        "/u/ana",
        "/u/ana/suspend",
        &[
            ("until", "2001-01-01"),
            ("reason", "a reason I took time to write"),
        ],
    );
    past.assert_status(422);
    assert!(past.body.contains("Choose a date in the future"));
    assert_eq!(
        past.attrs("#suspend-reason", "value"),
        ["a reason I took time to write"],
        "what the moderator typed is kept"
    );
    admin
        .fill("/u/ana", "/u/ana/suspend", &[("change", "lift")])
        .assert_redirect();
    ana.get("/b/moving/new").assert_status(200);
    assert_eq!(ana.visit("/notifications").count(".notice-list li"), 5);
    // add facilitator, warn, ban, unban, suspend, unsuspend
    assert_eq!(log_rows(&app), 6);
}

#[test]
fn a_handled_check_in_leaves_the_queue_with_a_private_note() {
    let app = TestApp::new();
    let world = community(&app);
    let fay = world.browser("fay");
    let (thread, post) = reported_at_risk(&app, "Hard night", "it is a hard night");
    decide_from_queue(
        &fay,
        &post,
        "handled",
        &[("note", "messaged her, she is safe")],
    )
    .assert_redirect();
    assert_eq!(fay.visit("/b/pets/review").count(".review-entry"), 0);
    assert!(fay
        .visit("/b/pets/log")
        .body
        .contains("messaged her, she is safe"));
    let public = app.browser().visit("/b/pets/log");
    assert!(!public.body.contains("she is safe"));
    assert!(
        !public.body.contains("checked in"),
        "check-ins stay private"
    );
    // The post itself was never hidden.
    assert!(app
        .browser()
        .visit(&thread.path())
        .body
        .contains("it is a hard night"));
    // Hiding it later repeats neither its words nor the reason in the public log: it raised a
    // concern for someone's safety once, and that does not expire.
    let page = fay.visit(&thread.path());
    fay.decide(&page, &post, "hide", &[("reason", PERSONAL_DETAILS)])
        .assert_redirect();
    let public = app.browser().visit("/b/pets/log");
    assert!(!public.body.contains("hard night"));
    assert!(!public.body.contains("personal details"));
    // The same decision sent again from the old page changes nothing.
    let again = fay.decide(&page, &post, "hide", &[("reason", PERSONAL_DETAILS)]);
    again.assert_status(422);
    assert!(
        again.body.contains("already decided on this post"),
        "{}",
        again.body
    );
}
