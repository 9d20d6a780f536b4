//! The level control on thread and group pages, the defaults and reminders on `/settings`,
//! and what meetings tell those going: through the real server, on both backends.

use hearth_tests::{weekly_meeting, Browser, TestApp};

/// The level control's radio buttons on a page, and which one is checked.
fn checked_level(browser: &Browser, path: &str) -> Vec<String> {
    browser
        .visit(path)
        .attrs(".level-control input[name=level][checked]", "value")
}

fn set_level(browser: &Browser, page: &str, action: &str, level: &str) -> String {
    let shown = browser.visit(page);
    browser
        .submit(&shown, action, &[("level", level)])
        .assert_redirect()
}

fn bell(browser: &Browser) -> usize {
    browser
        .visit("/")
        .texts(".bell .count")
        .first()
        .and_then(|text| text.split(' ').next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn the_thread_pages_control_mutes_or_watches_what_arrives() {
    let app = TestApp::new();
    let world = app
        .group("cats")
        .named("Pet loss")
        .with_members(["mia", "wes", "sam"])
        .build();
    let thread = world.start_thread("mia", "My cat died", "Her name was Milo.");
    let path = thread.path();
    let id = thread.thread_id();
    let action = format!("/t/{id}/level");
    let (mia, wes, sam) = (
        world.browser("mia"),
        world.browser("wes"),
        world.browser("sam"),
    );
    // Mia started it: she watches it. Wes has said nothing there: normal.
    assert_eq!(checked_level(&mia, &path), ["watching"]);
    assert_eq!(checked_level(&wes, &path), ["normal"]);
    assert_eq!(mia.visit(&path).count(".level-control legend"), 1);
    // Visitors see no control.
    assert_eq!(app.browser().visit(&path).count(".level-control"), 0);

    // Mia mutes it; Wes watches it.
    let back = set_level(&mia, &path, &action, "muted");
    assert!(
        back.starts_with(&path) && back.ends_with("#level"),
        "{back}"
    );
    set_level(&wes, &path, &action, "watching");
    assert_eq!(checked_level(&mia, &path), ["muted"]);
    assert_eq!(checked_level(&wes, &path), ["watching"]);

    sam.reply_to(&path, "So sorry about Milo.")
        .assert_redirect();
    sam.reply_to(&path, "Mine was called Tom.")
        .assert_redirect();
    assert_eq!(bell(&mia), 0, "muted: nothing");
    assert_eq!(bell(&wes), 2, "watching: every post");
    let listed = wes.visit("/notifications").texts(".notification-text");
    assert!(
        listed[0].contains("2 new posts in My cat died"),
        "{listed:?}"
    );

    // A level that is not one, and a request without the form's token, change nothing.
    let page = wes.visit(&path);
    wes.submit(&page, &action, &[("level", "everything")])
        .assert_status(422);
    wes.post(&action, &[("level", "muted")]).assert_status(403);
    assert_eq!(checked_level(&wes, &path), ["watching"]);
}

#[test]
fn the_group_pages_control_watches_new_threads_and_a_private_groups_stays_inside() {
    let app = TestApp::new();
    let world = app
        .group("circle")
        .private()
        .facilitated_by("fran")
        .with_members(["mia", "wes"])
        .build();
    let group = format!("/b/{}", world.slug);
    let action = format!("{group}/level");
    let wes = world.browser("wes");
    wes.fill("/notifications", "/notifications/read", &[])
        .assert_redirect();
    assert_eq!(checked_level(&wes, &group), ["normal"]);
    assert_eq!(
        set_level(&wes, &group, &action, "watching"),
        format!("{group}#level")
    );
    assert_eq!(checked_level(&wes, &group), ["watching"]);
    let thread = world.start_thread("mia", "Only for us", "Private words.");
    assert_eq!(bell(&wes), 1);
    let listed = wes.visit("/notifications").texts(".notification-text");
    assert!(listed[0].contains("Only for us"), "{listed:?}");
    // Every post of a group Wes watches reaches him, in threads he never wrote in.
    world
        .browser("fran")
        .reply_to(&thread.path(), "Thank you for sharing.")
        .assert_redirect();
    assert_eq!(bell(&wes), 2);

    // Someone outside: no control, and setting a level on the group is a 404.
    let lee = app.signed_in("lee", hearth_core::model::SiteRole::Member);
    let front = lee.visit(&group);
    assert_eq!(front.count(".level-control"), 0);
    let token = front.attrs("input[name=csrf_token]", "value");
    let token = token.first().cloned().unwrap_or_else(|| {
        lee.visit("/settings")
            .attrs("input[name=csrf_token]", "value")[0]
            .clone()
    });
    lee.post(&action, &[("csrf_token", &token), ("level", "watching")])
        .assert_status(404);
    lee.post(
        &format!("/t/{}/level", thread.thread_id()),
        &[("csrf_token", &token), ("level", "watching")],
    )
    .assert_status(404);
    world.start_thread("mia", "Another private one", "Still private.");
    assert_eq!(bell(&lee), 0);
    assert!(!lee.visit("/notifications").body.contains("private one"));
}

#[test]
fn the_defaults_in_settings_decide_a_new_threads_level() {
    let app = TestApp::new();
    let world = app.group("moving").with_members(["mia", "sam"]).build();
    let mia = world.browser("mia");
    let settings = mia.visit("/settings");
    assert_eq!(
        settings.attrs("#started_level option[selected]", "value"),
        ["watching"]
    );
    assert_eq!(
        settings.attrs("#replied_level option[selected]", "value"),
        ["following"]
    );
    assert_eq!(
        settings.attrs("#reminder option[selected]", "value"),
        ["60"]
    );
    mia.submit(
        &settings,
        "/settings/notifications",
        &[
            ("started_level", "normal"),
            ("replied_level", "watching"),
            ("reminder", "15"),
        ],
    )
    .assert_redirect();
    let settings = mia.visit("/settings");
    assert_eq!(
        settings.attrs("#started_level option[selected]", "value"),
        ["normal"]
    );
    assert_eq!(
        settings.attrs("#reminder option[selected]", "value"),
        ["15"]
    );
    // A choice that is not offered: the form again (422), nothing saved.
    let refused = mia.submit(
        &settings,
        "/settings/notifications",
        &[
            ("started_level", "watching"),
            ("replied_level", "watching"),
            ("reminder", "7"),
        ],
    );
    refused.assert_status(422);
    assert_eq!(
        mia.visit("/settings")
            .attrs("#started_level option[selected]", "value"),
        ["normal"]
    );

    // Her own thread is at normal now: a plain reply does not ring her bell.
    let mine = world.start_thread("mia", "New city", "No friends yet.");
    assert_eq!(checked_level(&mia, &mine.path()), ["normal"]);
    world
        .browser("sam")
        .reply_to(&mine.path(), "Welcome!")
        .assert_redirect();
    assert_eq!(bell(&mia), 0);
    // A thread she replies to, she watches: every later post arrives.
    let theirs = world.start_thread("sam", "Weekend plans", "Anyone around?");
    mia.reply_to(&theirs.path(), "Me!").assert_redirect();
    assert_eq!(checked_level(&mia, &theirs.path()), ["watching"]);
    world
        .browser("sam")
        .reply_to(&theirs.path(), "Great, Saturday then.")
        .assert_redirect();
    assert_eq!(bell(&mia), 1);
}

#[test]
fn a_meeting_moved_and_its_reminder_show_on_notifications() {
    let app = TestApp::new();
    let world = app
        .group("grief")
        .facilitated_by("fay")
        .with_members(["ana", "bob"])
        .build();
    let fay = world.browser("fay");
    let mut fields = weekly_meeting("Evening circle", "Sharing.", "2038-01-07", "19:00", "UTC");
    fields.push(("online_url", "https://meet.example.org/circle"));
    let path = "/b/grief/meetings/new";
    let meeting = fay.fill(path, path, &fields).assert_redirect();
    let (ana, bob) = (world.browser("ana"), world.browser("bob"));
    let rsvp = format!("{meeting}/o/20380107T1900/rsvp");
    for who in [&ana, &bob] {
        let page = who.visit(&meeting);
        who.submit(&page, &rsvp, &[("response", "going")])
            .assert_redirect();
    }
    // Bob wants a day's notice.
    let settings = bob.visit("/settings");
    bob.submit(
        &settings,
        "/settings/notifications",
        &[
            ("started_level", "watching"),
            ("replied_level", "following"),
            ("reminder", "1440"),
        ],
    )
    .assert_redirect();

    let moving = format!("{meeting}/o/20380107T1900/move");
    fay.fill(
        &moving,
        &moving,
        &[("date", "2038-01-08"), ("time", "18:30")],
    )
    .assert_redirect();
    let listed = ana.visit("/notifications");
    let texts = listed.texts(".notification-meeting_changed .notification-text");
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("Evening circle"), "{texts:?}");
    assert!(
        texts[0].contains("Fri 8 Jan 2038, 18:30 (UTC)"),
        "{texts:?}"
    );
    assert_eq!(
        listed.attrs(".notification-meeting_changed a", "href"),
        std::slice::from_ref(&meeting)
    );

    // The worker's tick, as `hearth serve` runs it every minute, at chosen moments.
    let tick = |at: &str| {
        let now = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap();
        hearth_core::meetings::send_due_reminders(&mut app.conn(), now).unwrap()
    };
    assert_eq!(tick("2038-01-07 18:31"), 1, "Bob, a day before");
    assert_eq!(tick("2038-01-08 17:30"), 1, "Ana, an hour before");
    assert_eq!(tick("2038-01-08 17:31"), 0, "once");
    for who in [&ana, &bob] {
        let reminders = who
            .visit("/notifications")
            .texts(".notification-meeting_reminder .notification-text");
        assert_eq!(reminders.len(), 1, "{reminders:?}");
        assert!(reminders[0].contains("starts soon"), "{reminders:?}");
    }
    assert!(bell(&ana) >= 2);
    // Cancelled: those going are told.
    let page = fay.visit(&meeting);
    fay.submit(&page, &format!("{meeting}/o/20380107T1900/cancel"), &[])
        .assert_redirect();
    let cancelled = ana
        .visit("/notifications")
        .texts(".notification-meeting_cancelled .notification-text");
    assert_eq!(cancelled.len(), 1, "{cancelled:?}");
    assert!(cancelled[0].contains("is cancelled"), "{cancelled:?}");
}
