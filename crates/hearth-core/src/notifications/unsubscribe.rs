//! The one-click unsubscribe link of notification mail (RFC 8058): a token per member and
//! purpose, signed with a site secret, so that whoever holds the mail can stop it without
//! signing in, and nobody can make one for another member. `GET /unsubscribe/{token}` shows a
//! button; `POST` (the button, or the mail client's `List-Unsubscribe=One-Click`) switches the
//! member's notification mail to never.

use diesel::prelude::*;

use crate::accounts::tokens::{is_signed_token_for, signed_token_for, site_secret};
use crate::db::schema::members;
use crate::db::{write_tx_unseen, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::model::MemberStatus;

/// The site secret the tokens are signed with.
const SECRET: &str = "mail_unsubscribe";

/// What a token stops: only notification mail for now. Part of what is signed, so a token
/// for one purpose does nothing for another.
const PURPOSE: &str = "notification-mail";

fn subject(member: MemberId) -> String {
    format!("{PURPOSE}:{member}")
}

/// A new token for the member: `{member id}.{nonce}.{tag}`.
pub fn token_for(conn: &mut DbConn, member: MemberId) -> Result<String> {
    let key = site_secret(conn, SECRET)?;
    Ok(format!(
        "{member}.{}",
        signed_token_for(&key, &subject(member))
    ))
}

/// The member a token was made for; not found for anything else (a token changed in any
/// character, one for another member or purpose, a member since deleted or who left: a
/// former member's old link does nothing).
pub fn member_of(conn: &mut DbConn, token: &str) -> Result<MemberId> {
    let key = site_secret(conn, SECRET)?;
    let member = signed_member(&key, token)?;
    still_here(conn, member)
}

/// The member whose id the token names, if the signature under it is right.
fn signed_member(key: &[u8], token: &str) -> Result<MemberId> {
    let (id_text, signed) = token.split_once('.').ok_or(Error::NotFound)?;
    // Only the canonical spelling of the id is signed ("007" is not "7").
    let id: i64 = id_text
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0 && id.to_string() == id_text)
        .ok_or(Error::NotFound)?;
    let member = MemberId(id);
    if !is_signed_token_for(key, &subject(member), signed) {
        return Err(Error::NotFound);
    }
    Ok(member)
}

/// The member, unless their row is gone or is the tombstone of one who left.
fn still_here(conn: &mut DbConn, member: MemberId) -> Result<MemberId> {
    members::table
        .find(member)
        .filter(members::status.ne(MemberStatus::Deleted.as_str()))
        .select(members::id)
        .get_result::<MemberId>(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// Switches the token's member's notification mail to never. Returns whether it was on.
/// The member is looked up inside the transaction that writes, so a departure carried out
/// meanwhile is not followed by a new preferences row for the former member.
pub fn unsubscribe(conn: &mut DbConn, token: &str, now: chrono::NaiveDateTime) -> Result<bool> {
    let key = site_secret(conn, SECRET)?;
    let member = signed_member(&key, token)?;
    write_tx_unseen(conn, |conn| {
        let member = still_here(conn, member)?;
        super::email::switch_off(conn, member, now)
    })
}
