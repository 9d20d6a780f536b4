//! The form system (issue 14): the error summary, confirmations after an action (flash),
//! preview before posting.

use hearth_core::model::SiteRole;
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

fn flash(page: &Page) -> Vec<String> {
    page.texts("main [role=status].flash")
}

/// After an action, its confirmation is on the next page, once: kept in the session, never
/// in the redirect's address or a cookie, and gone on the page after.
#[test]
fn a_confirmation_shows_once_on_the_next_page_and_then_is_gone() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    assert_eq!(flash(&thread), ["Your thread is posted"]);
    let path = thread.path();

    let reply = ben.reply_to(&path, "I'm so sorry, Ana.");
    let location = reply.assert_redirect();
    assert!(
        !location.contains("posted") && !location.contains("flash"),
        "{location}"
    );
    let cookies: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        cookies.iter().all(|c| !c.to_lowercase().contains("reply")),
        "{cookies:?}"
    );
    let shown = ben.follow(reply);
    assert_eq!(flash(&shown), ["Your reply is posted"]);
    assert_eq!(flash(&ben.visit(&path)), Vec::<String>::new(), "shown once");
    // Another member's pages never show it; nor do the author's other pages.
    assert_eq!(flash(&ana.visit(&path)), Vec::<String>::new());
    assert_eq!(flash(&ben.visit("/")), Vec::<String>::new());
}

/// A confirmation waits through redirects (a permalink that redirects to the thread) for the
/// page that is shown, and is not spent on the redirects.
#[test]
fn a_confirmation_survives_a_chain_of_redirects() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let path = thread.path();
    let edit_link = thread.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    let post_id = edit_link
        .trim_start_matches("/p/")
        .trim_end_matches("/edit")
        .to_owned();
    let edited = ana.fill(
        &format!("/p/{post_id}/edit"),
        &format!("/p/{post_id}/edit"),
        &[("body", "Milo was fourteen and a half.")],
    );
    edited.assert_redirect();
    // Not followed: the member opens the post's permalink, which redirects to the thread.
    let permalink = ana.get(&format!("/p/{post_id}"));
    permalink.assert_redirect();
    let page = ana.follow(permalink);
    assert_eq!(page.path(), path);
    assert_eq!(flash(&page), ["Your changes are saved"]);
    assert_eq!(flash(&ana.visit(&path)), Vec::<String>::new());
}

/// An action that was refused confirms nothing.
#[test]
fn a_refused_action_leaves_no_confirmation() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let path = thread.path();
    ana.reply_to(&path, "   ").assert_status(422);
    assert_eq!(flash(&ana.visit(&path)), Vec::<String>::new());
}

/// Hiding a post starts from "Choose a reason…", never a preselected reason; sent without
/// one, the post stays up and the form comes back with the typed detail.
#[test]
fn a_post_is_hidden_only_with_a_chosen_reason_and_the_typed_detail_is_kept() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Something unkind.");
    let path = thread.path();
    let page = admin.visit(&path);
    let post_id = page.attrs(".moderate-post form[action$='/moderate']", "action")[0]
        .trim_start_matches("/p/")
        .trim_end_matches("/moderate")
        .to_owned();
    let select = format!("#hide-reason-{post_id}");
    let html = page.html();
    let options: Vec<_> = html
        .select(&Selector::parse(&format!("{select} option")).unwrap())
        .collect();
    assert_eq!(options[0].text().collect::<String>(), "Choose a reason…");
    assert_eq!(options[0].value().attr("value"), Some(""));
    assert!(options[0].value().attr("disabled").is_some());
    assert!(options[0].value().attr("selected").is_some());
    assert!(
        options[1..]
            .iter()
            .all(|o| o.value().attr("selected").is_none()),
        "no reason is chosen for the moderator"
    );
    assert_eq!(page.attrs(&select, "required").len(), 1);

    // The browser sends no value for the placeholder: the reason is missing.
    let refused = admin.decide(&page, &post_id, "hide", &[("detail", "please be gentle")]);
    assert_summary_links_to_its_fields(&refused, &["reason"]);
    assert_eq!(refused.attrs("#detail", "value"), ["please be gentle"]);
    assert_eq!(refused.attrs("#reason option[selected]", "value"), [""]);
    assert!(app
        .browser()
        .visit(&path)
        .body
        .contains("Something unkind."));

    let hidden = admin.submit(
        &refused,
        &format!("/p/{post_id}/moderate"),
        &[
            ("reason", "It is unkind to another member"),
            ("detail", "please be gentle"),
        ],
    );
    hidden.assert_redirect();
    assert!(!app
        .browser()
        .visit(&path)
        .body
        .contains("Something unkind."));
}

