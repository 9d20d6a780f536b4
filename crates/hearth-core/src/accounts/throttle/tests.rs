use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Barrier};

use super::*;
use crate::accounts::passwords;
use crate::db::schema::members as members_table;
use crate::test_support::{any_pool, registration, sqlite_pool, PASSWORD};

const POLICY: ThrottlePolicy = ThrottlePolicy {
    window_seconds: 600,
    slow_after: 2,
    account_limit: 4,
    account_ceiling: 9,
    ip_limit: 6,
};

const WRONG: &str = "wrong password here";
/// Stands for the site's throttle secret.
const TEST_SECRET: &[u8] = b"the site's throttle secret";

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// Attempts at these times whose password was wrong (their reservations stay counted).
fn fail_times(conn: &mut DbConn, keys: &SignInKeys, times: &[NaiveDateTime]) {
    for at in times {
        match reserve(conn, keys, &POLICY, *at).unwrap() {
            Verdict::Allow(_) | Verdict::Slow(..) => {}
            Verdict::Refuse(wait) => panic!("refused for {wait:?}"),
        }
    }
}

/// What `reserve` says, without its reservation: `None` for allowed, the delay or the refusal.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Allow,
    Slow(Duration),
    Refuse(Duration),
}

/// Looks at the throttle as the next attempt would, and takes that attempt back.
fn peek(conn: &mut DbConn, keys: &SignInKeys, now: NaiveDateTime) -> Seen {
    match reserve(conn, keys, &POLICY, now).unwrap() {
        Verdict::Allow(reservation) => {
            release(conn, &reservation).unwrap();
            Seen::Allow
        }
        Verdict::Slow(reservation, delay) => {
            release(conn, &reservation).unwrap();
            Seen::Slow(delay)
        }
        Verdict::Refuse(wait) => Seen::Refuse(wait),
    }
}

fn sign_in(conn: &mut DbConn, keys: &SignInKeys, username: &str, password: &str) -> Result<Member> {
    match reserve(conn, keys, &POLICY, crate::clock::now())? {
        Verdict::Allow(reservation) | Verdict::Slow(reservation, _) => {
            authenticate(conn, keys, reservation, username, password)
        }
        Verdict::Refuse(wait) => Err(refused(wait)),
    }
}

#[test]
fn keys_are_hashes_never_the_address_or_name() {
    let keys = SignInKeys::new(TEST_SECRET, ip(7), "  Ana ");
    assert_eq!(keys, SignInKeys::new(TEST_SECRET, ip(7), "ana"));
    assert_eq!(keys.account.len(), 64);
    assert!(!keys.ip.contains("192"));
    assert_eq!(keys.ip, hash_key(TEST_SECRET, "ip:192.0.2.7"));
    assert_eq!(keys.account, hash_key(TEST_SECRET, "account:ana"));
    assert_eq!(
        keys.account_from,
        hash_key(TEST_SECRET, "account-from:192.0.2.7|ana")
    );
    let elsewhere = SignInKeys::new(TEST_SECRET, ip(8), "ana");
    assert_ne!(elsewhere.ip, keys.ip);
    assert_ne!(elsewhere.account_from, keys.account_from);
    assert_eq!(elsewhere.account, keys.account);
}

#[test]
fn an_ipv6_address_counts_as_its_64_network() {
    let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
    let key = |addr: Ipv6Addr| SignInKeys::new(TEST_SECRET, IpAddr::V6(addr), "x").ip;
    assert_eq!(key(a), key(b));
    assert_ne!(key(a), key(c));
    let mapped: Ipv6Addr = "::ffff:192.0.2.7".parse().unwrap();
    assert_eq!(key(mapped), SignInKeys::new(TEST_SECRET, ip(7), "x").ip);
}

#[test]
fn failures_slow_then_refuse_and_the_window_frees_the_account() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let keys = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    assert_eq!(peek(conn, &keys, now), Seen::Allow);
    // Failures at -100 s, -80 s, -60 s, -40 s.
    let times: Vec<NaiveDateTime> = (0..4)
        .map(|n| now - TimeDelta::seconds(100 - 20 * n))
        .collect();
    fail_times(conn, &keys, &times[..1]);
    assert_eq!(peek(conn, &keys, now), Seen::Allow);
    fail_times(conn, &keys, &times[1..2]);
    assert_eq!(peek(conn, &keys, now), Seen::Slow(FIRST_DELAY));
    fail_times(conn, &keys, &times[2..3]);
    assert_eq!(peek(conn, &keys, now), Seen::Slow(FIRST_DELAY * 2));
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (3, 3, 3)
    );
    fail_times(conn, &keys, &times[3..]);
    // Four failures: refused until the oldest (-100 s) leaves the 600 s window.
    assert_eq!(
        peek(conn, &keys, now),
        Seen::Refuse(Duration::from_secs(500))
    );
    assert_eq!(
        peek(conn, &keys, now + TimeDelta::seconds(499)),
        Seen::Refuse(Duration::from_secs(1))
    );
    // A refused attempt is not counted.
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (4, 4, 4)
    );
    // Then three failures are left in the window: slowed, not refused.
    assert_eq!(
        peek(conn, &keys, now + TimeDelta::seconds(500)),
        Seen::Slow(FIRST_DELAY * 2)
    );
    assert_eq!(
        peek(conn, &keys, now + TimeDelta::seconds(600)),
        Seen::Allow
    );
}

