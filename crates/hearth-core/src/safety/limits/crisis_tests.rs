//! A new account's own crisis thread is exempt from the new-account posting limits while its
//! check-in is open: through the real posting pipeline, on SQLite and (with
//! `HEARTH_TEST_POSTGRES_URL`) PostgreSQL.

use crate::error::Error;
use crate::forum::posts::{reply, ReplyForm};
use crate::forum::threads::{start, NewThreadForm};
use crate::model::SiteRole;
use crate::safety::gate::PostingRules;
use crate::safety::limits::{is_own_crisis_thread, PostingLimits};
use crate::test_support::{admin_board_thread, any_pool, member};

/// New accounts: two posts a minute; everyone else: ten.
fn rules() -> PostingRules {
    PostingRules {
        limits: PostingLimits {
            per_minute: 10,
            per_day: 100,
            new_account_per_minute: 2,
            new_account_per_day: 20,
            new_account_hours: 24,
        },
        same_reply_minutes: 0,
        ..PostingRules::default()
    }
}

fn thread_form(key: char, title: &str, body: &str) -> NewThreadForm {
    NewThreadForm {
        title: title.to_owned(),
        body: body.to_owned(),
        submission_key: key.to_string().repeat(16),
        accept_rules_version: None,
    }
}

fn reply_form(key: char, body: &str) -> ReplyForm {
    ReplyForm {
        body: body.to_owned(),
        submission_key: key.to_string().repeat(16),
        accept_rules_version: None,
    }
}

fn is_rate_limited<T: std::fmt::Debug>(outcome: &crate::error::Result<T>) -> bool {
    matches!(outcome, Err(Error::RateLimited { .. }))
}

#[test]
fn a_new_member_can_keep_replying_in_their_own_crisis_thread() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let rules = rules();
    let (_, board, other_thread) = admin_board_thread(conn, "How is everyone today?");
    let nia = member(conn, "nia_new", SiteRole::Member);
    // Her first post has crisis words: a check-in opens and she is shown the help page.
    let crisis = start(
        conn,
        &rules,
        &nia,
        &board,
        &thread_form('a', "I can't do this", "I just want to die, honestly."),
    )
    .unwrap();
    assert!(crisis.check_in);
    assert!(is_own_crisis_thread(conn, nia.id, crisis.thread.id).unwrap());
    // A second post within the minute is still within the new-account limit (two a minute).
    reply(
        conn,
        &rules,
        &nia,
        crisis.thread.id,
        &reply_form('b', "thank you for answering"),
    )
    .unwrap();
    // A third, anywhere else, is over the new-account limit...
    let elsewhere = reply(
        conn,
        &rules,
        &nia,
        other_thread.id,
        &reply_form('c', "hello everyone"),
    );
    assert!(is_rate_limited(&elsewhere), "{elsewhere:?}");
    assert!(!is_own_crisis_thread(conn, nia.id, other_thread.id).unwrap());
    // ...but in her own crisis thread she is held to the ordinary limits only.
    for (n, key) in ['d', 'e', 'f'].into_iter().enumerate() {
        let answered = reply(
            conn,
            &rules,
            &nia,
            crisis.thread.id,
            &reply_form(key, &format!("still here, {n}")),
        );
        assert!(answered.is_ok(), "reply {n}: {answered:?}");
    }
}

#[test]
fn a_thread_without_a_check_in_or_someone_elses_is_no_exemption() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let rules = rules();
    let (_, board, _) = admin_board_thread(conn, "How is everyone today?");
    let nia = member(conn, "nia_new", SiteRole::Member);
    let ola = member(conn, "ola_new", SiteRole::Member);
    // Ola's crisis thread is hers, not Nia's.
    let olas = start(
        conn,
        &rules,
        &ola,
        &board,
        &thread_form('a', "Dark night", "I keep thinking about suicide."),
    )
    .unwrap();
    assert!(olas.check_in);
    assert!(!is_own_crisis_thread(conn, nia.id, olas.thread.id).unwrap());
    // Nia's own thread, without crisis words, keeps the new-account limit.
    let plain = start(
        conn,
        &rules,
        &nia,
        &board,
        &thread_form('b', "Hello there", "New here, missing my dog."),
    )
    .unwrap();
    assert!(!plain.check_in);
    assert!(!is_own_crisis_thread(conn, nia.id, plain.thread.id).unwrap());
    reply(
        conn,
        &rules,
        &nia,
        olas.thread.id,
        &reply_form('c', "I am here with you"),
    )
    .unwrap();
    let third = reply(
        conn,
        &rules,
        &nia,
        plain.thread.id,
        &reply_form('d', "anyone?"),
    );
    assert!(is_rate_limited(&third), "{third:?}");
    let in_olas = reply(
        conn,
        &rules,
        &nia,
        olas.thread.id,
        &reply_form('e', "still here"),
    );
    assert!(is_rate_limited(&in_olas), "{in_olas:?}");
}

#[test]
fn the_exemption_ends_once_a_facilitator_handled_the_check_in() {
    use crate::moderation::review::{decide, Decision, Seen};
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let rules = rules();
    let (ada, board, _) = admin_board_thread(conn, "How is everyone today?");
    let nia = member(conn, "nia_new", SiteRole::Member);
    let crisis = start(
        conn,
        &rules,
        &nia,
        &board,
        &thread_form('a', "I can't do this", "I just want to die, honestly."),
    )
    .unwrap();
    assert!(crisis.check_in);
    assert!(is_own_crisis_thread(conn, nia.id, crisis.thread.id).unwrap());
    // A facilitator checks in and marks it handled: the check-in is closed.
    decide(
        conn,
        &rules,
        &ada,
        crisis.post.id,
        Seen::of(&crisis.post),
        &Decision::Handled {
            note: "talked with her".to_owned(),
        },
    )
    .unwrap();
    assert!(!is_own_crisis_thread(conn, nia.id, crisis.thread.id).unwrap());
    // Her new account's limit (two a minute) holds in that thread again.
    reply(
        conn,
        &rules,
        &nia,
        crisis.thread.id,
        &reply_form('b', "thank you for answering"),
    )
    .unwrap();
    let third = reply(
        conn,
        &rules,
        &nia,
        crisis.thread.id,
        &reply_form('c', "one more"),
    );
    assert!(is_rate_limited(&third), "{third:?}");
}
