//! Recovery codes: single use, a new set ends the old, only hashes kept.

use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeDelta;

use super::*;
use crate::accounts::sessions;
use crate::accounts::throttle::{reserve, ThrottlePolicy, Verdict};
use crate::clock;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member, PASSWORD};

/// More tries than these tests make (the throttle's own tests are in `throttle`).
const LENIENT: ThrottlePolicy = ThrottlePolicy {
    window_seconds: 600,
    slow_after: 100,
    account_limit: 100,
    account_ceiling: 100,
    ip_limit: 100,
};

const NEW_PASSWORD: &str = "a lantern by the harbour wall";

fn keys_for(username: &str) -> SignInKeys {
    SignInKeys::for_recovery(b"secret", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), username)
}

fn try_code(conn: &mut DbConn, username: &str, code: &str) -> Result<Member> {
    let keys = keys_for(username);
    let reservation = match reserve(conn, &keys, &LENIENT, clock::now()).unwrap() {
        Verdict::Allow(reservation) | Verdict::Slow(reservation, _) => reservation,
        Verdict::Refuse(wait) => panic!("refused for {wait:?}"),
    };
    let form = CodeReset {
        username: username.to_owned(),
        code: code.to_owned(),
        new_password: NEW_PASSWORD.to_owned(),
    };
    reset_with_code(conn, &keys, reservation, &form)
}

#[test]
fn codes_are_random_readable_and_only_their_hashes_are_kept() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_codes", SiteRole::Member);
    let codes = issue(&mut conn, ana.id, clock::now()).unwrap();
    assert_eq!(codes.len(), CODES_PER_SET);
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), CODES_PER_SET);
    for code in &codes {
        assert_eq!(code.len(), 19, "{code}");
        assert!(code.split('-').all(|group| group.len() == 4), "{code}");
    }
    let stored: Vec<String> = recovery_codes::table
        .select(recovery_codes::code_hash)
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored.len(), CODES_PER_SET);
    for code in &codes {
        let bare = code.replace('-', "");
        assert!(
            stored
                .iter()
                .all(|h| !h.contains(code.as_str()) && !h.contains(&bare)),
            "a code is stored as typed"
        );
    }
    assert!(are_current(&mut conn, ana.id, &codes).unwrap());
    assert_eq!(remaining(&mut conn, ana.id).unwrap(), 10);
}

#[test]
fn a_code_resets_the_password_once_and_ends_every_session() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_reset_code", SiteRole::Member);
    let codes = issue(&mut conn, ana.id, clock::now()).unwrap();
    let session = sessions::start(&mut conn, &ana, TimeDelta::days(1)).unwrap();

    // Typed in capitals, with spaces instead of dashes: the same code.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let reset = try_code(&mut conn, "ANA_reset_code", &typed).unwrap();
    assert_eq!(reset.id, ana.id);
    assert!(sessions::resume(&mut conn, &session.token).is_err());
    assert!(members::authenticate(&mut conn, &ana.username, NEW_PASSWORD).is_ok());
    assert!(members::authenticate(&mut conn, &ana.username, PASSWORD).is_err());
    assert_eq!(remaining(&mut conn, ana.id).unwrap(), 9);

    assert!(matches!(
        try_code(&mut conn, &ana.username, &codes[3]),
        Err(Error::BadCredentials)
    ));
    assert!(try_code(&mut conn, &ana.username, &codes[4]).is_ok());
}

#[test]
fn a_new_set_ends_the_old_codes() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_regen", SiteRole::Member);
    let old = issue(&mut conn, ana.id, clock::now()).unwrap();
    let new = issue(&mut conn, ana.id, clock::now()).unwrap();
    assert!(!are_current(&mut conn, ana.id, &old).unwrap());
    assert_eq!(remaining(&mut conn, ana.id).unwrap(), 10);
    for code in &old {
        assert!(matches!(
            try_code(&mut conn, &ana.username, code),
            Err(Error::BadCredentials)
        ));
    }
    assert!(try_code(&mut conn, &ana.username, &new[0]).is_ok());
}

#[test]
fn a_code_works_only_for_its_own_member_and_unknown_names_get_the_same_answer() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_own", SiteRole::Member);
    let _ben = member(&mut conn, "ben_own", SiteRole::Member);
    let codes = issue(&mut conn, ana.id, clock::now()).unwrap();
    assert!(matches!(
        try_code(&mut conn, "ben_own", &codes[0]),
        Err(Error::BadCredentials)
    ));
    assert!(matches!(
        try_code(&mut conn, "nobody_here", &codes[0]),
        Err(Error::BadCredentials)
    ));
    assert!(members::authenticate(&mut conn, "ben_own", PASSWORD).is_ok());
    assert_eq!(remaining(&mut conn, ana.id).unwrap(), 10);
}
