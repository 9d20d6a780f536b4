//! Facilitators keep a board safe: sign-in throttling and the crisis resources page.

use std::time::{Duration, Instant};

use hearth_core::crisis::{CrisisResources, Helpline};
use hearth_core::members::SiteRole;
use hearth_core::throttle::ThrottlePolicy;
use hearth_tests::{Browser, Reply, TestApp, PASSWORD};

const WRONG: &str = "not the right password at all";

fn app_with_throttle(policy: ThrottlePolicy) -> TestApp {
    TestApp::with_config(hearth_web::WebConfig {
        sign_in_throttle: policy,
        ..hearth_tests::test_config()
    })
}

#[track_caller]
fn assert_refused(reply: &Reply, window_seconds: u64) -> u64 {
    reply.assert_status(429);
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=window_seconds).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let text = reply.texts("main").join(" ");
    assert!(text.contains("too many unsuccessful attempts"), "{text}");
    assert!(text.contains("password was not checked"), "{text}");
    assert!(text.contains("you can try again in"), "{text}");
    assert!(text.contains("You can try again after"), "{text}");
    // The refusal page is themed like every other.
    assert_eq!(reply.count("header.site-header"), 1);
    retry_after
}

#[test]
fn after_n_failures_the_next_attempt_is_refused_even_with_the_right_password() {
    const LIMIT: u32 = 3;
    const WINDOW: u32 = 3;
    let app = app_with_throttle(ThrottlePolicy {
        window_seconds: WINDOW,
        slow_after: LIMIT,
        account_limit: LIMIT,
        ip_limit: 100,
    });
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    for _ in 0..LIMIT {
        browser.sign_in("ana", WRONG).assert_status(401);
    }
    let refused = browser.sign_in("ana", PASSWORD);
    let retry_after = assert_refused(&refused, u64::from(WINDOW));
    assert_eq!(browser.cookie("hearth_session"), None);
    // The same holds for any spelling of the name.
    assert_refused(&browser.sign_in(" ANA ", PASSWORD), u64::from(WINDOW));

    // Once the window has passed, the real member gets in.
    std::thread::sleep(Duration::from_secs(retry_after) + Duration::from_millis(300));
    let reply = browser.sign_in("ana", PASSWORD);
    assert_eq!(reply.assert_redirect(), "/");
    assert!(browser.cookie("hearth_session").is_some());
}

#[test]
fn a_successful_sign_in_clears_the_accounts_failures() {
    let app = app_with_throttle(ThrottlePolicy {
        window_seconds: 600,
        slow_after: 10,
        account_limit: 3,
        ip_limit: 100,
    });
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    for _ in 0..2 {
        browser.sign_in("ana", WRONG).assert_status(401);
    }
    browser.sign_in("ana", PASSWORD).assert_redirect();
    for _ in 0..2 {
        app.browser().sign_in("ana", WRONG).assert_status(401);
    }
    // Four failures in the window, but only two since the last success.
    app.browser().sign_in("ana", PASSWORD).assert_redirect();
}

#[test]
fn one_throttled_account_does_not_lock_out_another_from_the_same_address() {
    let app = app_with_throttle(ThrottlePolicy {
        window_seconds: 600,
        slow_after: 10,
        account_limit: 3,
        ip_limit: 5,
    });
    app.member("ana", SiteRole::Member);
    app.member("bea", SiteRole::Member);
    let attacker = app.browser();
    for _ in 0..3 {
        attacker.sign_in("ana", WRONG).assert_status(401);
    }
    assert_refused(&attacker.sign_in("ana", PASSWORD), 600);
    // Bea, from the same address (every test browser is 127.0.0.1), still signs in.
    app.browser().sign_in("bea", PASSWORD).assert_redirect();
    // Two more failures from the address, for a name that does not exist, reach its limit.
    for _ in 0..2 {
        attacker.sign_in("nobody", WRONG).assert_status(401);
    }
    assert_refused(&app.browser().sign_in("bea", PASSWORD), 600);
}

#[test]
fn attempts_after_a_few_failures_are_answered_more_slowly() {
    let app = app_with_throttle(ThrottlePolicy {
        window_seconds: 600,
        slow_after: 1,
        account_limit: 10,
        ip_limit: 100,
    });
    let browser = app.browser();
    browser.sign_in("ana", WRONG).assert_status(401);
    for expected in [250, 500] {
        let started = Instant::now();
        browser.sign_in("ana", WRONG).assert_status(401);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(expected),
            "{elapsed:?} < {expected} ms"
        );
    }
}

