//! Setting a member's password: the member changing it (with their current one), a recovery
//! code or an e-mailed link resetting it, an operator's `hearth admin reset-password`.
//!
//! Each is the same two steps, so every way in ends the same sessions: [`new_password_hash`]
//! (the registration rules, then argon2id, before any transaction) and [`set_password_in`]
//! (inside the caller's transaction: the hash stored, and every session ended but the one kept).

use diesel::prelude::*;

use crate::accounts::throttle::{self, Reservation, SignInKeys};
use crate::accounts::{passwords, sessions};
use crate::db::schema::members;
use crate::db::{write_tx_unseen, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::ids::{MemberId, SessionId};
use crate::mail::links::{self, Purpose};
use crate::model::Member;

/// Checks a new password against the registration rules (its errors on the field `password`).
pub fn check_new_password(username: &str, password: &str) -> Result<()> {
    let mut invalid = Invalid::default();
    passwords::check_new_password(password, username, &mut invalid);
    invalid.into_result()
}

/// The checked new password's argon2id hash: the slow part, done before any transaction.
pub fn new_password_hash(username: &str, password: &str) -> Result<String> {
    check_new_password(username, password)?;
    passwords::hash(password)
}

/// The letters of [`generated_password`]: no look-alikes (0/o, 1/l/i), lower case only, so
/// it can be read aloud or typed from a phone's screen.
const GENERATED_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A new strong password for an operator to hand on (`hearth admin reset-password
/// --generate`): five groups of five letters and digits from the operating system's random
/// source, about 124 bits. It passes [`check_new_password`] for any username.
pub fn generated_password() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let alphabet_len = GENERATED_ALPHABET.len() as u32;
    // Rejection sampling: bytes past the last whole multiple of the alphabet are drawn again,
    // so every letter is equally likely.
    let limit = (256 / alphabet_len) * alphabet_len;
    let mut letters = Vec::with_capacity(29);
    while letters.len() < 25 {
        let mut byte = [0u8; 1];
        OsRng.fill_bytes(&mut byte);
        let value = u32::from(byte[0]);
        if value < limit {
            let index = usize::try_from(value % alphabet_len).unwrap_or_default();
            letters.push(GENERATED_ALPHABET[index]);
        }
    }
    letters
        .chunks(5)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Inside a write transaction: stores `password_hash` as the member's password and ends every
/// session of theirs but `keep` (`None` ends them all), and any reset link mailed to them stops
/// working. Returns how many sessions ended.
pub fn set_password_in(
    conn: &mut DbConn,
    member_id: MemberId,
    password_hash: &str,
    keep: Option<SessionId>,
) -> Result<usize> {
    let changed = diesel::update(members::table.find(member_id))
        .set(members::password_hash.eq(password_hash))
        .execute(conn)?;
    if changed == 0 {
        return Err(Error::NotFound);
    }
    links::retire(conn, member_id, Purpose::Reset, crate::clock::now())?;
    sessions::end_others_in(conn, member_id, keep)
}

/// Sets a new password (checked and hashed first) and ends every session of the member but
/// `keep`, in one transaction. Returns how many sessions ended.
pub fn set_password(
    conn: &mut DbConn,
    member: &Member,
    new_password: &str,
    keep: Option<SessionId>,
) -> Result<usize> {
    let hash = new_password_hash(&member.username, new_password)?;
    write_tx_unseen(conn, |conn| set_password_in(conn, member.id, &hash, keep))
}

/// A member changing their own password on `/settings`: their current password is checked as
/// a sign-in is (the attempt was counted by [`throttle::reserve`] under `keys`, so a stolen
/// session cannot guess it), then the new one is set and every other session ends; `this`
/// session stays. A wrong current password is an error on the field `current_password`.
pub fn change_password(
    conn: &mut DbConn,
    keys: &SignInKeys,
    reservation: Reservation,
    member: &Member,
    current_password: &str,
    new_password: &str,
    this: SessionId,
) -> Result<usize> {
    if let Err(invalid) = check_new_password(&member.username, new_password) {
        throttle::release(conn, &reservation)?;
        return Err(invalid);
    }
    match throttle::authenticate(conn, keys, reservation, &member.username, current_password) {
        Ok(checked) if checked.id == member.id => {}
        Ok(_) => return Err(Error::NotFound),
        Err(Error::BadCredentials) => {
            return Err(Error::invalid(
                "current_password",
                "that is not your current password; your password was not changed",
            ))
        }
        Err(other) => return Err(other),
    }
    set_password(conn, member, new_password, Some(this))
}

/// Checks a member's password before a sensitive change (new recovery codes), counted like a
/// sign-in. A wrong one is an error on the field `field`.
pub fn confirm_password(
    conn: &mut DbConn,
    keys: &SignInKeys,
    reservation: Reservation,
    member: &Member,
    password: &str,
    field: &'static str,
) -> Result<()> {
    match throttle::authenticate(conn, keys, reservation, &member.username, password) {
        Ok(checked) if checked.id == member.id => Ok(()),
        Ok(_) => Err(Error::NotFound),
        Err(Error::BadCredentials) => Err(Error::invalid(
            field,
            "that is not your password; nothing was changed",
        )),
        Err(other) => Err(other),
    }
}

/// A password typed again to confirm something sensitive (leaving, an export), its attempt
/// already counted by [`throttle::reserve`] under `keys`: checked as a sign-in is, so a stolen
/// session cannot guess it.
pub struct Confirmation<'a> {
    pub keys: &'a SignInKeys,
    pub reservation: Reservation,
    pub password: &'a str,
}

impl Confirmation<'_> {
    /// [`confirm_password`] for this attempt; a wrong password is an error on `field`.
    pub fn check(self, conn: &mut DbConn, member: &Member, field: &'static str) -> Result<()> {
        confirm_password(
            conn,
            self.keys,
            self.reservation,
            member,
            self.password,
            field,
        )
    }
}

#[cfg(test)]
mod tests;
