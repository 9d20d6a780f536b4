//! Meetings over HTTP: facilitators' forms, times in the reader's zone and the organiser's,
//! answers with a waiting list, who sees the link and the place, and the iCalendar feeds.

use diesel::RunQueryDsl;
use hearth_core::model::SiteRole;
use hearth_tests::{weekly_meeting, Browser, Page, TestApp, World};

const LINK: &str = "https://meet.example.org/secret-room";
const PLACE: &str = "Back room, Elm Street Library";

/// The group `slug` (created with `visibility`) with `fay`, its facilitator, and `members`,
/// who joined it.
fn group<const N: usize>(app: &TestApp, slug: &str, visibility: &str, members: [&str; N]) -> World {
    app.group(slug)
        .named("Grief, together")
        .visibility(visibility)
        .facilitated_by("fay")
        .with_members(members)
        .build()
}

fn set_zone(app: &TestApp, username: &str, zone: &str) {
    // Test-only constants, not input: plain SQL works on both backends.
    diesel::sql_query(format!(
        "UPDATE members SET time_zone = '{zone}' WHERE username = '{username}'"
    ))
    .execute(&mut *app.conn())
    .unwrap();
}

fn weekly<'a>(
    title: &'a str,
    date: &'a str,
    time: &'a str,
    zone: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = weekly_meeting(title, "Check-in, then **sharing**.", date, time, zone);
    fields.extend([("online_url", LINK), ("place", PLACE)]);
    fields
}

/// Schedules through the form; returns the meeting's path.
fn schedule(browser: &Browser, slug: &str, fields: &[(&str, &str)]) -> String {
    let path = format!("/b/{slug}/meetings/new");
    let location = browser.fill(&path, &path, fields).assert_redirect();
    assert!(location.starts_with("/m/"), "{location}");
    location
}

fn no_details(page: &Page) {
    assert!(!page.body.contains(LINK), "the link leaked: {}", page.url);
    assert!(
        !page.body.contains("Elm Street"),
        "the place leaked: {}",
        page.url
    );
    assert_eq!(page.count(".meeting-link"), 0);
}

#[test]
fn a_facilitator_schedules_a_series_and_each_reader_sees_their_own_time_and_the_organisers() {
    let app = TestApp::new();
    let world = group(&app, "grief", "public", ["ana"]);
    let fay = world.browser("fay");
    // Bad input comes back with every problem and what was typed.
    let path = "/b/grief/meetings/new";
    let mut bad = weekly("", "2038-03-25", "7pm", "Europe/Nowhere");
    bad.push(("capacity", "none"));
    bad.retain(|(k, _)| *k != "online_url");
    bad.push(("online_url", "http://plain.example.org"));
    let refused = fay.fill(path, path, &bad);
    refused.assert_status(422);
    for field in ["title", "time", "time_zone", "online_url", "capacity"] {
        assert_eq!(refused.count(&format!("#{field}-error")), 1, "{field}");
    }
    assert_eq!(refused.attrs("#date", "value"), ["2038-03-25"]);
    assert_eq!(refused.count(".error-summary li"), 5);

    let mut fields = weekly("Evening circle", "2038-03-25", "19:00", "Europe/Berlin");
    fields.retain(|(k, _)| *k != "end");
    fields.extend([("end", "count"), ("count", "4")]);
    let meeting = schedule(&fay, "grief", &fields);

    let ana = world.browser("ana");
    set_zone(&app, "ana", "America/New_York");
    let page = ana.visit(&meeting);
    page.assert_status(200);
    assert_eq!(page.texts(".agenda strong"), ["sharing"]);
    let times = page.texts(".date-item h3 time");
    assert_eq!(
        times[..2],
        [
            "Thu 25 Mar 2038, 14:00 (your time, New York time) · 19:00 Berlin time",
            "Thu 1 Apr 2038, 13:00 (your time, New York time) · 19:00 Berlin time",
        ]
    );
    assert_eq!(times.len(), 4, "a count of 4");
    // Berlin changes its clocks on 28 March: the UTC instant moves by an hour, not 19:00.
    assert_eq!(
        page.attrs(".date-item h3 time", "datetime")[..2],
        ["2038-03-25T18:00:00Z", "2038-04-01T17:00:00Z"]
    );
    assert_eq!(page.attrs(".meeting-link", "href"), [LINK]);
    assert_eq!(page.texts(".meeting-place"), [PLACE]);

    // The group's list, from a given day on.
    let list = ana.visit("/b/grief/meetings?from=2038-03-20");
    assert_eq!(list.count(".meeting-item"), 4);
    no_details(&list);

    // Not a member, or not signed in: the meeting, never where it is.
    let bob = app.signed_in("bob", SiteRole::Member);
    let outsider = bob.visit(&meeting);
    outsider.assert_status(200);
    no_details(&outsider);
    assert_eq!(outsider.count(".rsvp-form"), 0);
    let visitor = app.browser().visit(&meeting);
    visitor.assert_status(200);
    no_details(&visitor);
    no_details(&app.browser().visit("/b/grief/meetings?from=2038-03-20"));
    no_details(&app.browser().visit("/b/grief"));
    // Members do not schedule.
    ana.get("/b/grief/meetings/new").assert_status(403);
    ana.get(&format!("{meeting}/edit")).assert_status(403);
    app.browser()
        .get(&format!("{meeting}/edit"))
        .assert_status(401);
}