/// A private message is hidden with the same component and rule as a post: a reason chosen
/// from the same list, starting at "Choose a reason…", none preselected; sent without one, the
/// message stays and the form comes back with the typed detail.
#[test]
fn a_message_is_hidden_only_with_a_chosen_reason_as_a_post_is() {
    let app = TestApp::new();
    let world = app
        .group("grief")
        .facilitated_by("fran")
        .with_members(["joan"])
        .build();
    let (fran, joan) = (world.browser("fran"), world.browser("joan"));
    let sent = joan.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[("subject", "Angry"), ("body", "Something unkind.")],
    );
    let path = sent.assert_redirect();
    let path = path.split(['#', '?']).next().unwrap().to_owned();
    let action = format!("{path}/moderate");
    let page = fran.visit(&path);
    let message = page
        .attrs("form[action$='/moderate'] input[name=message]", "value")
        .pop()
        .unwrap();
    let select = format!("#hide-reason-{message}");
    let html = page.html();
    let options: Vec<(String, Option<String>, bool, bool)> = html
        .select(&Selector::parse(&format!("{select} option")).unwrap())
        .map(|o| {
            (
                o.text().collect::<String>(),
                o.value().attr("value").map(str::to_owned),
                o.value().attr("disabled").is_some(),
                o.value().attr("selected").is_some(),
            )
        })
        .collect();
    assert_eq!(
        options[0],
        (
            "Choose a reason…".to_owned(),
            Some(String::new()),
            true,
            true
        )
    );
    assert!(options[1..].iter().all(|o| !o.3), "none preselected");
    assert_eq!(page.attrs(&select, "required").len(), 1);
    assert_eq!(
        page.attrs(&format!("#hide-detail-{message}"), "name"),
        ["detail"]
    );
    // The same reasons as a post's hide offers.
    let thread = world.start_thread("joan", "A thread", "Words.");
    let post_reasons = fran
        .visit(&thread.path())
        .texts(".moderate-post select option");
    let message_reasons: Vec<String> = options.iter().map(|o| o.0.clone()).collect();
    assert_eq!(message_reasons, post_reasons);

    let refused = fran.submit(
        &page,
        &action,
        &[
            ("message", message.as_str()),
            ("detail", "please be gentle"),
        ],
    );
    assert_summary_links_to_its_fields(&refused, &["reason"]);
    assert_eq!(refused.attrs("#detail", "value"), ["please be gentle"]);
    assert_eq!(refused.attrs("#reason option[selected]", "value"), [""]);
    assert_eq!(joan.visit(&path).count(".message.hidden"), 0);

    fran.submit(
        &refused,
        &action,
        &[
            ("reason", "It is unkind to another member"),
            ("detail", "please be gentle"),
        ],
    )
    .assert_redirect();
    let seen = joan.visit(&path);
    assert_eq!(seen.count(".message.hidden"), 1);
    assert!(seen
        .body
        .contains("It is unkind to another member: please be gentle"));
}

