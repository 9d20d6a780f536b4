//! Claims are exclusive and leased; failures back off and are given up; sent mail is purged.

use std::collections::HashSet;

use super::*;
use crate::clock;
use crate::mail::{enqueue, Mail, MailKind};
use crate::test_support::any_pool;

fn mail(n: usize) -> Mail {
    Mail {
        member_id: None,
        to: format!("person{n}@example.org"),
        kind: MailKind::Test,
        subject: format!("Mail {n}"),
        text: "text".to_owned(),
        html: "<p>html</p>".to_owned(),
        unsubscribe_url: None,
    }
}

fn settings() -> EmailSettings {
    EmailSettings {
        retry_seconds: vec![60, 300],
        ..EmailSettings::default()
    }
}

#[test]
fn a_claimed_mail_is_nobody_elses_until_its_lease_runs_out() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    for n in 0..3 {
        enqueue(&mut conn, &mail(n), now, now).unwrap();
    }
    // Not yet due: a mail for later is not claimed.
    enqueue(&mut conn, &mail(9), now + TimeDelta::hours(1), now).unwrap();
    let lease = TimeDelta::seconds(60);
    let first = claim(&mut conn, now, lease, 3, 2).unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|m| m.attempts == 1));
    let second = claim(&mut conn, now, lease, 3, 10).unwrap();
    assert_eq!(second.len(), 1, "only the one nobody holds");
    assert!(first.iter().all(|m| m.id != second[0].id));
    assert!(claim(&mut conn, now, lease, 3, 10).unwrap().is_empty());
    // The lease runs out (a sender killed mid-send): the mails are claimed again, same token.
    let later = now + TimeDelta::seconds(61);
    let again = claim(&mut conn, later, lease, 3, 10).unwrap();
    assert_eq!(again.len(), 3);
    let token_of = |id: MailId, list: &[Claimed]| {
        list.iter()
            .find(|m| m.id == id)
            .map(|m| m.message_token.clone())
    };
    assert_eq!(
        token_of(first[0].id, &again),
        Some(first[0].message_token.clone())
    );
    assert!(again.iter().all(|m| m.attempts == 2));
}

#[test]
fn claimers_at_once_take_different_mails() {
    let (_database, pool) = any_pool();
    let now = clock::now();
    {
        let mut conn = pool.get().unwrap();
        for n in 0..60 {
            enqueue(&mut conn, &mail(n), now, now).unwrap();
        }
    }
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut mine = Vec::new();
                loop {
                    let got = claim(&mut conn, now, TimeDelta::seconds(600), 3, 3).unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let all: Vec<MailId> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let distinct: HashSet<MailId> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every mail claimed once");
    assert_eq!(distinct.len(), 60);
}

#[test]
fn a_failed_mail_backs_off_and_is_given_up_after_the_last_wait() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = settings();
    let now = clock::now();
    let id = enqueue(&mut conn, &mail(1), now, now).unwrap();
    let lease = TimeDelta::seconds(60);
    let max = settings.max_attempts();
    assert_eq!(max, 3);

    let first = claim(&mut conn, now, lease, max, 10).unwrap();
    let failure = mark_failed(&mut conn, &first[0], "451 busy", &settings, now).unwrap();
    assert_eq!(failure, Failure::RetryAt(now + TimeDelta::seconds(60)));
    assert!(
        claim(&mut conn, now + TimeDelta::seconds(59), lease, max, 10)
            .unwrap()
            .is_empty()
    );

    let t2 = now + TimeDelta::seconds(60);
    let second = claim(&mut conn, t2, lease, max, 10).unwrap();
    assert_eq!(second[0].attempts, 2);
    let failure = mark_failed(&mut conn, &second[0], "451 busy", &settings, t2).unwrap();
    assert_eq!(failure, Failure::RetryAt(t2 + TimeDelta::seconds(300)));

    let t3 = t2 + TimeDelta::seconds(300);
    let third = claim(&mut conn, t3, lease, max, 10).unwrap();
    assert_eq!(third[0].attempts, 3);
    assert_eq!(
        mark_failed(&mut conn, &third[0], "550 no", &settings, t3).unwrap(),
        Failure::GivenUp
    );
    assert!(claim(&mut conn, t3 + TimeDelta::days(1), lease, max, 10)
        .unwrap()
        .is_empty());
    let (attempts, error): (i32, Option<String>) = outbox::table
        .find(id)
        .select((outbox::attempts, outbox::last_error))
        .first(&mut conn)
        .unwrap();
    assert_eq!(attempts, 3);
    assert_eq!(error.as_deref(), Some("550 no"));
}

