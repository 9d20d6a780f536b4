//! `/help`, the crisis resources: the configured helplines by country, the link to it from
//! every page, and the way back to a post for those who may read it.

use hearth_core::model::SiteRole;
use hearth_core::safety::crisis::{CrisisResources, Helpline};
use hearth_tests::{Browser, Reply, TestApp};

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
        time_zones: Vec::new(),
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
    // Ana did not write it: the way back does not call it hers.
    assert_eq!(texts, ["Back to the post"]);
    member.visit(link).assert_status(200);
}