#[test]
fn going_to_a_full_meeting_joins_the_waiting_list_and_the_first_moves_up() {
    let app = TestApp::new();
    let world = group(&app, "grief", "public", ["ana", "bob", "cyd"]);
    let fay = world.browser("fay");
    let mut fields = weekly("Small circle", "2038-01-07", "19:00", "UTC");
    fields.push(("capacity", "1"));
    let meeting = schedule(&fay, "grief", &fields);
    let (ana, bob, cyd) = (
        world.browser("ana"),
        world.browser("bob"),
        world.browser("cyd"),
    );
    let rsvp = format!("{meeting}/o/20380107T1900/rsvp");
    let answer = |who: &Browser, response: &str| {
        let page = who.visit(&meeting);
        who.submit(&page, &rsvp, &[("response", response)])
            .assert_redirect();
    };
    answer(&ana, "going");
    answer(&bob, "going");
    answer(&cyd, "going");
    let first_date = |who: &Browser| who.visit(&meeting).texts("#date-20380107T1900 .my-answer");
    assert_eq!(first_date(&ana), ["Your answer: going"]);
    assert_eq!(
        first_date(&bob),
        ["Your answer: going — you are number 1 on the waiting list"]
    );
    assert_eq!(
        first_date(&cyd),
        ["Your answer: going — you are number 2 on the waiting list"]
    );
    let page = ana.visit(&meeting);
    assert_eq!(
        page.texts("#date-20380107T1900 .answers"),
        ["1 going of 1 (full) · 0 maybe · 2 on the waiting list"]
    );
    assert_eq!(page.texts("#date-20380107T1900 .going-people li"), ["ana"]);
    assert_eq!(
        page.attrs("#date-20380107T1900 input[checked]", "value"),
        ["going"]
    );
    // Ana cannot come after all: Bob moves up and is told.
    answer(&ana, "not_going");
    assert_eq!(first_date(&bob), ["Your answer: going"]);
    assert_eq!(
        first_date(&cyd),
        ["Your answer: going — you are number 1 on the waiting list"]
    );
    let notices = bob.visit("/notifications");
    assert!(
        notices
            .body
            .contains("you have moved up from the waiting list"),
        "{}",
        notices.body
    );
    // Outside the group: no answering.
    let eve = app.signed_in("eve", SiteRole::Member);
    let token = eve
        .visit("/")
        .attrs("input[name=csrf_token]", "value")
        .remove(0);
    eve.post(&rsvp, &[("csrf_token", &token), ("response", "going")])
        .assert_status(403);
    // A date the series does not have.
    let token = ana
        .visit("/")
        .attrs("input[name=csrf_token]", "value")
        .remove(0);
    ana.post(
        &format!("{meeting}/o/20380108T1900/rsvp"),
        &[("csrf_token", &token), ("response", "going")],
    )
    .assert_status(404);
}

