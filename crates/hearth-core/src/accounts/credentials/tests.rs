//! Setting and changing a password: the rules, and which sessions end.

use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeDelta;

use super::*;
use crate::accounts::throttle::{reserve, ThrottlePolicy, Verdict};
use crate::accounts::{members, sessions};
use crate::clock;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member, PASSWORD};

const NEW_PASSWORD: &str = "a lantern by the harbour wall";

fn keys_for(username: &str) -> SignInKeys {
    SignInKeys::new(b"secret", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), username)
}

fn reservation(conn: &mut DbConn, keys: &SignInKeys) -> Reservation {
    match reserve(conn, keys, &ThrottlePolicy::default(), clock::now()).unwrap() {
        Verdict::Allow(reservation) | Verdict::Slow(reservation, _) => reservation,
        Verdict::Refuse(wait) => panic!("refused for {wait:?}"),
    }
}

#[test]
fn changing_the_password_ends_every_other_session_but_not_this_one() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_change", SiteRole::Member);
    let here = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();
    let phone = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();
    let ben = member(&mut conn, "ben_change", SiteRole::Member);
    let bens = sessions::start(&mut conn, &ben, TimeDelta::days(1)).unwrap();

    let keys = keys_for(&ana.username);
    let held = reservation(&mut conn, &keys);
    let ended = change_password(
        &mut conn,
        &keys,
        held,
        &ana,
        PASSWORD,
        NEW_PASSWORD,
        here.session.id,
    )
    .unwrap();
    assert_eq!(ended, 1);
    assert!(sessions::resume(&mut conn, &here.token).is_ok());
    assert!(matches!(
        sessions::resume(&mut conn, &phone.token),
        Err(Error::NotFound)
    ));
    assert!(
        sessions::resume(&mut conn, &bens.token).is_ok(),
        "another member's stays"
    );
    assert!(members::authenticate(&mut conn, &ana.username, NEW_PASSWORD).is_ok());
    assert!(matches!(
        members::authenticate(&mut conn, &ana.username, PASSWORD),
        Err(Error::BadCredentials)
    ));
}

#[test]
fn a_wrong_current_password_or_a_weak_new_one_changes_nothing() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_wrong", SiteRole::Member);
    let here = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();
    let phone = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();
    let keys = keys_for(&ana.username);

    let held = reservation(&mut conn, &keys);
    let wrong = change_password(
        &mut conn,
        &keys,
        held,
        &ana,
        "not my password at all",
        NEW_PASSWORD,
        here.session.id,
    );
    match wrong {
        Err(Error::Invalid(invalid)) => {
            assert_eq!(invalid.0[0].field, "current_password");
        }
        other => panic!("expected an error on current_password, got {other:?}"),
    }
    let held = reservation(&mut conn, &keys);
    let weak = change_password(
        &mut conn,
        &keys,
        held,
        &ana,
        PASSWORD,
        "short",
        here.session.id,
    );
    match weak {
        Err(Error::Invalid(invalid)) => assert_eq!(invalid.0[0].field, "password"),
        other => panic!("expected an error on password, got {other:?}"),
    }
    assert!(sessions::resume(&mut conn, &phone.token).is_ok());
    assert!(members::authenticate(&mut conn, &ana.username, PASSWORD).is_ok());
}

#[test]
fn setting_a_password_without_a_kept_session_ends_them_all() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_reset", SiteRole::Member);
    let one = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();
    let two = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();
    assert_eq!(
        set_password(&mut conn, &ana, NEW_PASSWORD, None).unwrap(),
        2
    );
    assert!(sessions::resume(&mut conn, &one.token).is_err());
    assert!(sessions::resume(&mut conn, &two.token).is_err());
    assert!(members::authenticate(&mut conn, &ana.username, NEW_PASSWORD).is_ok());
}

#[test]
fn a_generated_password_is_long_random_and_accepted() {
    let first = generated_password();
    assert_eq!(first.len(), 29, "{first}");
    assert_eq!(first.matches('-').count(), 4, "{first}");
    assert!(first
        .bytes()
        .all(|b| b == b'-' || GENERATED_ALPHABET.contains(&b)));
    assert_ne!(first, generated_password(), "two in a row differ");
    for name in ["ana", "abcdefghjkmn"] {
        check_new_password(name, &first).unwrap();
    }
}
