//! Members' reports and the review queue: report limits, crisis check-ins above any number of
//! reports, a queue whose every entry is reachable through its pages, and dismissing every open
//! report of one member at once.

use hearth_core::accounts::{actors, members};
use hearth_core::forum::posts::{self, ReplyForm};
use hearth_core::ids::ThreadId;
use hearth_core::model::SiteRole;
use hearth_core::moderation::review::ReportLimits;
use hearth_core::safety::gate::PostingRules;
use hearth_core::safety::limits::PostingLimits;
use hearth_tests::{Browser, Page, TestApp};

/// `n` replies by `username` in a thread, made straight through the core (the test is about
/// the reports on them); their ids.
fn replies(app: &TestApp, username: &str, thread: &Page, n: usize) -> Vec<String> {
    let conn = &mut *app.conn();
    let member = members::by_username(conn, username).unwrap();
    let member = actors::actor_for(conn, member).unwrap();
    let thread_id = ThreadId(thread.thread_id().parse().unwrap());
    let rules = PostingRules {
        limits: PostingLimits::NONE,
        ..PostingRules::default()
    };
    (0..n)
        .map(|i| {
            let form = ReplyForm {
                body: format!("An ordinary reply, number {i}."),
                submission_key: format!("{username}-{thread_id}-reply-key-{i:08}"),
                ..Default::default()
            };
            let posted = posts::reply(conn, &rules, &member, thread_id, &form).unwrap();
            posted.post.id.to_string()
        })
        .collect()
}

/// The posts a queue page lists, by id, in order.
fn listed(page: &Page) -> Vec<String> {
    page.attrs(".review-entry h2 a", "href")
        .iter()
        .map(|href| href.trim_start_matches("/p/").to_owned())
        .collect()
}

/// Every post of a queue, following its "Next" links from the first page.
fn walk(moderator: &Browser, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = moderator.visit(first);
    loop {
        page.assert_status(200);
        seen.extend(listed(&page));
        let next = page.attrs("nav.pager a[rel=next]", "href");
        match next.first() {
            Some(next) => page = moderator.visit(next),
            None => return seen,
        }
        assert!(seen.len() < 1_000, "the pages never end");
    }
}

#[test]
fn a_crisis_check_in_is_first_on_page_one_above_106_at_risk_reports_and_every_post_is_reachable() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    app.member("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let ordinary = replies(&app, "ana", &thread, 106);
    for post in &ordinary {
        ben.report(post, "at_risk", "").assert_redirect();
    }
    // The real one comes last, after all the fake "at risk" reports.
    let cat = app.signed_in("cat", SiteRole::Member);
    let location = cat
        .reply_to(&thread.path(), "Since Milo died I want to end my life.")
        .assert_redirect();
    let check_in = location.trim_start_matches("/help?post=").to_owned();

    let queue = admin.visit("/review");
    let headings = queue.texts(".review-entry h2");
    assert!(headings[0].starts_with("Check in"), "{headings:?}");
    assert_eq!(listed(&queue)[0], check_in);
    assert!(
        queue.texts(".queue-count")[0].starts_with("107 posts need attention (107 open items)"),
        "{:?}",
        queue.texts(".queue-count")
    );

    let seen = walk(&admin, "/review");
    let mut expected = vec![check_in.clone()];
    expected.extend(ordinary.iter().cloned());
    assert_eq!(
        seen, expected,
        "every post once, the check-in first, then oldest first"
    );
    // The group's own queue pages the same way.
    assert_eq!(walk(&admin, "/b/pets/review"), expected);

    // Page numbers out of range are the nearest page: never an error.
    for (asked, first_listed) in [
        ("0", &check_in),
        ("-3", &check_in),
        ("abc", &check_in),
        ("99999999999999999999999", ordinary.last().unwrap()),
        ("9223372036854775807", ordinary.last().unwrap()),
    ] {
        let page = admin.visit(&format!("/review?page={asked}"));
        page.assert_status(200);
        let posts = listed(&page);
        assert!(
            posts.first() == Some(first_listed) || posts.last() == Some(first_listed),
            "?page={asked}: {posts:?}"
        );
    }
}

fn limited_app(limits: ReportLimits) -> TestApp {
    let mut config = hearth_tests::test_config();
    config.report_limits = limits;
    TestApp::with_config(config)
}

