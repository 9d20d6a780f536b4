//! Words of crisis in a post: published, the author shown help, and the moderators asked to
//! check in first.

use diesel::prelude::*;
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
    assert!(help.texts(".crisis-status")[0].contains("Your post is up in"));
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

fn sql(app: &TestApp, statement: &str) {
    diesel::sql_query(statement)
        .execute(&mut app.conn())
        .unwrap();
}

/// After a post with crisis words the page speaks to its author: where the post is and who will
/// check in, the helpline of their own country (by their time zone) first with one big button
/// to call it, and the way back at the top; a held post is said to be held.
#[test]
fn the_crisis_page_speaks_to_the_author_of_the_post() {
    let app = TestApp::new();
    let world = app
        .group("pet-loss")
        .named("Pet loss")
        .with_members(["ana"])
        .build();
    let ana = world.browser("ana");
    sql(
        &app,
        "UPDATE members SET time_zone = 'Europe/London' WHERE username = 'ana'",
    );
    let started = ana.fill(
        "/b/pet-loss/new",
        "/b/pet-loss/new",
        &[
            ("title", "Tonight"),
            ("body", "Since Milo died I want to end my life."),
        ],
    );
    let help = ana.follow(started);
    help.assert_status(200);
    let status = help.texts(".crisis-status p")[0].clone();
    assert_eq!(
        status,
        "Your post is up in Pet loss. The facilitators have been told and will check in with you there."
    );
    // The way back comes first in the page, before the words and the helplines.
    let html = help.html();
    let first_link = html
        .select(&scraper::Selector::parse("main a").unwrap())
        .next()
        .unwrap();
    assert_eq!(first_link.text().collect::<String>(), "Back to your post");
    assert!(first_link.value().attr("href").unwrap().starts_with("/p/"));
    // Her country first (London time: the UK and Ireland), and one big button to call.
    assert!(help.texts("main h2")[0].starts_with("United Kingdom and Ireland"));
    assert_eq!(help.attrs("a.call-button", "href"), ["tel:116123"]);
    assert_eq!(help.count("a.call-button"), 1);

    // A member elsewhere (no helpline listed for Berlin) is shown the lines for other
    // countries first, the big button finding one, not a guessed number; a held post is said
    // to be waiting, not up.
    let ben = app.signed_in("ben", SiteRole::Member);
    sql(
        &app,
        "UPDATE members SET time_zone = 'Europe/Berlin' WHERE username = 'ben'",
    );
    sql(
        &app,
        "UPDATE boards SET premod_first_posts = 3 WHERE slug = 'pet-loss'",
    );
    let held = ben.fill(
        "/b/pet-loss/new",
        "/b/pet-loss/new",
        &[
            ("title", "Hard week"),
            ("body", "I keep thinking about suicide."),
        ],
    );
    let help = ben.follow(held);
    let status = help.texts(".crisis-status p")[0].clone();
    assert!(
        status.starts_with("Your post is waiting for a facilitator to approve it in Pet loss"),
        "{status}"
    );
    assert!(!status.contains("is up"), "{status}");
    assert_eq!(help.texts("main h2")[0], "Other countries");
    assert_eq!(
        help.attrs("a.call-button", "href"),
        ["https://findahelpline.com"]
    );
    assert_eq!(help.count("a[href^='tel:'].call-button"), 0);
}
