//! `/metrics`: off (a 404 like any unknown path) unless configured, then behind a bearer token;
//! series by route pattern that count what was served; nothing of a private group's thread (its
//! slug, title, words or author) in any of it.
//!
//! The recorder is one per process (as in `hearth serve`), so servers of other tests here add
//! to the same series: counts are compared as "at least", never exactly.

use hearth_core::mail::Secret;
use hearth_tests::{test_config, Browser, Reply, TestApp};

const TOKEN: &str = "a-long-random-scrape-token-0123456789";

fn with_metrics() -> TestApp {
    let mut config = test_config();
    config.metrics_token = Some(Secret(TOKEN.to_owned()));
    TestApp::with_config(config)
}

fn scrape(browser: &Browser) -> Reply {
    let reply =
        browser.get_with_headers("/metrics", &[("authorization", &format!("Bearer {TOKEN}"))]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

/// The value of the sample whose name and labels are exactly `series` (as rendered, e.g.
/// `hearth_http_requests_total{route="/t/{thread}",method="GET",status="200"}`), 0 if absent.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(series, _)| {
            let Some(rest) = series.strip_prefix(name) else {
                return false;
            };
            if labels.is_empty() {
                return rest.is_empty();
            }
            labels
                .iter()
                .all(|(label, wanted)| rest.contains(&format!("{label}=\"{wanted}\"")))
        })
        .map_or(0.0, |(_, number)| number.parse().unwrap())
}

/// Every value of the label `label` in the text.
fn label_values(text: &str, label: &str) -> Vec<String> {
    let marker = format!("{label}=\"");
    let mut values = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let mut rest = line;
        while let Some(start) = rest.find(&marker) {
            let after = &rest[start + marker.len()..];
            let end = after.find('"').unwrap();
            values.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    values
}

#[test]
fn metrics_are_a_404_like_any_unknown_path_when_off() {
    let app = TestApp::new();
    let visitor = app.browser();
    let unknown = visitor.get("/no-such-page");
    assert_eq!(unknown.status, 404);
    for reply in [
        visitor.get("/metrics"),
        visitor.get_with_headers("/metrics", &[("authorization", &format!("Bearer {TOKEN}"))]),
    ] {
        assert_eq!(reply.status, 404);
        assert!(reply.header("www-authenticate").is_none());
        assert_eq!(reply.texts("title"), unknown.texts("title"));
        assert_eq!(reply.texts("h1"), unknown.texts("h1"));
    }
}

#[test]
fn metrics_ask_for_the_bearer_token() {
    let app = with_metrics();
    let visitor = app.browser();
    let wrong = format!("Bearer {TOKEN}x");
    let basic = format!("Basic {TOKEN}");
    let refused = [
        visitor.get("/metrics"),
        visitor.get_with_headers("/metrics", &[("authorization", &wrong)]),
        visitor.get_with_headers("/metrics", &[("authorization", "Bearer ")]),
        visitor.get_with_headers("/metrics", &[("authorization", &basic)]),
    ];
    for reply in refused {
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert!(reply
            .header("www-authenticate")
            .is_some_and(|value| value.starts_with("Bearer")));
        assert!(!reply.body.contains("hearth_"), "{}", reply.body);
    }
    let reply = scrape(&visitor);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply.header("set-cookie").is_none(), "{:?}", reply.headers);
    for name in [
        "hearth_http_requests_total",
        "hearth_http_request_duration_seconds",
        "hearth_open_check_ins",
        "hearth_unanswered_first_posts",
        "hearth_mail_outbox_unsent",
    ] {
        assert!(
            reply.body.contains(&format!("# HELP {name} ")),
            "{name} has help text:\n{}",
            reply.body
        );
    }
    // A member's session cookie is neither read nor answered.
    let member = app.signed_in("ana", hearth_core::model::SiteRole::Member);
    let reply =
        member.get_with_headers("/metrics", &[("authorization", &format!("Bearer {TOKEN}"))]);
    assert_eq!(reply.status, 200);
    assert!(reply.header("set-cookie").is_none());
}

