//! Leaving, over HTTP: asking to delete one's account signs one out everywhere, signing in
//! within the cooling-off period offers to cancel and cancelling keeps the account; after the
//! period (the worker's function run with a later clock) the profile is gone and the thread
//! keeps the removed post's place; "Export my data" is one JSON file with what is theirs and
//! nothing of others they may not read.

use chrono::TimeDelta;
use hearth_core::accounts::leaving::{self, LeavingRules};
use hearth_core::model::SiteRole;
use hearth_tests::{Browser, Page, TestApp, PASSWORD};
use serde_json::Value;

fn post_id(page: &Page, n: usize) -> String {
    page.attrs(".post .meta a[href^='/p/']", "href")[n]
        .trim_start_matches("/p/")
        .to_owned()
}

/// Asks to leave from the confirmation page reached from `/settings`.
fn ask_to_leave(browser: &Browser, mode: &str, password: &str) -> hearth_tests::Reply {
    let settings = browser.visit("/settings");
    let link = settings
        .attrs("a[href='/settings/leave']", "href")
        .pop()
        .expect("the settings page links to the deletion page");
    browser.fill(
        &link,
        "/settings/leave",
        &[("mode", mode), ("password", password)],
    )
}

fn carry_out_after(app: &TestApp, days: i64) -> usize {
    let later = hearth_core::clock::now() + TimeDelta::days(days);
    leaving::carry_out_due(&mut app.conn(), &LeavingRules::default(), later).unwrap()
}

#[test]
fn asking_signs_out_everywhere_and_signing_in_again_offers_to_cancel() {
    let app = TestApp::new();
    app.with_board("pets");
    let bea = app.signed_in("bea", SiteRole::Member);
    let other_device = app.browser();
    other_device.sign_in("bea", PASSWORD).assert_redirect();
    bea.start_thread("pets", "Hello", "bea's words");

    // A wrong password is asked again, the choice kept.
    let wrong = ask_to_leave(&bea, "delete", "not my password");
    wrong.assert_status(422);
    assert_eq!(
        wrong.attrs("input[name=mode][checked]", "value"),
        ["delete"]
    );
    assert_eq!(wrong.count("#password-error"), 1);
    assert_eq!(bea.get("/settings").status, 200);

    assert_eq!(
        ask_to_leave(&bea, "delete", PASSWORD).assert_redirect(),
        "/left"
    );
    for browser in [&bea, &other_device] {
        browser.get("/settings").assert_status(401);
    }

    // Signing in within the period lands on the offer to cancel.
    assert_eq!(
        bea.sign_in("bea", PASSWORD).assert_redirect(),
        "/settings/leaving"
    );
    let offer = bea.visit("/settings/leaving");
    assert_eq!(
        offer.texts("main h1"),
        ["Your account is about to be deleted"]
    );
    assert_eq!(
        bea.submit(&offer, "/settings/leaving/cancel", &[])
            .assert_redirect(),
        "/settings#leaving"
    );
    assert_eq!(bea.get("/settings/leaving").assert_redirect(), "/settings");
    // The worker finds nothing to do, however late.
    assert_eq!(carry_out_after(&app, 30), 0);
    app.browser().get("/u/bea").assert_status(200);
    assert_eq!(bea.get("/settings").status, 200);
}

#[test]
fn after_the_period_the_profile_is_gone_and_the_thread_keeps_the_removed_post() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let bea = app.signed_in("bea", SiteRole::Member);
    let thread = admin.start_thread("pets", "How are you all?", "Tell us");
    let path = thread.path();
    bea.reply_to(&path, "bea's own sad words").assert_redirect();
    admin.reply_to(&path, "thank you bea").assert_redirect();
    ask_to_leave(&bea, "delete", PASSWORD).assert_redirect();

    // Not before the period is over.
    assert_eq!(carry_out_after(&app, 6), 0);
    app.browser().get("/u/bea").assert_status(200);
    assert_eq!(carry_out_after(&app, 8), 1);

    app.browser().get("/u/bea").assert_status(404);
    bea.sign_in("bea", PASSWORD).assert_status(401);
    for reader in [app.browser(), admin.clone()] {
        let page = reader.visit(&path);
        assert!(!page.body.contains("sad words"));
        assert_eq!(
            page.texts(".post-list > li > p.post-deleted"),
            ["A post by a former member was removed."]
        );
        assert_eq!(page.count(".post-list > li"), 3);
        assert_eq!(page.texts(".post-body"), ["Tell us", "thank you bea"]);
    }
    // The name is held: nobody registers it to pass as her.
    let newcomer = app.browser();
    newcomer.register("bea", PASSWORD).assert_status(422);
}