#[test]
fn the_delay_grows_to_a_cap() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let policy = ThrottlePolicy {
        slow_after: 1,
        account_limit: 100,
        account_ceiling: 100,
        ip_limit: 100,
        ..POLICY
    };
    let keys = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    let mut delays = Vec::new();
    for _ in 0..9 {
        match reserve(conn, &keys, &policy, now).unwrap() {
            Verdict::Slow(_, delay) => delays.push(delay.as_millis()),
            Verdict::Allow(_) => delays.push(0),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delays, [0, 250, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
}

#[test]
fn one_accounts_failures_do_not_refuse_another_until_the_address_limit() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let ana = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    let bea = SignInKeys::new(TEST_SECRET, ip(1), "bea");
    let bea_elsewhere = SignInKeys::new(TEST_SECRET, ip(2), "bea");
    fail_times(conn, &ana, &[now; 4]);
    assert!(matches!(peek(conn, &ana, now), Seen::Refuse(_)));
    // Bea, from the same address, is slowed (the address has 4 failures) but not refused.
    assert!(matches!(peek(conn, &bea, now), Seen::Slow(_)));
    fail_times(conn, &SignInKeys::new(TEST_SECRET, ip(1), "cat"), &[now; 2]);
    // Six failures from the address: everyone there is refused, elsewhere nobody.
    assert!(matches!(peek(conn, &bea, now), Seen::Refuse(_)));
    assert_eq!(peek(conn, &bea_elsewhere, now), Seen::Allow);
}

#[test]
fn a_member_from_a_clean_address_is_not_locked_out_by_failures_elsewhere() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    members::register(conn, &registration("ana"), SiteRole::Member).unwrap();
    let attacker = SignInKeys::new(TEST_SECRET, ip(66), "ana");
    for _ in 0..POLICY.account_limit {
        let error = sign_in(conn, &attacker, "ana", WRONG).unwrap_err();
        assert!(matches!(error, Error::BadCredentials), "{error:?}");
    }
    let error = sign_in(conn, &attacker, "ana", PASSWORD).unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    // Ana, at home, is neither refused nor slowed by the attacker's failures.
    let home = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    assert_eq!(peek(conn, &home, crate::clock::now()), Seen::Allow);
    let member = sign_in(conn, &home, "ana", PASSWORD).unwrap();
    assert_eq!(member.username, "ana");
    // Her success forgives nothing of the attacker's.
    let error = sign_in(conn, &attacker, "ana", PASSWORD).unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
}

#[test]
fn many_addresses_meet_the_accounts_ceiling() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    // Three failures from each of three addresses: none at its own limit, nine in all.
    for last in 10..13 {
        fail_times(
            conn,
            &SignInKeys::new(TEST_SECRET, ip(last), "ana"),
            &[now; 3],
        );
    }
    assert!(matches!(
        peek(conn, &SignInKeys::new(TEST_SECRET, ip(1), "ana"), now),
        Seen::Refuse(_)
    ));
    // Other accounts are not touched.
    assert_eq!(
        peek(conn, &SignInKeys::new(TEST_SECRET, ip(1), "bea"), now),
        Seen::Allow
    );
    // A browser that signed in to the account before is not held to its ceiling, but its
    // cookie has an allowance of its own, shared by every address it is sent from.
    let device = |last| {
        SignInKeys::new(TEST_SECRET, ip(last), "ana").from_known_device(TEST_SECRET, "cookie")
    };
    assert_eq!(peek(conn, &device(1), now), Seen::Allow);
    for last in 20..20 + POLICY.account_limit {
        fail_times(conn, &device(u8::try_from(last).unwrap()), &[now]);
    }
    assert!(matches!(peek(conn, &device(2), now), Seen::Refuse(_)));
}