#[test]
fn facilitators_cancel_or_move_one_date_edit_the_series_and_cancel_it() {
    let app = TestApp::new();
    let world = group(&app, "grief", "public", []);
    let fay = world.browser("fay");
    let meeting = schedule(
        &fay,
        "grief",
        &weekly("Evening circle", "2038-01-07", "19:00", "Europe/London"),
    );
    let page = fay.visit(&meeting);
    fay.submit(&page, &format!("{meeting}/o/20380114T1900/cancel"), &[])
        .assert_redirect();
    let move_path = format!("{meeting}/o/20380121T1900/move");
    let refused = fay.fill(
        &move_path,
        &move_path,
        &[("date", "2038-01-22"), ("time", "late")],
    );
    refused.assert_status(422);
    assert_eq!(refused.count("#time-error"), 1);
    assert_eq!(refused.attrs("#date", "value"), ["2038-01-22"]);
    fay.fill(
        &move_path,
        &move_path,
        &[("date", "2038-01-22"), ("time", "18:00")],
    )
    .assert_redirect();
    let page = fay.visit(&meeting);
    let dates = page.texts(".date-item h3");
    assert_eq!(
        dates[0],
        "Thu 7 Jan 2038, 19:00 (your time, UTC) · 19:00 London time"
    );
    assert!(dates[1].starts_with("Thu 14 Jan 2038") && dates[1].ends_with("Cancelled"));
    assert!(dates[2].starts_with("Fri 22 Jan 2038, 18:00") && dates[2].ends_with("Moved"));
    assert_eq!(page.count("#date-20380114T1900 .rsvp-form"), 0);
    // Edit the series: the form comes filled in.
    let edit = format!("{meeting}/edit");
    let form = fay.visit(&edit);
    assert_eq!(form.attrs("#title", "value"), ["Evening circle"]);
    assert_eq!(form.attrs("#online_url", "value"), [LINK]);
    let mut fields = weekly(
        "Evening circle (new room)",
        "2038-01-07",
        "19:00",
        "Europe/London",
    );
    fields.push(("capacity", "8"));
    fay.fill(&edit, &edit, &fields).assert_redirect();
    assert_eq!(
        fay.visit(&meeting).texts("h1"),
        ["Evening circle (new room)"]
    );
    // Cancel it all.
    let cancel = format!("{meeting}/cancel");
    let location = fay.fill(&cancel, &cancel, &[]).assert_redirect();
    assert_eq!(location, "/b/grief/meetings");
    let list = fay.visit("/b/grief/meetings?from=2038-01-01");
    assert_eq!(list.count(".meeting-item"), 0);
    assert!(fay.visit(&meeting).texts("h1")[0].ends_with("Cancelled"));
}

