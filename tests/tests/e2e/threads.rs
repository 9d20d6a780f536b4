//! Threads and posts: starting, replying, paging, editing and deleting, and forms sent twice.

use hearth_core::model::SiteRole;
use hearth_tests::{Browser, TestApp};

fn post_bodies(page: &hearth_tests::Page) -> Vec<String> {
    page.texts(".post .post-body")
}

#[test]
fn two_members_hold_a_conversation() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was **fourteen**.");
    let path = thread.path();
    assert!(
        path.starts_with("/t/") && path.ends_with("-losing-milo"),
        "{path}"
    );
    assert_eq!(thread.texts("h1"), ["Losing Milo"]);
    assert_eq!(thread.texts(".post-body strong"), ["fourteen"]);

    let reply = ben.reply_to(&path, "I'm so sorry, Ana.");
    let location = reply.assert_redirect();
    assert!(location.ends_with("#post-2"), "{location}");
    let page = app.browser().visit(&path);
    assert_eq!(
        post_bodies(&page),
        ["Milo was fourteen.", "I'm so sorry, Ana."]
    );
    assert_eq!(page.texts(".post-header p[id$=-by]"), ["ana", "ben"]);

    let board = app.browser().visit("/b/pet-loss");
    assert!(board.texts(".thread-item .meta")[0].contains("1 reply"));
}

#[test]
fn visitors_read_but_are_asked_to_sign_in_to_reply() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "Hello everyone");
    let visitor = app.browser();
    let page = visitor.visit(&thread.path());
    assert_eq!(page.count("section.reply form"), 0);
    assert_eq!(page.texts("section.reply a")[0], "Sign in");
    // A visitor's GET sets no cookie, so plain reading stays cacheable and anonymous.
    assert!(page.header("set-cookie").is_none());
}

#[test]
fn a_thread_url_with_the_wrong_words_redirects_to_the_right_one() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Losing Milo", "body");
    let path = thread.path();
    let id = thread.thread_id();
    let reply = app.browser().get(&format!("/t/{id}-something-else"));
    assert_eq!(reply.status, 308);
    assert_eq!(reply.location.as_deref(), Some(path.as_str()));
    // Pages below the first and past the last have one address each, the real page's.
    for page in ["0", "-3", "7"] {
        let reply = app.browser().get(&format!("{path}?page={page}"));
        assert_eq!(reply.status, 308, "page {page}");
        assert_eq!(
            reply.location.as_deref(),
            Some(path.as_str()),
            "page {page}"
        );
    }
    app.browser().get("/t/999999-nothing").assert_status(404);
    app.browser().get("/t/not-a-number").assert_status(404);
}

#[test]
fn an_empty_reply_is_refused_and_nothing_is_posted() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "Hello");
    let path = thread.path();
    let reply = admin.reply_to(&path, "   ");
    reply.assert_status(422);
    assert!(reply.texts("#body-error")[0].contains("Write something"));
    assert_eq!(app.browser().visit(&path).count(".post"), 1);
}

#[test]
fn a_reply_too_complex_to_show_is_refused_with_its_text_kept() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "Hello");
    let path = thread.path();
    // Each address becomes a link twelve times its length: far past the renderer's bound.
    let body = "<a@b>".repeat(9_000);
    let reply = admin.reply_to(&path, &body);
    reply.assert_status(422);
    assert!(reply.texts("#body-error")[0].contains("please simplify"));
    assert_eq!(reply.texts("#body"), [body]);
    assert_eq!(app.browser().visit(&path).count(".post"), 1);
}

#[test]
fn a_too_long_title_keeps_the_typed_post() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let long_title = "t".repeat(151);
    let body = "Everything I wanted to say, which must not be lost.";
    let reply = admin.fill(
        "/b/pet-loss/new",
        "/b/pet-loss/new",
        &[("title", &long_title), ("body", body)],
    );
    reply.assert_status(422);
    assert_eq!(reply.texts("#body"), [body]);
    assert_eq!(reply.attrs("#title", "value"), [long_title]);
    assert!(reply.texts("#title-error")[0].contains("150"));
}

#[test]
fn a_double_submitted_reply_makes_one_post() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "Hello");
    let path = thread.path();
    let page = admin.visit(&path);
    let action = page.attrs("section.reply form", "action").remove(0);
    let first = admin.submit(&page, &action, &[("body", "Said once")]);
    let second = admin.submit(&page, &action, &[("body", "Said once")]);
    assert_eq!(first.assert_redirect(), second.assert_redirect());
    let page = app.browser().visit(&path);
    assert_eq!(post_bodies(&page), ["Hello", "Said once"]);
    assert!(app
        .browser()
        .visit("/b/pet-loss")
        .texts(".thread-item .meta")[0]
        .contains("1 reply"));
}

/// Back brings the typed text back in a form with a new submission key: sent again, it is still
/// the one reply.
#[test]
fn a_reply_sent_again_from_a_fresh_form_makes_one_post() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "Hello");
    let path = thread.path();
    let first = admin.reply_to(&path, "Thank you all for being here");
    let second = admin.reply_to(&path, "Thank you all for being here");
    assert_eq!(first.assert_redirect(), second.assert_redirect());
    let other = admin.reply_to(&path, "And one more thing");
    other.assert_redirect();
    let page = app.browser().visit(&path);
    assert_eq!(
        post_bodies(&page),
        [
            "Hello",
            "Thank you all for being here",
            "And one more thing"
        ]
    );
}

