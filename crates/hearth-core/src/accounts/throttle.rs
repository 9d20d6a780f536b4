//! Sign-in and registration throttling, counted in the database so that every server process
//! sharing it sees the same counts.
//!
//! # Sign-in
//!
//! Every attempt is counted *before* its password is checked: [`reserve`] counts the recent
//! failures under three keys and, unless one is at its limit, inserts the attempt's rows under
//! all three in one write transaction (on PostgreSQL under an advisory lock per key, on SQLite
//! under the database's one write lock), so parallel guesses cannot all pass a check made
//! before any of them was counted: 40 at once against a limit of 10 check 10 passwords. A wrong
//! password leaves its rows as the failure; a right one takes its own rows back ([`authenticate`]).
//!
//! The keys, and what each stops:
//! - *the account from this address* (`account_limit`): one address guessing one member's
//!   password is refused after a few failures. The member's own address is another key, so
//!   someone else's failures do not lock them out; a successful sign-in from an address
//!   forgives that address's earlier failures for the account.
//! - *the address* (`ip_limit`): one address guessing many accounts.
//! - *the account from everywhere* (`account_ceiling`, far higher): many addresses guessing one
//!   account.
//!
//! Within the window, after `slow_after` failures for the account from this address, or from
//! this address, each further attempt is answered more slowly ([`Verdict::Slow`]; the web layer
//! waits without blocking a worker). Refused attempts are not counted, so the real member can
//! sign in once the window has passed.
//!
//! What an attacker with many addresses can still do: each address gets `account_limit`
//! guesses at one account and `ip_limit` in all per window, so with *k* addresses they make up
//! to `account_ceiling` guesses at one account per window (with the defaults 100 per 15
//! minutes, under 10,000 a day, against passwords that must withstand a million guesses), or
//! `k × ip_limit` spread over many accounts (a password-spraying attempt, slowed per address
//! but not stopped: passwords on the common list are refused at registration). Holding one
//! account at its ceiling also refuses its real member until the window passes, from every
//! address — except from a browser that signed in to the account before, which holds a device
//! cookie signed for it ([`device_subject`], [`SignInKeys::from_known_device`]): its attempts
//! count under the cookie, `account_limit` per window wherever it is sent from, instead of
//! under the ceiling (the cookie names no issue time or password, so a copy keeps that much
//! until the window passes; it is not a way in, only past the ceiling): the ceiling trades that
//! denial of service for a bound on guessing, which is why it is high. An IPv6 attacker gets one address per /64 network, not per address.
//!
//! # Registration
//!
//! [`register`] allows `per_hour` and `per_day` new accounts from one address (IPv6: one /64
//! network), counted and inserted with the account in one transaction.
//!
//! Rows hold only an HMAC-SHA256 of the key (`ip:<address>`, `account:<lowercased username>`,
//! `account-from:<address>|<name>`, `register:<address>`) under a secret of the site kept in
//! the database (`site_secrets`), never the address or name, and are deleted once they are
//! older than their window ([`purge`]). Without the secret an address cannot be found from its
//! row by trying every IPv4 address; with the database (and so the secret) it could, which is
//! why rows are kept no longer than the window needs.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::accounts::members::{self, Registration};
use crate::db::schema::{recent_registrations, sign_in_failures};
use crate::db::{lock_name, write_tx, write_tx_unseen, DbConn};
use crate::error::{Error, Result};
use crate::model::{Member, SiteRole};

/// The first slowed attempt waits this long; each further one twice as long as the one before.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest an attempt is slowed.
pub const MAX_DELAY: Duration = Duration::from_secs(4);

/// How many failures are tolerated, and for how long they are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ThrottlePolicy {
    /// How long a failed sign-in counts, in seconds.
    pub window_seconds: u32,
    /// After this many failures (for the account from one address, or from one address) each
    /// attempt is slowed.
    pub slow_after: u32,
    /// After this many failures for one username from one address, its sign-in from there is
    /// refused until the window passes (other addresses are not).
    pub account_limit: u32,
    /// After this many failures for one username from all addresses together, its sign-in is
    /// refused from everywhere until the window passes.
    pub account_ceiling: u32,
    /// After this many failures from one address, sign-in from it is refused for the window.
    pub ip_limit: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window_seconds: 15 * 60,
            slow_after: 5,
            account_limit: 10,
            account_ceiling: 100,
            ip_limit: 50,
        }
    }
}

impl ThrottlePolicy {
    /// Settings that would make the throttle meaningless or lock everyone out.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.window_seconds == 0
            || self.account_limit == 0
            || self.account_ceiling == 0
            || self.ip_limit == 0
        {
            return Err(
                "sign_in_throttle: window_seconds, account_limit, account_ceiling and ip_limit \
                 must be at least 1"
                    .to_owned(),
            );
        }
        Ok(())
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.window_seconds))
    }
}

