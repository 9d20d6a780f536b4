//! Script in what members write never reaches a page.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

/// Script-capable markup anywhere in a page's member-written parts.
fn dangerous_markup(page: &hearth_tests::Page) -> Vec<String> {
    let html = page.html();
    let mut found = Vec::new();
    for element in html
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let name = element.value().name();
        // Exactly our own script, in the head: the reader's zone (static/zone.js).
        let ours = name == "script"
            && element.value().attr("src") == Some("/static/zone.js")
            && element.inner_html().is_empty()
            && element
                .parent()
                .and_then(scraper::ElementRef::wrap)
                .is_some_and(|parent| parent.value().name() == "head");
        if !ours
            && [
                "script", "iframe", "object", "embed", "svg", "math", "img", "style",
            ]
            .contains(&name)
        {
            found.push(format!("<{name}>"));
        }
        for (attribute, value) in element.value().attrs() {
            let lowered = value.to_ascii_lowercase();
            if attribute.starts_with("on") || lowered.trim_start().starts_with("javascript:") {
                found.push(format!("{name}[{attribute}={value}]"));
            }
        }
    }
    found
}

#[test]
fn script_in_posts_titles_and_names_never_reaches_the_page() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let mallory = app.signed_in("mallory", SiteRole::Member);
    mallory
        .fill(
            "/settings",
            "/settings",
            &[
                ("display_name", "<img src=x onerror=alert(1)>"),
                ("bio", "<script>alert(1)</script>"),
                ("time_zone", "UTC"),
            ],
        )
        .assert_redirect();
    let body = "<script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n<a href=\"#\" onclick=\"alert(1)\">x</a>\n\n![x](https://evil.example/pixel.png)";
    let thread = mallory.start_thread("pet-loss", "<svg onload=alert(1)>", body);
    let pages = [
        thread.url.clone(),
        format!("{}/b/pet-loss", app.base_url),
        format!("{}/u/mallory", app.base_url),
        format!("{}/", app.base_url),
    ];
    for url in pages {
        let page = admin.visit(&url);
        page.assert_status(200);
        let base_script_free: Vec<String> = dangerous_markup(&page);
        assert!(base_script_free.is_empty(), "{url}: {base_script_free:?}");
    }
    // The text is shown, harmlessly, as text.
    assert_eq!(thread.texts("h1"), ["<svg onload=alert(1)>"]);
    // The external image became a plain link: the reader's browser fetches nothing.
    assert!(thread
        .attrs(".post-body a", "href")
        .contains(&"https://evil.example/pixel.png".to_owned()));
}
