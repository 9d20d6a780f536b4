//! People and time over HTTP: reactions under posts (a plain form back to the post's anchor,
//! counts, nothing for outsiders), role badges only from Hearth's roles, and the reader's
//! zone for visitors (their cookie, and pages kept for visitors never mixing zones).

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

/// `(post id, position)` of the posts on a thread page, in order.
fn post_ids(page: &hearth_tests::Page) -> Vec<String> {
    page.attrs(".post .meta a[href^='/p/']", "href")
        .into_iter()
        .map(|href| href.trim_start_matches("/p/").to_owned())
        .collect()
}

#[test]
fn a_reaction_returns_to_the_post_and_is_counted_under_it() {
    let app = TestApp::new();
    let world = app
        .group("night")
        .facilitated_by("fran")
        .with_members(["mia", "sam", "quinn"])
        .build();
    let thread = world.start_thread("mia", "Cannot sleep", "The nights are long.");
    let path = thread.path();
    let reply = world.browser("fran").reply_to(&path, "We are here.");
    reply.assert_redirect();
    let sam = world.browser("sam");
    let page = sam.visit(&path);
    let ids = post_ids(&page);
    let first = &ids[0];
    let action = format!("/p/{first}/react");
    let back = sam.submit(&page, &action, &[("kind", "hear_you")]);
    let location = back.assert_redirect();
    assert!(location.ends_with("#post-1"), "{location}");
    assert!(
        location.starts_with(&format!("/t/{}", thread.thread_id())),
        "{location}"
    );
    let quinn = world.browser("quinn");
    let page = quinn.visit(&path);
    quinn
        .submit(&page, &action, &[("kind", "hear_you")])
        .assert_redirect();
    quinn
        .submit(&page, &action, &[("kind", "strength")])
        .assert_redirect();

    // Sam sees the counts, their own pressed; every kind is a button for them.
    let page = sam.visit(&path);
    let buttons = page.texts(&format!("form[action='{action}'] button"));
    assert_eq!(
        buttons,
        [
            "2 · I hear you",
            "1 · Sending strength",
            "Me too",
            "Thank you"
        ]
    );
    assert_eq!(
        page.attrs(&format!("form[action='{action}'] button"), "aria-pressed"),
        ["true", "false", "false", "false"]
    );
    // Sending the same one again takes it back.
    sam.submit(&page, &action, &[("kind", "hear_you")])
        .assert_redirect();
    let page = sam.visit(&path);
    assert_eq!(
        page.texts(&format!("form[action='{action}'] button"))[0],
        "1 · I hear you"
    );

    // A visitor sees counts only: no form, no names.
    let visitor = app.browser();
    let seen = visitor.visit(&path);
    assert_eq!(seen.count("form.reactions"), 0);
    assert_eq!(
        seen.texts("p.reactions span"),
        ["1 · I hear you", "1 · Sending strength"]
    );
    assert!(!seen.body.contains("quinn"), "a visitor sees who reacted");
    // The author sees counts under their own post, and no buttons there.
    let mia = world.browser("mia");
    let own = mia.visit(&path);
    assert_eq!(own.count(&format!("form[action='{action}']")), 0);
    // They were told once, for the two people who reacted.
    let told = mia.visit("/notifications");
    let texts = told.texts(".notification-reaction .notification-text");
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].starts_with("2 people reacted to your post in"),
        "{texts:?}"
    );
    // Reacting to one's own post does nothing.
    let mine = mia.post(&action, &[("kind", "me_too"), ("csrf_token", &csrf(&own))]);
    assert_eq!(mine.status, 403, "{}", mine.body);
    // No such reaction.
    let odd = sam.post(
        &action,
        &[("kind", "downvote"), ("csrf_token", &csrf(&page))],
    );
    assert_eq!(odd.status, 400, "{}", odd.body);
}

fn csrf(page: &hearth_tests::Page) -> String {
    page.attrs("input[name=csrf_token]", "value")
        .into_iter()
        .next()
        .expect("a form token on the page")
}