#[test]
fn requests_are_counted_by_route_pattern() {
    let app = with_metrics();
    let world = app.group("pets").with_members(["joan"]).build();
    let thread = world.start_thread("joan", "Our old cat", "She sleeps all day now.");
    let path = thread.path();
    let joan = world.browser("joan");
    let visitor = app.browser();
    joan.get(&path).assert_status(200);
    let pattern = [
        ("route", "/t/{thread}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let before = value(
        &scrape(&visitor).body,
        "hearth_http_requests_total",
        &pattern,
    );
    for _ in 0..3 {
        joan.get(&path).assert_status(200);
    }
    // A visitor's page, twice: rendered once, then served from its kept copy (SQLite).
    visitor.get(&path).assert_status(200);
    visitor.get(&path).assert_status(200);
    visitor.get("/no/such/page/12345").assert_status(404);
    let after = scrape(&visitor).body;
    assert!(
        value(&after, "hearth_http_requests_total", &pattern) >= before + 5.0,
        "{after}"
    );
    assert!(
        value(
            &after,
            "hearth_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(
        value(
            &after,
            "hearth_http_request_duration_seconds_count",
            &[("route", "/t/{thread}"), ("method", "GET")]
        ) >= 5.0,
        "{after}"
    );
    assert!(after.contains("hearth_http_request_duration_seconds_bucket{"));
    assert!(!after.contains("12345"), "no path reaches a label");
    // Every reply waited for a pooled connection (the wait is recorded, however short).
    assert!(value(&after, "hearth_db_pool_wait_seconds_count", &[]) >= 1.0);
    if !app.is_postgres() {
        assert!(value(&after, "hearth_kept_page_hits_total", &[]) >= 1.0);
        assert!(value(&after, "hearth_kept_page_misses_total", &[]) >= 1.0);
        assert!(value(&after, "hearth_db_write_lock_wait_seconds_count", &[]) >= 1.0);
    }
    // Joan's thread has no answer from anyone else: one first post waiting in this database.
    assert_eq!(value(&after, "hearth_unanswered_first_posts", &[]), 1.0);
}

#[test]
fn nothing_of_a_private_groups_thread_reaches_the_metrics() {
    let app = with_metrics();
    let world = app
        .group("harbour-lanterns")
        .named("Harbour lanterns circle")
        .private()
        .facilitated_by("wilhelmina")
        .with_members(["bartholomew"])
        .build();
    let title = "Quinceberry nightfall confession";
    let body = "Marmalade xylophone thoughts keep me awake.";
    let thread = world.start_thread("bartholomew", title, body);
    let path = thread.path();
    let id = thread.thread_id();
    let wilhelmina = world.browser("wilhelmina");
    wilhelmina.get(&path).assert_status(200);
    wilhelmina
        .reply_to(&path, "Tangerine lighthouse, we hear you.")
        .assert_redirect();
    wilhelmina.get("/b/harbour-lanterns").assert_status(200);
    wilhelmina
        .get("/search?q=marmalade+xylophone")
        .assert_status(200);
    // Outsiders, at the same addresses.
    let visitor = app.browser();
    visitor.get(&path).assert_status(404);
    visitor
        .get("/b/harbour-lanterns/quinceberry-nightfall")
        .assert_status(404);
    visitor.get("/u/bartholomew");
    let text = scrape(&visitor).body;
    for secret in [
        "harbour",
        "lantern",
        "Harbour",
        "Quinceberry",
        "quinceberry",
        "nightfall",
        "Marmalade",
        "marmalade",
        "xylophone",
        "Tangerine",
        "lighthouse",
        "bartholomew",
        "wilhelmina",
        "127.0.0.1",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the metrics:\n{text}"
        );
    }
    let routes = label_values(&text, "route");
    assert!(routes.contains(&"/t/{thread}".to_owned()), "{routes:?}");
    assert!(routes.contains(&"/b/{slug}".to_owned()), "{routes:?}");
    assert!(routes.contains(&"/t/{id}/reply".to_owned()), "{routes:?}");
    for route in &routes {
        assert!(
            route == "unmatched" || route.starts_with('/'),
            "{route} is a pattern"
        );
        assert!(!route.contains(&id), "{route} holds the thread's id");
    }
    // Only the labels Hearth chose.
    let mut names: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('{').map(|(_, rest)| rest.to_owned()))
        .flat_map(|labels| {
            labels
                .split(',')
                .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    for name in &names {
        assert!(
            ["route", "method", "status", "le", "outcome", "quantile"].contains(&name.as_str()),
            "unexpected label {name}"
        );
    }
}

/// Mail the SMTP server refused: counted as a send failure to be tried again, and the outbox
/// gauge holds it until it is sent; neither says to whom or about what.
#[test]
fn refused_mail_is_counted_and_waits_in_the_outbox_gauge_without_its_address() {
    let before = value(
        &scrape(&with_metrics().browser()).body,
        "hearth_mail_send_failures_total",
        &[("outcome", "retry")],
    );
    let sink = hearth_tests::SmtpSink::start();
    sink.refuse_next(1);
    let mut config = test_config();
    config.metrics_token = Some(Secret(TOKEN.to_owned()));
    config.email = sink.email_settings();
    // Tried again only after the test is over.
    config.email.retry_seconds = vec![3600];
    let app = TestApp::with_config(config);
    let now = hearth_core::clock::now();
    let mail = hearth_core::mail::Mail {
        member_id: None,
        to: "quentin.harbour@example.org".to_owned(),
        kind: hearth_core::mail::MailKind::Notification,
        subject: "Quinceberry replied to you".to_owned(),
        text: "Marmalade words".to_owned(),
        html: "<p>Marmalade words</p>".to_owned(),
        unsubscribe_url: None,
    };
    hearth_core::mail::enqueue(&mut app.conn(), &mail, now, now).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // Tried, refused, and put off until its next try (an attempt is counted when the mail is
    // claimed, before the conversation, so that alone does not say the refusal is in).
    let put_off = now + chrono::TimeDelta::minutes(30);
    while !(sink.refused() == 1 && app.outbox()[0].send_after > put_off) {
        assert!(
            std::time::Instant::now() < deadline,
            "the mail was not tried and put off: refused {}, {:?}",
            sink.refused(),
            app.outbox()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let failures = |text: &str| {
        value(
            text,
            "hearth_mail_send_failures_total",
            &[("outcome", "retry")],
        )
    };
    let mut text = scrape(&app.browser()).body;
    while failures(&text) < before + 1.0 {
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(50));
        text = scrape(&app.browser()).body;
    }
    assert_eq!(value(&text, "hearth_mail_outbox_unsent", &[]), 1.0);
    for secret in [
        "quentin",
        "harbour",
        "example.org",
        "Quinceberry",
        "Marmalade",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the metrics:\n{text}"
        );
    }
}