#[test]
fn sent_and_given_up_mail_is_purged_after_the_days_kept() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = settings();
    let now = clock::now();
    let sent = enqueue(&mut conn, &mail(1), now, now).unwrap();
    let waiting = enqueue(&mut conn, &mail(2), now, now).unwrap();
    let given_up = enqueue(&mut conn, &mail(3), now, now).unwrap();
    let claimed = claim(&mut conn, now, TimeDelta::seconds(60), 3, 1).unwrap();
    assert_eq!(claimed[0].id, sent);
    assert!(mark_sent(&mut conn, &claimed[0], now).unwrap());
    diesel::update(outbox::table.find(given_up))
        .set(outbox::attempts.eq(settings.max_attempts()))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(purge_sent(&mut conn, &settings, now).unwrap(), 0);
    let later = now + TimeDelta::days(i64::from(settings.sent_kept_days)) + TimeDelta::seconds(1);
    assert_eq!(purge_sent(&mut conn, &settings, later).unwrap(), 2);
    let left: Vec<MailId> = outbox::table.select(outbox::id).load(&mut conn).unwrap();
    assert_eq!(left, vec![waiting]);
}

fn link_mail(n: usize, kind: MailKind) -> Mail {
    Mail {
        kind,
        text: format!("open https://forum.example.org/forgot/email/secret-token-{n}"),
        html: format!("<a href=\"https://forum.example.org/forgot/email/secret-token-{n}\">x</a>"),
        ..mail(n)
    }
}

fn bodies(conn: &mut DbConn, id: MailId) -> (String, String, String) {
    outbox::table
        .find(id)
        .select((outbox::subject, outbox::text_body, outbox::html_body))
        .first(conn)
        .unwrap()
}

#[test]
fn a_sent_or_given_up_link_mail_keeps_no_link() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = EmailSettings {
        retry_seconds: vec![],
        ..EmailSettings::default()
    };
    assert_eq!(settings.max_attempts(), 1);
    let now = clock::now();
    let verify = enqueue(&mut conn, &link_mail(1, MailKind::Verify), now, now).unwrap();
    let reset = enqueue(&mut conn, &link_mail(2, MailKind::PasswordReset), now, now).unwrap();
    let other = enqueue(&mut conn, &link_mail(3, MailKind::Test), now, now).unwrap();
    let claimed = claim(&mut conn, now, TimeDelta::seconds(60), 1, 10).unwrap();
    assert_eq!(claimed.len(), 3);
    let of = |id: MailId| claimed.iter().find(|m| m.id == id).unwrap().clone();

    assert!(mark_sent(&mut conn, &of(verify), now).unwrap());
    assert_eq!(
        mark_failed(&mut conn, &of(reset), "550 no", &settings, now).unwrap(),
        Failure::GivenUp
    );
    assert!(mark_sent(&mut conn, &of(other), now).unwrap());

    for id in [verify, reset] {
        let (subject, text, html) = bodies(&mut conn, id);
        assert!(!subject.is_empty());
        assert!(!text.contains("secret-token"), "{text}");
        assert!(!html.contains("secret-token"), "{html}");
    }
    let (_, text, _) = bodies(&mut conn, other);
    assert!(
        text.contains("secret-token-3"),
        "other mail is kept until purged"
    );
}

