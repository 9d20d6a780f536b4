//! Changing the address needs the password and keeps the verified one until the new one is
//! verified; asking for an address someone else verified looks the same and is counted.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::accounts::throttle::{reserve, ThrottlePolicy, Verdict};
use crate::clock;
use crate::db::schema::outbox;
use crate::mail::addresses::verified_for;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member, PASSWORD};

pub(crate) fn settings() -> EmailSettings {
    EmailSettings {
        smtp_host: Some("127.0.0.1".to_owned()),
        from_address: "hearth@example.org".to_owned(),
        ..EmailSettings::default()
    }
}

pub(crate) fn site() -> Site {
    Site {
        name: "Hearth".to_owned(),
        url: "https://forum.example.org".to_owned(),
    }
}

fn keys_for(username: &str) -> SignInKeys {
    SignInKeys::new(b"secret", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), username)
}

fn reservation(conn: &mut DbConn, keys: &SignInKeys) -> Reservation {
    match reserve(conn, keys, &ThrottlePolicy::default(), clock::now()).unwrap() {
        Verdict::Allow(reservation) | Verdict::Slow(reservation, _) => reservation,
        Verdict::Refuse(wait) => panic!("refused for {wait:?}"),
    }
}

/// `request` as the settings form does it, with `password`.
pub(crate) fn ask_with(
    conn: &mut DbConn,
    who: &Member,
    address: &str,
    password: &str,
    settings: &EmailSettings,
    now: NaiveDateTime,
) -> Result<Requested> {
    let keys = keys_for(&who.username);
    let reservation = reservation(conn, &keys);
    request(
        conn,
        &keys,
        reservation,
        who,
        address,
        password,
        settings,
        &site(),
        now,
    )
}

/// `request` with the member's right password and the default limits.
pub(crate) fn ask(conn: &mut DbConn, who: &Member, address: &str, now: NaiveDateTime) -> Requested {
    ask_with(conn, who, address, PASSWORD, &settings(), now).unwrap()
}

/// `remove` with `password`.
pub(crate) fn remove_with(
    conn: &mut DbConn,
    who: &Member,
    password: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let keys = keys_for(&who.username);
    let reservation = reservation(conn, &keys);
    remove(conn, &keys, reservation, who, password, now)
}

/// The queued mails as (kind, to, text), oldest first.
fn queued(conn: &mut DbConn) -> Vec<(String, String, String)> {
    outbox::table
        .order(outbox::id)
        .select((outbox::kind, outbox::to_address, outbox::text_body))
        .load(conn)
        .unwrap()
}

/// The token of the newest verification link mailed to `to`.
pub(crate) fn verify_token_to(conn: &mut DbConn, to: &str) -> String {
    let path = "/email/verify/";
    let (_, _, text) = queued(conn)
        .into_iter()
        .rev()
        .find(|(kind, address, _)| kind == "verify" && address == to)
        .expect("a verification mail");
    let start = text.find(path).unwrap() + path.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn field_of(error: Error) -> Vec<String> {
    match error {
        Error::Invalid(invalid) => invalid.0.iter().map(|e| e.field.to_owned()).collect(),
        other => panic!("not a form error: {other:?}"),
    }
}

#[test]
fn adding_changing_or_removing_the_address_needs_the_password() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let ana = member(&mut conn, "ana_needs_password", SiteRole::Member).member;

    let wrong = ask_with(
        &mut conn,
        &ana,
        "ana@example.org",
        "not it",
        &settings(),
        now,
    );
    assert_eq!(field_of(wrong.unwrap_err()), vec!["password"]);
    assert!(queued(&mut conn).is_empty(), "nothing sent");
    assert_eq!(address_of(&mut conn, ana.id, now).unwrap(), None);

    ask(&mut conn, &ana, "ana@example.org", now);
    let token = verify_token_to(&mut conn, "ana@example.org");
    verify(&mut conn, &token, now).unwrap();

    let wrong = ask_with(&mut conn, &ana, "thief@example.org", "", &settings(), now);
    assert_eq!(field_of(wrong.unwrap_err()), vec!["password"]);
    assert!(queued(&mut conn)
        .iter()
        .all(|(_, to, _)| to != "thief@example.org"));

    let wrong = remove_with(&mut conn, &ana, "not it", now);
    assert_eq!(field_of(wrong.unwrap_err()), vec!["remove_password"]);
    assert_eq!(
        verified_for(&mut conn, ana.id).unwrap().as_deref(),
        Some("ana@example.org")
    );
    remove_with(&mut conn, &ana, PASSWORD, now).unwrap();
    assert_eq!(verified_for(&mut conn, ana.id).unwrap(), None);
}