#[test]
fn a_report_over_the_limit_shows_the_form_again_with_what_was_written() {
    let app = limited_app(ReportLimits {
        per_hour: 2,
        per_day: 10,
    });
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    app.member("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let posts = replies(&app, "ana", &thread, 3);
    ben.report(&posts[0], "spam", "").assert_redirect();
    ben.report(&posts[1], "spam", "").assert_redirect();
    // Reporting an open report again is still accepted (and counts nothing).
    ben.report(&posts[1], "spam", "").assert_redirect();

    let refused = ben.report(
        &posts[2],
        "harassment",
        "They keep writing to me, see above",
    );
    refused.assert_status(429);
    assert!(refused.header("retry-after").is_some());
    let summary = refused.texts("#limit")[0].clone();
    assert!(
        summary.contains("limit of 2 reports an hour") && summary.contains("in about"),
        "{summary}"
    );
    assert_eq!(
        refused.texts("textarea#note"),
        ["They keep writing to me, see above"]
    );
    assert_eq!(
        refused.attrs("input[name=reason][checked]", "value"),
        ["harassment"]
    );
    // Nothing of the refused report reached the queue.
    let queue = admin.visit("/review");
    assert_eq!(listed(&queue), posts[..2]);

    // Another member has their own allowance.
    let cat = app.signed_in("cat", SiteRole::Member);
    cat.report(&posts[2], "spam", "").assert_redirect();
}

/// The address and count of the "Dismiss all N open reports from this member" button for
/// `reporter` on a queue page.
fn dismiss_all_button(page: &Page, reporter: &str) -> Option<(String, String)> {
    let html = page.html();
    let item = scraper::Selector::parse(".review-reasons li").unwrap();
    let form = scraper::Selector::parse("form.dismiss-reporter").unwrap();
    let author = scraper::Selector::parse("a[href^='/u/']").unwrap();
    html.select(&item).find_map(|li| {
        let by = li.select(&author).next()?.value().attr("href")?;
        if by != format!("/u/{reporter}") {
            return None;
        }
        let form = li.select(&form).next()?;
        let text: String = form.text().collect();
        Some((form.value().attr("action")?.to_owned(), text))
    })
}

/// Who reported each listed post, as "post:reporter" (one per report).
fn reports_listed(page: &Page) -> Vec<String> {
    let html = page.html();
    let entry = scraper::Selector::parse(".review-entry").unwrap();
    let link = scraper::Selector::parse("h2 a").unwrap();
    let item = scraper::Selector::parse(".review-reasons li").unwrap();
    let author = scraper::Selector::parse("a[href^='/u/']").unwrap();
    let mut found = Vec::new();
    for entry in html.select(&entry) {
        let post = entry
            .select(&link)
            .next()
            .and_then(|a| a.value().attr("href"))
            .unwrap()
            .trim_start_matches("/p/")
            .to_owned();
        for li in entry.select(&item) {
            if let Some(by) = li.select(&author).next() {
                let by = by.value().attr("href").unwrap().trim_start_matches("/u/");
                found.push(format!("{post}:{by}"));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_facilitator_dismisses_all_open_reports_of_one_member_in_their_groups_and_nothing_else() {
    let app = TestApp::new();
    let world = app.group("pets").facilitated_by("fay").build();
    let admin = world.admin.clone();
    admin.create_board("moving", "Moving city");
    let in_pets = admin.start_thread("pets", "Welcome", "Say hello");
    let in_moving = admin.start_thread("moving", "Hello", "Where are you moving?");
    app.member("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let cat = app.signed_in("cat", SiteRole::Member);
    let pets_posts = replies(&app, "ana", &in_pets, 4);
    let moving_posts = replies(&app, "ana", &in_moving, 1);
    for post in &pets_posts[..3] {
        ben.report(post, "at_risk", "").assert_redirect();
    }
    ben.report(&moving_posts[0], "spam", "").assert_redirect();
    cat.report(&pets_posts[0], "spam", "").assert_redirect();
    cat.report(&pets_posts[3], "off_topic", "")
        .assert_redirect();

    let fay = world.browser("fay");
    let queue = fay.visit("/review");
    let (action, label) = dismiss_all_button(&queue, "ben").expect("a dismiss-all button");
    // The button says what it dismisses, reports of someone at risk included.
    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        label.contains("Dismiss all 3 open reports from this member")
            && label.contains("all saying someone may be at risk"),
        "{label}"
    );
    // Cat's two reports have their own button.
    assert!(dismiss_all_button(&queue, "cat").is_some());
    // The admin's queue counts ben's reports in every group.
    let (_, admin_label) = dismiss_all_button(&admin.visit("/review"), "ben").unwrap();
    let admin_label = admin_label.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        admin_label.contains("Dismiss all 4 open")
            && admin_label.contains("3 saying someone may be at risk"),
        "{admin_label}"
    );

    // A facilitator cannot reach the other group's reports, even by asking for them.
    let outside = fay.submit(&queue, &action, &[("board", "moving")]);
    outside.assert_status(403);
    let before = reports_listed(&admin.visit("/review"));
    assert_eq!(before.len(), 6);

    // Without the form's token the request is refused.
    fay.post(&action, &[("up_to", "999999")]).assert_status(403);

    let sent = fay.submit(&queue, &action, &[]);
    assert_eq!(sent.assert_redirect(), "/review");
    let after = reports_listed(&admin.visit("/review"));
    let mut expected = vec![
        format!("{}:cat", pets_posts[0]),
        format!("{}:cat", pets_posts[3]),
        format!("{}:ben", moving_posts[0]),
    ];
    expected.sort();
    assert_eq!(
        after, expected,
        "only ben's reports in fay's group were dismissed"
    );
    let fays_queue = fay.visit("/review");
    assert!(dismiss_all_button(&fays_queue, "ben").is_none());
    // The posts themselves stay as they were.
    assert!(app
        .browser()
        .visit(&in_pets.path())
        .body
        .contains("An ordinary reply, number 1."));

    // The moderators' log says so; the public one does not, nor who reported.
    let log = fay.visit("/b/pets/log");
    assert!(
        log.body.contains("dismissed every open report from") && log.body.contains("/u/ben"),
        "{}",
        log.body
    );
    let public = app.browser().visit("/b/pets/log");
    assert!(!public.body.contains("dismissed every open report"));
    assert!(!public.body.contains("/u/ben"));
}
