//! Links expire: a reset link after `reset_link_minutes`, a verification link after
//! `verification_link_hours`; each works once.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::clock;
use crate::db::schema::outbox;
use crate::mail::verification;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

const NEW_PASSWORD: &str = "harbour lantern violet thistle";

fn settings() -> EmailSettings {
    EmailSettings {
        smtp_host: Some("127.0.0.1".to_owned()),
        from_address: "hearth@example.org".to_owned(),
        ..EmailSettings::default()
    }
}

fn site() -> Site {
    Site {
        name: "Hearth".to_owned(),
        url: "https://forum.example.org".to_owned(),
    }
}

/// The token of the newest queued mail's link under `path`.
fn newest_token(conn: &mut DbConn, path: &str) -> String {
    let text: String = outbox::table
        .order(outbox::id.desc())
        .select(outbox::text_body)
        .first(conn)
        .unwrap();
    let start = text.find(path).unwrap() + path.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[test]
fn links_work_once_and_only_until_they_expire() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = settings();
    let ana = member(&mut conn, "ana_links", SiteRole::Member).member;
    let now = clock::now();

    verification::tests::ask(&mut conn, &ana, "ana@example.org", now);
    let verify_token = newest_token(&mut conn, "/email/verify/");
    let hours = i64::from(settings.verification_link_hours);
    let too_late = now + TimeDelta::hours(hours) + TimeDelta::seconds(1);
    assert!(matches!(
        verification::verify(&mut conn, &verify_token, too_late),
        Err(Error::NotFound)
    ));
    let in_time = now + TimeDelta::hours(hours) - TimeDelta::seconds(1);
    assert_eq!(
        verification::verify(&mut conn, &verify_token, in_time).unwrap(),
        "ana@example.org"
    );
    assert!(matches!(
        verification::verify(&mut conn, &verify_token, in_time),
        Err(Error::NotFound)
    ));

    let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
    request(&mut conn, "ana_links", from, &settings, &site(), now).unwrap();
    let reset_token = newest_token(&mut conn, "/forgot/email/");
    let minutes = i64::from(settings.reset_link_minutes);
    let too_late = now + TimeDelta::minutes(minutes) + TimeDelta::seconds(1);
    assert!(matches!(
        complete(&mut conn, &reset_token, NEW_PASSWORD, too_late),
        Err(Error::NotFound)
    ));
    let in_time = now + TimeDelta::minutes(minutes) - TimeDelta::seconds(1);
    complete(&mut conn, &reset_token, NEW_PASSWORD, in_time).unwrap();
    assert!(matches!(
        complete(&mut conn, &reset_token, NEW_PASSWORD, in_time),
        Err(Error::NotFound)
    ));
    assert!(members::authenticate(&mut conn, "ana_links", NEW_PASSWORD).is_ok());
}

/// A verified address for `name` and a reset link mailed to it; returns its token.
fn verified_with_reset_link(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> (Member, String) {
    let settings = settings();
    let who = member(conn, name, SiteRole::Member).member;
    let address = format!("{name}@example.org");
    verification::tests::ask(conn, &who, &address, now);
    let verify_token = newest_token(conn, "/email/verify/");
    verification::verify(conn, &verify_token, now).unwrap();
    let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
    request(conn, name, from, &settings, &site(), now).unwrap();
    let token = newest_token(conn, "/forgot/email/");
    assert_eq!(for_link(conn, &token, now).unwrap().id, who.id);
    (who, token)
}

#[test]
fn a_reset_link_stops_working_when_the_password_changes_another_way() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let (bea, token) = verified_with_reset_link(&mut conn, "bea_retire", now);
    // Any way of setting the password (change, recovery code, admin) goes through this seam.
    credentials::set_password(&mut conn, &bea, "an owl above the quiet orchard", None).unwrap();
    assert!(matches!(
        for_link(&mut conn, &token, now),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        complete(&mut conn, &token, NEW_PASSWORD, now),
        Err(Error::NotFound)
    ));
    assert!(
        members::authenticate(&mut conn, "bea_retire", "an owl above the quiet orchard").is_ok()
    );
}

#[test]
fn a_reset_link_stops_working_when_the_address_is_removed_or_changed() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let (cai, token) = verified_with_reset_link(&mut conn, "cai_retire", now);
    verification::tests::remove_with(&mut conn, &cai, crate::test_support::PASSWORD, now).unwrap();
    assert!(matches!(
        complete(&mut conn, &token, NEW_PASSWORD, now),
        Err(Error::NotFound)
    ));

    let (dan, token) = verified_with_reset_link(&mut conn, "dan_retire", now);
    verification::tests::ask(&mut conn, &dan, "dan.new@example.org", now);
    let verify_token = verification::tests::verify_token_to(&mut conn, "dan.new@example.org");
    verification::verify(&mut conn, &verify_token, now).unwrap();
    assert!(matches!(
        complete(&mut conn, &token, NEW_PASSWORD, now),
        Err(Error::NotFound)
    ));
}

#[test]
fn retiring_all_of_a_members_links_ends_reset_and_verification_links() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let (eve, reset_token) = verified_with_reset_link(&mut conn, "eve_retire", now);
    verification::tests::ask(&mut conn, &eve, "eve.new@example.org", now);
    let verify_token = verification::tests::verify_token_to(&mut conn, "eve.new@example.org");
    crate::db::write_tx_unseen(&mut conn, |conn| links::retire_all_for(conn, eve.id, now)).unwrap();
    assert!(matches!(
        for_link(&mut conn, &reset_token, now),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        verification::verify(&mut conn, &verify_token, now),
        Err(Error::NotFound)
    ));
}

#[test]
fn an_operators_link_is_not_mailed_ends_every_session_and_works_once() {
    let (_db, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let now = clock::now();
    let ana = member(&mut conn, "ana_operator", SiteRole::Member).member;
    crate::accounts::sessions::start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    crate::accounts::sessions::start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    let (first, ended) = issue_without_mail(&mut conn, &ana, TimeDelta::minutes(30), now).unwrap();
    assert_eq!(ended, 2);
    let (token, ended) = issue_without_mail(&mut conn, &ana, TimeDelta::minutes(30), now).unwrap();
    assert_eq!(ended, 0);
    let queued: i64 = outbox::table.count().get_result(&mut conn).unwrap();
    assert_eq!(queued, 0, "nothing is mailed");
    assert!(
        matches!(for_link(&mut conn, &first, now), Err(Error::NotFound)),
        "the newer link replaced the first"
    );
    assert_eq!(for_link(&mut conn, &token, now).unwrap().id, ana.id);
    assert_eq!(
        link_url("https://forum.example.org/", &token),
        format!("https://forum.example.org/forgot/email/{token}")
    );
    complete(&mut conn, &token, NEW_PASSWORD, now).unwrap();
    crate::accounts::members::authenticate(&mut conn, "ana_operator", NEW_PASSWORD).unwrap();
    assert!(matches!(
        complete(&mut conn, &token, "another fine long passphrase", now),
        Err(Error::NotFound)
    ));
}
