//! Finding, joining and starting groups: the directory, private groups that leak nothing,
//! join requests, ground rules accepted before posting, and proposals for new groups.

use hearth_core::model::SiteRole;
use hearth_tests::{weekly_meeting, GroupBuilder, Page, TestApp, World};

/// A group made straight through the core (for tests about something else than the form).
fn group<'a>(app: &'a TestApp, slug: &str, name: &str) -> GroupBuilder<'a> {
    app.group(slug)
        .named(name)
        .described(&format!("About {name}"))
        .fields(&[("time_zone", "Europe/London")])
        .made_in_database()
}

/// Where and how "Pet loss Leeds" meets: the same profile whether proposed or made by the admin.
const PET_LOSS_LEEDS_PROFILE: [(&str, &str); 6] = [
    ("category", "grief-and-loss"),
    ("meeting_format", "hybrid"),
    ("city", "Leeds"),
    ("country", "United Kingdom"),
    ("language", "en"),
    ("time_zone", "Europe/London"),
];

fn names(page: &Page) -> Vec<String> {
    page.texts(".group-item h2 a")
}

#[test]
fn the_directory_finds_groups_by_words_category_format_language_and_place() {
    let app = TestApp::new();
    let admin = app.admin();
    // One group through the real form, with every profile field.
    let made = admin.fill(
        "/admin/boards/new",
        "/admin/boards/new",
        &[
            ("slug", "pet-loss-leeds"),
            ("name", "Pet loss Leeds"),
            (
                "description",
                "Meeting in person after losing a companion animal",
            ),
            ("visibility", "public"),
            ("category", "grief-and-loss"),
            ("tags", "dogs, cats #rainbow-bridge"),
            ("meeting_format", "in_person"),
            ("city", "Leeds"),
            ("country", "United Kingdom"),
            ("language", "en"),
            ("time_zone", "Europe/London"),
        ],
    );
    made.assert_redirect();
    let refused = admin.fill(
        "/admin/boards/new",
        "/admin/boards/new",
        &[
            ("slug", "bad-one"),
            ("name", "Bad"),
            ("visibility", "public"),
            ("meeting_format", "by carrier pigeon"),
            ("time_zone", "Mars/Olympus"),
        ],
    );
    refused.assert_status(422);
    assert!(refused.body.contains("Choose how the group meets"));
    group(&app, "pets-online", "Pet loss online")
        .fields(&[
            ("meeting_format", "online"),
            ("category", "grief-and-loss"),
            ("tags", "pets"),
            ("language", "en"),
        ])
        .build();
    group(&app, "neu-in-berlin", "Neu in Berlin")
        .fields(&[
            ("meeting_format", "hybrid"),
            ("city", "Berlin"),
            ("country", "Germany"),
            ("category", "life-changes"),
            ("tags", "umzug"),
            ("language", "de"),
        ])
        .build();
    group(&app, "chronic-pain", "Living with chronic pain")
        .visibility("members")
        .fields(&[
            ("meeting_format", "online"),
            ("category", "health"),
            ("language", "en"),
        ])
        .build();

    let visitor = app.browser();
    let search = |query: &str| names(&visitor.visit(&format!("/groups?{query}")));
    assert_eq!(search("").len(), 4, "every group is listed");
    let mut pets = search("q=pet+loss");
    pets.sort();
    assert_eq!(pets, ["Pet loss Leeds", "Pet loss online"]);
    assert_eq!(
        search("q=rainbow-bridge"),
        ["Pet loss Leeds"],
        "tags are searched"
    );
    assert_eq!(search("q=PET&place=leeds"), ["Pet loss Leeds"]);
    let mut near_or_online = search("q=pet&place=Leeds&online=1");
    near_or_online.sort();
    assert_eq!(near_or_online, ["Pet loss Leeds", "Pet loss online"]);
    assert_eq!(search("category=life-changes"), ["Neu in Berlin"]);
    assert_eq!(search("language=de"), ["Neu in Berlin"]);
    assert_eq!(search("format=in_person"), ["Pet loss Leeds"]);
    assert_eq!(
        search("q=100%25"),
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    let page = visitor.visit("/groups?q=leeds");
    let meta = page.texts(".group-item .meta")[0].clone();
    assert!(
        meta.contains("In person")
            && meta.contains("Leeds, United Kingdom")
            && meta.contains("0 members"),
        "{meta}"
    );
    assert_eq!(
        page.texts(".group-item .tag"),
        ["dogs", "cats", "rainbow-bridge"]
    );
    // Case folds beyond ASCII the same way on both backends.
    group(&app, "trauer", "ÜBER DEN VERLUST")
        .fields(&[
            ("meeting_format", "in_person"),
            ("city", "Graz"),
            ("country", "Österreich"),
            ("category", "grief-and-loss"),
            ("language", "de"),
        ])
        .build();
    assert_eq!(search("q=%C3%BCber"), ["ÜBER DEN VERLUST"]);
    assert_eq!(search("place=%C3%B6sterreich"), ["ÜBER DEN VERLUST"]);
}

#[test]
fn the_directory_pages_its_results() {
    let app = TestApp::new();
    app.admin();
    for n in 0..23 {
        group(&app, &format!("group-{n:02}"), &format!("Group {n:02}"))
            .fields(&[
                ("meeting_format", "online"),
                ("category", "other"),
                ("language", "en"),
            ])
            .build();
    }
    let visitor = app.browser();
    let first = visitor.visit("/groups");
    assert_eq!(names(&first).len(), 20);
    let next = first.attrs(".pager a[rel=next]", "href").remove(0);
    let second = visitor.visit(&next);
    assert_eq!(names(&second).len(), 3);
    assert_eq!(second.count(".pager a[rel=next]"), 0);
}

/// A private group `circle` with a facilitator `fay`, a thread in it, and its page address.
fn private_circle(app: &TestApp) -> (World, String) {
    let world = group(app, "circle", "Quiet circle")
        .private()
        .fields(&[
            ("meeting_format", "online"),
            ("category", "other"),
            ("language", "en"),
        ])
        .facilitated_by("fay")
        .build();
    let thread = world.start_thread("fay", "Secret thread title", "Something private");
    (world, thread.path())
}

#[test]
fn a_private_group_shows_outsiders_its_name_description_and_rules_only() {
    let app = TestApp::new();
    let (world, path) = private_circle(&app);
    let fay = world.browser("fay");
    let post_link = fay
        .visit(&path)
        .attrs(".post .meta a[href^='/p/']", "href")
        .remove(0);
    let ana = app.signed_in("ana", SiteRole::Member);
    for (who, browser) in [("visitor", app.browser()), ("member", ana)] {
        let directory = browser.visit("/groups");
        assert_eq!(names(&directory), ["Quiet circle"], "{who}: findable");
        assert!(!directory.body.contains("Secret thread"), "{who}");
        let front = browser.visit("/b/circle");
        front.assert_status(200);
        assert_eq!(front.texts("h1"), ["Quiet circle"]);
        assert!(
            !front.body.contains("Secret thread"),
            "{who}: no thread titles"
        );
        assert_eq!(front.count(".thread-list"), 0, "{who}");
        for url in [
            path.clone(),
            post_link.clone(),
            format!("{post_link}/report"),
            "/b/circle/log".to_owned(),
            "/b/circle/new".to_owned(),
        ] {
            let status = browser.get(&url).status;
            assert!(
                status == 404 || (who == "visitor" && status == 401),
                "{who} {url}: {status}"
            );
        }
        assert!(
            !browser.visit("/").body.contains("Secret thread"),
            "{who}: home"
        );
    }
    let member = app.browser();
    member
        .sign_in("ana", hearth_tests::PASSWORD)
        .assert_redirect();
    member.get("/b/circle/members").assert_status(403);
}

#[test]
fn join_requests_are_answered_by_the_facilitators() {
    let app = TestApp::new();
    let (world, path) = private_circle(&app);
    let fay = world.browser("fay");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    ana.fill(
        "/b/circle",
        "/b/circle/join",
        &[("message", "I lost my mum in May")],
    )
    .assert_redirect();
    ben.fill("/b/circle", "/b/circle/join", &[("message", "hello")])
        .assert_redirect();
    assert!(ana.visit("/b/circle").body.contains("You asked to join"));
    ana.get(&path).assert_status(404);

    let members = fay.visit("/b/circle/members");
    let requests = members.texts(".request-list li p");
    assert_eq!(requests.len(), 2);
    assert!(requests[0].contains("ana") && requests[0].contains("I lost my mum in May"));
    fay.submit(
        &members,
        "/b/circle/members",
        &[
            ("username", "ana"),
            ("answer", "approve"),
            ("message", "Welcome, Ana"),
        ],
    )
    .assert_redirect();
    let members = fay.visit("/b/circle/members");
    fay.submit(
        &members,
        "/b/circle/members",
        &[
            ("username", "ben"),
            ("answer", "decline"),
            ("message", "This circle is for bereaved parents"),
        ],
    )
    .assert_redirect();

    ana.visit(&path).assert_status(200);
    assert!(ana.visit("/notifications").body.contains("Welcome, Ana"));
    ben.get(&path).assert_status(404);
    assert!(ben
        .visit("/notifications")
        .body
        .contains("bereaved parents"));
    let members = fay.visit("/b/circle/members");
    assert_eq!(members.count(".request-list li"), 0);
    assert!(members.texts("#members-heading")[0].starts_with("1 member"));
    // Leaving closes the door again.
    ana.fill("/b/circle", "/b/circle/leave", &[])
        .assert_redirect();
    ana.get(&path).assert_status(404);
}

#[test]
fn ground_rules_are_accepted_before_the_first_post_and_again_after_a_change() {
    let app = TestApp::new();
    let admin = app
        .group("pets")
        .named("Pets")
        .fields(&[
            ("ground_rules", "Be kind. No advice unless asked."),
            ("meeting_format", "online"),
            ("language", "en"),
            ("time_zone", "UTC"),
        ])
        .build()
        .admin;
    let ana = app.signed_in("ana", SiteRole::Member);
    let form = ana.visit("/b/pets/new");
    assert_eq!(form.count("input#accept_rules[value='1']"), 1);
    assert!(form.body.contains("No advice unless asked"));
    let refused = ana.submit(
        &form,
        "/b/pets/new",
        &[("title", "Hello all"), ("body", "My words, kept")],
    );
    refused.assert_status(422);
    assert!(refused.body.contains("tick the box to accept them"));
    assert!(
        refused.body.contains("My words, kept"),
        "nothing typed is lost"
    );
    let posted = ana.submit(
        &form,
        "/b/pets/new",
        &[
            ("title", "Hello all"),
            ("body", "My words"),
            ("accept_rules", "1"),
        ],
    );
    let thread = ana.follow(posted);
    let path = thread.path();
    assert_eq!(
        thread.count("input#accept_rules"),
        0,
        "accepted once is enough"
    );
    ana.reply_to(&path, "second post").assert_redirect();

    // New rules: version 2, to be accepted again.
    admin
        .fill(
            "/b/pets/edit",
            "/b/pets/edit",
            &[(
                "ground_rules",
                "Be kind. No advice unless asked. No photos of injuries.",
            )],
        )
        .assert_redirect();
    let page = ana.visit(&path);
    assert_eq!(page.count("input#accept_rules[value='2']"), 1);
    ana.reply_to(&path, "third post").assert_status(422);
    // A form that still carries version 1 (opened before the change) is refused too.
    let action = page.attrs("section.reply form", "action").remove(0);
    let stale = ana.submit(&page, &action, &[("body", "third"), ("accept_rules", "1")]);
    stale.assert_status(422);
    assert!(stale.body.contains("changed while you were writing"));
    ana.submit(
        &page,
        &action,
        &[("body", "third post"), ("accept_rules", "2")],
    )
    .assert_redirect();
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n =
        diesel::sql_query("SELECT count(*) AS n FROM rules_acceptances WHERE version IN (1, 2)")
            .get_result::<N>(&mut *app.conn())
            .unwrap()
            .n;
    assert_eq!(n, 2, "each acceptance is recorded with its version");
}

#[test]
fn a_member_proposes_a_group_and_a_moderator_opens_it_with_a_mentor() {
    let app = TestApp::new();
    app.signed_in("admin", SiteRole::Admin);
    let moderator = app.signed_in("moe", SiteRole::Moderator);
    // A mentor is one of the site's staff (see `group_privacy` for a member named as one).
    app.member("mia", SiteRole::Moderator);
    let ana = app.signed_in("ana", SiteRole::Member);
    let missing_why = ana.fill(
        "/groups/propose",
        "/groups/propose",
        &[
            ("name", "Pet loss Leeds"),
            ("slug", "pet-loss-leeds"),
            ("meeting_format", "hybrid"),
            ("time_zone", "Europe/London"),
            ("language", "en"),
            ("visibility", "public"),
        ],
    );
    missing_why.assert_status(422);
    let proposal = [
        &[
            ("name", "Pet loss Leeds"),
            ("slug", "pet-loss-leeds"),
            ("description", "For people in Leeds grieving a pet"),
            ("ground_rules", "Be gentle."),
        ][..],
        &PET_LOSS_LEEDS_PROFILE,
        &[
            ("visibility", "public"),
            ("why", "There is no pet loss group in the north of England."),
        ],
    ]
    .concat();
    ana.fill("/groups/propose", "/groups/propose", &proposal)
        .assert_redirect();
    ana.fill(
        "/groups/propose",
        "/groups/propose",
        &[
            ("name", "Crypto tips"),
            ("slug", "crypto"),
            ("meeting_format", "online"),
            ("time_zone", "UTC"),
            ("language", "en"),
            ("visibility", "public"),
            ("why", "money"),
        ],
    )
    .assert_redirect();
    ana.get("/admin/proposals").assert_status(403);
    let list = moderator.visit("/admin/proposals");
    assert_eq!(list.count(".proposal-list > li"), 2);
    moderator
        .submit(
            &list,
            "/admin/proposals/1",
            &[("decision", "approve"), ("mentor", "mia")],
        )
        .assert_redirect();
    let list = moderator.visit("/admin/proposals");
    moderator
        .submit(
            &list,
            "/admin/proposals/2",
            &[
                ("decision", "decline"),
                ("reason", "Not a peer support group"),
            ],
        )
        .assert_redirect();

    let front = app.browser().visit("/b/pet-loss-leeds");
    front.assert_status(200);
    assert!(front.body.contains("Leeds, United Kingdom"));
    ana.get("/b/pet-loss-leeds/review").assert_status(200);
    let mia = app.browser();
    mia.sign_in("mia", hearth_tests::PASSWORD).assert_redirect();
    mia.get("/b/pet-loss-leeds/review").assert_status(200);
    let notices = ana.visit("/notifications").texts(".notice-list li");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("is open") && n.contains("mentor")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.contains("Not a peer support group")),
        "{notices:?}"
    );
    let mine = ana.visit("/groups/propose").texts("#mine-heading + ul li");
    assert_eq!(mine.len(), 2);
    assert!(names(&app.browser().visit("/groups?q=pet")).contains(&"Pet loss Leeds".to_owned()));
}

