//! Watched words: the admin's list, and posts blocked, held, flagged or masked by it.

use hearth_core::model::SiteRole;
use hearth_tests::{Browser, Page, TestApp};

fn add_watched_word(admin: &Browser, phrase: &str, action: &str) {
    admin
        .fill(
            "/admin/watched-words",
            "/admin/watched-words",
            &[("phrase", phrase), ("action", action)],
        )
        .assert_redirect();
}

fn queue_reasons(page: &Page) -> Vec<String> {
    page.texts(".review-reasons li")
}

#[test]
fn watched_words_block_hold_flag_and_mask() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    add_watched_word(&admin, "buy cheap", "block");
    add_watched_word(&admin, "meetup", "hold");
    add_watched_word(&admin, "idiot", "flag");
    add_watched_word(&admin, "darn", "mask");
    let list = admin.visit("/admin/watched-words");
    assert_eq!(list.count("tbody tr"), 4);
    let thread = admin.start_thread("pets", "Welcome", "Say hello");
    let path = thread.path();
    let ana = app.signed_in("ana", SiteRole::Member);
    ana.get("/admin/watched-words").assert_status(403);

    // Block: refused with the reason, and the form keeps every word typed.
    let refused = ana.reply_to(&path, "You can BUY   cheap meds here");
    refused.assert_status(422);
    assert!(
        refused.body.contains("does not allow “buy cheap”"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("You can BUY   cheap meds here"));
    let refused_title = ana.fill(
        "/b/pets/new",
        "/b/pets/new",
        &[("title", "Buy cheap here"), ("body", "fine body")],
    );
    refused_title.assert_status(422);
    // Hold: the post awaits approval.
    ana.reply_to(&path, "Anyone for a meetup?")
        .assert_redirect();
    // Flag: published, and in the queue.
    ana.reply_to(&path, "What an idiot I was").assert_redirect();
    // Whole words only: "idiotic" is not "idiot".
    ana.reply_to(&path, "Idiotic weather today")
        .assert_redirect();
    // Mask: published with the word replaced.
    ana.reply_to(&path, "Darn it, I miss him").assert_redirect();

    let seen = app.browser().visit(&path).texts(".post .post-body");
    assert_eq!(
        seen,
        [
            "Say hello",
            "What an idiot I was",
            "Idiotic weather today",
            "■■■ it, I miss him"
        ]
    );
    let queue = admin.visit("/review");
    let reasons = queue_reasons(&queue);
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].starts_with("Awaiting approval: watched words: meetup"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("Watched words: idiot"),
        "{reasons:?}"
    );
    assert_eq!(queue.count(".review-entry"), 2);
    // Masked words are masked in a new thread's title too.
    let masked = ana.start_thread("pets", "Darn this week", "it was hard");
    assert_eq!(masked.texts("h1"), ["■■■ this week"]);
    // Editing cannot sneak a blocked word in either.
    let own = ana.visit(&path);
    let edit = own.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    ana.fill(&edit, &edit, &[("body", "buy cheap now")])
        .assert_status(422);
}