#[test]
fn a_double_submitted_new_thread_makes_one_thread() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let form = admin.visit("/b/pet-loss/new");
    let fields = [("title", "Only once"), ("body", "Hello")];
    let first = admin.submit(&form, "/b/pet-loss/new", &fields);
    let second = admin.submit(&form, "/b/pet-loss/new", &fields);
    assert_eq!(first.assert_redirect(), second.assert_redirect());
    assert_eq!(app.browser().visit("/b/pet-loss").count(".thread-item"), 1);
}

#[test]
fn authors_edit_their_posts_and_the_old_text_is_kept() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "First words");
    let edit_link = thread
        .attrs(".post-actions a[href$='/edit']", "href")
        .remove(0);
    let form = admin.visit(&edit_link);
    assert_eq!(form.texts("#body"), ["First words"]);
    let reply = admin.submit(&form, &edit_link, &[("body", "Better words")]);
    reply.assert_redirect();
    let page = app.browser().visit(&thread.path());
    assert_eq!(post_bodies(&page), ["Better words"]);
    assert!(page.texts(".post .meta")[0].contains("edited"));
    let post_id: i64 = edit_link
        .trim_start_matches("/p/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    let revisions =
        hearth_core::forum::posts::revisions(&mut app.conn(), hearth_core::ids::PostId(post_id))
            .unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].source, "First words");
}

#[test]
fn a_member_cannot_edit_or_delete_another_members_post() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Welcome", "Admin's words");
    let edit_link = thread
        .attrs(".post-actions a[href$='/edit']", "href")
        .remove(0);
    let delete_link = edit_link.replace("/edit", "/delete");
    let mallory = app.signed_in("mallory", SiteRole::Member);
    let page = mallory.visit(&thread.path());
    assert_eq!(
        page.count(".post-actions a[href$='/edit'], .post-actions a[href$='/delete']"),
        0,
        "no edit or delete links on others' posts"
    );
    assert_eq!(
        page.count(".post-actions a[href$='/report']"),
        1,
        "others' posts can be reported"
    );
    mallory.get(&edit_link).assert_status(403);
    let token = page.attrs("input[name=csrf_token]", "value").remove(0);
    mallory
        .post(&edit_link, &[("csrf_token", &token), ("body", "defaced")])
        .assert_status(403);
    mallory
        .post(&delete_link, &[("csrf_token", &token)])
        .assert_status(403);
    assert_eq!(
        post_bodies(&app.browser().visit(&thread.path())),
        ["Admin's words"]
    );
}

#[test]
fn deleting_a_reply_keeps_the_counters_right() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Welcome", "Hello");
    let path = thread.path();
    ben.reply_to(&path, "First reply").assert_redirect();
    ben.reply_to(&path, "Second reply").assert_redirect();
    let page = ben.visit(&path);
    let delete_link = page
        .attrs(".post-actions a[href$='/delete']", "href")
        .pop()
        .unwrap();
    let confirm = ben.visit(&delete_link);
    let reply = ben.submit(&confirm, &delete_link, &[]);
    assert_eq!(reply.assert_redirect(), path);
    let page = app.browser().visit(&path);
    assert_eq!(post_bodies(&page), ["Hello", "First reply"]);
    assert_eq!(
        page.texts(".post-deleted"),
        ["This post was deleted by its author."]
    );
    let board = app.browser().visit("/b/pet-loss");
    let meta = &board.texts(".thread-item .meta")[0];
    assert!(meta.contains("1 reply"), "{meta}");
    let profile = app.browser().visit("/u/ben");
    assert!(
        profile.texts(".meta")[0].contains("1 post"),
        "{}",
        profile.body
    );
}

#[test]
fn deleting_an_unanswered_opening_post_removes_the_thread() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "Oops", "Posted by mistake");
    let delete_link = thread
        .attrs(".post-actions a[href$='/delete']", "href")
        .remove(0);
    let confirm = admin.visit(&delete_link);
    let reply = admin.submit(&confirm, &delete_link, &[]);
    assert_eq!(reply.assert_redirect(), "/b/pet-loss");
    app.browser().get(&thread.path()).assert_status(404);
    // A member's home counts the group's threads again.
    let home = admin.visit("/");
    assert!(home.texts(".board-item .meta")[0].starts_with("0 threads"));
}

fn post_many(browser: &Browser, path: &str, n: usize) {
    for i in 2..=n {
        browser
            .reply_to(path, &format!("Reply number {i}"))
            .assert_redirect();
    }
}

#[test]
fn a_long_thread_pages_by_twenty_posts() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let thread = admin.start_thread("pet-loss", "A long one", "Reply number 1");
    let path = thread.path();
    post_many(&admin, &path, 55);
    let first = app.browser().visit(&path);
    assert_eq!(first.count(".post"), 20);
    assert_eq!(first.texts("nav.pager [aria-current=page]")[0], "1");
    let third = app.browser().visit(&format!("{path}?page=3"));
    let bodies = post_bodies(&third);
    assert_eq!(bodies.len(), 15);
    assert_eq!(bodies[0], "Reply number 41");
    assert_eq!(bodies[14], "Reply number 55");
    assert_eq!(third.attrs("ol.post-list", "start"), ["41"]);
    // Past the end, the last page is where the reader is sent.
    let beyond = app.browser().get(&format!("{path}?page=9"));
    assert_eq!(beyond.status, 308);
    assert_eq!(beyond.location.unwrap(), format!("{path}?page=3"));
    // A reply's redirect points at the page that holds it.
    let reply = admin.reply_to(&path, "Reply number 56");
    assert!(reply.assert_redirect().ends_with("?page=3#post-56"));
}