/// What to do with a sign-in attempt, decided (and the attempt counted) before its password
/// is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password; settle the reservation with [`authenticate`].
    Allow(Reservation),
    /// Check the password after waiting this long.
    Slow(Reservation, Duration),
    /// Do not check the password; the person may try again after this long.
    Refuse(Duration),
}

/// An attempt counted as a failure until its password proves right: its rows, one per key.
#[derive(Debug, PartialEq, Eq)]
pub struct Reservation {
    account_from_row: i64,
    rows: Vec<i64>,
}

/// The hashed keys one sign-in attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInKeys {
    account: String,
    account_from: String,
    ip: String,
    /// The browser proved an earlier good sign-in to this account (a device cookie): `account`
    /// is then the cookie's key, limited like one address, not the account's ceiling.
    known_device: bool,
}

impl SignInKeys {
    /// `username` as typed (it is trimmed and lowercased, as sign-in does); `ip` is the
    /// client's address. An IPv6 address counts as its /64 network, which one household or
    /// device usually holds whole; an IPv4-mapped IPv6 address counts as the IPv4 address.
    /// `secret` is the site's throttle secret ([`crate::accounts::tokens::site_secret`]), the
    /// same on every server process.
    pub fn new(secret: &[u8], ip: IpAddr, username: &str) -> SignInKeys {
        let username = username.trim().to_lowercase();
        let network = network_of(ip);
        SignInKeys {
            account: hash_key(secret, &format!("account:{username}")),
            // The typed name comes last, after a separator no address holds: whatever a
            // visitor types as a username (`ana from:192.0.2.1`), the key cannot be another
            // kind's, nor another address's.
            account_from: hash_key(secret, &format!("account-from:{network}|{username}")),
            ip: hash_key(secret, &format!("ip:{network}")),
            known_device: false,
        }
    }

    /// From a browser holding `device_token`, a device cookie for this account (see
    /// [`device_subject`]). Its attempts count under the cookie itself, with the per-address
    /// limit, instead of under the account's ceiling (which many addresses can fill): a copied
    /// cookie shares the one allowance, whatever the addresses it is sent from.
    pub fn from_known_device(mut self, secret: &[u8], device_token: &str) -> SignInKeys {
        self.account = hash_key(secret, &format!("device-token:{device_token}"));
        self.known_device = true;
        self
    }

    /// Each key with the most failures it tolerates.
    fn with_limits<'k>(&'k self, policy: &ThrottlePolicy) -> [(&'k str, u32); 3] {
        [
            (&self.account_from, policy.account_limit),
            (&self.ip, policy.ip_limit),
            (
                &self.account,
                if self.known_device {
                    policy.account_limit
                } else {
                    policy.account_ceiling
                },
            ),
        ]
    }
}

/// What a device cookie for `username` is signed for (`tokens::signed_token_for`): a browser
/// that holds one signed in to that account before, so guesses at the account from elsewhere
/// do not lock it out ([`SignInKeys::from_known_device`]).
pub fn device_subject(username: &str) -> String {
    format!("device:{}", username.trim().to_lowercase())
}

