//! The day limit of exports holds when requests come at once (PostgreSQL's READ COMMITTED
//! lets two transactions count the same rows unless they take turns); a conversation longer
//! than a page is exported whole.

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