#[test]
fn a_successful_sign_in_forgives_the_accounts_failures_from_its_address_only() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    members::register(conn, &registration("ana"), SiteRole::Member).unwrap();
    let keys = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    let elsewhere = SignInKeys::new(TEST_SECRET, ip(2), "ana");
    for _ in 0..3 {
        let error = sign_in(conn, &keys, "ana", WRONG).unwrap_err();
        assert!(matches!(error, Error::BadCredentials));
    }
    sign_in(conn, &elsewhere, "ana", WRONG).unwrap_err();
    let now = crate::clock::now();
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (3, 3, 4)
    );
    let member = sign_in(conn, &keys, "ANA", PASSWORD).unwrap();
    assert_eq!(member.username, "ana");
    // This address's failures for ana are forgiven; its own attempt left no row; the address's
    // and the account's failures from everywhere stay counted.
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (0, 3, 4)
    );
    assert_eq!(
        failures_in_window(conn, &elsewhere, &POLICY, now).unwrap(),
        (1, 1, 4)
    );
}

#[test]
fn unknown_usernames_count_like_known_ones() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let keys = SignInKeys::new(TEST_SECRET, ip(1), "nobody");
    sign_in(conn, &keys, "nobody", WRONG).unwrap_err();
    let now = crate::clock::now();
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (1, 1, 1)
    );
}

/// The audit's finding: 40 guesses sent at once against a limit of 10 all had their password
/// checked, because each was allowed before any of them had failed. Counted here where it
/// matters, in argon2 runs against the account's hash.
#[test]
fn parallel_guesses_check_no_more_passwords_than_the_limit() {
    const GUESSES: usize = 40;
    let policy = ThrottlePolicy {
        window_seconds: 600,
        slow_after: 100,
        account_limit: 10,
        account_ceiling: 100,
        ip_limit: 100,
    };
    let (_database, pool) = any_pool();
    let member = {
        let conn = &mut *pool.get().unwrap();
        members::register(conn, &registration("ana"), SiteRole::Member).unwrap()
    };
    let stored_hash: String = members_table::table
        .find(member.id)
        .select(members_table::password_hash)
        .get_result(&mut *pool.get().unwrap())
        .unwrap();
    let barrier = Arc::new(Barrier::new(GUESSES));
    let guesses: Vec<_> = (0..GUESSES)
        .map(|n| {
            let (pool, barrier) = (pool.clone(), barrier.clone());
            std::thread::spawn(move || {
                let keys = SignInKeys::new(TEST_SECRET, ip(9), "ana");
                let guess = format!("guess number {n} of many");
                barrier.wait();
                let conn = &mut *pool.get().unwrap();
                match reserve(conn, &keys, &policy, crate::clock::now()).unwrap() {
                    Verdict::Allow(reservation) | Verdict::Slow(reservation, _) => {
                        authenticate(conn, &keys, reservation, "ana", &guess).unwrap_err();
                        true
                    }
                    Verdict::Refuse(_) => false,
                }
            })
        })
        .collect();
    let checked = guesses
        .into_iter()
        .map(|guess| guess.join().unwrap())
        .filter(|checked| *checked)
        .count();
    assert_eq!(checked, 10);
    assert_eq!(passwords::verifications::against(&stored_hash), 10);
}

#[test]
fn old_failures_are_deleted() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let old = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    fail_times(
        conn,
        &old,
        &[now - TimeDelta::seconds(700), now - TimeDelta::seconds(650)],
    );
    // An attempt prunes what is older than the window, whoever it belonged to.
    let recent = SignInKeys::new(TEST_SECRET, ip(2), "bea");
    fail_times(conn, &recent, &[now]);
    let remaining: i64 = sign_in_failures::table.count().get_result(conn).unwrap();
    assert_eq!(remaining, 3, "only bea's three keys remain");
    assert_eq!(
        purge(conn, &POLICY, now + TimeDelta::seconds(600)).unwrap(),
        3
    );
}

#[test]
fn a_refusal_says_the_password_was_not_checked_and_when_to_try_again() {
    let error = refused(Duration::from_secs(840));
    let Error::RateLimited {
        retry_after_seconds,
        reason,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*retry_after_seconds, 840);
    assert!(reason.contains("password was not checked"), "{reason}");
    assert!(reason.contains("in about 14 minutes"), "{reason}");
}

#[test]
fn a_policy_that_refuses_everyone_is_refused() {
    ThrottlePolicy::default().check().unwrap();
    for broken in [
        ThrottlePolicy {
            window_seconds: 0,
            ..POLICY
        },
        ThrottlePolicy {
            account_limit: 0,
            ..POLICY
        },
        ThrottlePolicy {
            account_ceiling: 0,
            ..POLICY
        },
        ThrottlePolicy {
            ip_limit: 0,
            ..POLICY
        },
    ] {
        assert!(broken.check().is_err());
    }
}

