//! A member's own address: added or changed (a verification link is mailed to it, and it gets
//! nothing else until the link is opened), verified, removed.
//!
//! Nobody can use this to flood an inbox: the links one member can have sent, and one address
//! can receive, are counted in `mail_links` per hour and per day. An address another member
//! has verified is refused with words that do not say who has it; one another member only
//! claimed (never verified) is theirs no longer.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::links::{self, Purpose};
use super::settings::EmailSettings;
use super::{enqueue, escape_html, Mail, MailKind, Site};
use crate::db::schema::email_addresses;
use crate::db::{lock_name, write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::model::Member;

/// An address has at most this many characters (RFC 5321's path limit).
pub const MAX_ADDRESS_CHARS: usize = 254;

/// The member's address as their settings show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwnAddress {
    pub address: String,
    pub verified: bool,
}

/// What asking to verify an address did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// A link is on its way to this address.
    Sent(String),
    /// The member had already verified this address: nothing was sent.
    AlreadyVerified,
}

/// The member's address, verified or waiting, if they gave one.
pub fn address_of(conn: &mut DbConn, member: MemberId) -> Result<Option<OwnAddress>> {
    let row: Option<(String, Option<NaiveDateTime>)> = email_addresses::table
        .find(member)
        .select((email_addresses::address, email_addresses::verified_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(address, verified_at)| OwnAddress {
        address,
        verified: verified_at.is_some(),
    }))
}

/// The typed address, trimmed, if it can be one.
pub fn check_address(typed: &str) -> Result<String> {
    let address = typed.trim();
    let message = if address.is_empty() {
        Some("type your e-mail address".to_owned())
    } else if address.chars().count() > MAX_ADDRESS_CHARS {
        Some(format!(
            "an e-mail address has at most {MAX_ADDRESS_CHARS} characters"
        ))
    } else if address.parse::<lettre::Address>().is_err() {
        Some("that is not an e-mail address: it looks like name@example.org".to_owned())
    } else {
        None
    };
    match message {
        Some(message) => Err(Error::invalid("address", message)),
        None => Ok(address.to_owned()),
    }
}

/// Sets the member's address to `typed` (unverified) and queues its verification link, within
/// the limits; an address they verified already is left as it is.
pub fn request(
    conn: &mut DbConn,
    member: &Member,
    typed: &str,
    settings: &EmailSettings,
    site: &Site,
    now: NaiveDateTime,
) -> Result<Requested> {
    if !settings.enabled() {
        return Err(Error::invalid("address", super::EMAIL_OFF));
    }
    let address = check_address(typed)?;
    let lower = address.to_lowercase();
    write_tx(conn, |conn| {
        lock_name(conn, &format!("mail-verify-member:{}", member.id))?;
        lock_name(conn, &format!("mail-verify-address:{lower}"))?;
        let own: Option<(String, Option<NaiveDateTime>)> = email_addresses::table
            .find(member.id)
            .select((email_addresses::address_lower, email_addresses::verified_at))
            .first(conn)
            .optional()?;
        if matches!(&own, Some((own_lower, Some(_))) if *own_lower == lower) {
            return Ok(Requested::AlreadyVerified);
        }
        let holder: Option<(MemberId, Option<NaiveDateTime>)> = email_addresses::table
            .filter(email_addresses::address_lower.eq(&lower))
            .filter(email_addresses::member_id.ne(member.id))
            .select((email_addresses::member_id, email_addresses::verified_at))
            .first(conn)
            .optional()?;
        match holder {
            Some((_, Some(_))) => {
                return Err(Error::invalid(
                    "address",
                    "that address cannot be used for this account; try another one",
                ))
            }
            // Claimed, never verified: the claim goes, and so does its link.
            Some((other, None)) => {
                diesel::delete(email_addresses::table.find(other)).execute(conn)?;
                links::retire(conn, other, Purpose::Verify, now)?;
            }
            None => {}
        }
        check_limits(conn, member.id, &lower, settings, now)?;
        diesel::delete(email_addresses::table.find(member.id)).execute(conn)?;
        // A reset link mailed to the address being replaced stops working.
        links::retire(conn, member.id, Purpose::Reset, now)?;
        diesel::insert_into(email_addresses::table)
            .values((
                email_addresses::member_id.eq(member.id),
                email_addresses::address.eq(&address),
                email_addresses::address_lower.eq(&lower),
                email_addresses::created_at.eq(now),
            ))
            .execute(conn)?;
        let lifetime = TimeDelta::hours(i64::from(settings.verification_link_hours.max(1)));
        let token = links::issue(
            conn,
            member.id,
            Purpose::Verify,
            Some(&lower),
            lifetime,
            now,
        )?;
        enqueue(
            conn,
            &verification_mail(member, &address, &token, settings, site),
            now,
            now,
        )?;
        Ok(Requested::Sent(address.clone()))
    })
}

