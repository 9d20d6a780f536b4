//! Private check-ins and conversations: a facilitator reaching a member from the review queue
//! with the group's other facilitators beside them, a member writing to the facilitators,
//! crisis words in a message, member-to-member messages behind their setting, hiding logged,
//! and the message limit. Nothing of a conversation reaches anyone outside it (404, unlisted).

use hearth_tests::{Browser, Page, Reply, TestApp, World};

const CRISIS: &str = "Since Milo died I want to end my life.";

/// "grief", a private group facilitated by fran and gina with members joan and olga; "pets",
/// another group facilitated by paul.
fn two_groups(app: &TestApp) -> (World, World) {
    let world = app
        .group("grief")
        .private()
        .facilitated_by("fran")
        .facilitated_by("gina")
        .with_members(["joan", "olga"])
        .build();
    let pets = app.group("pets").facilitated_by("paul").build();
    (world, pets)
}

/// The conversation id at the end of a `/c/{id}` address.
fn conversation_id(location: &str) -> String {
    location
        .trim_start_matches("/c/")
        .split(['#', '?'])
        .next()
        .unwrap()
        .to_owned()
}

fn listed_subjects(browser: &Browser) -> Vec<String> {
    let page = browser.visit("/conversations");
    page.assert_status(200);
    page.texts(".conversation-line > a")
}

fn message_texts(page: &Page) -> Vec<String> {
    page.texts(".message .post-body")
}

/// Answers from the conversation page; returns the raw response.
fn answer(browser: &Browser, id: &str, body: &str) -> Reply {
    let path = format!("/c/{id}");
    browser.fill(&path, &format!("{path}/reply"), &[("body", body)])
}

#[test]
fn a_facilitator_checks_in_from_the_queue_the_other_answers_and_nobody_else_may_know() {
    let app = TestApp::new();
    let (world, pets) = two_groups(&app);
    let (fran, gina, joan, olga) = (
        world.browser("fran"),
        world.browser("gina"),
        world.browser("joan"),
        world.browser("olga"),
    );
    world.start_thread("joan", "Can't do this anymore", CRISIS);

    // The queue's check-in item offers the private check-in.
    let queue = fran.visit("/review");
    let start = queue
        .attrs("a[href^='/conversations/new?post=']", "href")
        .pop()
        .expect("a check-in link on the queue's check-in");
    let form = fran.visit(&start);
    form.assert_status(200);
    assert!(form.texts("h1")[0].contains("Check in privately with joan"));
    // A subject is there already (a facilitator in a hurry can send at once), and can change.
    assert_eq!(form.attrs("input#subject", "value"), ["Checking in"]);
    let sent = fran.submit(
        &form,
        "/conversations/new",
        &[
            ("subject", "Thinking of you"),
            ("body", "Joan, I read your post. I am here, and so is Gina."),
        ],
    );
    let location = sent.assert_redirect();
    assert!(location.starts_with("/c/"), "{location}");
    let id = conversation_id(&location);
    let path = format!("/c/{id}");

    // The group's second facilitator finds it, unread, and answers.
    let gina_list = gina.visit("/conversations");
    assert_eq!(
        gina_list.texts(".conversation-line.unread > a"),
        ["Thinking of you"]
    );
    answer(&gina, &id, "Gina here. Take all the time you need.").assert_redirect();

    // The member reads both and answers.
    assert_eq!(listed_subjects(&joan), ["Thinking of you"]);
    let page = joan.visit(&path);
    page.assert_status(200);
    assert_eq!(
        message_texts(&page),
        [
            "Joan, I read your post. I am here, and so is Gina.",
            "Gina here. Take all the time you need."
        ]
    );
    answer(&joan, &id, "Thank you both. I am safe tonight.").assert_redirect();
    // Read now: the list no longer marks it for her; the facilitators have her answer unread.
    assert_eq!(
        joan.visit("/conversations")
            .count(".conversation-line.unread"),
        0
    );
    assert_eq!(
        fran.visit("/conversations")
            .count(".conversation-line.unread"),
        1
    );

    // Another member of the group, a facilitator of another group, a visitor: not found,
    // unlisted, unanswerable.
    let paul = pets.browser("paul");
    for outsider in [&olga, &paul] {
        outsider.get(&path).assert_status(404);
        assert!(listed_subjects(outsider).is_empty());
        let page = outsider.visit("/conversations");
        assert!(!page.body.contains("Thinking of you"));
        assert!(!page.body.contains("I am safe tonight"));
    }
    let visitor = app.browser();
    visitor.get(&path).assert_status(404);
    let list = visitor.get("/conversations");
    assert!(!list.body.contains("Thinking of you"));
    assert_ne!(list.status, 200);
}

