//! Posting limits (per minute, stricter for new accounts) and a thread's slow mode.

use hearth_core::model::SiteRole;
use hearth_core::safety::limits::PostingLimits;
use hearth_tests::{Reply, TestApp};

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

/// The admin's board `pets` with a thread `Welcome`; returns the thread's address.
fn welcome_thread(app: &TestApp) -> String {
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    thread.path()
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
    let path = welcome_thread(&app);
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
    let path = welcome_thread(&app);
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