#[test]
fn reacting_to_a_private_groups_post_as_an_outsider_is_not_found_and_changes_nothing() {
    let app = TestApp::new();
    let world = app
        .group("circle")
        .private()
        .with_members(["mia", "sam"])
        .build();
    let thread = world.start_thread("mia", "Only for us", "Words for the circle.");
    let page = world.browser("sam").visit(&thread.path());
    let id = post_ids(&page)[0].clone();
    let outsider = app.signed_in("eve", SiteRole::Member);
    let home = outsider.visit("/");
    let reply = outsider.post(
        &format!("/p/{id}/react"),
        &[("kind", "hear_you"), ("csrf_token", &csrf(&home))],
    );
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(!reply.body.contains("Only for us"));
    assert!(!reply.body.contains("circle"));
    // A post that does not exist answers the same.
    let none = outsider.post(
        "/p/999999/react",
        &[("kind", "hear_you"), ("csrf_token", &csrf(&home))],
    );
    assert_eq!(none.status, 404);
    // Nothing was stored, and nobody was told.
    let seen = world.browser("sam").visit(&thread.path());
    assert_eq!(seen.count("p.reactions"), 0);
    assert!(seen.texts("form.reactions button")[0] == "I hear you");
    let told = world.browser("mia").visit("/notifications");
    assert_eq!(told.count(".notification-reaction"), 0);
}

#[test]
fn badges_come_from_roles_never_from_display_names() {
    let app = TestApp::new();
    let world = app
        .group("night")
        .facilitated_by("fran")
        .with_members(["mark_t"])
        .build();
    let mark = world.browser("mark_t");
    mark.fill(
        "/settings",
        "/settings",
        &[("display_name", "Admin"), ("time_zone", "UTC")],
    )
    .assert_redirect();
    let thread = world.start_thread("fran", "Welcome", "Hello all.");
    let path = thread.path();
    mark.reply_to(&path, "Hi, I am new.").assert_redirect();
    world
        .browser("admin")
        .reply_to(&path, "Welcome, everyone.")
        .assert_redirect();
    let page = app.browser().visit(&path);
    let bylines: Vec<String> = page.texts(".post-header p[id$='-by']");
    assert_eq!(bylines.len(), 3, "{bylines:?}");
    assert_eq!(
        page.texts(".post-header .badge"),
        ["Facilitator", "New member", "Admin"],
        "{bylines:?}"
    );
    // The member called "Admin" carries only the badge of a new account.
    assert_eq!(bylines[1], "Admin", "{bylines:?}");
    assert_eq!(page.texts("#post-2 .badge"), ["New member"]);
    // Avatars are drawn here, hidden from screen readers, with the name's initials.
    assert_eq!(
        page.attrs(".post-header .avatar", "aria-hidden"),
        ["true"; 3]
    );
    assert_eq!(page.texts("#post-2 .avatar"), ["A"]);
}

#[test]
fn a_visitors_zone_cookie_shows_their_times_and_never_reaches_another_visitor() {
    let app = TestApp::new();
    let world = app.group("night").with_members(["mia"]).build();
    let thread = world.start_thread("mia", "Cannot sleep", "The nights are long.");
    let path = thread.path();
    let toronto = app.browser();
    toronto.set_cookie("hearth_zone", "America/Toronto");
    let other = app.browser();
    let title = |page: &hearth_tests::Page| page.attrs(".post-header time", "title")[0].clone();
    // Each of them twice: the second answer may come from a kept page.
    for _ in 0..2 {
        let seen = toronto.visit(&path);
        assert!(title(&seen).ends_with("Toronto time"), "{}", title(&seen));
        assert!(seen.texts(".site-footer")[0].contains("Toronto time"));
        let seen = other.visit(&path);
        assert!(title(&seen).ends_with("UTC"), "{}", title(&seen));
        assert!(!seen.body.contains("Toronto"));
    }
    // A made-up zone is ignored: the site's zone, and nothing of the cookie printed.
    let odd = app.browser();
    odd.set_cookie("hearth_zone", "Mars/Olympus_Mons");
    let seen = odd.visit(&path);
    assert!(title(&seen).ends_with("UTC"));
    assert!(!seen.body.contains("Olympus"));
    // The sign-up form starts at the visitor's zone.
    let form = toronto.visit("/register");
    assert_eq!(
        form.attrs("select#time_zone option[selected]", "value"),
        ["America/Toronto"]
    );
}