#[test]
fn outsiders_cannot_answer_or_moderate_a_conversation() {
    let app = TestApp::new();
    let (world, _pets) = two_groups(&app);
    let (joan, olga) = (world.browser("joan"), world.browser("olga"));
    let form = joan.visit("/b/grief");
    let link = form
        .attrs("a[href='/conversations/new?group=grief']", "href")
        .pop()
        .expect("members see “Message the facilitators” on the group page");
    let sent = joan.fill(
        &link,
        "/conversations/new",
        &[
            ("subject", "A question"),
            ("body", "Can we talk about next week?"),
        ],
    );
    let id = conversation_id(&sent.assert_redirect());
    // Olga holds a valid form token and a form key of her own; the server still says the thing
    // does not exist.
    let page = olga.visit("/conversations");
    let token = page.attrs("input[name=csrf_token]", "value").pop().unwrap();
    let key = hearth_core::forum::posts::new_submission_key();
    olga.post(
        &format!("/c/{id}/reply"),
        &[
            ("csrf_token", token.as_str()),
            ("submission_key", key.as_str()),
            ("body", "let me in"),
        ],
    )
    .assert_status(404);
    olga.post(
        &format!("/c/{id}/moderate"),
        &[("csrf_token", token.as_str()), ("decision", "handled")],
    )
    .assert_status(404);
    assert!(!world
        .browser("fran")
        .visit(&format!("/c/{id}"))
        .body
        .contains("let me in"));
}

#[test]
fn a_crisis_phrase_in_a_private_message_opens_a_check_in_for_the_groups_facilitators() {
    let app = TestApp::new();
    let (world, pets) = two_groups(&app);
    let (fran, joan) = (world.browser("fran"), world.browser("joan"));
    let sent = joan.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[("subject", "Tonight"), ("body", CRISIS)],
    );
    let location = sent.assert_redirect();
    assert!(location.starts_with("/help?conversation="), "{location}");
    let id = location
        .trim_start_matches("/help?conversation=")
        .to_owned();
    let help = joan.visit(&location);
    assert_eq!(
        help.attrs(".back-link a", "href"),
        [format!("/c/{id}")],
        "a way back to the conversation"
    );
    // Another member cannot use the help page to learn it exists.
    let olga_help = world.browser("olga").visit(&location);
    assert!(olga_help.attrs(".back-link a", "href").is_empty());

    let queue = fran.visit("/review");
    let items = queue.texts(".review-conversations h3");
    assert_eq!(items.len(), 1, "{}", queue.body);
    assert!(items[0].starts_with("Check in"), "{items:?}");
    assert!(items[0].contains("Tonight"));
    assert!(queue.body.contains("Crisis words in a private message"));
    // Not in another group's queue.
    let paul = pets.browser("paul");
    assert!(paul
        .visit("/review")
        .texts(".review-conversations h3")
        .is_empty());

    // A facilitator closes it from the conversation.
    let page = fran.visit(&format!("/c/{id}"));
    assert!(page.count(".check-in-open") == 1);
    fran.submit(
        &page,
        &format!("/c/{id}/moderate"),
        &[("note", "talked on the phone")],
    )
    .assert_redirect();
    assert_eq!(fran.visit(&format!("/c/{id}")).count(".check-in-open"), 0);
    assert!(fran
        .visit("/review")
        .texts(".review-conversations h3")
        .is_empty());
}

/// Makes `username`'s account `days` old.
fn age_account(app: &TestApp, username: &str, days: i64) {
    use diesel::RunQueryDsl;
    let member = hearth_core::accounts::members::by_username(&mut app.conn(), username).unwrap();
    let at = hearth_core::clock::now() - chrono::TimeDelta::days(days);
    diesel::sql_query(format!(
        "UPDATE members SET created_at = '{}' WHERE id = {}",
        at.format("%Y-%m-%d %H:%M:%S"),
        member.id
    ))
    .execute(&mut *app.conn())
    .unwrap();
}

fn message_member(from: &Browser, group: &str, with: &str) -> Reply {
    let page = from.visit("/conversations");
    let token = page.attrs("input[name=csrf_token]", "value").pop().unwrap();
    let key = hearth_core::forum::posts::new_submission_key();
    from.post(
        "/conversations/new",
        &[
            ("csrf_token", token.as_str()),
            ("submission_key", key.as_str()),
            ("group", group),
            ("with", with),
            ("subject", "Hello"),
            ("body", "How was your week?"),
        ],
    )
}

