//! Edits through the real forms: limited like posts, held like posts, refused to members banned
//! from the group and in locked threads; and a moderator's decision applies only to the text
//! they saw.

use hearth_core::model::SiteRole;
use hearth_core::safety::limits::EditLimits;
use hearth_tests::{Browser, Page, TestApp};

/// The edit form's address of the `n`th post (from 0) on a thread page that offers it.
fn edit_link(page: &Page, n: usize) -> String {
    page.attrs(".post-actions a[href$='/edit']", "href")[n].clone()
}

fn post_id_of(edit_link: &str) -> String {
    edit_link
        .trim_start_matches("/p/")
        .trim_end_matches("/edit")
        .to_owned()
}

/// `ana`'s thread on the admin's board `pets`; returns ana and the thread page she sees.
fn anas_thread(app: &TestApp, body: &str) -> (Browser, Page) {
    app.with_board("pets");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pets", "My cat", body);
    (ana, thread)
}

fn edit(browser: &Browser, link: &str, body: &str) -> hearth_tests::Reply {
    browser.fill(link, link, &[("body", body)])
}

#[test]
fn edits_over_the_limit_are_refused_with_the_text_kept() {
    let mut config = hearth_tests::test_config();
    config.posting.edits = EditLimits {
        per_minute: 2,
        ..EditLimits::default()
    };
    let app = TestApp::with_config(config);
    let (ana, thread) = anas_thread(&app, "First words");
    let link = edit_link(&thread, 0);
    edit(&ana, &link, "Second words").assert_redirect();
    edit(&ana, &link, "Third words").assert_redirect();
    let refused = edit(&ana, &link, "Fourth words, which I took time to write");
    refused.assert_status(429);
    assert!(
        refused.body.contains("limit of 2 edits a minute"),
        "{}",
        refused.body
    );
    assert!(refused
        .body
        .contains("Fourth words, which I took time to write"));
    assert_eq!(
        app.browser()
            .visit(&thread.path())
            .texts(".post .post-body"),
        ["Third words"]
    );
}

#[test]
fn an_edit_over_the_byte_limit_shows_the_form_again_with_its_text() {
    let app = TestApp::new();
    let (ana, thread) = anas_thread(&app, "First words");
    let link = edit_link(&thread, 0);
    // 40,000 characters, under the 50,000 allowed, but 120,000 bytes.
    let euros = "€".repeat(40_000);
    let refused = edit(&ana, &link, &euros);
    refused.assert_status(422);
    assert!(
        refused.body.contains("at most 100000 bytes"),
        "the message says why"
    );
    assert!(
        refused.body.contains(&euros),
        "the text is kept in the form"
    );
}

#[test]
fn an_edit_with_a_held_word_waits_for_a_moderator_and_leaves_the_page() {
    let app = TestApp::new();
    let (ana, thread) = anas_thread(&app, "Opening words");
    let admin = app.admin();
    admin
        .fill(
            "/admin/watched-words",
            "/admin/watched-words",
            &[("phrase", "cheap pills"), ("action", "hold")],
        )
        .assert_redirect();
    let reply = ana.reply_to(&thread.path(), "A kind reply");
    reply.assert_redirect();
    let page = ana.visit(&thread.path());
    let link = edit_link(&page, 1);
    edit(&ana, &link, "Buy cheap pills now").assert_redirect();
    let seen_by_visitor = app.browser().visit(&thread.path());
    assert_eq!(seen_by_visitor.texts(".post .post-body"), ["Opening words"]);
    let queue = admin.visit("/review");
    assert_eq!(queue.count(".review-entry"), 1, "{}", queue.body);
    assert!(queue
        .body
        .contains("Awaiting approval: watched words: cheap pills"));
}