#[test]
fn the_moderation_log_reads_actor_first() {
    let app = TestApp::new();
    let world = app
        .group("night")
        .facilitated_by("fran")
        .with_members(["mark_t"])
        .build();
    let fran = world.browser("fran");
    fran.fill(
        "/u/mark_t",
        "/u/mark_t/warn",
        &[("board", "night"), ("message", "Please keep it kind.")],
    )
    .assert_redirect();
    let thread = world.start_thread("fran", "Evenings", "How are your evenings?");
    world
        .browser("mark_t")
        .reply_to(&thread.path(), "Something unkind.")
        .assert_redirect();
    let page = fran.visit(&thread.path());
    let id = post_ids(&page)[1].clone();
    fran.decide(&page, &id, "hide", &[("reason", "Unkind to others")])
        .assert_redirect();
    let full = fran.visit("/b/night/log").texts(".log-list li");
    let said = |words: &str| full.iter().any(|line| line.contains(words));
    assert!(said("fran warned mark_t"), "{full:#?}");
    assert!(said("admin made fran a facilitator"), "{full:#?}");
    assert!(said("fran hid a post by mark_t in"), "{full:#?}");
    // The public log names no facilitator, and shows no warning.
    let public = app.browser().visit("/b/night/log").texts(".log-list li");
    assert_eq!(public.len(), 1, "{public:#?}");
    assert!(
        public[0].contains("A facilitator hid a post by mark_t in"),
        "{public:#?}"
    );
}

#[test]
fn the_profile_shows_the_person_first_and_warnings_only_to_moderators() {
    let app = TestApp::new();
    let world = app
        .group("night")
        .facilitated_by("fran")
        .with_members(["mia", "mark_t"])
        .build();
    let circle = app.group("circle").private().joined_by(["mark_t"]).build();
    let fran = world.browser("fran");
    fran.fill(
        "/u/mark_t",
        "/u/mark_t/warn",
        &[("board", "night"), ("message", "Please keep it kind.")],
    )
    .assert_redirect();
    // A member sees the person and muting behind a small menu; not who else is in a group
    // (a roster is its facilitators'), nor a private group of the other's; no warnings.
    let mia = world.browser("mia");
    let seen = mia.visit("/u/mark_t");
    assert_eq!(seen.attrs(".person-head .avatar", "aria-hidden"), ["true"]);
    assert_eq!(seen.count("#common-heading"), 0);
    assert!(!seen.body.contains(&circle.slug));
    assert_eq!(
        seen.count("details.people-menu form[action='/u/mark_t/mute']"),
        1
    );
    assert!(!seen.body.contains("Please keep it kind"));
    assert!(!seen.body.contains("Earlier warnings"));
    // The facilitator sees the earlier warning, and picks a ban's end on a date input.
    let moderated = fran.visit("/u/mark_t");
    let warnings = moderated.texts(".earlier-warnings li");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with("Board night: Please keep it kind."),
        "{warnings:?}"
    );
    assert_eq!(moderated.attrs("#ban-until", "type"), ["date"]);
    // An admin is badged from their role; a visitor sees no menu and no warnings.
    let admin = app.browser().visit("/u/admin");
    assert_eq!(admin.texts(".person-head .badge"), ["Admin"]);
    let visitor = app.browser().visit("/u/mark_t");
    assert_eq!(visitor.count("details.people-menu"), 0);
    assert!(!visitor.body.contains("Please keep it kind"));
}
