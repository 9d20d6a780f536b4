//! A member's own address: added or changed (a verification link is mailed to it, and it gets
//! nothing else until the link is opened), verified, removed.
//!
//! Adding, changing and removing ask for the member's password, checked as a sign-in is (so a
//! stolen session can neither guess it nor point the account's reset mail elsewhere). A new
//! address waits on its link (`mail_links.address`) until it is verified: the verified one
//! keeps getting reset and notification mail meanwhile, and is told of the change.
//!
//! Nobody can use this to flood an inbox: the links one member can have sent, and one address
//! can receive, are counted in `mail_links` per hour and per day. Nor can anyone learn whether
//! an address belongs to a member: every request within the limits is counted first and
//! answered the same ([`SAME_ANSWER`]); when another member verified the address, nothing is
//! sent to it.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::links::{self, Purpose};
use super::settings::EmailSettings;
use super::{enqueue, escape_html, Mail, MailKind, Site};
use crate::accounts::credentials;
use crate::accounts::throttle::{self, Reservation, SignInKeys};
use crate::db::schema::email_addresses;
use crate::db::{lock_name, write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::model::Member;

/// An address has at most this many characters (RFC 5321's path limit).
pub const MAX_ADDRESS_CHARS: usize = 254;

/// What the member is told after asking for a link, whether or not one was sent.
pub const SAME_ANSWER: &str = "If this address can be used, we sent a link to it. Open it to \
     confirm the address; until then it gets nothing else from us.";

/// The member's address as their settings show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OwnAddress {
    /// The verified address, or (with `verified` false) the one waiting to be confirmed.
    pub address: String,
    pub verified: bool,
    /// Beside a verified address: the one it is being changed to, not confirmed yet.
    pub pending: Option<String>,
}

/// What asking to verify an address did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Asked: a link may be on its way (see [`SAME_ANSWER`]).
    Asked,
    /// The member had already verified this address: nothing was sent.
    AlreadyVerified,
}

