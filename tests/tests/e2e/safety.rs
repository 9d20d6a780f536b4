//! What keeps a board calm: watched words, crisis check-ins, posting limits and slow mode.

use hearth_core::model::SiteRole;
use hearth_core::safety::limits::PostingLimits;
use hearth_tests::{Browser, Page, Reply, TestApp};

fn add_watched_word(admin: &Browser, phrase: &str, action: &str) {
    admin
        .fill(
            "/admin/watched-words",
            "/admin/watched-words",
            &[("phrase", phrase), ("action", action)],
        )
        .assert_redirect();
}

/// Moves every post of `username` a long way into the past, as if the window had passed.
fn age_posts_of(app: &TestApp, username: &str) {
    use diesel::RunQueryDsl;
    let member = hearth_core::accounts::members::by_username(&mut app.conn(), username).unwrap();
    diesel::sql_query(format!(
        "UPDATE posts SET created_at = '2000-01-01 00:00:00' WHERE author_id = {}",
        member.id
    ))
    .execute(&mut *app.conn())
    .unwrap();
}

fn queue_reasons(page: &Page) -> Vec<String> {
    page.texts(".review-reasons li")
}

#[test]
fn watched_words_block_hold_flag_and_mask() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    add_watched_word(&admin, "buy cheap", "block");
    add_watched_word(&admin, "meetup", "hold");
    add_watched_word(&admin, "idiot", "flag");
    add_watched_word(&admin, "darn", "mask");
    let list = admin.visit("/admin/watched-words");
    assert_eq!(list.count("tbody tr"), 4);
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.get("/admin/watched-words").assert_status(403);

    // Block: refused with the reason, and the form keeps every word typed.
    let refused = ana.reply_to(&path, "You can BUY   cheap meds here");
    refused.assert_status(422);
    assert!(
        refused.body.contains("does not allow “buy cheap”"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("You can BUY   cheap meds here"));
    let refused_title = ana.fill(
        "/b/pets/new",
        "/b/pets/new",
        &[("title", "Buy cheap here"), ("body", "fine body")],
    );
    refused_title.assert_status(422);
    // Hold: the post awaits approval.
    ana.reply_to(&path, "Anyone for a meetup?")
        .assert_redirect();
    // Flag: published, and in the queue.
    ana.reply_to(&path, "What an idiot I was").assert_redirect();
    // Whole words only: "idiotic" is not "idiot".
    ana.reply_to(&path, "Idiotic weather today")
        .assert_redirect();
    // Mask: published with the word replaced.
    ana.reply_to(&path, "Darn it, I miss him").assert_redirect();

    let seen = app.browser().visit(&path).texts(".post .post-body");
    assert_eq!(
        seen,
        [
            "Say hello",
            "What an idiot I was",
            "Idiotic weather today",
            "■■■ it, I miss him"
        ]
    );
    let queue = admin.visit("/review");
    let reasons = queue_reasons(&queue);
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].starts_with("Awaiting approval: watched words: meetup"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("Watched words: idiot"),
        "{reasons:?}"
    );
    assert_eq!(queue.count(".review-entry"), 2);
    // Masked words are masked in a new thread's title too.
    let masked = ana.start_thread("pets", "Darn this week", "it was hard");
    assert_eq!(masked.texts("h1"), ["■■■ this week"]);
    // Editing cannot sneak a blocked word in either.
    let own = ana.visit(&path);
    let edit = own.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    ana.fill(&edit, &edit, &[("body", "buy cheap now")])
        .assert_status(422);
}

