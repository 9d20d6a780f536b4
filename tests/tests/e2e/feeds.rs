//! Atom feeds of public groups and threads, read by a real feed parser: what a visitor may read
//! and nothing else — no members-only or private group, no hidden post.

use feed_rs::parser;
use hearth_tests::{Reply, TestApp};

fn parsed(reply: &Reply) -> feed_rs::model::Feed {
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    parser::parse(reply.body.as_bytes()).expect("a valid Atom feed")
}

fn content(entry: &feed_rs::model::Entry) -> String {
    entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default()
}

#[test]
fn public_groups_and_threads_have_feeds_with_what_visitors_may_read() {
    let app = TestApp::new();
    let pets = app
        .group("pets")
        .named("Pet loss")
        .facilitated_by("fay")
        .with_members(["ana"])
        .build();
    app.group("circle")
        .private()
        .facilitated_by("gus")
        .joined_by(["ana"])
        .build();
    let members_only = app
        .group("lounge")
        .visibility("members")
        .facilitated_by("hal")
        .build();
    let thread = pets.start_thread("ana", "Vet bills", "**Our vet** was kind about it");
    let path = thread.path();
    let id = thread.thread_id();
    pets.browser("fay")
        .reply_to(&path, "Ask about a payment plan")
        .assert_redirect();
    let ana = pets.browser("ana");
    let secret = ana.start_thread("circle", "Secret worries", "words for the circle only");
    members_only.start_thread("hal", "Members talk", "words for members only");
    let visitor = app.browser();

    // The group's feed: its threads as their opening posts, linked absolutely.
    let reply = visitor.get("/b/pets/feed.atom");
    assert_eq!(reply.header("x-robots-tag"), Some("noindex"));
    let feed = parsed(&reply);
    assert!(feed.title.unwrap().content.contains("Pet loss"));
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_ref().unwrap().content, "Vet bills");
    assert!(content(entry).contains("<strong>Our vet</strong>"));
    assert_eq!(entry.authors[0].name, "ana");
    assert!(
        entry.links[0].href.starts_with(&app.base_url),
        "{}",
        entry.links[0].href
    );

    // The thread's feed: its posts, newest first.
    let feed = parsed(&visitor.get(&format!("/t/{id}/feed.atom")));
    let titles: Vec<String> = feed
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect();
    assert_eq!(titles, ["Re: Vet bills", "Vet bills"]);
    assert!(content(&feed.entries[0]).contains("payment plan"));

    // Pages say where their feeds are; a private group's page does not.
    let link = "link[rel=alternate][type='application/atom+xml']";
    assert_eq!(
        visitor.visit("/b/pets").attrs(link, "href"),
        ["/b/pets/feed.atom"]
    );
    assert_eq!(
        visitor.visit(&path).attrs(link, "href"),
        [format!("/t/{id}/feed.atom")]
    );
    assert!(ana.visit("/b/circle").attrs(link, "href").is_empty());

    // A hidden post leaves the thread's feed.
    let fay = pets.browser("fay");
    let page = fay.visit(&path);
    let reply_id = page.attrs(".post .meta a[href^='/p/']", "href")[1]
        .trim_start_matches("/p/")
        .to_owned();
    fay.decide(
        &page,
        &reply_id,
        "hide",
        &[("reason", "Off-topic for this group")],
    )
    .assert_redirect();
    let body = visitor.get(&format!("/t/{id}/feed.atom")).body;
    assert!(!body.contains("payment plan"));

    // No feed for a private or members-only group, nor their threads: not even for their
    // members (a feed reader cannot sign in), and nothing of them in the answer.
    for (who, path) in [
        (&visitor, "/b/circle/feed.atom".to_owned()),
        (&visitor, "/b/lounge/feed.atom".to_owned()),
        (&visitor, format!("/t/{}/feed.atom", secret.thread_id())),
        (&visitor, "/b/nowhere/feed.atom".to_owned()),
    ] {
        let reply = who.get(&path);
        reply.assert_status(404);
        assert!(!reply.body.contains("Secret") && !reply.body.contains("circle only"));
    }
    ana.get("/b/circle/feed.atom").assert_status(404);
}
