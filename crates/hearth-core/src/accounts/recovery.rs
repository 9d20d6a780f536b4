//! Recovery codes: ten single-use codes, made when an account is made and again on request,
//! that let a member who forgot their password set a new one without e-mail.
//!
//! A code is 16 characters of Crockford's base32 (80 random bits), shown as four groups of
//! four. Only a SHA-256 of it (with the member's id) is kept: the codes are far too many to try
//! even with the database in hand, so no slow hash is needed, and checking a code costs no
//! argon2 run. A code is compared with each of the member's in constant time. Using one deletes
//! it; making a new set deletes the old one. Guessing is stopped by the throttle
//! ([`crate::accounts::throttle::SignInKeys::for_recovery`]), counted before a code is checked.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::throttle::{self, Reservation, SignInKeys};
use crate::accounts::{credentials, members, tokens};
use crate::db::schema::recovery_codes;
use crate::db::{write_tx_unseen, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::model::Member;

/// How many codes a set has.
pub const CODES_PER_SET: usize = 10;
const CODE_CHARS: usize = 16;
/// Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new code, as the member is shown it: `abcd-efgh-jkmn-pqrs`.
fn new_code() -> String {
    let mut bytes = [0u8; CODE_CHARS];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed, in its one spelling: case, spaces and dashes do not matter, and the letters
/// people mistake for digits are read as those digits.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

fn code_hash(member_id: MemberId, code: &str) -> String {
    tokens::hash_token(&format!("recovery-code:{member_id}:{}", normalize(code)))
}

/// Inside a write transaction: replaces the member's codes with a new set, returned once for
/// showing; only their hashes are stored.
pub fn issue_in(conn: &mut DbConn, member_id: MemberId, now: NaiveDateTime) -> Result<Vec<String>> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::member_id.eq(member_id)))
        .execute(conn)?;
    let codes: Vec<String> = (0..CODES_PER_SET).map(|_| new_code()).collect();
    // One statement per code: diesel's `MultiConnection` cannot send a multi-row INSERT to
    // SQLite.
    for code in &codes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::member_id.eq(member_id),
                recovery_codes::code_hash.eq(code_hash(member_id, code)),
                recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(codes)
}

/// Replaces the member's codes with a new set (the old ones stop working) and returns it.
pub fn issue(conn: &mut DbConn, member_id: MemberId, now: NaiveDateTime) -> Result<Vec<String>> {
    write_tx_unseen(conn, |conn| issue_in(conn, member_id, now))
}

/// How many unused codes the member has.
pub fn remaining(conn: &mut DbConn, member_id: MemberId) -> Result<i64> {
    Ok(recovery_codes::table
        .filter(recovery_codes::member_id.eq(member_id))
        .count()
        .get_result(conn)?)
}

/// The member's stored code that `code` is, compared with every one of them in constant time.
fn matching(conn: &mut DbConn, member_id: MemberId, code: &str) -> Result<Option<i64>> {
    let stored: Vec<(i64, String)> = recovery_codes::table
        .filter(recovery_codes::member_id.eq(member_id))
        .select((recovery_codes::id, recovery_codes::code_hash))
        .load(conn)?;
    let wanted = code_hash(member_id, code);
    let mut found = None;
    for (id, hash) in stored {
        if tokens::constant_time_eq(&hash, &wanted) {
            found = Some(id);
        }
    }
    Ok(found)
}

/// Whether every one of `codes` is an unused code of the member's (the page that shows a new
/// set checks that what it was handed is one).
pub fn are_current(conn: &mut DbConn, member_id: MemberId, codes: &[String]) -> Result<bool> {
    if codes.len() != CODES_PER_SET {
        return Ok(false);
    }
    for code in codes {
        if matching(conn, member_id, code)?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What the "Forgot your password?" form carries.
#[derive(Debug, Clone, Default)]
pub struct CodeReset {
    pub username: String,
    pub code: String,
    pub new_password: String,
}

/// The form's own checks (the new password's rules), made before the attempt is counted: they
/// say nothing about the account.
pub fn check(form: &CodeReset) -> Result<()> {
    credentials::check_new_password(form.username.trim(), &form.new_password)
}

/// Sets a new password with a recovery code, for an attempt [`throttle::reserve`] allowed under
/// `keys` (`SignInKeys::for_recovery`). An unknown name and a wrong or used code are the same
/// [`Error::BadCredentials`] and stay counted as a failure; argon2 runs only for a right code.
/// The code is used up, the password set and every session of the member ended in one
/// transaction: of two uses of one code at once, one sets the password.
pub fn reset_with_code(
    conn: &mut DbConn,
    keys: &SignInKeys,
    reservation: Reservation,
    form: &CodeReset,
) -> Result<Member> {
    let outcome = check_and_reset(conn, form);
    match &outcome {
        Ok(_) => throttle::forgive(conn, keys, &reservation)?,
        Err(Error::BadCredentials) => {}
        Err(_) => throttle::release(conn, &reservation)?,
    }
    outcome
}

fn check_and_reset(conn: &mut DbConn, form: &CodeReset) -> Result<Member> {
    check(form)?;
    let member = match members::by_username(conn, form.username.trim()) {
        Ok(member) => member,
        Err(Error::NotFound) => {
            // The same work as for a known name: one read of codes and one hash.
            let _ = matching(conn, MemberId(0), &form.code)?;
            return Err(Error::BadCredentials);
        }
        Err(other) => return Err(other),
    };
    let Some(code_id) = matching(conn, member.id, &form.code)? else {
        return Err(Error::BadCredentials);
    };
    let hash = credentials::new_password_hash(&member.username, &form.new_password)?;
    write_tx_unseen(conn, |conn| {
        let used = diesel::delete(
            recovery_codes::table
                .find(code_id)
                .filter(recovery_codes::member_id.eq(member.id)),
        )
        .execute(conn)?;
        if used == 0 {
            return Err(Error::BadCredentials);
        }
        credentials::set_password_in(conn, member.id, &hash, None)?;
        Ok(())
    })?;
    members::by_id(conn, member.id)
}

#[cfg(test)]
mod tests;