#[test]
fn member_to_member_messages_are_off_by_default() {
    let app = TestApp::new();
    let (world, _pets) = two_groups(&app);
    let joan = world.browser("joan");
    age_account(&app, "joan", 400);
    age_account(&app, "olga", 400);
    message_member(&joan, "grief", "olga").assert_status(403);
    joan.get("/conversations/new?group=grief&with=olga")
        .assert_status(403);
    assert!(joan
        .visit("/u/olga")
        .attrs("a[href^='/conversations/new']", "href")
        .is_empty());
    // A facilitator can always reach a member from the profile.
    let links = world
        .browser("fran")
        .visit("/u/olga")
        .attrs("a[href^='/conversations/new']", "href");
    assert_eq!(links, ["/conversations/new?group=grief&with=olga"]);
}

#[test]
fn member_to_member_messages_when_on_need_a_shared_group_and_old_enough_accounts() {
    let mut config = hearth_tests::test_config();
    config.conversations.member_messages = true;
    config.conversations.member_messages_min_account_days = 7;
    let app = TestApp::with_config(config);
    let (world, pets) = two_groups(&app);
    let joan = world.browser("joan");
    // New accounts: refused, with a sentence saying when.
    let refused = message_member(&joan, "grief", "olga");
    refused.assert_status(422);
    assert!(refused.body.contains("7 days old"), "{}", refused.body);
    age_account(&app, "joan", 8);
    age_account(&app, "olga", 8);
    age_account(&app, "paul", 8);
    // Not with someone outside the group (paul), nor through a group joan is not in.
    message_member(&joan, "grief", "paul").assert_status(422);
    message_member(&joan, "pets", "paul").assert_status(403);
    let sent = message_member(&joan, "grief", "olga");
    let id = conversation_id(&sent.assert_redirect());
    let olga = world.browser("olga");
    assert_eq!(listed_subjects(&olga), ["Hello"]);
    answer(&olga, &id, "Better, thanks.").assert_redirect();
    assert_eq!(
        joan.visit("/u/olga")
            .attrs("a[href^='/conversations/new']", "href"),
        ["/conversations/new?group=grief&with=olga"]
    );
    // paul, outside, may not know it exists.
    pets.browser("paul")
        .get(&format!("/c/{id}"))
        .assert_status(404);
    // Olga reports joan's message; it reaches the group's queue.
    let page = olga.visit(&format!("/c/{id}"));
    olga.submit(
        &page,
        &format!("/c/{id}/report"),
        &[("reason", "harassment"), ("note", "")],
    )
    .assert_redirect();
    assert!(world
        .browser("fran")
        .visit("/review")
        .body
        .contains("A message reported"));
    // A mute stops it both ways.
    olga.fill("/u/joan", "/u/joan/mute", &[]).assert_redirect();
    answer(&joan, &id, "Still there?").assert_status(422);
}

#[test]
fn a_moderator_hides_a_message_logged_for_the_moderators_only() {
    let app = TestApp::new();
    let (world, _pets) = two_groups(&app);
    let (fran, joan) = (world.browser("fran"), world.browser("joan"));
    let sent = joan.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[
            ("subject", "Angry"),
            ("body", "Something unkind about olga."),
        ],
    );
    let id = conversation_id(&sent.assert_redirect());
    let path = format!("/c/{id}");
    let page = fran.visit(&path);
    let message = page
        .attrs("form[action$='/moderate'] input[name=message]", "value")
        .pop()
        .unwrap();
    fran.submit(
        &page,
        &format!("{path}/moderate"),
        &[
            ("message", message.as_str()),
            ("decision", "hide"),
            ("reason", "It is unkind to another member"),
            ("detail", "please keep it kind"),
        ],
    )
    .assert_redirect();
    // Its author sees it hidden, with the reason.
    let mine = joan.visit(&path);
    assert!(mine
        .body
        .contains("It is unkind to another member: please keep it kind"));
    assert_eq!(mine.count(".message.hidden"), 1);
    let log = fran.visit("/b/grief/log");
    assert!(log.body.contains("hid a private message"), "{}", log.body);
    let public_log = world.browser("olga").visit("/b/grief/log");
    assert!(!public_log.body.contains("private message"));
}

#[test]
fn the_message_limit_refuses_with_429_and_keeps_the_text() {
    let mut config = hearth_tests::test_config();
    config.conversations.messages_per_minute = 2;
    let app = TestApp::with_config(config);
    let (world, _pets) = two_groups(&app);
    let joan = world.browser("joan");
    let sent = joan.fill(
        "/conversations/new?group=grief",
        "/conversations/new",
        &[("subject", "Hello"), ("body", "one")],
    );
    let id = conversation_id(&sent.assert_redirect());
    answer(&joan, &id, "two").assert_redirect();
    let refused = answer(&joan, &id, "three, which I took time to write");
    refused.assert_status(429);
    assert!(refused.header("retry-after").is_some());
    assert!(refused.body.contains("three, which I took time to write"));
    // The group's facilitators are not limited.
    let fran = world.browser("fran");
    for text in ["a", "b", "c"] {
        answer(&fran, &id, text).assert_redirect();
    }
}