/// The whole path the issue describes, on both backends: a newcomer finds "pet loss" near
/// Leeds or online, joins, accepts the rules with a first post, sees Thursday's meeting at the
/// right hour in their own zone, says they are going, and adds it to their calendar.
#[test]
fn a_newcomer_finds_a_group_joins_accepts_the_rules_and_adds_thursdays_meeting_to_a_calendar() {
    let app = TestApp::new();
    let world = app
        .group("pet-loss-leeds")
        .named("Pet loss Leeds")
        .described("For anyone grieving an animal companion")
        .fields(&[("ground_rules", "Be gentle. What is shared here stays here.")])
        .fields(&PET_LOSS_LEEDS_PROFILE)
        .facilitated_by("fay")
        .build();
    let fay = world.browser("fay");
    group(&app, "pets-online", "Pet loss online")
        .fields(&[
            ("meeting_format", "online"),
            ("category", "grief-and-loss"),
            ("language", "en"),
        ])
        .build();
    group(&app, "moving-leeds", "New to Leeds")
        .fields(&[
            ("meeting_format", "in_person"),
            ("city", "Leeds"),
            ("country", "United Kingdom"),
            ("category", "life-changes"),
            ("language", "en"),
        ])
        .build();
    // Next month's first Thursday, so the directory (which looks a year ahead) shows it.
    let thursday = {
        use chrono::Datelike;
        let mut day = chrono::Utc::now().date_naive() + chrono::TimeDelta::days(30);
        while day.weekday() != chrono::Weekday::Thu {
            day += chrono::TimeDelta::days(1);
        }
        day
    };
    let date = thursday.format("%Y-%m-%d").to_string();
    let key = format!("{}T1900", thursday.format("%Y%m%d"));
    // What 19:00 in Leeds that day is in New York, whatever the two zones' clocks are doing.
    let in_new_york = {
        use chrono::TimeZone;
        let leeds = chrono_tz::Europe::London
            .from_local_datetime(&thursday.and_hms_opt(19, 0, 0).unwrap())
            .unwrap();
        leeds
            .with_timezone(&chrono_tz::America::New_York)
            .format("%a %-d %b %Y, %H:%M")
            .to_string()
    };
    let meeting = fay
        .fill(
            "/b/pet-loss-leeds/meetings/new",
            "/b/pet-loss-leeds/meetings/new",
            &[
                weekly_meeting(
                    "Thursday circle",
                    "Check-in, then sharing.",
                    &date,
                    "19:00",
                    "Europe/London",
                ),
                vec![("place", "The Quaker Meeting House, back room")],
            ]
            .concat(),
        )
        .assert_redirect();

    // A newcomer in New York registers and searches.
    let newcomer = app.browser();
    newcomer
        .fill(
            "/register",
            "/register",
            &[
                ("username", "noor"),
                ("password", hearth_tests::PASSWORD),
                ("time_zone", "America/New_York"),
            ],
        )
        .assert_redirect();
    let found = newcomer.visit("/groups?q=pet+loss&place=Leeds&online=1");
    let mut listed = names(&found);
    listed.sort();
    assert_eq!(listed, ["Pet loss Leeds", "Pet loss online"]);
    assert!(found.texts(".group-item .next-meeting")[0].contains("Thursday circle"));

    newcomer
        .fill("/b/pet-loss-leeds", "/b/pet-loss-leeds/join", &[])
        .assert_redirect();
    // The first post asks for the rules; accepted, it goes through.
    let form = newcomer.visit("/b/pet-loss-leeds/new");
    assert_eq!(form.count("input#accept_rules"), 1);
    newcomer
        .submit(
            &form,
            "/b/pet-loss-leeds/new",
            &[
                ("title", "Hello from Noor"),
                ("body", "I lost my cat Miso."),
                ("accept_rules", "1"),
            ],
        )
        .assert_redirect();

    // Thursday's meeting at 19:00 in Leeds, shown first in the newcomer's own zone.
    let page = newcomer.visit(&meeting);
    let first = page.texts(".date-item h3 time")[0].clone();
    assert_eq!(
        first,
        format!("{in_new_york} (your time, New York time) · 19:00 London time")
    );
    assert!(
        page.body.contains("Quaker Meeting House"),
        "members see the place"
    );
    newcomer
        .submit(
            &page,
            &format!("{meeting}/o/{key}/rsvp"),
            &[("response", "going")],
        )
        .assert_redirect();
    let calendar = newcomer.visit("/calendar");
    let made = newcomer.submit(&calendar, "/calendar/reset", &[]);
    let url = made.attrs("#feed-url", "value").remove(0);
    let feed = app.browser().get(reqwest::Url::parse(&url).unwrap().path());
    feed.assert_status(200);
    assert!(
        feed.body
            .contains(&format!("DTSTART;TZID=Europe/London:{key}00")),
        "{}",
        feed.body
    );
    assert!(feed.body.contains("SUMMARY:Thursday circle"));
}