const TWO_AN_HOUR: RegistrationLimits = RegistrationLimits {
    per_hour: 2,
    per_day: 3,
};

fn register_from(
    conn: &mut DbConn,
    username: &str,
    address: IpAddr,
    now: NaiveDateTime,
) -> Result<Member> {
    register(
        conn,
        TEST_SECRET,
        &registration(username),
        &TWO_AN_HOUR,
        address,
        now,
    )
}

#[test]
fn an_address_makes_as_many_accounts_as_the_limits_allow() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    register_from(conn, "ana", ip(1), now).unwrap();
    register_from(conn, "bea", ip(1), now).unwrap();
    let error = register_from(conn, "cat", ip(1), now).unwrap_err();
    let Error::RateLimited {
        retry_after_seconds,
        reason,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*retry_after_seconds, 3600);
    assert!(
        reason.contains("2 accounts have already been made"),
        "{reason}"
    );
    assert!(!members::username_taken(conn, "cat").unwrap());
    // Another address is not held back.
    register_from(conn, "dan", ip(2), now).unwrap();
    // An hour later one more, then the day's limit holds until a day has passed.
    let later = now + TimeDelta::minutes(61);
    register_from(conn, "cat", ip(1), later).unwrap();
    let error = register_from(conn, "eve", ip(1), later).unwrap_err();
    assert!(
        matches!(&error, Error::RateLimited { reason, .. } if reason.contains("within a day")),
        "{error:?}"
    );
    register_from(conn, "eve", ip(1), now + TimeDelta::hours(24)).unwrap();
}

#[test]
fn a_refused_registration_is_refused_before_its_password_is_hashed() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    register_from(conn, "ana", ip(1), now).unwrap();
    register_from(conn, "bea", ip(1), now).unwrap();
    // A form that is wrong as well: the limit is what is said, and nothing was checked.
    let mut form = registration("cat");
    form.password = "short".to_owned();
    let error = register(conn, TEST_SECRET, &form, &TWO_AN_HOUR, ip(1), now).unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
}

#[test]
fn registrations_keep_no_address_and_are_forgotten_after_a_day() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    register_from(conn, "ana", ip(1), now).unwrap();
    let keys: Vec<String> = recent_registrations::table
        .select(recent_registrations::key_hash)
        .load(conn)
        .unwrap();
    assert_eq!(keys, [hash_key(TEST_SECRET, "register:192.0.2.1")]);
    assert_eq!(purge(conn, &POLICY, now + TimeDelta::hours(23)).unwrap(), 0);
    assert_eq!(purge(conn, &POLICY, now + TimeDelta::hours(24)).unwrap(), 1);
}

#[test]
fn no_limit_is_no_limit() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    for name in ["ana", "bea", "cat", "dan"] {
        register(
            conn,
            TEST_SECRET,
            &registration(name),
            &RegistrationLimits::NONE,
            ip(1),
            now,
        )
        .unwrap();
    }
}

/// A row's key is an HMAC under the site's secret: the SHA-256 anyone can compute for every
/// IPv4 address does not find it, and another site's secret gives another key.
#[test]
fn throttle_keys_are_keyed_with_the_sites_secret() {
    use sha2::Digest;
    let keys = SignInKeys::new(TEST_SECRET, ip(7), "ana");
    let plain = |text: &str| -> String {
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_ne!(keys.ip, plain(&format!("ip:{}", ip(7))));
    assert_ne!(keys.account, plain("account:ana"));
    let elsewhere = SignInKeys::new(b"another site's secret", ip(7), "ana");
    assert_ne!(keys.ip, elsewhere.ip);
    assert_ne!(keys.account_from, elsewhere.account_from);
    assert_eq!(keys.ip.len(), 64, "hex of 256 bits");
}

/// What a visitor types as a username cannot make another member's key: `ana from:…` typed
/// anywhere is not Ana's key at her own address (which would let a stranger lock her out
/// there with a handful of guesses).
#[test]
fn no_typed_username_makes_another_kinds_key() {
    let home = SignInKeys::new(TEST_SECRET, ip(1), "ana");
    for typed in [
        format!("ana from:{}", ip(1)),
        format!("{}|ana", ip(1)),
        format!("-from:{}|ana", ip(1)),
    ] {
        let forged = SignInKeys::new(TEST_SECRET, ip(66), &typed);
        for key in [&forged.account, &forged.account_from, &forged.ip] {
            assert_ne!(key, &home.account_from, "{typed}");
            assert_ne!(key, &home.account, "{typed}");
        }
    }
}
