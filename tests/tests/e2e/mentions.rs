//! Mentions and quotes through the real server: the link to the profile, the bell, the quote
//! link's reply form, and a private group's posts reaching nobody outside it.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

/// A mention links to the member's profile and rings their bell; an unknown name stays text.
#[test]
fn a_mention_links_to_the_profile_and_rings_the_bell() {
    let app = TestApp::new();
    let world = app.group("night").with_members(["mia", "fran"]).build();
    let thread = world.start_thread("fran", "Awake again", "Is @Mia around? Or @nobody?");
    let links = thread.attrs(".post-body a", "href");
    assert_eq!(links, ["/u/mia"], "{}", thread.body);
    assert_eq!(thread.texts(".post-body a"), ["@Mia"]);
    assert!(thread.texts(".post-body").join(" ").contains("Or @nobody?"));

    let mia = world.browser("mia");
    assert_eq!(mia.visit("/").texts(".bell .count"), ["1 unread"]);
    let items = mia
        .visit("/notifications")
        .texts(".notification-list li .notification-text");
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(
        items[0].contains("fran mentioned you in Awake again"),
        "{items:?}"
    );
    // The profile the mention links to is there.
    mia.visit("/u/mia").assert_status(200);
}

/// "Quote" opens the thread's reply form started with the post quoted, attributed and linked;
/// sending it tells the quoted member.
#[test]
fn a_quote_link_starts_the_reply_with_the_attributed_quote_and_tells_its_author() {
    let app = TestApp::new();
    let world = app.group("night").with_members(["mia", "fran"]).build();
    let thread = world.start_thread("mia", "Sleepless", "I can't sleep.\n\nNot at all.");
    let post_id = thread.attrs(".post .meta a", "href")[0]
        .trim_start_matches("/p/")
        .to_owned();
    let fran = world.browser("fran");
    let page = fran.visit(&thread.path());
    let quote = format!("/p/{post_id}/quote#reply");
    assert_eq!(
        page.attrs(".post-actions a[href$='/quote#reply']", "href"),
        [quote]
    );

    let form = fran.visit(&format!("/p/{post_id}/quote"));
    form.assert_status(200);
    let textarea = scraper::Selector::parse("section#reply textarea[name=body]").unwrap();
    let started: String = form
        .html()
        .select(&textarea)
        .flat_map(|t| t.text().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert_eq!(
        started,
        format!("> **mia** [wrote](/p/{post_id}):\n> I can't sleep.\n>\n> Not at all.\n\n")
    );
    let body = format!("{started}Same here. Want to talk?");
    fran.submit(
        &form,
        &format!("/t/{}/reply", thread.thread_id()),
        &[("body", &body)],
    )
    .assert_redirect();

    let reply = fran.visit(&thread.path());
    assert!(reply
        .attrs("blockquote a", "href")
        .contains(&format!("/p/{post_id}")));
    let mia = world.browser("mia");
    let items = mia
        .visit("/notifications")
        .texts(".notification-list li .notification-text");
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(
        items[0].contains("fran replied to your post in Sleepless"),
        "{items:?}"
    );
}

/// A member outside a private group learns nothing from being mentioned in it or from trying
/// to quote its posts: no notification, and the quote link is not found.
#[test]
fn a_member_outside_a_private_group_sees_nothing_of_a_mention_there() {
    let app = TestApp::new();
    let world = app
        .group("circle")
        .private()
        .facilitated_by("fran")
        .with_members(["mia"])
        .build();
    let lee = app.signed_in("lee", SiteRole::Member);
    let thread = world.start_thread(
        "mia",
        "Only for the circle",
        "@lee would get this. @fran too.",
    );
    assert_eq!(thread.attrs(".post-body a", "href"), ["/u/lee", "/u/fran"]);
    let post_id = thread.attrs(".post .meta a", "href")[0]
        .trim_start_matches("/p/")
        .to_owned();

    assert_eq!(lee.visit("/").count(".bell .count"), 0);
    let theirs = lee.visit("/notifications");
    assert_eq!(theirs.count(".notification"), 0);
    assert!(!theirs.body.contains("Only for the circle"));
    let quote = lee.visit(&format!("/p/{post_id}/quote"));
    quote.assert_status(404);
    assert!(!quote.body.contains("would get this"));
    // Fran, inside, was told.
    let frans = world
        .browser("fran")
        .visit("/notifications")
        .texts(".notification-list li .notification-text");
    assert!(
        frans.iter().any(|t| t.contains("mia mentioned you")),
        "{frans:?}"
    );
}
