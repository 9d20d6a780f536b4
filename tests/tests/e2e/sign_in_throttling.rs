//! Sign-in throttling: attempts counted before their password is checked, per account from an
//! address, per address and per account; slowed answers, refusals that do not check the
//! password, and a failure table that keeps no address or name. Registration throttling per
//! address.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hearth_core::accounts::passwords;
use hearth_core::accounts::throttle::{RegistrationLimits, ThrottlePolicy};
use hearth_core::model::SiteRole;
use hearth_tests::{Reply, TestApp, PASSWORD};

const WRONG: &str = "not the right password at all";

/// Failures remembered for ten minutes, three allowed per account, answers slowed only after
/// ten: the tests below change one or two of these.
const TEN_MINUTES: ThrottlePolicy = ThrottlePolicy {
    window_seconds: 600,
    slow_after: 10,
    account_limit: 3,
    account_ceiling: 100,
    ip_limit: 100,
};

fn app_with_throttle(policy: ThrottlePolicy) -> TestApp {
    TestApp::with_config(hearth_web::WebConfig {
        sign_in_throttle: policy,
        ..hearth_tests::test_config()
    })
}

#[track_caller]
fn assert_refused(reply: &Reply, window_seconds: u64) -> u64 {
    reply.assert_status(429);
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=window_seconds).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let text = reply.texts("main").join(" ");
    assert!(text.contains("too many unsuccessful attempts"), "{text}");
    assert!(text.contains("password was not checked"), "{text}");
    assert!(text.contains("you can try again in"), "{text}");
    assert!(text.contains("You can try again after"), "{text}");
    // The refusal page is themed like every other.
    assert_eq!(reply.count("header.site-header"), 1);
    retry_after
}

#[test]
fn after_n_failures_the_next_attempt_is_refused_even_with_the_right_password() {
    const LIMIT: u32 = 3;
    const WINDOW: u32 = 3;
    let app = app_with_throttle(ThrottlePolicy {
        window_seconds: WINDOW,
        slow_after: LIMIT,
        account_limit: LIMIT,
        account_ceiling: 100,
        ip_limit: 100,
    });
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    for _ in 0..LIMIT {
        browser.sign_in("ana", WRONG).assert_status(401);
    }
    let refused = browser.sign_in("ana", PASSWORD);
    let retry_after = assert_refused(&refused, u64::from(WINDOW));
    assert_eq!(browser.cookie("hearth_session"), None);
    // The same holds for any spelling of the name.
    assert_refused(&browser.sign_in(" ANA ", PASSWORD), u64::from(WINDOW));

    // Once the window has passed, the real member gets in.
    std::thread::sleep(Duration::from_secs(retry_after) + Duration::from_millis(300));
    let reply = browser.sign_in("ana", PASSWORD);
    assert_eq!(reply.assert_redirect(), "/");
    assert!(browser.cookie("hearth_session").is_some());
}

#[test]
fn a_successful_sign_in_clears_the_accounts_failures() {
    let app = app_with_throttle(TEN_MINUTES);
    app.member("ana", SiteRole::Member);
    let browser = app.browser();
    for _ in 0..2 {
        browser.sign_in("ana", WRONG).assert_status(401);
    }
    browser.sign_in("ana", PASSWORD).assert_redirect();
    for _ in 0..2 {
        app.browser().sign_in("ana", WRONG).assert_status(401);
    }
    // Four failures in the window, but only two since the last success.
    app.browser().sign_in("ana", PASSWORD).assert_redirect();
}

#[test]
fn one_throttled_account_does_not_lock_out_another_from_the_same_address() {
    let app = app_with_throttle(ThrottlePolicy {
        ip_limit: 5,
        ..TEN_MINUTES
    });
    app.member("ana", SiteRole::Member);
    app.member("bea", SiteRole::Member);
    let attacker = app.browser();
    for _ in 0..3 {
        attacker.sign_in("ana", WRONG).assert_status(401);
    }
    assert_refused(&attacker.sign_in("ana", PASSWORD), 600);
    // Bea, from the same address (every test browser is 127.0.0.1), still signs in.
    app.browser().sign_in("bea", PASSWORD).assert_redirect();
    // Two more failures from the address, for a name that does not exist, reach its limit.
    for _ in 0..2 {
        attacker.sign_in("nobody", WRONG).assert_status(401);
    }
    assert_refused(&app.browser().sign_in("bea", PASSWORD), 600);
}

