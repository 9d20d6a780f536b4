//! Correct answers to odd requests: dates far outside any human calendar and page numbers past
//! any page are answered as "no such page" or a form error, never a server error.

use hearth_tests::{weekly_meeting, TestApp};

const FAR_FUTURE: &str = "+262142-12-31";

#[test]
fn a_far_future_date_in_an_address_is_not_found() {
    let app = TestApp::new();
    let admin = app.with_board("grief");
    admin
        // `+` itself, encoded: a bare `+` in a query is a space.
        .get("/b/grief/meetings?from=%2B262142-12-31")
        .assert_status(404);
    admin
        .get("/b/grief/meetings?from=2200-12-31")
        .assert_status(200);
}

#[test]
fn a_far_future_date_in_the_meeting_form_is_a_form_error_that_keeps_the_text() {
    let app = TestApp::new();
    let admin = app.with_board("grief");
    let path = "/b/grief/meetings/new";
    let fields = weekly_meeting(
        "Evening circle",
        "Check-in, then sharing.",
        FAR_FUTURE,
        "19:00",
        "Europe/London",
    );
    let refused = admin.fill(path, path, &fields);
    refused.assert_status(422);
    assert_eq!(refused.count("#date-error"), 1);
    assert_eq!(refused.attrs("#title", "value"), ["Evening circle"]);
}

#[test]
fn a_page_number_past_every_page_is_an_empty_page() {
    let app = TestApp::new();
    app.with_board("grief");
    assert_eq!(app.browser().visit("/groups").count(".group-item"), 1);
    let past = "/groups?page=9223372036854775807";
    app.browser().get(past).assert_status(200);
    assert_eq!(app.browser().visit(past).count(".group-item"), 0);
}

/// Every GET route answers HEAD with the GET's status and headers and no body.
#[test]
fn every_page_answers_head_as_its_get_without_a_body() {
    let app = TestApp::new();
    let admin = app.with_board("grief");
    let thread = admin.start_thread("grief", "Welcome", "Hello");
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/",
        "/groups",
        "/help",
        "/b/grief",
        &thread.path(),
        "/no/such/page",
    ] {
        let url = format!("{}{path}", app.base_url);
        let get = client.get(&url).send().unwrap();
        let head = client.head(&url).send().unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert!(head.bytes().unwrap().is_empty(), "{path}");
    }
}

#[test]
fn the_site_has_an_icon_where_browsers_look_for_it() {
    let app = TestApp::new();
    let icon = app.browser().get("/favicon.ico");
    icon.assert_status(200);
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
}