/// A lock needs a reason: without one the thread stays open and the lock form says so; with
/// one, members read it at the top of the thread and it is in the log.
#[test]
fn locking_a_thread_asks_for_a_reason_shown_in_the_thread_and_logged() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let path = thread.path();
    let action = format!("/t/{}/moderate", thread.thread_id());
    let page = admin.visit(&path);
    assert_eq!(page.attrs("#lock_reason", "required").len(), 1);

    let refused = admin.submit(&page, &action, &[("action", "lock"), ("reason", "  ")]);
    assert_summary_links_to_its_fields(&refused, &["lock_reason"]);
    assert_eq!(refused.attrs("details.moderation-tools", "open").len(), 1);
    assert_eq!(
        ana.visit(&path).count("section.reply form"),
        1,
        "still open"
    );

    let locked = admin.submit(
        &page,
        &action,
        &[
            ("action", "lock"),
            ("reason", "this conversation has run its course"),
        ],
    );
    locked.assert_redirect();
    assert_eq!(flash(&admin.follow(locked)), ["Thread locked"]);
    let seen = ana.visit(&path);
    assert_eq!(seen.count("section.reply form"), 0);
    assert_eq!(
        seen.texts("p.notice")[0],
        "Locked by a facilitator: this conversation has run its course. It stays readable, but \
         no new replies can be added."
    );
    let log = admin.visit("/b/pet-loss/log").texts(".log-list li");
    assert!(
        log.iter()
            .any(|line| line.contains("this conversation has run its course")),
        "{log:?}"
    );

    // Unlocked, the reason goes with the lock.
    admin
        .submit(&admin.visit(&path), &action, &[("action", "unlock")])
        .assert_redirect();
    assert_eq!(ana.visit(&path).count("p.notice"), 0);
}

/// Rows in a table, straight from the database.
fn rows(app: &TestApp, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(&mut *app.conn())
        .unwrap()
        .n
}

/// Preview on the new-thread, reply and edit forms shows the text as it would be posted, above
/// the form that still holds it; nothing is stored, counted or notified.
#[test]
fn preview_shows_the_rendered_post_and_stores_nothing() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let path = thread.path();
    let before = (
        rows(&app, "posts"),
        rows(&app, "threads"),
        rows(&app, "notifications"),
    );

    let typed = "I am **so** sorry, @ana.\n\n<script>alert(1)</script>";
    let page = ben.fill(
        "/b/pet-loss/new",
        "/b/pet-loss/new",
        &[("title", "A walk"), ("body", typed), ("preview", "1")],
    );
    page.assert_status(200);
    assert_eq!(page.texts(".preview .post-body strong"), ["so"]);
    assert_eq!(page.count(".preview script"), 0, "sanitized as posts are");
    assert_eq!(
        page.texts("#body"),
        [typed.split_whitespace().collect::<Vec<_>>().join(" ")]
    );
    assert_eq!(page.attrs("#title", "value"), ["A walk"]);
    // The preview sits above the form.
    let preview_at = page.body.find("class=\"preview\"").unwrap();
    let form_at = page.body.find("action=\"/b/pet-loss/new\"").unwrap();
    assert!(preview_at < form_at);

    let replying = ben.visit(&path);
    let reply = ben.submit(
        &replying,
        &format!("/t/{}/reply", thread.thread_id()),
        &[("body", typed), ("preview", "1")],
    );
    reply.assert_status(200);
    assert_eq!(reply.texts("#reply .preview .post-body strong"), ["so"]);
    assert_eq!(
        reply
            .attrs(".preview .post-body a[href='/u/ana']", "href")
            .len(),
        1,
        "names linked as in a post"
    );

    let own = ana.visit(&path);
    let edit_link = own.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    let edited = ana.fill(
        &edit_link,
        &edit_link,
        &[("body", "Milo was *fifteen*."), ("preview", "1")],
    );
    edited.assert_status(200);
    assert_eq!(edited.texts(".preview .post-body em"), ["fifteen"]);

    let after = (
        rows(&app, "posts"),
        rows(&app, "threads"),
        rows(&app, "notifications"),
    );
    assert_eq!(before, after, "nothing stored, nobody notified");
    assert_eq!(
        app.browser().visit(&path).texts(".post .post-body"),
        ["Milo was fourteen."]
    );
    // The form a preview showed still posts, once.
    let posted = ben.submit(
        &reply,
        &format!("/t/{}/reply", thread.thread_id()),
        &[("body", "I am so sorry.")],
    );
    posted.assert_redirect();
    assert_eq!(rows(&app, "posts"), before.0 + 1);
}

