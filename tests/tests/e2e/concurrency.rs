use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

/// Many members replying to one thread at once: every reply lands exactly once, positions are
/// dense, and the counters agree with the posts — on either backend.
#[test]
fn concurrent_replies_keep_positions_and_counters_right() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Busy thread", "Opening post");
    let path = reqwest::Url::parse(&thread.url).unwrap().path().to_owned();
    let browsers: Vec<_> = (0..6)
        .map(|n| app.signed_in(&format!("member{n}"), SiteRole::Member))
        .collect();
    std::thread::scope(|scope| {
        for (n, browser) in browsers.iter().enumerate() {
            let path = path.clone();
            scope.spawn(move || {
                for i in 0..8 {
                    browser
                        .reply_to(&path, &format!("reply {n}-{i}"))
                        .assert_redirect();
                }
            });
        }
    });
    let mut bodies = Vec::new();
    for page in 1..=3 {
        let page = app.browser().visit(&format!("{path}?page={page}"));
        bodies.extend(page.texts(".post .post-body"));
    }
    assert_eq!(bodies.len(), 49);
    let mut sorted = bodies[1..].to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 48, "every reply exactly once");
    let positions: Vec<String> = (1..=3)
        .flat_map(|p| {
            app.browser()
                .visit(&format!("{path}?page={p}"))
                .attrs("li.post", "id")
        })
        .collect();
    let expected: Vec<String> = (1..=49).map(|n| format!("post-{n}")).collect();
    assert_eq!(positions, expected, "positions are dense and ordered");
    let board = app.browser().visit("/b/pet-loss");
    assert!(board.texts(".thread-item .meta")[0].contains("48 replies"));
}
