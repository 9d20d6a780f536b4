//! Words of crisis in a post: published, the author shown help, and the moderators asked to
//! check in first.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

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
        .decide(
            &queue,
            &post_id,
            "handled",
            &[("note", "sent a kind message")],
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