/// Someone who may not edit a post learns nothing from previewing an edit of it.
#[test]
fn previewing_an_edit_of_someone_elses_post_is_refused() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let edit_link = thread.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    let token = ben
        .visit("/settings")
        .attrs("input[name=csrf_token]", "value")[0]
        .clone();
    let refused = ben.post(
        &edit_link,
        &[
            ("csrf_token", &token),
            ("body", "mine now"),
            ("preview", "1"),
        ],
    );
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert!(!refused.body.contains("Milo was fourteen"));
}

/// A text that cannot be previewed (longer than a post may be, or too complex to show) is
/// answered as a post would be: each form again, the error in its summary linked to the body,
/// the text kept, nothing stored.
#[test]
fn a_preview_too_long_or_too_complex_shows_the_form_again_with_the_text() {
    let app = TestApp::new();
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let path = thread.path();
    let edit_link = thread.attrs(".post-actions a[href$='/edit']", "href")[0].clone();
    let reply_action = format!("/t/{}/reply", thread.thread_id());
    let posts_before = rows(&app, "posts");
    // Each address becomes a link twelve times its length: past the renderer's bound.
    let complex = "<a@b>".repeat(9_000);
    let long = "a".repeat(50_001);
    for (body, says) in [(&complex, "please simplify"), (&long, "50000 characters")] {
        let fields = [
            ("title", "A walk"),
            ("body", body.as_str()),
            ("preview", "1"),
        ];
        let new_thread = ana.fill("/b/pet-loss/new", "/b/pet-loss/new", &fields);
        let replying = ana.visit(&path);
        let reply = ana.submit(&replying, &reply_action, &fields[1..]);
        let edited = ana.fill(&edit_link, &edit_link, &fields[1..]);
        for page in [&new_thread, &reply, &edited] {
            assert_summary_links_to_its_fields(page, &["body"]);
            assert!(page.texts("#body-error")[0].contains(says), "{}", page.url);
            assert_eq!(page.texts("#body"), [body.as_str()], "{}", page.url);
            assert_eq!(page.count(".preview"), 0);
        }
        assert_eq!(new_thread.attrs("#title", "value"), ["A walk"]);
    }
    assert_eq!(rows(&app, "posts"), posts_before);
}

/// Previews are counted per member and hour in the database (`action_counts`): past the limit
/// the answer is a 429 that says when to try again and hands the text back; posting is not held
/// up by it, and another member has a count of their own.
#[test]
fn previews_past_the_limit_are_refused_with_429_keeping_the_text() {
    let mut config = hearth_tests::test_config();
    config.posting.previews_per_hour = 2;
    let app = TestApp::with_config(config);
    app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Losing Milo", "Milo was fourteen.");
    let path = thread.path();
    let reply_action = format!("/t/{}/reply", thread.thread_id());
    let preview = |who: &hearth_tests::Browser, body: &str| {
        let page = who.visit(&path);
        who.submit(&page, &reply_action, &[("body", body), ("preview", "1")])
    };
    let first = preview(&ben, "first try");
    first.assert_status(200);
    assert_eq!(first.count(".preview"), 1);
    // The new-thread form counts against the same limit.
    ben.fill(
        "/b/pet-loss/new",
        "/b/pet-loss/new",
        &[
            ("title", "A walk"),
            ("body", "second try"),
            ("preview", "1"),
        ],
    )
    .assert_status(200);
    let refused = preview(&ben, "the third version, which I took time to write");
    refused.assert_status(429);
    assert!(refused.header("retry-after").is_some());
    assert!(
        refused.body.contains("preview at most 2 times an hour"),
        "{}",
        refused.body
    );
    assert!(refused
        .body
        .contains("the third version, which I took time to write"));
    assert_eq!(refused.count(".preview"), 0);
    // Another member has a count of their own, and the limited one can still post.
    preview(&ana, "mine").assert_status(200);
    ben.reply_to(&path, "posted without a preview")
        .assert_redirect();
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Text)]
        subject: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
    }
    let counted: Vec<Count> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT subject, n FROM action_counts WHERE subject LIKE 'preview:%' ORDER BY n",
        ),
        &mut *app.conn(),
    )
    .unwrap();
    // The refused one rolled back with its count: asking again does not grow it.
    assert_eq!(
        counted.iter().map(|c| c.n).collect::<Vec<_>>(),
        [1, 2],
        "{counted:?}"
    );
}