#[test]
fn a_post_in_crisis_is_published_shown_help_and_checked_in_first() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    // An older report, so the check-in has something to come before.
    let welcome_id = thread.attrs(".post .meta a[href^='/p/']", "href")[0]
        .trim_start_matches("/p/")
        .to_owned();
    ben.report(&welcome_id, "off_topic", "").assert_redirect();

    let reply = ana.reply_to(&path, "Since Milo died I want to end my life.");
    let location = reply.assert_redirect();
    assert!(location.starts_with("/help?post="), "{location}");
    let post_id = location.trim_start_matches("/help?post=").to_owned();
    let help = ana.follow(reply);
    assert!(help.texts("h1")[0].contains("Need help now?"));
    assert!(
        help.body.contains("Samaritans"),
        "the configured helplines are listed"
    );
    assert_eq!(
        help.attrs("a", "href")
            .iter()
            .filter(|h| **h == format!("/p/{post_id}"))
            .count(),
        1,
        "a way back to the post"
    );
    // Published as usual: holding it back would silence someone reaching out.
    assert!(app
        .browser()
        .visit(&path)
        .body
        .contains("I want to end my life"));
    let queue = admin.visit("/review");
    let entries = queue.texts(".review-entry h2");
    assert_eq!(entries.len(), 2);
    assert!(entries[0].starts_with("Check in"), "{entries:?}");
    queue.assert_status(200);
    admin
        .submit(
            &queue,
            &format!("/p/{post_id}/moderate"),
            &[("decision", "handled"), ("note", "sent a kind message")],
        )
        .assert_redirect();
    let queue = admin.visit("/review");
    assert_eq!(
        queue.count(".review-entry"),
        1,
        "only the old report is left"
    );

    // Words of crisis added by an edit are met the same way.
    let calm = ana.reply_to(&path, "An ordinary day.");
    let location = calm.assert_redirect();
    let page = ana.visit(location.split('#').next().unwrap());
    let edit = page
        .attrs(".post-actions a[href$='/edit']", "href")
        .pop()
        .unwrap();
    let edited = ana.fill(&edit, &edit, &[("body", "Actually I want to die.")]);
    assert!(edited.assert_redirect().starts_with("/help?post="));
    let queue = admin.visit("/review");
    assert!(queue.texts(".review-entry h2")[0].starts_with("Check in"));
}

fn limited_app(limits: PostingLimits) -> TestApp {
    let mut config = hearth_tests::test_config();
    config.posting.limits = limits;
    TestApp::with_config(config)
}

fn assert_limited(reply: &Reply, says: &str) {
    reply.assert_status(429);
    assert!(reply.header("retry-after").is_some());
    assert!(reply.body.contains(says), "{}", reply.body);
}

#[test]
fn posting_limits_allow_exactly_the_limit_then_refuse_until_the_window_passes() {
    let app = limited_app(PostingLimits {
        per_minute: 2,
        ..PostingLimits::NONE
    });
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.reply_to(&path, "one").assert_redirect();
    ana.reply_to(&path, "two").assert_redirect();
    let refused = ana.reply_to(&path, "three, which I took time to write");
    assert_limited(&refused, "minute");
    assert!(
        refused.body.contains("three, which I took time to write"),
        "the text is handed back"
    );
    // Another member is not affected.
    let ben = app.signed_in("ben", SiteRole::Member);
    ben.reply_to(&path, "hello").assert_redirect();
    age_posts_of(&app, "ana");
    ana.reply_to(&path, "three").assert_redirect();
}

#[test]
fn new_accounts_have_the_stricter_limit() {
    let app = limited_app(PostingLimits {
        per_minute: 3,
        new_account_per_minute: 1,
        new_account_hours: 24,
        ..PostingLimits::NONE
    });
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.reply_to(&path, "one").assert_redirect();
    assert_limited(
        &ana.reply_to(&path, "two"),
        "accounts in their first 24 hours",
    );
    // The same member a year on gets the ordinary limit.
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE members SET created_at = '2000-01-01 00:00:00' WHERE username = 'ana'",
        )
        .execute(&mut *app.conn())
        .unwrap();
    }
    ana.reply_to(&path, "two").assert_redirect();
    ana.reply_to(&path, "three").assert_redirect();
    assert_limited(&ana.reply_to(&path, "four"), "minute");
}

#[test]
fn slow_mode_spaces_out_each_members_posts_but_not_the_facilitators() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Heated", "Let's talk");
    let path = thread.path();
    let id = thread.thread_id();
    admin
        .fill(
            &path,
            &format!("/t/{id}/moderate"),
            &[("action", "slow_mode"), ("slow_mode_seconds", "300")],
        )
        .assert_redirect();
    let page = app.browser().visit(&path);
    assert!(page
        .texts(".notice")
        .iter()
        .any(|n| n.contains("once every 5 minutes")));
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.reply_to(&path, "first").assert_redirect();
    assert_limited(&ana.reply_to(&path, "second"), "slow mode");
    // Moderators of the board are not slowed.
    admin.reply_to(&path, "mod one").assert_redirect();
    admin.reply_to(&path, "mod two").assert_redirect();
    age_posts_of(&app, "ana");
    ana.reply_to(&path, "second").assert_redirect();
    let log = admin.visit("/b/pets/log");
    assert!(log.texts(".log-list li")[0].contains("one post every 5 minutes"));
}