#[test]
fn a_decision_on_a_post_edited_since_the_queue_was_opened_is_refused() {
    let mut config = hearth_tests::test_config();
    config.posting.new_account_premod_posts = 5;
    let app = TestApp::with_config(config);
    let (ana, thread) = anas_thread(&app, "Please approve me");
    let link = edit_link(&thread, 0);
    let post = post_id_of(&link);
    let admin = app.admin();
    let queue = admin.visit("/review");
    edit(&ana, &link, "Something the moderator has not read").assert_redirect();

    let refused = admin.decide(&queue, &post, "approve", &[]);
    refused.assert_status(422);
    assert!(
        refused
            .body
            .contains("This post was edited after you opened it; please review the new text"),
        "{}",
        refused.body
    );
    // Nothing changed: the thread still awaits approval, out of everyone else's sight.
    app.browser().get(&thread.path()).assert_status(404);
    let queue_now = admin.visit("/review");
    assert!(queue_now
        .body
        .contains("Something the moderator has not read"));
    admin
        .decide(&queue_now, &post, "approve", &[])
        .assert_redirect();
    assert_eq!(
        app.browser()
            .visit(&thread.path())
            .texts(".post .post-body"),
        ["Something the moderator has not read"]
    );
}

#[test]
fn banned_members_and_posts_in_locked_threads_cannot_be_edited() {
    use hearth_core::accounts::{actors, members};
    let app = TestApp::new();
    let (ana, thread) = anas_thread(&app, "First words");
    let link = edit_link(&thread, 0);
    let mut conn = app.conn();
    let admin = members::by_username(&mut conn, "admin").unwrap();
    let admin = actors::actor_for(&mut conn, admin).unwrap();
    let board = hearth_core::forum::boards::by_slug_for(&mut conn, &admin.actor(), "pets").unwrap();
    let thread_id = hearth_core::ids::ThreadId(thread.thread_id().parse().unwrap());

    hearth_core::moderation::actions::change_thread(
        &mut conn,
        &admin,
        thread_id,
        hearth_core::moderation::actions::ThreadChange::Lock(true),
        "a break",
    )
    .unwrap();
    ana.get(&link).assert_status(403);
    let page = ana.visit(&thread.path());
    assert_eq!(
        page.count(".post-actions a[href$='/edit']"),
        0,
        "no edit link"
    );
    hearth_core::moderation::actions::change_thread(
        &mut conn,
        &admin,
        thread_id,
        hearth_core::moderation::actions::ThreadChange::Lock(false),
        "over",
    )
    .unwrap();
    let form = ana.visit(&link);
    let ana_member = members::by_username(&mut conn, "ana").unwrap();
    hearth_core::moderation::actions::ban_from_board(
        &mut conn,
        &admin,
        &board,
        &ana_member,
        Some(None),
        "a pause",
    )
    .unwrap();
    // The form opened before the ban is refused when sent.
    ana.submit(&form, &link, &[("body", "Changed")])
        .assert_status(403);
    ana.get(&link).assert_status(403);
    assert_eq!(
        app.browser()
            .visit(&thread.path())
            .texts(".post .post-body"),
        ["First words"]
    );
}

/// The thread page's moderation forms carry the version of the text shown, so a moderator can
/// hide an edited post from there (and is refused only if it changed after the page loaded).
#[test]
fn a_moderator_hides_an_edited_post_from_the_thread_page() {
    let app = TestApp::new();
    let (ana, thread) = anas_thread(&app, "Hello everyone");
    let link = edit_link(&thread, 0);
    let post = post_id_of(&link);
    edit(&ana, &link, "Something cruel, written after the first look").assert_redirect();
    let admin = app.admin();
    let page = admin.visit(&thread.path());
    admin
        .decide(
            &page,
            &post,
            "hide",
            &[("reason", "Unkind to another member")],
        )
        .assert_redirect();
    let seen = app.browser().visit(&thread.path());
    assert!(!seen.body.contains("Something cruel"), "{}", seen.body);

    // Restored (the text is the one shown); then a decision from a page opened before another
    // edit is refused, and nothing changes.
    let shown = admin.visit(&thread.path());
    admin
        .decide(&shown, &post, "restore", &[])
        .assert_redirect();
    assert!(app
        .browser()
        .visit(&thread.path())
        .body
        .contains("Something cruel"));
    let fresh = admin.visit(&thread.path());
    edit(&ana, &link, "Edited again while the moderator looked").assert_redirect();
    let refused = admin.decide(
        &fresh,
        &post,
        "hide",
        &[("reason", "Unkind to another member")],
    );
    refused.assert_status(422);
    assert!(app
        .browser()
        .visit(&thread.path())
        .body
        .contains("Edited again while the moderator looked"));
}