#[test]
fn a_form_sent_twice_starts_one_conversation_and_posts_one_message() {
    let app = TestApp::new();
    let (world, _pets) = two_groups(&app);
    let joan = world.browser("joan");
    // A double tap: the same page's form, sent twice.
    let form = joan.visit("/conversations/new?group=grief");
    let fields = [("subject", "Tonight"), ("body", "Is anyone around?")];
    let first = joan.submit(&form, "/conversations/new", &fields);
    let second = joan.submit(&form, "/conversations/new", &fields);
    let location = first.assert_redirect();
    assert_eq!(second.assert_redirect(), location);
    assert_eq!(listed_subjects(&joan), ["Tonight"]);
    let fran = world.browser("fran");
    assert_eq!(listed_subjects(&fran), ["Tonight"]);
    let id = conversation_id(&location);
    let path = format!("/c/{id}");

    // The answer, sent twice from one page (a retry after a timeout).
    let page = fran.visit(&path);
    let reply_action = format!("{path}/reply");
    let fields = [("body", "I am here, Joan.")];
    let first = fran.submit(&page, &reply_action, &fields);
    let second = fran.submit(&page, &reply_action, &fields);
    let location = first.assert_redirect();
    assert!(location.contains("#message-"), "{location}");
    assert_eq!(second.assert_redirect(), location);
    assert_eq!(
        message_texts(&joan.visit(&path)),
        ["Is anyone around?", "I am here, Joan."]
    );
    // A new page is a new form: the same words again are a second message.
    answer(&fran, &id, "I am here, Joan.").assert_redirect();
    assert_eq!(message_texts(&joan.visit(&path)).len(), 3);
}

#[test]
fn the_list_and_a_long_conversation_come_in_pages() {
    let mut config = hearth_tests::test_config();
    config.conversations.messages_per_minute = 0;
    config.conversations.messages_per_day = 0;
    let app = TestApp::with_config(config);
    let (world, pets) = two_groups(&app);
    let joan = world.browser("joan");
    let mut subjects = Vec::new();
    for i in 0..105 {
        let subject = format!("Question {i:03}");
        joan.fill(
            "/conversations/new?group=grief",
            "/conversations/new",
            &[("subject", subject.as_str()), ("body", "hello")],
        )
        .assert_redirect();
        subjects.push(subject);
    }
    subjects.reverse();
    let fran = world.browser("fran");
    let first = fran.visit("/conversations");
    let on_first = first.texts(".conversation-line > a");
    assert_eq!(on_first.len(), 100);
    let older = first.attrs("a[rel=next]", "href");
    assert_eq!(older.len(), 1, "an “Older conversations” link");
    let second = fran.visit(&older[0]);
    assert!(second.attrs("a[rel=next]", "href").is_empty());
    assert_eq!(
        second
            .attrs(".pager a[href='/conversations']", "href")
            .len(),
        1,
        "a way back to the newest"
    );
    let all = [on_first, second.texts(".conversation-line > a")].concat();
    assert_eq!(all, subjects, "every conversation once, newest first");
    // Another group's facilitator, on any page: none of them.
    let paul = pets.browser("paul");
    assert!(listed_subjects(&paul).is_empty());
    paul.get(&older[0]).assert_status(200);
    assert!(!paul.visit(&older[0]).body.contains("Question"));
    joan.get("/conversations?after=not-a-cursor")
        .assert_status(404);

    // A conversation of 60 messages shows the newest 50, and the earlier ten a page back.
    let newest_href = fran
        .visit("/conversations")
        .attrs(".conversation-line > a", "href")
        .remove(0);
    let id = conversation_id(&newest_href);
    let path = format!("/c/{id}");
    for i in 1..60 {
        answer(&fran, &id, &format!("message {i:02}")).assert_redirect();
    }
    let newest = joan.visit(&path);
    let shown = message_texts(&newest);
    assert_eq!(shown.len(), 50);
    assert_eq!(shown.last().map(String::as_str), Some("message 59"));
    let earlier = newest.attrs("a[rel=prev]", "href");
    assert_eq!(earlier.len(), 1, "an “Earlier messages” link");
    let back = joan.visit(&earlier[0]);
    let mut expected = vec!["hello".to_owned()];
    expected.extend((1..10).map(|i| format!("message {i:02}")));
    assert_eq!(message_texts(&back), expected);
    assert!(back.attrs("a[rel=prev]", "href").is_empty());
    assert_eq!(back.attrs("a[rel=next]", "href").len(), 1, "later messages");
    // Outsiders: not found on any page of it.
    world.browser("olga").get(&earlier[0]).assert_status(404);
}
