//! Notifications through the real server: the bell, the list, grouping, and privacy.

use hearth_tests::TestApp;

/// The 3 a.m. story: a member posts and logs off; three people answer; when she comes back
/// the bell says 3 and the one notification leads to the first answer.
#[test]
fn three_answers_at_night_ring_the_bell_three_times_and_lead_to_the_first() {
    let app = TestApp::new();
    let world = app
        .group("night")
        .named("Night owls")
        .with_members(["mia", "fran", "sam", "kit"])
        .build();
    let thread = world.start_thread("mia", "Can't do this anymore", "I want it to stop.");
    let path = thread.path();
    let mia = world.browser("mia");
    assert_eq!(mia.visit("/").count(".bell .count"), 0, "nothing yet");
    for (who, words) in [
        ("fran", "I'm here with you."),
        ("sam", "You are not alone tonight."),
        ("kit", "Sending warmth."),
    ] {
        world.browser(who).reply_to(&path, words).assert_redirect();
    }
    assert_eq!(mia.visit("/groups").texts(".bell .count"), ["3 unread"]);
    let list = mia.visit("/notifications");
    let items = list.texts(".notification-list li .notification-text");
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(
        items[0].contains("3 new replies in your thread Can't do this anymore"),
        "{items:?}"
    );
    // The link goes to the first answer.
    let link = list.attrs(".notification-list li .notification-text a", "href");
    let first = mia.get(&link[0]);
    let location = first.assert_redirect();
    let answer = mia.visit(&location);
    let anchor = location.rsplit('#').next().unwrap_or_default().to_owned();
    let first_reply = answer.attrs(&format!("[id='{anchor}']"), "id");
    assert_eq!(first_reply.len(), 1, "{location}");
    let words = answer.texts(&format!("[id='{anchor}'] .post-body"));
    assert!(
        words.iter().any(|w| w.contains("I'm here with you.")),
        "{words:?}"
    );
    // The ones who answered follow the thread, so another plain reply tells them nothing.
    assert_eq!(world.browser("fran").visit("/").count(".bell .count"), 0);

    // Marking all read silences the bell; the list keeps them, read.
    mia.fill("/notifications", "/notifications/read", &[])
        .assert_redirect();
    assert_eq!(mia.visit("/").count(".bell .count"), 0);
    assert_eq!(mia.visit("/notifications").count(".notification.unread"), 0);
}

/// A member outside a private group hears nothing of it; its members do.
#[test]
fn nothing_of_a_private_group_reaches_anyone_outside_it() {
    let app = TestApp::new();
    let world = app
        .group("circle")
        .private()
        .facilitated_by("fran")
        .with_members(["mia"])
        .build();
    let outsider = app.signed_in("lee", hearth_core::model::SiteRole::Member);
    // Mia was told her request to join was approved; that is read now.
    world
        .browser("mia")
        .fill("/notifications", "/notifications/read", &[])
        .assert_redirect();
    let thread = world.start_thread("mia", "Only for the circle", "Private words.");
    world
        .browser("fran")
        .reply_to(&thread.path(), "Facilitator here, thank you for sharing.")
        .assert_redirect();
    assert_eq!(
        world.browser("mia").visit("/").texts(".bell .count"),
        ["1 unread"]
    );
    let theirs = outsider.visit("/notifications");
    assert_eq!(theirs.count(".notification"), 0);
    assert!(!theirs.body.contains("Only for the circle"));
    // Another member's notification cannot be marked read by them.
    let mine = world.browser("mia").visit("/notifications");
    let action = mine.attrs(".notification form", "action");
    let token = outsider
        .visit("/notifications")
        .attrs("input[name=csrf_token]", "value");
    outsider
        .post(&action[0], &[("csrf_token", &token[0])])
        .assert_redirect();
    assert_eq!(
        world.browser("mia").visit("/").texts(".bell .count"),
        ["1 unread"]
    );
}

/// The old address of the moderators' notices leads to the notifications.
#[test]
fn the_old_notices_address_moves_to_notifications() {
    let app = TestApp::new();
    let mia = app.signed_in("mia", hearth_core::model::SiteRole::Member);
    let reply = mia.get("/notices");
    reply.assert_status(301);
    assert_eq!(reply.header("location"), Some("/notifications"));
}