#[test]
fn the_board_page_shows_the_next_meeting() {
    let app = TestApp::new();
    let world = group(&app, "grief", "public", []);
    let fay = world.browser("fay");
    let soon = (chrono::Utc::now() + chrono::TimeDelta::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let mut fields = weekly("Sunday walk", &soon, "12:00", "UTC");
    fields.retain(|(k, _)| *k != "repeat");
    fields.push(("repeat", "none"));
    schedule(&fay, "grief", &fields);
    let board = app.browser().visit("/b/grief");
    let next = board.texts(".next-meeting p a");
    assert_eq!(next[0], "Sunday walk");
    no_details(&board);
}

fn parse_feed(body: &str) -> Vec<(String, Vec<String>)> {
    let unfolded = icalendar::parser::unfold(body);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("the feed parses");
    let mut found = Vec::new();
    for component in &calendar.components {
        let lines = component
            .properties
            .iter()
            .map(|p| {
                let params: String = p
                    .params
                    .iter()
                    .map(|a| {
                        format!(
                            ";{}={}",
                            a.key.as_str(),
                            a.val.as_ref().map_or("", |v| v.as_str())
                        )
                    })
                    .collect();
                format!("{}{params}:{}", p.name.as_str(), p.val.as_str())
            })
            .collect();
        found.push((component.name.as_str().to_owned(), lines));
    }
    found
}

#[test]
fn the_public_feed_is_for_public_groups_and_never_says_where() {
    let app = TestApp::new();
    let world = group(&app, "grief", "public", ["ana"]);
    let (admin, fay) = (world.browser("admin"), world.browser("fay"));
    let meeting = schedule(
        &fay,
        "grief",
        &weekly("Evening circle", "2038-03-04", "19:00", "Europe/Berlin"),
    );
    let page = fay.visit(&meeting);
    fay.submit(&page, &format!("{meeting}/o/20380311T1900/cancel"), &[])
        .assert_redirect();
    let move_path = format!("{meeting}/o/20380318T1900/move");
    fay.fill(
        &move_path,
        &move_path,
        &[("date", "2038-03-19"), ("time", "20:00")],
    )
    .assert_redirect();
    // Fetched by a member: still the public feed.
    let ana = world.browser("ana");
    for reader in [&ana, &app.browser()] {
        let feed = reader.get("/b/grief/meetings.ics");
        feed.assert_status(200);
        assert_eq!(
            feed.header("content-type"),
            Some("text/calendar; charset=utf-8")
        );
        assert!(!feed.body.contains("meet.example.org") && !feed.body.contains("Elm Street"));
        assert!(feed.body.contains("\r\n") && !feed.body.replace("\r\n", "").contains('\n'));
        let parsed = parse_feed(&feed.body);
        let names: Vec<&str> = parsed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["VTIMEZONE", "VEVENT", "VEVENT"]);
        let series = &parsed[1].1;
        let id = meeting.trim_start_matches("/m/");
        let has = |lines: &[String], line: &str| lines.iter().any(|l| l == line);
        assert!(
            has(series, "DTSTART;TZID=Europe/Berlin:20380304T190000"),
            "{series:?}"
        );
        assert!(
            has(series, "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=TH"),
            "{series:?}"
        );
        assert!(
            has(series, "EXDATE;TZID=Europe/Berlin:20380311T190000"),
            "{series:?}"
        );
        assert!(series
            .iter()
            .any(|l| l.starts_with(&format!("UID:meeting-{id}@"))));
        assert!(series
            .iter()
            .all(|l| !l.starts_with("LOCATION") && !l.starts_with("URL")));
        let moved = &parsed[2].1;
        assert!(
            has(moved, "RECURRENCE-ID;TZID=Europe/Berlin:20380318T190000"),
            "{moved:?}"
        );
        assert!(
            has(moved, "DTSTART;TZID=Europe/Berlin:20380319T200000"),
            "{moved:?}"
        );
        assert!(has(&parsed[0].1, "TZID:Europe/Berlin"));
    }
    // Members-only and private groups have no public feed.
    for (slug, visibility) in [("quiet", "members"), ("closed", "private")] {
        app.group(slug)
            .named("Other")
            .visibility(visibility)
            .build();
        let private_meeting = schedule(
            &admin,
            slug,
            &weekly("Quiet circle", "2038-03-04", "19:00", "UTC"),
        );
        let path = format!("/b/{slug}/meetings.ics");
        app.browser().get(&path).assert_status(404);
        ana.get(&path).assert_status(404);
        admin.get(&path).assert_status(404);
        // Visitors never see a members-only or private group's meetings; members who have
        // not joined see a members-only group's, without where.
        app.browser().get(&private_meeting).assert_status(404);
        app.browser()
            .get(&format!("/b/{slug}/meetings"))
            .assert_status(404);
        if visibility == "private" {
            ana.get(&private_meeting).assert_status(404);
        } else {
            no_details(&ana.visit(&private_meeting));
        }
    }
}