#[test]
fn attempts_after_a_few_failures_are_answered_more_slowly() {
    let app = app_with_throttle(ThrottlePolicy {
        slow_after: 1,
        account_limit: 10,
        ..TEN_MINUTES
    });
    let browser = app.browser();
    browser.sign_in("ana", WRONG).assert_status(401);
    for expected in [250, 500] {
        let started = Instant::now();
        browser.sign_in("ana", WRONG).assert_status(401);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(expected),
            "{elapsed:?} < {expected} ms"
        );
    }
}

#[test]
fn the_failure_table_holds_no_address_or_name() {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        key_hash: String,
    }

    let app = TestApp::new();
    app.browser()
        .sign_in("RememberMe", WRONG)
        .assert_status(401);
    let rows: Vec<Row> = diesel::sql_query("SELECT key_hash FROM sign_in_failures")
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(
        rows.len(),
        3,
        "one row for the name, one for the name from the address, one for the address"
    );
    for row in rows {
        assert_eq!(row.key_hash.len(), 64);
        assert!(row.key_hash.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

/// The audit's finding: 40 guesses sent at once against a limit of 10 all had their password
/// checked. Counted where it matters: argon2 runs against the account's stored hash (the
/// server runs in this process; other tests' accounts have other hashes).
#[test]
fn forty_guesses_at_once_check_no_more_than_ten_passwords() {
    const GUESSES: usize = 40;
    let app = app_with_throttle(ThrottlePolicy {
        account_limit: 10,
        slow_after: 100,
        ..TEN_MINUTES
    });
    let ana = app.member("ana", SiteRole::Member);
    let stored_hash: String = {
        use diesel::prelude::*;
        use diesel::sql_types::Text;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            password_hash: String,
        }
        diesel::sql_query(format!(
            "SELECT password_hash FROM members WHERE id = {}",
            ana.id
        ))
        .get_result::<Row>(&mut *app.conn())
        .unwrap()
        .password_hash
    };
    // Each guesser has its sign-in form open (its token and cookie), then all send at once.
    let guessers: Vec<_> = (0..GUESSES)
        .map(|_| {
            let browser = app.browser();
            let page = browser.visit("/signin");
            (browser, page)
        })
        .collect();
    let barrier = Arc::new(Barrier::new(GUESSES));
    let threads: Vec<_> = guessers
        .into_iter()
        .enumerate()
        .map(|(n, (browser, page))| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let guess = format!("guess number {n} of forty");
                barrier.wait();
                browser
                    .submit(
                        &page,
                        "/signin",
                        &[("username", "ana"), ("password", &guess)],
                    )
                    .status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort_unstable();
    let checked = passwords::verifications::against(&stored_hash);
    assert_eq!(
        checked, 10,
        "passwords checked: {checked}; answers: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30);
}

#[test]
fn a_member_from_a_clean_address_signs_in_while_another_address_guesses() {
    let app = TestApp::with_config(hearth_web::WebConfig {
        sign_in_throttle: TEN_MINUTES,
        trust_x_forwarded_for: true,
        ..hearth_tests::test_config()
    });
    app.member("ana", SiteRole::Member);
    let attacker = app.browser_from("203.0.113.9");
    for _ in 0..3 {
        attacker.sign_in("ana", WRONG).assert_status(401);
    }
    assert_refused(&attacker.sign_in("ana", PASSWORD), 600);
    // Ana at home is neither refused nor slowed, and her success forgives nothing of theirs.
    let home = app.browser_from("198.51.100.7");
    let started = Instant::now();
    assert_eq!(home.sign_in("ana", PASSWORD).assert_redirect(), "/");
    assert!(started.elapsed() < Duration::from_millis(250));
    assert!(home.cookie("hearth_session").is_some());
    assert_refused(
        &app.browser_from("203.0.113.9").sign_in("ana", PASSWORD),
        600,
    );
}

/// Addresses are read from `X-Forwarded-For`; an account's ceiling is 4 failures.
fn app_with_a_ceiling_of_four() -> TestApp {
    TestApp::with_config(hearth_web::WebConfig {
        sign_in_throttle: ThrottlePolicy {
            account_ceiling: 4,
            ..TEN_MINUTES
        },
        trust_x_forwarded_for: true,
        ..hearth_tests::test_config()
    })
}

/// Two wrong guesses at ana from each of two addresses: neither at its own limit, the
/// account at its ceiling.
fn fill_anas_ceiling_from_two_addresses(app: &TestApp) {
    for address in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            app.browser_from(address)
                .sign_in("ana", WRONG)
                .assert_status(401);
        }
    }
}

#[test]
fn guesses_from_many_addresses_meet_the_accounts_ceiling() {
    let app = app_with_a_ceiling_of_four();
    app.member("ana", SiteRole::Member);
    fill_anas_ceiling_from_two_addresses(&app);
    assert_refused(
        &app.browser_from("198.51.100.7").sign_in("ana", PASSWORD),
        600,
    );
}

fn app_with_registration_limits(limits: RegistrationLimits) -> TestApp {
    TestApp::with_config(hearth_web::WebConfig {
        registration_limits: limits,
        trust_x_forwarded_for: true,
        ..hearth_tests::test_config()
    })
}

#[test]
fn one_address_makes_only_as_many_accounts_as_the_limit() {
    let app = app_with_registration_limits(RegistrationLimits {
        per_hour: 2,
        per_day: 10,
    });
    for name in ["ana", "bea"] {
        app.browser_from("203.0.113.5")
            .register(name, PASSWORD)
            .assert_redirect();
    }
    let refused = app.browser_from("203.0.113.5").register("cat", PASSWORD);
    refused.assert_status(429);
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry_after), "{retry_after}");
    let text = refused.texts("main").join(" ");
    assert!(text.contains("2 accounts have already been made"), "{text}");
    assert!(text.contains("within an hour"), "{text}");
    // No account was made, and no session started.
    let browser = app.browser();
    browser.sign_in("cat", PASSWORD).assert_status(401);
    // Another address is not held back.
    app.browser_from("198.51.100.7")
        .register("cat", PASSWORD)
        .assert_redirect();
}

