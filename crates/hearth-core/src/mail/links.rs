//! One-time links sent by mail (`mail_links`): a new address's verification and a password
//! reset. The token is in the mail only; the table keeps its SHA-256. A link works once and
//! until it expires, and a newer link of the same purpose for the same member replaces it.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::accounts::tokens::{hash_token, random_token};
use crate::db::schema::{mail_links, mail_requests};
use crate::db::{write_tx_unseen, DbConn};
use crate::error::Result;
use crate::ids::MemberId;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Verify,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
        }
    }
}

/// Inside a write transaction: a new link for `member` (the earlier unused ones of the same
/// purpose stop working). Returns the token for the mail.
pub(crate) fn issue(
    conn: &mut DbConn,
    member: MemberId,
    purpose: Purpose,
    address_lower: Option<&str>,
    lifetime: TimeDelta,
    now: NaiveDateTime,
) -> Result<String> {
    retire(conn, member, purpose, now)?;
    let token = random_token();
    diesel::insert_into(mail_links::table)
        .values((
            mail_links::member_id.eq(member),
            mail_links::purpose.eq(purpose.as_str()),
            mail_links::token_hash.eq(hash_token(&token)),
            mail_links::address_lower.eq(address_lower),
            mail_links::created_at.eq(now),
            mail_links::expires_at.eq(now + lifetime),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Inside a write transaction: the member's unused links of `purpose` stop working.
pub(crate) fn retire(
    conn: &mut DbConn,
    member: MemberId,
    purpose: Purpose,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::update(
        mail_links::table
            .filter(mail_links::member_id.eq(member))
            .filter(mail_links::purpose.eq(purpose.as_str()))
            .filter(mail_links::used_at.is_null()),
    )
    .set(mail_links::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Inside a write transaction: every unused link of the member (verification and reset) stops
/// working. Asking to leave calls it, so no mailed link outlives that decision.
pub fn retire_all_for(conn: &mut DbConn, member: MemberId, now: NaiveDateTime) -> Result<()> {
    diesel::update(
        mail_links::table
            .filter(mail_links::member_id.eq(member))
            .filter(mail_links::used_at.is_null()),
    )
    .set(mail_links::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// The member (and address) of a link that still works, without using it.
pub(crate) fn live(
    conn: &mut DbConn,
    purpose: Purpose,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<(MemberId, Option<String>)>> {
    Ok(mail_links::table
        .filter(mail_links::token_hash.eq(hash_token(token)))
        .filter(mail_links::purpose.eq(purpose.as_str()))
        .filter(mail_links::used_at.is_null())
        .filter(mail_links::expires_at.gt(now))
        .select((mail_links::member_id, mail_links::address_lower))
        .first(conn)
        .optional()?)
}

/// Inside a write transaction: uses the link if it still works (of two at once, one wins).
pub(crate) fn claim(
    conn: &mut DbConn,
    purpose: Purpose,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<(MemberId, Option<String>)>> {
    Ok(diesel::update(
        mail_links::table
            .filter(mail_links::token_hash.eq(hash_token(token)))
            .filter(mail_links::purpose.eq(purpose.as_str()))
            .filter(mail_links::used_at.is_null())
            .filter(mail_links::expires_at.gt(now)),
    )
    .set(mail_links::used_at.eq(now))
    .returning((mail_links::member_id, mail_links::address_lower))
    .get_result(conn)
    .optional()?)
}

/// How many verification links were made since `since` for the member, and for the address.
pub(crate) fn verifications_since(
    conn: &mut DbConn,
    member: MemberId,
    address_lower: &str,
    since: NaiveDateTime,
) -> Result<(i64, i64)> {
    let recent = mail_links::table
        .filter(mail_links::purpose.eq(Purpose::Verify.as_str()))
        .filter(mail_links::created_at.gt(since));
    let for_member: i64 = recent
        .filter(mail_links::member_id.eq(member))
        .count()
        .get_result(conn)?;
    let for_address: i64 = recent
        .filter(mail_links::address_lower.eq(address_lower))
        .count()
        .get_result(conn)?;
    Ok((for_member, for_address))
}

/// Links expired over a day ago (what limits count is at most a day old), and reset requests
/// older than their hour, are deleted; `hearth serve` runs this hourly.
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize> {
    write_tx_unseen(conn, |conn| {
        let links = diesel::delete(
            mail_links::table.filter(mail_links::expires_at.lt(now - TimeDelta::days(1))),
        )
        .execute(conn)?;
        let requests = diesel::delete(
            mail_requests::table.filter(mail_requests::created_at.lt(now - TimeDelta::hours(1))),
        )
        .execute(conn)?;
        Ok(links + requests)
    })
}
