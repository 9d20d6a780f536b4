use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::model::SiteRole;
use crate::test_support::{registration, sqlite_pool, PASSWORD};

const POLICY: ThrottlePolicy = ThrottlePolicy {
    window_seconds: 600,
    slow_after: 2,
    account_limit: 4,
    ip_limit: 6,
};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn fail_times(conn: &mut DbConn, keys: &SignInKeys, times: &[NaiveDateTime]) {
    for at in times {
        record_failure(conn, keys, &POLICY, *at).unwrap();
    }
}

#[test]
fn keys_are_hashes_never_the_address_or_name() {
    let keys = SignInKeys::new(ip(7), "  Ana ");
    assert_eq!(keys, SignInKeys::new(ip(7), "ana"));
    assert_eq!(keys.account.len(), 64);
    assert!(!keys.ip.contains("192"));
    assert_eq!(keys.ip, hash_key("ip:192.0.2.7"));
    assert_eq!(keys.account, hash_key("account:ana"));
    assert_ne!(SignInKeys::new(ip(8), "ana").ip, keys.ip);
}

#[test]
fn an_ipv6_address_counts_as_its_64_network() {
    let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
    let key = |addr: Ipv6Addr| SignInKeys::new(IpAddr::V6(addr), "x").ip;
    assert_eq!(key(a), key(b));
    assert_ne!(key(a), key(c));
    let mapped: Ipv6Addr = "::ffff:192.0.2.7".parse().unwrap();
    assert_eq!(key(mapped), SignInKeys::new(ip(7), "x").ip);
}

#[test]
fn failures_slow_then_refuse_and_the_window_frees_the_account() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let keys = SignInKeys::new(ip(1), "ana");
    assert_eq!(check(conn, &keys, &POLICY, now).unwrap(), Verdict::Allow);
    // Failures at -100 s, -80 s, -60 s, -40 s.
    let times: Vec<NaiveDateTime> = (0..4)
        .map(|n| now - TimeDelta::seconds(100 - 20 * n))
        .collect();
    fail_times(conn, &keys, &times[..1]);
    assert_eq!(check(conn, &keys, &POLICY, now).unwrap(), Verdict::Allow);
    fail_times(conn, &keys, &times[1..2]);
    assert_eq!(
        check(conn, &keys, &POLICY, now).unwrap(),
        Verdict::Slow(FIRST_DELAY)
    );
    fail_times(conn, &keys, &times[2..3]);
    assert_eq!(
        check(conn, &keys, &POLICY, now).unwrap(),
        Verdict::Slow(FIRST_DELAY * 2)
    );
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (3, 3)
    );
    fail_times(conn, &keys, &times[3..]);
    // Four failures: refused until the oldest (-100 s) leaves the 600 s window.
    assert_eq!(
        check(conn, &keys, &POLICY, now).unwrap(),
        Verdict::Refuse(Duration::from_secs(500))
    );
    assert_eq!(
        check(conn, &keys, &POLICY, now + TimeDelta::seconds(499)).unwrap(),
        Verdict::Refuse(Duration::from_secs(1))
    );
    // Then three failures are left in the window: slowed, not refused.
    assert_eq!(
        check(conn, &keys, &POLICY, now + TimeDelta::seconds(500)).unwrap(),
        Verdict::Slow(FIRST_DELAY * 2)
    );
    assert_eq!(
        check(conn, &keys, &POLICY, now + TimeDelta::seconds(600)).unwrap(),
        Verdict::Allow
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
        ip_limit: 100,
        ..POLICY
    };
    let keys = SignInKeys::new(ip(1), "ana");
    let mut delays = Vec::new();
    for _ in 0..8 {
        record_failure(conn, &keys, &policy, now).unwrap();
        match check(conn, &keys, &policy, now).unwrap() {
            Verdict::Slow(delay) => delays.push(delay.as_millis()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delays, [250, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
}

#[test]
fn one_accounts_failures_do_not_refuse_another_until_the_address_limit() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let ana = SignInKeys::new(ip(1), "ana");
    let bea = SignInKeys::new(ip(1), "bea");
    let bea_elsewhere = SignInKeys::new(ip(2), "bea");
    fail_times(conn, &ana, &[now; 4]);
    assert!(matches!(
        check(conn, &ana, &POLICY, now).unwrap(),
        Verdict::Refuse(_)
    ));
    // Bea, from the same address, is slowed (the address has 4 failures) but not refused.
    assert!(matches!(
        check(conn, &bea, &POLICY, now).unwrap(),
        Verdict::Slow(_)
    ));
    fail_times(conn, &SignInKeys::new(ip(1), "cat"), &[now; 2]);
    // Six failures from the address: everyone there is refused, elsewhere nobody.
    assert!(matches!(
        check(conn, &bea, &POLICY, now).unwrap(),
        Verdict::Refuse(_)
    ));
    assert_eq!(
        check(conn, &bea_elsewhere, &POLICY, now).unwrap(),
        Verdict::Allow
    );
}

#[test]
fn a_successful_sign_in_clears_the_accounts_failures_only() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    crate::accounts::members::register(conn, &registration("ana"), SiteRole::Member).unwrap();
    let keys = SignInKeys::new(ip(1), "ana");
    for _ in 0..3 {
        let error = authenticate(conn, &keys, &POLICY, "ana", "wrong password here").unwrap_err();
        assert!(matches!(error, Error::BadCredentials));
    }
    let now = crate::clock::now();
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (3, 3)
    );
    let member = authenticate(conn, &keys, &POLICY, "ANA", PASSWORD).unwrap();
    assert_eq!(member.username, "ana");
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (0, 3)
    );
}

#[test]
fn unknown_usernames_count_like_known_ones() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let keys = SignInKeys::new(ip(1), "nobody");
    authenticate(conn, &keys, &POLICY, "nobody", "wrong password here").unwrap_err();
    let now = crate::clock::now();
    assert_eq!(
        failures_in_window(conn, &keys, &POLICY, now).unwrap(),
        (1, 1)
    );
}

#[test]
fn old_failures_are_deleted() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let now = crate::clock::now();
    let old = SignInKeys::new(ip(1), "ana");
    fail_times(
        conn,
        &old,
        &[now - TimeDelta::seconds(700), now - TimeDelta::seconds(650)],
    );
    // Recording a new failure prunes what is older than the window, whoever it belonged to.
    let recent = SignInKeys::new(ip(2), "bea");
    fail_times(conn, &recent, &[now]);
    let remaining: i64 = sign_in_failures::table.count().get_result(conn).unwrap();
    assert_eq!(remaining, 2, "only bea's two keys remain");
    assert_eq!(
        prune(conn, &POLICY, now + TimeDelta::seconds(600)).unwrap(),
        2
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
            ip_limit: 0,
            ..POLICY
        },
    ] {
        assert!(broken.check().is_err());
    }
}
