//! A feed carries what a visitor may read and nothing else: no members-only or private group,
//! no hidden, awaiting or deleted post, on both backends.

use super::*;
use crate::db::DbConn;
use crate::error::Error;
use crate::forum::boards::NewBoardForm;
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::NewThreadForm;
use crate::model::SiteRole;
use crate::moderation::review::{self, Decision, Seen};
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;
use crate::test_support::member;

fn group(conn: &mut DbConn, admin: &MemberActor, slug: &str, visibility: &str) -> Board {
    let form = NewBoardForm {
        slug: slug.to_owned(),
        name: format!("Group {slug}"),
        visibility: visibility.to_owned(),
        ..Default::default()
    };
    boards::create(conn, admin, &form).unwrap()
}

fn start(conn: &mut DbConn, author: &MemberActor, board: &Board, title: &str) -> Thread {
    let form = NewThreadForm {
        title: title.to_owned(),
        body: format!("the opening of {title}"),
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    thread_ops::start(conn, &PostingRules::default(), author, board, &form)
        .unwrap()
        .thread
}

fn reply_with(
    conn: &mut DbConn,
    rules: &PostingRules,
    author: &MemberActor,
    thread: ThreadId,
    body: &str,
) -> Post {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    posts::reply(conn, rules, author, thread, &form)
        .unwrap()
        .post
}

fn bodies(feed: &Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.post.source.clone()).collect()
}

#[test]
fn feeds_carry_only_what_a_visitor_may_read() {
    let (_database, pool) = crate::test_support::any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let public = group(conn, &admin, "pets", "public");
    let members_only = group(conn, &admin, "circle", "members");
    let private = group(conn, &admin, "hidden", "private");
    let first = start(conn, &admin, &public, "Missing Milo");
    let second = start(conn, &admin, &public, "Vet bills");
    start(conn, &admin, &members_only, "Members talk");
    let secret = start(conn, &admin, &private, "Secret talk");

    // A group's feed: its threads, newest first, each as its opening post.
    let feed = group_feed(conn, "pets").unwrap();
    assert_eq!(feed.board.id, public.id);
    let titles: Vec<&str> = feed
        .entries
        .iter()
        .map(|e| e.thread.title.as_str())
        .collect();
    assert_eq!(titles, ["Vet bills", "Missing Milo"]);
    assert!(feed.entries.iter().all(|e| e.post.position == 1));
    assert_eq!(feed.entries[0].author.username, "ada");

    // No feed for a group a visitor cannot read, nor for its threads.
    for slug in ["circle", "hidden", "nowhere"] {
        assert!(
            matches!(group_feed(conn, slug), Err(Error::NotFound)),
            "{slug}"
        );
    }
    assert!(matches!(thread_feed(conn, secret.id), Err(Error::NotFound)));

    // A thread's feed: its visible posts, newest first; not a hidden, awaiting or deleted one.
    let rules = PostingRules::default();
    let shown = reply_with(conn, &rules, &admin, first.id, "Milo came home");
    let hidden = reply_with(conn, &rules, &admin, first.id, "an insult to hide");
    review::decide(
        conn,
        &rules,
        &admin,
        hidden.id,
        Seen::of(&hidden),
        &Decision::Hide {
            reason: "Unkind".to_owned(),
        },
    )
    .unwrap();
    let newcomer = member(conn, "cat", SiteRole::Member);
    let premod = PostingRules {
        new_account_premod_posts: 5,
        ..PostingRules::default()
    };
    let awaiting = reply_with(conn, &premod, &newcomer, first.id, "awaiting words");
    assert_eq!(awaiting.moderation, Moderation::Awaiting);
    let regret = reply_with(conn, &rules, &newcomer, second.id, "words I regret");
    posts::delete_own(conn, &newcomer, regret.id).unwrap();

    let feed = thread_feed(conn, first.id).unwrap();
    assert_eq!(
        bodies(&feed),
        [
            "Milo came home".to_owned(),
            "the opening of Missing Milo".to_owned()
        ]
    );
    assert_eq!(feed.entries[0].post.id, shown.id);
    assert_eq!(
        bodies(&thread_feed(conn, second.id).unwrap()),
        ["the opening of Vet bills".to_owned()]
    );

    // A thread moved into a private group leaves the public feed and has none of its own.
    crate::moderation::actions::change_thread(
        conn,
        &admin,
        second.id,
        crate::moderation::actions::ThreadChange::Move(private.id),
        "Better there",
    )
    .unwrap();
    let titles: Vec<String> = group_feed(conn, "pets")
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.thread.title)
        .collect();
    assert_eq!(titles, ["Missing Milo"]);
    assert!(matches!(thread_feed(conn, second.id), Err(Error::NotFound)));
}