fn check_limits(
    conn: &mut DbConn,
    member: MemberId,
    lower: &str,
    settings: &EmailSettings,
    now: NaiveDateTime,
) -> Result<()> {
    for (limit, window, words) in [
        (
            settings.verification_mails_per_hour,
            TimeDelta::hours(1),
            "an hour",
        ),
        (
            settings.verification_mails_per_day,
            TimeDelta::days(1),
            "a day",
        ),
    ] {
        if limit == 0 {
            continue;
        }
        let (for_member, for_address) =
            links::verifications_since(conn, member, lower, now - window)?;
        if for_member >= i64::from(limit) || for_address >= i64::from(limit) {
            return Err(Error::RateLimited {
                retry_after_seconds: window.num_seconds(),
                reason: format!(
                    "at most {limit} verification mails can be sent in {words}, for one \
                     account and to one address; nothing was sent, so try again later"
                ),
            });
        }
    }
    Ok(())
}

fn verification_mail(
    member: &Member,
    address: &str,
    token: &str,
    settings: &EmailSettings,
    site: &Site,
) -> Mail {
    let link = format!("{}/email/verify/{token}", site.url);
    let hours = settings.verification_link_hours.max(1);
    Mail {
        member_id: Some(member.id),
        to: address.to_owned(),
        kind: MailKind::Verify,
        subject: format!("Confirm your e-mail address for {}", site.name),
        text: format!(
            "Hello {name},\n\nSomeone, probably you, asked {site} to send mail for the account \
             {name} to this address. To confirm it, open this link within {hours} hours:\n\n\
             {link}\n\nIf it was not you, ignore this mail: nothing more will be sent here.\n",
            name = member.username,
            site = site.name,
        ),
        html: format!(
            "<p>Hello {name},</p><p>Someone, probably you, asked {site} to send mail for the \
             account {name} to this address. To confirm it, open this link within {hours} \
             hours:</p><p><a href=\"{link}\">{link}</a></p><p>If it was not you, ignore this \
             mail: nothing more will be sent here.</p>",
            name = escape_html(&member.username),
            site = escape_html(&site.name),
            link = escape_html(&link),
        ),
        unsubscribe_url: None,
    }
}

/// The address a verification link would verify, if it still works (for its page).
pub fn for_link(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<String> {
    let (member, lower) = links::live(conn, Purpose::Verify, token, now)?.ok_or(Error::NotFound)?;
    let address = address_of(conn, member)?.ok_or(Error::NotFound)?;
    if Some(address.address.to_lowercase()) != lower {
        return Err(Error::NotFound);
    }
    Ok(address.address)
}

/// Opens a verification link: the address it was sent to is verified (once; a link for an
/// address the member has since changed or removed verifies nothing).
pub fn verify(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<String> {
    write_tx(conn, |conn| {
        let (member, lower) =
            links::claim(conn, Purpose::Verify, token, now)?.ok_or(Error::NotFound)?;
        let lower = lower.ok_or(Error::NotFound)?;
        let address: String = diesel::update(
            email_addresses::table
                .find(member)
                .filter(email_addresses::address_lower.eq(&lower)),
        )
        .set(email_addresses::verified_at.eq(now))
        .returning(email_addresses::address)
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
        Ok(address)
    })
}

/// Removes the member's address: no more mail to it, and its links (verification and reset)
/// stop working.
pub fn remove(conn: &mut DbConn, member: MemberId, now: NaiveDateTime) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(email_addresses::table.find(member)).execute(conn)?;
        links::retire_all_for(conn, member, now)?;
        Ok(())
    })
}