#[test]
fn the_verified_address_keeps_its_mail_until_the_new_one_is_verified_and_hears_of_the_change() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let bea = member(&mut conn, "bea_changing", SiteRole::Member).member;
    ask(&mut conn, &bea, "bea@example.org", now);
    let token = verify_token_to(&mut conn, "bea@example.org");
    verify(&mut conn, &token, now).unwrap();
    let before = queued(&mut conn).len();

    assert_eq!(
        ask(&mut conn, &bea, "Bea.New@example.org", now),
        Requested::Asked
    );
    assert_eq!(
        verified_for(&mut conn, bea.id).unwrap().as_deref(),
        Some("bea@example.org"),
        "the old address still gets reset and notification mail"
    );
    assert_eq!(
        address_of(&mut conn, bea.id, now).unwrap(),
        Some(OwnAddress {
            address: "bea@example.org".to_owned(),
            verified: true,
            pending: Some("Bea.New@example.org".to_owned()),
        })
    );
    let new: Vec<_> = queued(&mut conn).into_iter().skip(before).collect();
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(new
        .iter()
        .any(|(kind, to, _)| kind == "verify" && to == "Bea.New@example.org"));
    let notice = new
        .iter()
        .find(|(kind, _, _)| kind == "address_change")
        .expect("a notice to the old address");
    assert_eq!(notice.1, "bea@example.org");
    assert!(notice.2.contains("change your password"));
    assert!(
        !notice.2.contains("/email/verify/"),
        "no link to the new one"
    );

    let token = verify_token_to(&mut conn, "Bea.New@example.org");
    assert_eq!(
        for_link(&mut conn, &token, now).unwrap(),
        "Bea.New@example.org"
    );
    verify(&mut conn, &token, now).unwrap();
    assert_eq!(
        verified_for(&mut conn, bea.id).unwrap().as_deref(),
        Some("Bea.New@example.org")
    );
    assert_eq!(
        address_of(&mut conn, bea.id, now).unwrap().unwrap().pending,
        None
    );
}

#[test]
fn an_address_another_member_verified_is_answered_the_same_counted_and_sent_nothing() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let settings = EmailSettings {
        verification_mails_per_hour: 2,
        ..settings()
    };
    let owner = member(&mut conn, "cai_owner", SiteRole::Member).member;
    let prober = member(&mut conn, "dan_prober", SiteRole::Member).member;
    ask(&mut conn, &owner, "cai@example.org", now);
    let token = verify_token_to(&mut conn, "cai@example.org");
    verify(&mut conn, &token, now).unwrap();
    diesel::update(crate::db::schema::mail_links::table)
        .set(crate::db::schema::mail_links::created_at.eq(now - TimeDelta::hours(2)))
        .execute(&mut conn)
        .unwrap();
    let before = queued(&mut conn).len();

    // A held address and a free one read the same to the prober, and count the same.
    for (address, shown) in [
        ("CAI@example.org", "CAI@example.org"),
        ("free@example.org", "free@example.org"),
    ] {
        for _ in 0..2 {
            assert_eq!(
                ask_with(&mut conn, &prober, address, PASSWORD, &settings, now).unwrap(),
                Requested::Asked
            );
            assert_eq!(
                address_of(&mut conn, prober.id, now).unwrap(),
                Some(OwnAddress {
                    address: shown.to_owned(),
                    verified: false,
                    pending: None,
                })
            );
        }
        // The per-member limit is spent by these two; a later probe would be refused the same.
        assert!(matches!(
            ask_with(&mut conn, &prober, address, PASSWORD, &settings, now),
            Err(Error::RateLimited { .. })
        ));
        // The next hour, the next address.
        diesel::delete(
            crate::db::schema::mail_links::table
                .filter(crate::db::schema::mail_links::member_id.eq(prober.id)),
        )
        .execute(&mut conn)
        .unwrap();
    }
    let sent: Vec<_> = queued(&mut conn).into_iter().skip(before).collect();
    assert!(
        sent.iter()
            .all(|(_, to, _)| to.to_lowercase() != "cai@example.org"),
        "nothing to the owner's address: {sent:?}"
    );
    assert_eq!(sent.len(), 2, "the free address got its links");
    assert_eq!(
        verified_for(&mut conn, owner.id).unwrap().as_deref(),
        Some("cai@example.org"),
        "the owner keeps the address"
    );
}

#[test]
fn probing_a_held_address_is_counted_for_that_address() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let settings = EmailSettings {
        verification_mails_per_hour: 1,
        ..settings()
    };
    let owner = member(&mut conn, "eve_owner", SiteRole::Member).member;
    let first = member(&mut conn, "fay_prober", SiteRole::Member).member;
    let second = member(&mut conn, "gus_prober", SiteRole::Member).member;
    ask(&mut conn, &owner, "eve@example.org", now);
    let token = verify_token_to(&mut conn, "eve@example.org");
    verify(&mut conn, &token, now).unwrap();
    // The owner's own link is from two hours ago: it no longer counts.
    diesel::update(crate::db::schema::mail_links::table)
        .set(crate::db::schema::mail_links::created_at.eq(now - TimeDelta::hours(2)))
        .execute(&mut conn)
        .unwrap();
    ask_with(
        &mut conn,
        &first,
        "eve@example.org",
        PASSWORD,
        &settings,
        now,
    )
    .unwrap();
    assert!(matches!(
        ask_with(
            &mut conn,
            &second,
            "eve@example.org",
            PASSWORD,
            &settings,
            now
        ),
        Err(Error::RateLimited { .. })
    ));
}