#[test]
fn the_registration_table_holds_no_address() {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        key_hash: String,
    }

    let app = app_with_registration_limits(RegistrationLimits::default());
    app.browser_from("203.0.113.5")
        .register("ana", PASSWORD)
        .assert_redirect();
    let rows: Vec<Row> = diesel::sql_query("SELECT key_hash FROM recent_registrations")
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key_hash.len(), 64);
    assert!(!rows[0].key_hash.contains("203"));
}

/// A browser that signed in to the account before holds a device cookie: guesses from many
/// addresses that fill the account's ceiling do not lock the member out there, while a browser
/// without it (or with another account's) is refused.
#[test]
fn a_browser_that_signed_in_before_is_not_locked_out_by_the_accounts_ceiling() {
    let app = app_with_a_ceiling_of_four();
    app.member("ana", SiteRole::Member);
    app.member("bea", SiteRole::Member);
    let anas_phone = app.browser_from("198.51.100.7");
    anas_phone.sign_in("ana", PASSWORD).assert_redirect();
    assert!(anas_phone.cookie("hearth_device").is_some());
    let bea = app.browser_from("198.51.100.8");
    bea.sign_in("bea", PASSWORD).assert_redirect();
    let token = anas_phone
        .visit("/")
        .attrs("input[name=csrf_token]", "value")[0]
        .clone();
    anas_phone
        .post("/signout", &[("csrf_token", &token)])
        .assert_redirect();
    fill_anas_ceiling_from_two_addresses(&app);
    // Another browser at the same address, without the cookie: held to the ceiling.
    assert_refused(
        &app.browser_from("198.51.100.7").sign_in("ana", PASSWORD),
        600,
    );
    // Bea's device cookie is for Bea's account, not Ana's.
    let beas_cookie = bea.cookie("hearth_device").expect("bea's device cookie");
    let borrowed = app.browser_from("198.51.100.9");
    borrowed.set_cookie("hearth_device", &beas_cookie);
    assert_refused(&borrowed.sign_in("ana", PASSWORD), 600);
    // Ana's own browser signs in.
    anas_phone.sign_in("ana", PASSWORD).assert_redirect();
    anas_phone.get("/settings").assert_status(200);
}