#[test]
fn the_failure_table_holds_no_address_or_name() {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        key_hash: String,
    }

    let app = TestApp::new();
    app.browser()
        .sign_in("RememberMe", WRONG)
        .assert_status(401);
    let rows: Vec<Row> = diesel::sql_query("SELECT key_hash FROM sign_in_failures")
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(rows.len(), 2, "one row for the name, one for the address");
    for row in rows {
        assert_eq!(row.key_hash.len(), 64);
        assert!(row.key_hash.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

fn helpline(country: &str, name: &str, phone: Option<&str>, text: Option<&str>) -> Helpline {
    Helpline {
        country: country.to_owned(),
        name: name.to_owned(),
        phone: phone.map(str::to_owned),
        text: text.map(str::to_owned),
        url: Some(format!(
            "https://{}.example.org",
            name.to_lowercase().replace(' ', "-")
        )),
        hours: Some("Evenings".to_owned()),
    }
}

#[test]
fn the_help_page_lists_the_configured_helplines_by_country() {
    let app = TestApp::with_config(hearth_web::WebConfig {
        crisis_resources: CrisisResources {
            introduction: "Call 111 if you are in danger right now.".to_owned(),
            helplines: vec![
                helpline("Aotearoa", "Need to talk", Some("1737"), Some("1737")),
                helpline("Elsewhere", "Night line", Some("+44 20 7946 0000"), None),
                helpline("Aotearoa", "Youthline", Some("0800 376 633"), None),
            ],
        },
        ..hearth_tests::test_config()
    });
    let page = app.browser().visit("/help");
    page.assert_status(200);
    assert_eq!(page.texts("h1"), ["Need help now?"]);
    assert!(page
        .body
        .contains("Call 111 if you are in danger right now."));
    assert_eq!(page.texts("main h2"), ["Aotearoa", "Elsewhere"]);
    assert_eq!(
        page.texts("main h3"),
        ["Need to talk", "Youthline", "Night line"]
    );
    assert_eq!(
        page.attrs("main a[href^='tel:']", "href"),
        ["tel:1737", "tel:0800376633", "tel:+442079460000"]
    );
    assert_eq!(page.attrs("main a[href^='sms:']", "href"), ["sms:1737"]);
    assert!(page
        .attrs("main a", "href")
        .contains(&"https://night-line.example.org".to_owned()));
    // Nothing is offered to go back to.
    assert_eq!(page.count(".back-link"), 0);
}

#[test]
fn the_default_help_page_names_well_known_lines() {
    let app = TestApp::new();
    let page = app.browser().visit("/help");
    page.assert_status(200);
    let text = page.texts("main").join(" ");
    for expected in [
        "988",
        "Samaritans",
        "116 123",
        "findahelpline.com",
        "emergency",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
}

fn links_to_help(page: &Reply) -> bool {
    page.attrs("header a", "href").iter().any(|h| h == "/help")
}

#[test]
fn every_page_links_to_help() {
    let app = TestApp::new();
    let admin = app.with_board("grief");
    let visitor = app.browser();
    for path in [
        "/",
        "/b/grief",
        "/signin",
        "/register",
        "/help",
        "/no-such-page",
    ] {
        for browser in [&visitor, &admin] {
            let page = browser.visit(path);
            assert!(
                links_to_help(&page),
                "{path} has no link to /help:\n{}",
                page.body
            );
        }
    }
}

/// The id of the first post on a thread page.
fn first_post_id(page: &Reply) -> String {
    page.attrs(".post a[href^='/p/']", "href")
        .into_iter()
        .find_map(|href| {
            let id = href.strip_prefix("/p/")?;
            id.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| id.to_owned())
        })
        .expect("a permalink to a post")
}

fn back_links(browser: &Browser, post: &str) -> Vec<String> {
    let page = browser.visit(&format!("/help?post={post}"));
    page.assert_status(200);
    page.attrs(".back-link a", "href")
}

#[test]
fn the_way_back_to_a_post_shows_only_to_readers_of_that_post() {
    let app = TestApp::new();
    let admin = app.with_board("open");
    let public_post = first_post_id(&admin.start_thread("open", "Hello all", "First words."));
    app.group("members")
        .named("Members only")
        .visibility("members")
        .build();
    let members_post = first_post_id(&admin.start_thread("members", "Just us", "Only members."));

    let visitor = app.browser();
    assert_eq!(
        back_links(&visitor, &public_post),
        [format!("/p/{public_post}")]
    );
    assert!(back_links(&visitor, &members_post).is_empty());
    assert!(back_links(&visitor, "999999").is_empty());
    assert!(back_links(&visitor, "not-a-number").is_empty());

    let member = app.signed_in("ana", SiteRole::Member);
    assert_eq!(
        back_links(&member, &members_post),
        [format!("/p/{members_post}")]
    );
    let link = &back_links(&member, &members_post)[0];
    let texts = member
        .visit(&format!("/help?post={members_post}"))
        .texts(".back-link a");
    assert_eq!(texts, ["Back to your post"]);
    member.visit(link).assert_status(200);
}
