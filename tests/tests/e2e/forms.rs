//! The form system (issue 14): the error summary, confirmations after an action (flash),
//! preview before posting.

use hearth_tests::{Page, TestApp};
use scraper::Selector;

/// Every link of the error summary points at a field on the page, in the order the fields
/// come; that field is marked invalid and described by the message under it, which says the
/// same as the summary, in sentence case.
#[track_caller]
fn assert_summary_links_to_its_fields(page: &Page, expected_fields: &[&str]) {
    page.assert_status(422);
    let html = page.html();
    let links = Selector::parse(".error-summary a").unwrap();
    let summary: Vec<(String, String)> = html
        .select(&links)
        .map(|a| {
            let href = a.value().attr("href").unwrap_or_default();
            let id = href
                .strip_prefix('#')
                .expect("a link to a field")
                .to_owned();
            (id, a.text().collect::<String>().trim().to_owned())
        })
        .collect();
    let ids: Vec<&str> = summary.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, expected_fields, "the summary's links, in order");
    let with_id = Selector::parse("[id]").unwrap();
    let page_order: Vec<String> = html
        .select(&with_id)
        .filter_map(|e| e.value().attr("id"))
        .filter(|id| ids.contains(id))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        page_order, ids,
        "the summary lists the fields in the page's order"
    );
    for (id, message) in &summary {
        let field = html
            .select(&Selector::parse(&format!("[id=\"{id}\"]")).unwrap())
            .next()
            .unwrap_or_else(|| panic!("no field #{id} for the summary's link"));
        assert_eq!(field.value().attr("aria-invalid"), Some("true"), "#{id}");
        let described = field.value().attr("aria-describedby").unwrap_or_default();
        let error_id = format!("{id}-error");
        assert!(
            described.split(' ').any(|d| d == error_id),
            "#{id} is described by {described:?}"
        );
        assert_eq!(page.texts(&format!("#{error_id}")), vec![message.clone()]);
        assert!(
            message.chars().next().is_some_and(char::is_uppercase),
            "sentence case: {message:?}"
        );
    }
}

#[test]
fn the_error_summary_lists_the_fields_in_page_order_each_linked_to_its_field() {
    let app = TestApp::new();
    let visitor = app.browser();
    let refused = visitor.fill(
        "/register",
        "/register",
        &[
            ("username", "x!"),
            ("password", "short"),
            ("time_zone", "UTC"),
        ],
    );
    assert_summary_links_to_its_fields(&refused, &["username", "password"]);

    let member = app.with_board("pet-loss");
    let refused = member.fill(
        "/b/pet-loss/new",
        "/b/pet-loss/new",
        &[("title", ""), ("body", "")],
    );
    assert_summary_links_to_its_fields(&refused, &["title", "body"]);
}