#[test]
fn the_private_feed_has_the_meetings_one_goes_to_and_a_reset_ends_the_old_address() {
    let app = TestApp::new();
    let world = group(&app, "grief", "members", ["ana"]);
    let fay = world.browser("fay");
    let meeting = schedule(
        &fay,
        "grief",
        &weekly("Evening circle", "2038-01-07", "19:00", "Europe/London"),
    );
    let ana = world.browser("ana");
    let page = ana.visit(&meeting);
    ana.submit(
        &page,
        &format!("{meeting}/o/20380114T1900/rsvp"),
        &[("response", "going")],
    )
    .assert_redirect();
    ana.submit(
        &page,
        &format!("{meeting}/o/20380121T1900/rsvp"),
        &[("response", "maybe")],
    )
    .assert_redirect();
    let calendar = ana.visit("/calendar");
    assert_eq!(calendar.count("#feed-url"), 0);
    let made = ana.submit(&calendar, "/calendar/reset", &[]);
    made.assert_status(200);
    let url = made.attrs("#feed-url", "value").remove(0);
    let path = reqwest::Url::parse(&url).unwrap().path().to_owned();
    assert!(
        path.starts_with("/calendar/") && path.ends_with(".ics"),
        "{path}"
    );
    // The address works without a session (a calendar app has none).
    let feed = app.browser().get(&path);
    feed.assert_status(200);
    assert_eq!(
        feed.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let parsed = parse_feed(&feed.body);
    let events: Vec<&Vec<String>> = parsed
        .iter()
        .filter(|(n, _)| n == "VEVENT")
        .map(|(_, l)| l)
        .collect();
    assert_eq!(events.len(), 1, "{}", feed.body);
    assert!(events[0].contains(&"DTSTART;TZID=Europe/London:20380114T190000".to_owned()));
    assert!(events[0].contains(&format!("URL:{LINK}")));
    assert!(events[0].contains(&format!("LOCATION:{PLACE}")));
    // A new address: the old one is gone.
    let calendar = ana.visit("/calendar");
    assert!(calendar.body.contains("You made an address"));
    let again = ana.submit(&calendar, "/calendar/reset", &[]);
    let new_url = again.attrs("#feed-url", "value").remove(0);
    assert_ne!(new_url, url);
    app.browser().get(&path).assert_status(404);
    let new_path = reqwest::Url::parse(&new_url).unwrap().path().to_owned();
    app.browser().get(&new_path).assert_status(200);
    app.browser()
        .get("/calendar/not-a-real-token.ics")
        .assert_status(404);
    // Only the member reaches the page that makes addresses.
    app.browser().get("/calendar").assert_status(401);
}

/// The private feed's address is its secret: no shared cache may keep what it answers.
#[test]
fn the_private_feed_is_never_kept_by_a_shared_cache() {
    let app = TestApp::new();
    let ana = app.signed_in("ana_feed", SiteRole::Member);
    let calendar = ana.visit("/calendar");
    let made = ana.submit(&calendar, "/calendar/reset", &[]);
    made.assert_status(200);
    let url = made.attrs("#feed-url", "value").remove(0);
    let path = reqwest::Url::parse(&url).unwrap().path().to_owned();
    let feed = app.browser().get(&path);
    feed.assert_status(200);
    assert_eq!(feed.header("cache-control"), Some("private, no-store"));
}

/// The value of the first property `name` (its parameters as `;KEY=value`) of a component.
fn property<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines.iter().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        (rest.starts_with(':') || rest.starts_with(';')).then_some(rest)
    })
}