#[test]
fn anonymised_words_stay_under_a_former_member() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let bea = app.signed_in("bea", SiteRole::Member);
    let thread = bea.start_thread("pets", "Milo", "words that stay");
    let path = thread.path();
    ask_to_leave(&bea, "anonymise", PASSWORD).assert_redirect();
    assert_eq!(carry_out_after(&app, 8), 1);
    let page = admin.visit(&path);
    assert_eq!(page.texts(".post-body"), ["words that stay"]);
    assert_eq!(
        page.texts(".post-header > p[id$='-by']"),
        ["a former member"]
    );
    assert_eq!(page.count(".post-header a[href^='/u/']"), 0);
}

#[test]
fn the_last_admin_is_told_why_they_cannot_leave() {
    let app = TestApp::new();
    let admin = app.admin();
    let refused = ask_to_leave(&admin, "delete", PASSWORD);
    refused.assert_status(422);
    assert!(refused.texts("#mode-error")[0].contains("only administrator"));
    assert_eq!(admin.get("/settings").status, 200);
}

fn export(browser: &Browser, password: &str) -> hearth_tests::Reply {
    browser.fill(
        "/settings/export",
        "/settings/export",
        &[("password", password)],
    )
}

#[test]
fn the_export_holds_what_is_theirs_and_nothing_they_may_not_read() {
    let app = TestApp::new();
    let world = app
        .group("grief")
        .private()
        .facilitated_by("fran")
        .with_members(["bea", "cal"])
        .build();
    let (bea, cal, fran) = (
        world.browser("bea"),
        world.browser("cal"),
        world.browser("fran"),
    );
    let thread = bea.start_thread("grief", "Missing Milo", "first words");
    let path = thread.path();
    let page = bea.visit(&path);
    let bea_post = post_id(&page, 0);
    let edit = format!("/p/{bea_post}/edit");
    bea.fill(&edit, &edit, &[("body", "second words")])
        .assert_redirect();
    cal.reply_to(&path, "cal's words the moderators hid")
        .assert_redirect();
    let page = fran.visit(&path);
    let cal_post = post_id(&page, 1);
    fran.decide(
        &page,
        &cal_post,
        "hide",
        &[("reason", "Off-topic for this group")],
    )
    .assert_redirect();
    // Bea writes to the facilitators; Cal too, in a conversation Bea is not in.
    bea.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[
            ("subject", "Next week"),
            ("body", "bea asks the facilitators"),
        ],
    )
    .assert_redirect();
    cal.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[("subject", "Cal's secret"), ("body", "cal's private words")],
    )
    .assert_redirect();

    export(&bea, "not my password").assert_status(422);
    let reply = export(&bea, PASSWORD);
    reply.assert_status(200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(reply
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    assert!(!reply.body.contains("moderators hid"));
    assert!(!reply.body.contains("cal's private words"));
    assert!(!reply.body.contains("Cal's secret"));
    let data: Value = serde_json::from_str(&reply.body).unwrap();

    assert_eq!(data["format"], "hearth-export/1");
    assert_eq!(data["profile"]["username"], "bea");
    assert_eq!(data["profile"]["site_role"], "member");
    assert_eq!(data["email"], Value::Null);
    assert_eq!(data["preferences"]["meeting_reminder"], "hour");
    let memberships = data["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0]["group"], "grief");
    assert_eq!(memberships[0]["state"], "member");
    assert_eq!(data["rsvps"], serde_json::json!([]));

    let posts = data["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "only her own post: {posts:?}");
    let post = &posts[0];
    assert_eq!(post["id"].to_string(), bea_post);
    assert_eq!(post["source"], "second words");
    assert_eq!(post["thread_title"], "Missing Milo");
    assert_eq!(post["group"], "grief");
    assert_eq!(post["position"], 1);
    assert_eq!(post["state"], "published");
    assert!(post["edited_at"].is_string());
    let revisions = post["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0]["source"], "first words");

    let conversations = data["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["subject"], "Next week");
    let messages = conversations[0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["source"], "bea asks the facilitators");
    assert_eq!(messages[0]["mine"], true);
    assert_eq!(messages[0]["author"], "bea");
}

#[test]
fn exports_are_limited_per_day() {
    let mut config = hearth_tests::test_config();
    config.leaving.exports_per_day = 1;
    let app = TestApp::with_config(config);
    let bea = app.signed_in("bea", SiteRole::Member);
    export(&bea, PASSWORD).assert_status(200);
    let refused = export(&bea, PASSWORD);
    refused.assert_status(429);
    assert!(refused.body.contains("1 time a day"));
}

#[test]
fn a_deleted_members_messages_leave_the_removed_line_in_the_conversation() {
    let app = TestApp::new();
    let world = app
        .group("grief")
        .private()
        .facilitated_by("fran")
        .with_members(["bea"])
        .build();
    let (bea, fran) = (world.browser("bea"), world.browser("fran"));
    let sent = bea.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[("subject", "Next week"), ("body", "bea's private worry")],
    );
    let conversation = sent.assert_redirect();
    let conversation = conversation.split('#').next().unwrap().to_owned();
    let answer = format!("{conversation}/reply");
    fran.fill(&conversation, &answer, &[("body", "fran answers")])
        .assert_redirect();
    ask_to_leave(&bea, "delete", PASSWORD).assert_redirect();
    assert_eq!(carry_out_after(&app, 8), 1);
    let page = fran.visit(&conversation);
    page.assert_status(200);
    assert!(!page.body.contains("private worry"));
    assert_eq!(
        page.texts(".message p.post-deleted"),
        ["A message by a former member was removed."]
    );
    assert_eq!(page.texts(".message .post-body"), ["fran answers"]);
}

/// The password typed to leave or to export is a password check like a sign-in's: counted by
/// the same throttle, so a stolen session cannot guess it, and past the limit argon2 does
/// not even run.
#[test]
fn guessing_the_password_to_leave_or_export_is_throttled_without_checking_it() {
    let app = TestApp::with_config(hearth_web::WebConfig {
        sign_in_throttle: hearth_core::accounts::throttle::ThrottlePolicy {
            window_seconds: 600,
            slow_after: 100,
            account_limit: 3,
            account_ceiling: 100,
            ip_limit: 100,
        },
        ..hearth_tests::test_config()
    });
    let bea = app.signed_in("bea", SiteRole::Member);
    let hash = bea_hash(&app);
    ask_to_leave(&bea, "delete", "guess one").assert_status(422);
    export(&bea, "guess two").assert_status(422);
    ask_to_leave(&bea, "anonymise", "guess three").assert_status(422);
    let checked = hearth_core::accounts::passwords::verifications::against(&hash);
    for refused in [
        ask_to_leave(&bea, "delete", PASSWORD),
        export(&bea, PASSWORD),
    ] {
        refused.assert_status(429);
        assert!(refused.header("retry-after").is_some());
        assert!(
            refused
                .texts("main")
                .join(" ")
                .contains("your password was not checked"),
            "{}",
            refused.body
        );
    }
    assert_eq!(
        hearth_core::accounts::passwords::verifications::against(&hash),
        checked,
        "argon2 ran for a refused attempt"
    );
    let bea_id = hearth_core::accounts::members::by_username(&mut app.conn(), "bea")
        .unwrap()
        .id;
    assert_eq!(leaving::pending(&mut app.conn(), bea_id).unwrap(), None);
    assert_eq!(bea.get("/settings").status, 200);
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

fn bea_hash(app: &TestApp) -> String {
    use diesel::RunQueryDsl;
    let found: Vec<Text> = diesel::sql_query(
        "SELECT password_hash AS value FROM members WHERE username_lower = 'bea'",
    )
    .load(&mut app.conn())
    .unwrap();
    found[0].value.clone()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) AS n ...`.
fn count_in(app: &TestApp, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    let found: Vec<Count> = diesel::sql_query(sql).load(&mut app.conn()).unwrap();
    found[0].n
}

/// An unsubscribe link in an old mail does nothing once its member has left: not found, and
/// no preferences row is written again for the former member.
#[test]
fn an_old_unsubscribe_link_does_nothing_for_a_former_member() {
    use hearth_core::notifications::unsubscribe;
    let app = TestApp::new();
    let bea = app.signed_in("bea", SiteRole::Member);
    let bea_id = hearth_core::accounts::members::by_username(&mut app.conn(), "bea")
        .unwrap()
        .id;
    let token = unsubscribe::token_for(&mut app.conn(), bea_id).unwrap();
    ask_to_leave(&bea, "delete", PASSWORD).assert_redirect();
    assert_eq!(carry_out_after(&app, 8), 1);
    let preferences = format!(
        "SELECT COUNT(*) AS n FROM notification_preferences WHERE member_id = {}",
        bea_id.0
    );
    assert_eq!(count_in(&app, &preferences), 0);
    let visitor = app.browser();
    visitor
        .get(&format!("/unsubscribe/{token}"))
        .assert_status(404);
    visitor
        .post(
            &format!("/unsubscribe/{token}"),
            &[("List-Unsubscribe", "One-Click")],
        )
        .assert_status(404);
    assert_eq!(count_in(&app, &preferences), 0);
}