pub(crate) fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// HMAC-SHA256 of `key` under the site's secret, in hex: without the secret, nobody can tell
/// which address or name a row is about by trying them all.
pub(crate) fn hash_key(secret: &[u8], key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(key.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whole seconds until `at`, rounded up, and never zero: "try again in 0 seconds" helps nobody.
fn wait_until(at: NaiveDateTime, now: NaiveDateTime) -> Duration {
    let seconds = ((at - now).num_milliseconds().max(0) + 999) / 1000;
    Duration::from_secs(u64::try_from(seconds.max(1)).unwrap_or(1))
}

/// How the throttle stands for one key: its failures in the window (counted up to `cap`) and,
/// when there are `cap` of them, when the oldest of those leaves the window.
fn standing(
    conn: &mut DbConn,
    key: &str,
    policy: &ThrottlePolicy,
    cap: u32,
    now: NaiveDateTime,
) -> Result<(u32, Option<Duration>)> {
    // The newest `cap` failures: when there are `cap`, the last of them is the one whose expiry
    // brings the count below `cap`.
    let recent: Vec<NaiveDateTime> = sign_in_failures::table
        .filter(sign_in_failures::key_hash.eq(key))
        .filter(sign_in_failures::created_at.gt(now - policy.window()))
        .order(sign_in_failures::created_at.desc())
        .limit(i64::from(cap))
        .select(sign_in_failures::created_at)
        .load(conn)?;
    let count = u32::try_from(recent.len()).unwrap_or(u32::MAX);
    let free_at = (count >= cap)
        .then(|| {
            recent
                .last()
                .map(|oldest| wait_until(*oldest + policy.window(), now))
        })
        .flatten();
    Ok((count, free_at))
}

/// Failures within the window (reserved attempts included): (for the account from this
/// address, from the address, for the account from everywhere).
pub fn failures_in_window(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> Result<(u32, u32, u32)> {
    let (account_from, _) = standing(conn, &keys.account_from, policy, u32::MAX, now)?;
    let (ip, _) = standing(conn, &keys.ip, policy, u32::MAX, now)?;
    let (account, _) = standing(conn, &keys.account, policy, u32::MAX, now)?;
    Ok((account_from, ip, account))
}

/// Decides an attempt before its password is checked and, unless it is refused, counts it as
/// a failure under every key, in one write transaction: of any number of attempts made at
/// once, at most as many as a limit leaves room for are allowed.
pub fn reserve(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> Result<Verdict> {
    write_tx_unseen(conn, |conn| {
        let mut limited = keys.with_limits(policy);
        // Locks in one order everywhere, so two attempts never wait for each other's.
        limited.sort_by(|a, b| a.0.cmp(b.0));
        for (key, _) in &limited {
            lock_name(conn, &format!("sign_in_failures {key}"))?;
        }
        let mut wait = None;
        let mut counts = Vec::with_capacity(limited.len());
        for (key, limit) in &limited {
            let (count, free_at) = standing(conn, key, policy, *limit, now)?;
            wait = wait.max(free_at);
            counts.push((*key, count));
        }
        if let Some(wait) = wait {
            return Ok(Verdict::Refuse(wait));
        }
        prune_failures(conn, policy, now)?;
        let mut reservation = Reservation {
            account_from_row: 0,
            rows: Vec::with_capacity(limited.len()),
        };
        // One statement per key: diesel's `MultiConnection` cannot send a multi-row INSERT
        // to SQLite.
        for (key, _) in &limited {
            let id: i64 = diesel::insert_into(sign_in_failures::table)
                .values((
                    sign_in_failures::key_hash.eq(*key),
                    sign_in_failures::created_at.eq(now),
                ))
                .returning(sign_in_failures::id)
                .get_result(conn)?;
            if *key == keys.account_from {
                reservation.account_from_row = id;
            }
            reservation.rows.push(id);
        }
        // Slowed by this address's failures, not by the account's from everywhere: that would
        // slow the real member down for someone else's guesses.
        let slowing = counts
            .iter()
            .filter(|(key, _)| *key != keys.account)
            .map(|(_, count)| *count)
            .max()
            .unwrap_or(0);
        Ok(match slowing.checked_sub(policy.slow_after) {
            None => Verdict::Allow(reservation),
            Some(extra) => {
                let factor = 2u32.saturating_pow(extra.min(16));
                let delay = FIRST_DELAY.saturating_mul(factor).min(MAX_DELAY);
                Verdict::Slow(reservation, delay)
            }
        })
    })
}

/// The error for a refused attempt: what happened, that the password was not checked, and
/// when to try again.
pub fn refused(retry_after: Duration) -> Error {
    let seconds = i64::try_from(retry_after.as_secs())
        .unwrap_or(i64::MAX)
        .max(1);
    Error::RateLimited {
        retry_after_seconds: seconds,
        reason: format!(
            "there have been too many unsuccessful attempts to sign in to this account or from \
             your network, so signing in is paused for a while and your password was not \
             checked; you can try again {}",
            crate::safety::limits::in_words(seconds)
        ),
    }
}

/// The attempt was not a failure: its rows go, and so do earlier failures for the account
/// from this address (the address proved itself; other addresses' failures stay counted, as
/// do the address's for other accounts).
fn forgive(conn: &mut DbConn, keys: &SignInKeys, reservation: &Reservation) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        diesel::delete(
            sign_in_failures::table.filter(sign_in_failures::id.eq_any(&reservation.rows)),
        )
        .execute(conn)?;
        // Only failures counted before this attempt: those reserved meanwhile by other
        // attempts are still being checked.
        diesel::delete(
            sign_in_failures::table
                .filter(sign_in_failures::key_hash.eq(&keys.account_from))
                .filter(sign_in_failures::id.le(reservation.account_from_row)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// Takes back a reservation whose password was never judged (the check itself failed).
fn release(conn: &mut DbConn, reservation: &Reservation) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        diesel::delete(
            sign_in_failures::table.filter(sign_in_failures::id.eq_any(&reservation.rows)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// Checks the password of an attempt [`reserve`] allowed (after waiting out a
/// [`Verdict::Slow`]). A wrong password leaves the reservation counted as the failure; a right
/// one takes it back with the account's earlier failures from this address.
pub fn authenticate(
    conn: &mut DbConn,
    keys: &SignInKeys,
    reservation: Reservation,
    username: &str,
    password: &str,
) -> Result<Member> {
    match members::authenticate(conn, username, password) {
        Ok(member) => {
            forgive(conn, keys, &reservation)?;
            Ok(member)
        }
        Err(Error::BadCredentials) => Err(Error::BadCredentials),
        Err(other) => {
            release(conn, &reservation)?;
            Err(other)
        }
    }
}

/// How many accounts one address may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RegistrationLimits {
    /// New accounts from one address (IPv6: one /64 network) in any hour; 0 is no limit.
    pub per_hour: u32,
    /// New accounts from one address in any 24 hours; 0 is no limit.
    pub per_day: u32,
}

impl RegistrationLimits {
    /// No limit (for tests that register many accounts).
    pub const NONE: RegistrationLimits = RegistrationLimits {
        per_hour: 0,
        per_day: 0,
    };
}

impl Default for RegistrationLimits {
    fn default() -> Self {
        // A household, or a group meeting in one room, may make a few at once.
        RegistrationLimits {
            per_hour: 5,
            per_day: 20,
        }
    }
}

/// The longest a registration is remembered.
const REGISTRATION_WINDOW: TimeDelta = TimeDelta::hours(24);

/// Whether one more account from `key` would go over a limit: if so, the refusal.
fn registration_refusal(
    conn: &mut DbConn,
    key: &str,
    limits: &RegistrationLimits,
    now: NaiveDateTime,
) -> Result<Option<Error>> {
    for (limit, window, span) in [
        (limits.per_hour, TimeDelta::hours(1), "an hour"),
        (limits.per_day, REGISTRATION_WINDOW, "a day"),
    ] {
        if limit == 0 {
            continue;
        }
        // The newest `limit` registrations in the window: when there are `limit`, the last of
        // them is the one whose expiry makes room.
        let recent: Vec<NaiveDateTime> = recent_registrations::table
            .filter(recent_registrations::key_hash.eq(key))
            .filter(recent_registrations::created_at.gt(now - window))
            .order(recent_registrations::created_at.desc())
            .limit(i64::from(limit))
            .select(recent_registrations::created_at)
            .load(conn)?;
        if recent.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
            continue;
        }
        let Some(oldest) = recent.last() else {
            continue;
        };
        let wait = wait_until(*oldest + window, now);
        let seconds = i64::try_from(wait.as_secs()).unwrap_or(i64::MAX);
        return Ok(Some(Error::RateLimited {
            retry_after_seconds: seconds,
            reason: format!(
                "{limit} accounts have already been made from your network within {span}, \
                 which is as many as this site allows; you can make one {}",
                crate::safety::limits::in_words(seconds)
            ),
        }));
    }
    Ok(None)
}

/// Creates a member's account from the address `ip`, unless that address has made as many
/// as `limits` allow. Refused early (before the password is hashed) and again inside the
/// transaction that inserts the account, where the count cannot change meanwhile.
pub fn register(
    conn: &mut DbConn,
    secret: &[u8],
    form: &Registration,
    limits: &RegistrationLimits,
    ip: IpAddr,
    now: NaiveDateTime,
) -> Result<Member> {
    let key = hash_key(secret, &format!("register:{}", network_of(ip)));
    if let Some(refusal) = registration_refusal(conn, &key, limits, now)? {
        return Err(refusal);
    }
    let password_hash = members::check_and_hash(conn, form)?;
    write_tx(conn, |conn| {
        lock_name(conn, &format!("recent_registrations {key}"))?;
        if let Some(refusal) = registration_refusal(conn, &key, limits, now)? {
            return Err(refusal);
        }
        let member = members::insert(conn, form, SiteRole::Member, &password_hash)?;
        diesel::insert_into(recent_registrations::table)
            .values((
                recent_registrations::key_hash.eq(&key),
                recent_registrations::created_at.eq(now),
            ))
            .execute(conn)?;
        diesel::delete(
            recent_registrations::table
                .filter(recent_registrations::created_at.le(now - REGISTRATION_WINDOW)),
        )
        .execute(conn)?;
        Ok(member)
    })
}

fn prune_failures(conn: &mut DbConn, policy: &ThrottlePolicy, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(
        sign_in_failures::table.filter(sign_in_failures::created_at.le(now - policy.window())),
    )
    .execute(conn)?)
}

/// Deletes every failed sign-in and registration older than its window; returns how many.
/// Attempts prune as they go; `hearth serve` also runs this every hour, so nothing outlives
/// its window on a quiet site.
pub fn purge(conn: &mut DbConn, policy: &ThrottlePolicy, now: NaiveDateTime) -> Result<usize> {
    write_tx_unseen(conn, |conn| {
        let failures = prune_failures(conn, policy, now)?;
        let registrations = diesel::delete(
            recent_registrations::table
                .filter(recent_registrations::created_at.le(now - REGISTRATION_WINDOW)),
        )
        .execute(conn)?;
        Ok(failures + registrations)
    })
}

#[cfg(test)]
mod tests;
