//! Queued mail waits with its own Message-ID token, and only verified addresses are mail's.

use super::*;
use crate::clock;
use crate::db::schema::email_addresses;
use crate::mail::addresses::verified_for;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

#[test]
fn queued_mail_waits_unsent_each_with_its_own_token() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_outbox", SiteRole::Member);
    let now = clock::now();
    let mail = Mail {
        member_id: Some(ana.id),
        to: "ana@example.org".to_owned(),
        kind: MailKind::Test,
        subject: "Hello".to_owned(),
        text: "Hello, Ana".to_owned(),
        html: "<p>Hello, Ana</p>".to_owned(),
        unsubscribe_url: None,
    };
    let first = enqueue(&mut conn, &mail, now, now).unwrap();
    let second = enqueue(&mut conn, &mail, now, now).unwrap();
    assert_ne!(first, second);
    let rows: Vec<(String, String, Option<NaiveDateTime>, i32)> = outbox::table
        .order(outbox::id)
        .select((
            outbox::kind,
            outbox::message_token,
            outbox::sent_at,
            outbox::attempts,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|row| row.0 == "test" && row.2.is_none() && row.3 == 0));
    assert_ne!(rows[0].1, rows[1].1, "each mail has its own Message-ID");
}

#[test]
fn an_address_is_mails_only_once_verified() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_address", SiteRole::Member);
    let now = clock::now();
    diesel::insert_into(email_addresses::table)
        .values((
            email_addresses::member_id.eq(ana.id),
            email_addresses::address.eq("Ana@Example.org"),
            email_addresses::address_lower.eq("ana@example.org"),
            email_addresses::created_at.eq(now),
        ))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(verified_for(&mut conn, ana.id).unwrap(), None);
    diesel::update(email_addresses::table.find(ana.id))
        .set(email_addresses::verified_at.eq(now))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        verified_for(&mut conn, ana.id).unwrap().as_deref(),
        Some("Ana@Example.org")
    );
}
