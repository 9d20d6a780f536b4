//! Sign-in throttling: recent failed sign-ins, per account and per network address, kept in the
//! database so that every server process sharing it sees the same counts.
//!
//! Within the window, after `slow_after` failures each further attempt is answered more slowly
//! (the web layer waits [`Verdict::Slow`]'s delay without blocking a worker), and at the limit
//! sign-in is refused without the password being checked ([`Verdict::Refuse`]). Refused attempts
//! are not counted, so the real member can sign in once the window has passed; a successful
//! sign-in clears that account's failures.
//!
//! Rows hold only the SHA-256 of `ip:<address>` or `account:<lowercased username>`, never the
//! address or name, and are deleted once they are older than the window.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::accounts::members;
use crate::db::schema::sign_in_failures;
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::model::Member;

/// The first slowed attempt waits this long; each further one twice as long as the one before.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest an attempt is slowed.
pub const MAX_DELAY: Duration = Duration::from_secs(4);

/// How many failures are tolerated, and for how long they are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ThrottlePolicy {
    /// How long a failed sign-in counts, in seconds.
    pub window_seconds: u32,
    /// After this many failures (per account or per address) each attempt is slowed.
    pub slow_after: u32,
    /// After this many failures for one username, its sign-in is refused until the window passes.
    pub account_limit: u32,
    /// After this many failures from one address, sign-in from it is refused for the window.
    pub ip_limit: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window_seconds: 15 * 60,
            slow_after: 5,
            account_limit: 10,
            ip_limit: 50,
        }
    }
}

impl ThrottlePolicy {
    /// Settings that would make the throttle meaningless or lock everyone out.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.window_seconds == 0 || self.account_limit == 0 || self.ip_limit == 0 {
            return Err(
                "sign_in_throttle: window_seconds, account_limit and ip_limit must be at least 1"
                    .to_owned(),
            );
        }
        Ok(())
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.window_seconds))
    }
}

/// What to do with a sign-in attempt before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Check the password after waiting this long.
    Slow(Duration),
    /// Do not check the password; the person may try again after this long.
    Refuse(Duration),
}

/// The hashed keys one sign-in attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInKeys {
    account: String,
    ip: String,
}

impl SignInKeys {
    /// `username` as typed (it is trimmed and lowercased, as sign-in does); `ip` is the
    /// client's address. An IPv6 address counts as its /64 network, which one household or
    /// device usually holds whole; an IPv4-mapped IPv6 address counts as the IPv4 address.
    pub fn new(ip: IpAddr, username: &str) -> SignInKeys {
        SignInKeys {
            account: hash_key(&format!("account:{}", username.trim().to_lowercase())),
            ip: hash_key(&format!("ip:{}", network_of(ip))),
        }
    }
}

fn network_of(ip: IpAddr) -> String {
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

fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
        .then(|| recent.last().map(|oldest| *oldest + policy.window() - now))
        .flatten()
        .map(|left| {
            // Whole seconds, rounded up, and never zero: "try again in 0 seconds" helps nobody.
            let seconds = (left.num_milliseconds().max(0) + 999) / 1000;
            Duration::from_secs(u64::try_from(seconds.max(1)).unwrap_or(1))
        });
    Ok((count, free_at))
}

/// Failures within the window: (for the account, from the address).
pub fn failures_in_window(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> Result<(u32, u32)> {
    let (account, _) = standing(conn, &keys.account, policy, u32::MAX, now)?;
    let (ip, _) = standing(conn, &keys.ip, policy, u32::MAX, now)?;
    Ok((account, ip))
}

/// Decides an attempt before its password is checked.
pub fn check(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> Result<Verdict> {
    let (account, account_free) = standing(conn, &keys.account, policy, policy.account_limit, now)?;
    let (ip, ip_free) = standing(conn, &keys.ip, policy, policy.ip_limit, now)?;
    if let Some(wait) = account_free.into_iter().chain(ip_free).max() {
        return Ok(Verdict::Refuse(wait));
    }
    let beyond = account.max(ip).checked_sub(policy.slow_after);
    Ok(match beyond {
        None => Verdict::Allow,
        Some(extra) => {
            let factor = 2u32.saturating_pow(extra.min(16));
            Verdict::Slow(FIRST_DELAY.saturating_mul(factor).min(MAX_DELAY))
        }
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

/// Counts a failed attempt under both keys, and forgets failures older than the window.
pub fn record_failure(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> Result<()> {
    write_tx(conn, |conn| {
        // Two statements: diesel's `MultiConnection` cannot send a multi-row INSERT to SQLite.
        for key in [&keys.account, &keys.ip] {
            diesel::insert_into(sign_in_failures::table)
                .values((
                    sign_in_failures::key_hash.eq(key),
                    sign_in_failures::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        prune_in_tx(conn, policy, now)?;
        Ok(())
    })
}

/// Forgets the account's failures after a successful sign-in (the address's stay counted).
pub fn clear_account(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(
            sign_in_failures::table.filter(sign_in_failures::key_hash.eq(&keys.account)),
        )
        .execute(conn)?;
        prune_in_tx(conn, policy, now)?;
        Ok(())
    })
}

/// Deletes every failure older than the window; returns how many.
pub fn prune(conn: &mut DbConn, policy: &ThrottlePolicy, now: NaiveDateTime) -> Result<usize> {
    write_tx(conn, |conn| prune_in_tx(conn, policy, now))
}

fn prune_in_tx(conn: &mut DbConn, policy: &ThrottlePolicy, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(
        sign_in_failures::table.filter(sign_in_failures::created_at.le(now - policy.window())),
    )
    .execute(conn)?)
}

/// Checks the password, then counts the failure or clears the account's failures. Call it
/// only after [`check`] allowed the attempt (and after waiting out a [`Verdict::Slow`]).
pub fn authenticate(
    conn: &mut DbConn,
    keys: &SignInKeys,
    policy: &ThrottlePolicy,
    username: &str,
    password: &str,
) -> Result<Member> {
    match members::authenticate(conn, username, password) {
        Ok(member) => {
            clear_account(conn, keys, policy, crate::clock::now())?;
            Ok(member)
        }
        Err(Error::BadCredentials) => {
            record_failure(conn, keys, policy, crate::clock::now())?;
            Err(Error::BadCredentials)
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests;
