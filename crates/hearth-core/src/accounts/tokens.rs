//! Random secrets (session ids, setup links, CSRF tokens), the hashes stored in their place,
//! and tokens signed with a secret of the site.
//!
//! The database keeps only a SHA-256 of a bearer token, so a leaked backup cannot be replayed
//! as a live session.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::db::schema::site_secrets;
use crate::db::{per_connection, write_tx_unseen, DbConn};
use crate::error::{Error, Result};

/// 256 random bits, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that does not depend on where they first differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The site's secret called `name`: made at random the first time any server process asks for
/// it, then read by all of them (two processes asking at once get the same one).
pub fn site_secret(conn: &mut DbConn, name: &str) -> Result<Vec<u8>> {
    let read = |conn: &mut DbConn| {
        site_secrets::table
            .find(name)
            .select(site_secrets::secret)
            .get_result::<String>(conn)
            .optional()
    };
    let secret = match read(conn)? {
        Some(secret) => secret,
        None => {
            let made = random_token();
            // No page shows it: making it leaves the pages kept for visitors alone.
            write_tx_unseen(conn, |conn| {
                let insert = diesel::insert_into(site_secrets::table)
                    .values((site_secrets::name.eq(name), site_secrets::secret.eq(&made)))
                    .on_conflict_do_nothing();
                per_connection!(conn, |c| insert.execute(c))?;
                Ok(())
            })?;
            read(conn)?
                .ok_or_else(|| Error::Internal(format!("the site secret {name} is missing")))?
        }
    };
    URL_SAFE_NO_PAD
        .decode(secret)
        .map_err(|_| Error::Internal(format!("the site secret {name} is not base64")))
}

/// A token only the holder of `key` can make: 128 random bits and their HMAC-SHA256 under
/// `key`, as `nonce.tag` (22 + 1 + 43 characters, URL-safe).
pub fn signed_token(key: &[u8]) -> String {
    signed_token_for(key, "")
}

/// Whether `token` was made by [`signed_token`] with `key`.
pub fn is_signed_token(key: &[u8], token: &str) -> bool {
    is_signed_token_for(key, "", token)
}

/// As [`signed_token`], but good only for `subject` (say, one account): the same token does
/// not verify for another.
pub fn signed_token_for(key: &[u8], subject: &str) -> String {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    let tag = URL_SAFE_NO_PAD.encode(nonce_mac(key, subject, &nonce).finalize().into_bytes());
    format!("{nonce}.{tag}")
}

/// Whether `token` was made by [`signed_token_for`] with `key` and `subject`.
pub fn is_signed_token_for(key: &[u8], subject: &str, token: &str) -> bool {
    let Some((nonce, tag)) = token.split_once('.') else {
        return false;
    };
    if nonce.len() != 22 {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    // `verify_slice` compares in constant time.
    nonce_mac(key, subject, nonce).verify_slice(&tag).is_ok()
}

fn nonce_mac(key: &[u8], subject: &str, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    if !subject.is_empty() {
        // A nonce is base64 (no newline): the subject cannot run into it.
        mac.update(subject.as_bytes());
        mac.update(b"\n");
    }
    mac.update(nonce.as_bytes());
    mac
}

#[cfg(test)]
mod tests;
