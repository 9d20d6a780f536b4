//! The day limit of exports holds when requests come at once (PostgreSQL's READ COMMITTED
//! lets two transactions count the same rows unless they take turns); a conversation longer
//! than a page is exported whole; the reactions a member gave are theirs, who reacted to
//! their posts is not.

use std::time::Duration;

use super::*;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

#[test]
fn two_exports_counted_at_once_do_not_both_pass_a_limit_of_one() {
    let (_db, pool) = any_pool();
    let bea = member(&mut pool.get().unwrap(), "bea", SiteRole::Member);
    let rules = LeavingRules {
        exports_per_day: 1,
        ..LeavingRules::default()
    };
    let now = crate::clock::now();
    let mut first = pool.get().unwrap();
    // The first request counts and inserts, and while its transaction is still open a second
    // request counts on another connection.
    let second = write_tx(&mut first, |conn| {
        count_export(conn, bea.id, &rules, now)?;
        let pool = pool.clone();
        let id = bea.id;
        let second = std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            write_tx(&mut conn, |conn| count_export(conn, id, &rules, now))
        });
        std::thread::sleep(Duration::from_millis(400));
        Ok(second)
    })
    .unwrap();
    match second.join().unwrap() {
        Err(Error::RateLimited { reason, .. }) => assert!(reason.contains("1 time a day")),
        other => panic!("the second export passed the limit: {other:?}"),
    }
    let counted: i64 = data_exports::table
        .filter(data_exports::member_id.eq(bea.id))
        .count()
        .get_result(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(counted, 1);
}

#[test]
fn a_long_conversation_is_exported_whole_not_one_page_of_it() {
    use crate::conversations::{self, ConversationRules, ReplyForm, StartForm, StartQuery};
    use crate::forum::posts::new_submission_key;
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let (ada, board, _thread) = crate::test_support::admin_board_thread(conn, "hello");
    let bea = member(conn, "bea", SiteRole::Member);
    crate::groups::memberships::join(conn, &bea, &board, "").unwrap();
    let account = crate::accounts::members::by_id(conn, bea.id).unwrap();
    let bea = crate::accounts::actors::actor_for(conn, account).unwrap();
    let rules = ConversationRules {
        messages_per_minute: 0,
        messages_per_day: 0,
        ..ConversationRules::default()
    };
    let posting = crate::safety::gate::PostingRules::default();
    let form = StartForm {
        to: StartQuery {
            group: board.slug.clone(),
            ..StartQuery::default()
        },
        subject: "A long talk".to_owned(),
        body: "message 0".to_owned(),
        submission_key: new_submission_key(),
    };
    let id = conversations::start(conn, &rules, &posting, &bea, &form)
        .unwrap()
        .conversation_id;
    let pages = usize::try_from(conversations::MESSAGES_PER_PAGE).unwrap() * 2 + 7;
    for i in 1..pages {
        let who = if i % 2 == 0 { &bea } else { &ada };
        let form = ReplyForm {
            body: format!("message {i}"),
            submission_key: new_submission_key(),
        };
        conversations::reply(conn, &rules, &posting, who, id, &form).unwrap();
    }
    let exported = conversations_of(conn, &bea).unwrap();
    assert_eq!(exported.len(), 1);
    let texts: Vec<String> = exported[0]
        .messages
        .iter()
        .map(|m| m.source.clone())
        .collect();
    let all: Vec<String> = (0..pages).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, all);
}

#[test]
fn the_reactions_a_member_gave_are_exported_never_who_reacted_to_their_posts() {
    use crate::accounts::{actors, members};
    use crate::forum::boards::{self as board_ops, NewBoardForm};
    use crate::forum::reactions::{toggle, ReactionKind};
    use crate::forum::threads::{start, NewThreadForm};
    use crate::groups::memberships;
    use crate::safety::gate::PostingRules;
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let rules = PostingRules::default();
    // A member's actor as their memberships are now.
    let as_now = |conn: &mut DbConn, id| {
        let found = members::by_id(conn, id).unwrap();
        actors::actor_for(conn, found).unwrap()
    };
    let group = |conn: &mut DbConn, slug: &str, visibility: &str| {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: slug.to_owned(),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        board_ops::create(conn, &ada, &form).unwrap()
    };
    let (pets, circle) = (
        group(conn, "pets", "public"),
        group(conn, "circle", "private"),
    );
    let opening = |conn: &mut DbConn, who: &MemberActor, board: &Board, title: &str| {
        let form = NewThreadForm {
            title: title.to_owned(),
            body: "How are you all?".to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            accept_rules_version: None,
        };
        start(conn, &rules, who, board, &form).unwrap().post
    };
    let bea = member(conn, "bea", SiteRole::Member);
    let cy = member(conn, "cyd", SiteRole::Member);
    memberships::join(conn, &bea, &circle, "").unwrap();
    memberships::answer_request(conn, &ada, &circle, "bea", true, "").unwrap();
    let bea = as_now(conn, bea.id);
    let in_pets = opening(conn, &ada, &pets, "Walks in the rain");
    let in_circle = opening(conn, &ada, &circle, "Only for us");
    let beas_own = opening(conn, &bea, &pets, "Missing Milo");
    let now = crate::clock::now();
    let react = |conn: &mut DbConn, who: &MemberActor, post: &Post, kind| {
        toggle(conn, who, post.id, kind, 0, now).unwrap();
    };
    react(conn, &bea, &in_pets, ReactionKind::HearYou);
    react(conn, &bea, &in_circle, ReactionKind::MeToo);
    // Given and taken back (the row stays, marked): no longer hers to have given.
    react(conn, &bea, &in_pets, ReactionKind::Strength);
    react(conn, &bea, &in_pets, ReactionKind::Strength);
    // Someone else's reactions, to Bea's post and to Ada's: not Bea's to export.
    react(conn, &cy, &beas_own, ReactionKind::Strength);
    react(conn, &cy, &in_pets, ReactionKind::ThankYou);
    // Bea leaves the private group: its thread is no longer hers to read.
    memberships::leave(conn, &bea, &circle).unwrap();
    let bea = as_now(conn, bea.id);

    let mut given: Vec<(PostId, Option<String>, String)> = reactions_of(conn, &bea)
        .unwrap()
        .into_iter()
        .map(|r| (r.post_id, r.thread_title, r.kind))
        .collect();
    given.sort();
    assert_eq!(
        given,
        [
            (
                in_pets.id,
                Some("Walks in the rain".to_owned()),
                "hear_you".to_owned()
            ),
            (in_circle.id, None, "me_too".to_owned()),
        ]
    );
    let json = serde_json::to_string(&reactions_of(conn, &bea).unwrap()).unwrap();
    assert!(!json.contains("Only for us"), "{json}");
    assert!(
        !json.contains("strength") && !json.contains("thank_you"),
        "{json}"
    );
    // Cy's export has Cy's two, and says nothing of Bea's.
    let cys: Vec<PostId> = reactions_of(conn, &cy)
        .unwrap()
        .iter()
        .map(|r| r.post_id)
        .collect();
    assert_eq!(cys.len(), 2);
    assert!(cys.contains(&beas_own.id) && cys.contains(&in_pets.id));
}