/// The member's address, verified or waiting, if they gave one.
pub fn address_of(
    conn: &mut DbConn,
    member: MemberId,
    now: NaiveDateTime,
) -> Result<Option<OwnAddress>> {
    let row: Option<(String, Option<NaiveDateTime>)> = email_addresses::table
        .find(member)
        .select((email_addresses::address, email_addresses::verified_at))
        .first(conn)
        .optional()?;
    let pending = links::pending_address(conn, member, now)?;
    Ok(match (row, pending) {
        (Some((address, Some(_))), pending) => Some(OwnAddress {
            address,
            verified: true,
            pending,
        }),
        (_, Some(pending)) => Some(OwnAddress {
            address: pending,
            verified: false,
            pending: None,
        }),
        // Waiting from before pending addresses were kept on their link.
        (Some((address, None)), None) => Some(OwnAddress {
            address,
            verified: false,
            pending: None,
        }),
        (None, None) => None,
    })
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

/// The verified address of the member, as `(address, address_lower)`.
fn verified_row(conn: &mut DbConn, member: MemberId) -> Result<Option<(String, String)>> {
    Ok(email_addresses::table
        .find(member)
        .filter(email_addresses::verified_at.is_not_null())
        .select((email_addresses::address, email_addresses::address_lower))
        .first(conn)
        .optional()?)
}

/// Whether a member other than `member` verified `lower`.
fn verified_by_another(conn: &mut DbConn, member: MemberId, lower: &str) -> Result<bool> {
    let other: Option<MemberId> = email_addresses::table
        .filter(email_addresses::address_lower.eq(lower))
        .filter(email_addresses::member_id.ne(member))
        .filter(email_addresses::verified_at.is_not_null())
        .select(email_addresses::member_id)
        .first(conn)
        .optional()?;
    Ok(other.is_some())
}

/// With the member's password (checked and counted as a sign-in is, under `keys`): asks to
/// verify `typed` as their new address. Within the limits, the request is counted and answered
/// the same whoever holds the address; the link goes to it unless another member verified it,
/// and a verified address the member has now is told of the change. It stays theirs until the
/// new one is verified.
#[allow(clippy::too_many_arguments)]
pub fn request(
    conn: &mut DbConn,
    keys: &SignInKeys,
    reservation: Reservation,
    member: &Member,
    typed: &str,
    password: &str,
    settings: &EmailSettings,
    site: &Site,
    now: NaiveDateTime,
) -> Result<Requested> {
    let checked = if settings.enabled() {
        check_address(typed)
    } else {
        Err(Error::invalid("address", super::EMAIL_OFF))
    };
    let address = match checked {
        Ok(address) => address,
        Err(invalid) => {
            throttle::release(conn, &reservation)?;
            return Err(invalid);
        }
    };
    credentials::confirm_password(conn, keys, reservation, member, password, "password")?;
    let lower = address.to_lowercase();
    write_tx(conn, |conn| {
        lock_name(conn, &format!("mail-verify-member:{}", member.id))?;
        lock_name(conn, &format!("mail-verify-address:{lower}"))?;
        let own = verified_row(conn, member.id)?;
        if matches!(&own, Some((_, own_lower)) if *own_lower == lower) {
            // Back to the address they have: a change under way is called off.
            links::retire(conn, member.id, Purpose::Verify, now)?;
            return Ok(Requested::AlreadyVerified);
        }
        // Counted before anything depends on who holds the address.
        check_limits(conn, member.id, &lower, settings, now)?;
        let lifetime = TimeDelta::hours(i64::from(settings.verification_link_hours.max(1)));
        let token = links::issue(
            conn,
            member.id,
            Purpose::Verify,
            Some(&address),
            lifetime,
            now,
        )?;
        // An address waiting from before is replaced by this one (which waits on its link).
        diesel::delete(
            email_addresses::table
                .find(member.id)
                .filter(email_addresses::verified_at.is_null()),
        )
        .execute(conn)?;
        if !verified_by_another(conn, member.id, &lower)? {
            enqueue(
                conn,
                &verification_mail(member, &address, &token, settings, site),
                now,
                now,
            )?;
        }
        if let Some((old, _)) = own {
            enqueue(conn, &change_notice(member, &old, site), now, now)?;
        }
        Ok(Requested::Asked)
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

/// The short notice to the verified address that the member asked to change it.
fn change_notice(member: &Member, old_address: &str, site: &Site) -> Mail {
    let settings_link = format!("{}/settings", site.url);
    Mail {
        member_id: Some(member.id),
        to: old_address.to_owned(),
        kind: MailKind::AddressChange,
        subject: format!("Your e-mail address on {} is being changed", site.name),
        text: format!(
            "Hello {name},\n\nSomeone signed in as {name} on {site} asked to change the account's \
             e-mail address from this one to another. Until the new address is confirmed, this \
             one keeps getting the account's mail.\n\nIf this was you, there is nothing to do. \
             If it was not you, change your password now, which signs out everyone else:\n\n\
             {settings_link}\n",
            name = member.username,
            site = site.name,
        ),
        html: format!(
            "<p>Hello {name},</p><p>Someone signed in as {name} on {site} asked to change the \
             account's e-mail address from this one to another. Until the new address is \
             confirmed, this one keeps getting the account's mail.</p><p>If this was you, \
             there is nothing to do. If it was not you, change your password now, which signs \
             out everyone else: <a href=\"{link}\">{link}</a></p>",
            name = escape_html(&member.username),
            site = escape_html(&site.name),
            link = escape_html(&settings_link),
        ),
        unsubscribe_url: None,
    }
}

/// The address a link's row is for: the one it keeps or, for a link made before addresses were
/// kept on links, the member's waiting address with that spelling.
fn address_for(conn: &mut DbConn, link: &links::Link) -> Result<Option<(String, String)>> {
    let Some(lower) = link.address_lower.clone() else {
        return Ok(None);
    };
    if let Some(address) = link.address.clone() {
        return Ok(Some((address, lower)));
    }
    let waiting: Option<String> = email_addresses::table
        .find(link.member)
        .filter(email_addresses::address_lower.eq(&lower))
        .select(email_addresses::address)
        .first(conn)
        .optional()?;
    Ok(waiting.map(|address| (address, lower)))
}

/// The address a verification link would verify, if it still works (for its page).
pub fn for_link(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<String> {
    let link = links::live(conn, Purpose::Verify, token, now)?.ok_or(Error::NotFound)?;
    let (address, lower) = address_for(conn, &link)?.ok_or(Error::NotFound)?;
    if verified_by_another(conn, link.member, &lower)? {
        return Err(Error::NotFound);
    }
    Ok(address)
}

/// Opens a verification link: the address it was sent to becomes the member's verified one
/// (once; a link replaced by a newer one, or whose address another member verified meanwhile,
/// verifies nothing). A reset link mailed to the address it replaces stops working.
pub fn verify(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<String> {
    write_tx(conn, |conn| {
        let link = links::claim(conn, Purpose::Verify, token, now)?.ok_or(Error::NotFound)?;
        let (address, lower) = address_for(conn, &link)?.ok_or(Error::NotFound)?;
        lock_name(conn, &format!("mail-verify-address:{lower}"))?;
        if verified_by_another(conn, link.member, &lower)? {
            return Err(Error::NotFound);
        }
        // Another member's claim that was never verified is theirs no longer, nor its link.
        links::retire_others_for_address(conn, link.member, &lower, now)?;
        diesel::delete(
            email_addresses::table
                .filter(email_addresses::address_lower.eq(&lower))
                .filter(email_addresses::member_id.ne(link.member))
                .filter(email_addresses::verified_at.is_null()),
        )
        .execute(conn)?;
        let before = verified_row(conn, link.member)?;
        if before.as_ref().map(|(_, l)| l) != Some(&lower) {
            links::retire(conn, link.member, Purpose::Reset, now)?;
        }
        diesel::delete(email_addresses::table.find(link.member)).execute(conn)?;
        diesel::insert_into(email_addresses::table)
            .values((
                email_addresses::member_id.eq(link.member),
                email_addresses::address.eq(&address),
                email_addresses::address_lower.eq(&lower),
                email_addresses::verified_at.eq(now),
                email_addresses::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(address)
    })
}

/// With the member's password (checked and counted as a sign-in is): removes their address and
/// any change under way: no more mail to it, and its links (verification and reset) stop
/// working. A wrong password is an error on the field `remove_password`.
pub fn remove(
    conn: &mut DbConn,
    keys: &SignInKeys,
    reservation: Reservation,
    member: &Member,
    password: &str,
    now: NaiveDateTime,
) -> Result<()> {
    credentials::confirm_password(conn, keys, reservation, member, password, "remove_password")?;
    write_tx(conn, |conn| {
        diesel::delete(email_addresses::table.find(member.id)).execute(conn)?;
        links::retire_all_for(conn, member.id, now)?;
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests;