fn row(conn: &mut DbConn, id: MailId) -> crate::mail::outbox::Queued {
    crate::mail::outbox::queued(conn)
        .unwrap()
        .into_iter()
        .find(|q| q.id == id)
        .unwrap()
}

#[test]
fn a_sender_whose_lease_ran_out_marks_nothing() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = settings();
    let now = clock::now();
    let id = enqueue(&mut conn, &mail(1), now, now).unwrap();
    let lease = TimeDelta::seconds(60);
    let slow = claim(&mut conn, now, lease, 3, 1).unwrap().remove(0);
    // The slow sender's lease runs out; another node claims the mail and is sending it.
    let later = now + TimeDelta::seconds(61);
    let other = claim(&mut conn, later, lease, 3, 1).unwrap().remove(0);
    assert_eq!(other.id, id);

    assert!(!mark_sent(&mut conn, &slow, later).unwrap());
    assert_eq!(
        mark_failed(&mut conn, &slow, "451 busy", &settings, later).unwrap(),
        Failure::NoLongerOurs
    );
    let held = row(&mut conn, id);
    assert_eq!(held.sent_at, None);
    assert_eq!(held.claimed_until, other.claimed_until);
    assert_eq!(held.send_after, now, "the other node's claim is untouched");

    assert!(mark_sent(&mut conn, &other, later).unwrap());
    assert_eq!(row(&mut conn, id).sent_at, Some(later));
    assert!(!mark_sent(&mut conn, &other, later).unwrap(), "marked once");
}

#[test]
fn a_round_claims_each_mail_just_before_sending_it() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let mut watcher = pool.get().unwrap();
    let now = clock::now();
    let ids: Vec<MailId> = (0..4)
        .map(|n| enqueue(&mut conn, &mail(n), now, now).unwrap())
        .collect();
    let mut sends = 0;
    let round = send_due_with(&mut conn, &settings(), |_| {
        sends += 1;
        let held = crate::mail::outbox::queued(&mut watcher)
            .unwrap()
            .into_iter()
            .filter(|q| q.sent_at.is_none() && q.claimed_until.is_some())
            .count();
        assert_eq!(held, 1, "only the mail being sent is held");
        Ok(())
    })
    .unwrap();
    assert_eq!(sends, 4);
    assert_eq!(
        round,
        Round {
            claimed: 4,
            sent: 4,
            failed: 0
        }
    );
    for id in ids {
        assert!(row(&mut conn, id).sent_at.is_some());
    }
}

#[test]
fn a_last_attempt_cut_short_is_given_up_once_its_lease_runs_out() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = settings();
    let max = settings.max_attempts();
    let lease = TimeDelta::seconds(60);
    // An hour ago: every attempt was claimed and its sender stopped before marking it.
    let start = clock::now() - TimeDelta::hours(1);
    let id = enqueue(
        &mut conn,
        &link_mail(1, MailKind::PasswordReset),
        start,
        start,
    )
    .unwrap();
    for attempt in 0..max {
        let at = start + TimeDelta::seconds(61 * i64::from(attempt));
        assert_eq!(claim(&mut conn, at, lease, max, 1).unwrap().len(), 1);
    }
    let stuck = row(&mut conn, id);
    assert_eq!(stuck.attempts, max);
    assert!(stuck.claimed_until.is_some());

    let mut sends = 0;
    let round = send_due_with(&mut conn, &settings, |_| {
        sends += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!((sends, round.claimed), (0, 0), "never sent again");
    let given_up = row(&mut conn, id);
    assert_eq!(given_up.claimed_until, None);
    assert_eq!(given_up.sent_at, None);
    let (error, text): (Option<String>, String) = outbox::table
        .find(id)
        .select((outbox::last_error, outbox::text_body))
        .first(&mut conn)
        .unwrap();
    assert!(error.is_some_and(|e| e.contains("last allowed attempt")));
    assert!(!text.contains("secret-token"));
}