/// "Add to my calendar" for one meeting: one VEVENT that parses, with its times in the
/// meeting's zone, the page as URL, and the link and place only for the group's members; a
/// private group's meeting is not found for anyone else.
#[test]
fn one_meeting_is_added_to_a_calendar_with_what_its_page_shows() {
    let app = TestApp::new();
    let world = group(&app, "grief", "public", ["ana"]);
    let fay = world.browser("fay");
    let meeting = schedule(
        &fay,
        "grief",
        &weekly(
            "Evening circle; with care, together",
            "2038-03-04",
            "19:00",
            "Europe/Berlin",
        ),
    );
    let ics_path = format!("{meeting}/meeting.ics");
    assert_eq!(
        fay.visit(&meeting).attrs("a[href$='/meeting.ics']", "href"),
        std::slice::from_ref(&ics_path)
    );

    let ana = world.browser("ana");
    let answer = ana.get(&ics_path);
    answer.assert_status(200);
    assert!(answer
        .header("content-type")
        .unwrap()
        .starts_with("text/calendar"));
    assert!(answer.header("cache-control").unwrap().contains("no-store"));
    let components = parse_feed(&answer.body);
    let events: Vec<&Vec<String>> = components
        .iter()
        .filter(|(name, _)| name == "VEVENT")
        .map(|(_, lines)| lines)
        .collect();
    assert_eq!(events.len(), 1, "{components:?}");
    let event = events[0];
    let id = meeting.trim_start_matches("/m/");
    assert!(property(event, "UID")
        .unwrap()
        .contains(&format!("meeting-{id}@")));
    assert!(property(event, "DTSTAMP").is_some());
    assert_eq!(
        property(event, "DTSTART"),
        Some(";TZID=Europe/Berlin:20380304T190000")
    );
    assert_eq!(
        property(event, "DTEND"),
        Some(";TZID=Europe/Berlin:20380304T203000")
    );
    assert_eq!(
        property(event, "DURATION"),
        None,
        "DTEND or DURATION, not both"
    );
    assert!(property(event, "RRULE").unwrap().contains("FREQ=WEEKLY"));
    // The title's comma and semicolon came escaped and parse back.
    assert!(answer
        .body
        .contains("SUMMARY:Evening circle\\; with care\\, together"));
    assert!(property(event, "URL").unwrap().ends_with(&meeting));
    assert!(property(event, "LOCATION")
        .unwrap()
        .contains("Elm Street Library"));
    let unfolded = icalendar::parser::unfold(&answer.body);
    assert!(unfolded.contains(LINK), "members get the link");
    // The zone it names is defined in the file.
    assert!(components
        .iter()
        .any(|(name, lines)| name == "VTIMEZONE"
            && property(lines, "TZID") == Some(":Europe/Berlin")));

    // A visitor of the public group gets the meeting, never where it is.
    let visitor = app.browser().get(&ics_path);
    visitor.assert_status(200);
    let unfolded = icalendar::parser::unfold(&visitor.body);
    assert!(!unfolded.contains(LINK), "the link leaked");
    assert!(!unfolded.contains("Elm Street"), "the place leaked");
    assert!(unfolded.contains("SUMMARY:Evening circle"));
    assert_eq!(
        parse_feed(&visitor.body)
            .iter()
            .filter(|(n, _)| n == "VEVENT")
            .count(),
        1
    );
}

#[test]
fn a_private_groups_meeting_file_is_not_found_for_outsiders() {
    let app = TestApp::new();
    let world = group(&app, "circle", "private", ["ana"]);
    let fay = world.browser("fay");
    let meeting = schedule(
        &fay,
        "circle",
        &weekly("Quiet circle", "2038-03-04", "19:00", "Europe/Berlin"),
    );
    let ics_path = format!("{meeting}/meeting.ics");
    let member = world.browser("ana").get(&ics_path);
    assert!(icalendar::parser::unfold(&member.body).contains(LINK));
    let outsider = app.signed_in("olga", SiteRole::Member);
    for who in [app.browser(), outsider] {
        let answer = who.get(&ics_path);
        answer.assert_status(404);
        assert!(!answer.body.contains("Quiet circle"), "the title leaked");
        assert!(!answer.body.contains(LINK));
    }
    // Nor one that does not exist.
    app.browser()
        .get("/m/999999/meeting.ics")
        .assert_status(404);
}
