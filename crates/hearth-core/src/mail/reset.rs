//! A forgotten password reset by mail. Whoever asks gets the same answer, after the same work:
//! each request is counted (per network address and per address or name typed, as HMACs) and,
//! only when it names a member with a verified address, a one-time link is queued, all in one
//! transaction either way; no password is hashed before a link is opened. The link works once,
//! for `reset_link_minutes`; the new password ends every session of the member.

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::links::{self, Purpose};
use super::settings::EmailSettings;
use super::{enqueue, escape_html, Mail, MailKind, Site};
use crate::accounts::throttle::{hash_key, network_of};
use crate::accounts::{credentials, members, tokens};
use crate::db::schema::{email_addresses, mail_requests, members as members_table};
use crate::db::{lock_name, write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::model::{Member, MemberStatus};

/// The site secret the request keys are HMACs under.
const SECRET_NAME: &str = "mail-requests";

/// What the forgotten-password page answers every request within the limits.
pub const SAME_ANSWER: &str = "If that matches an account with a verified e-mail address, we \
     sent a link to it. Open it soon: it works once, and only for a short while.";

/// Counts the request and, when `typed` (an address or a username) names a member with a
/// verified address, queues a reset link to it. Answers the same whether or not it did.
pub fn request(
    conn: &mut DbConn,
    typed: &str,
    from: IpAddr,
    settings: &EmailSettings,
    site: &Site,
    now: NaiveDateTime,
) -> Result<()> {
    if !settings.enabled() {
        return Err(Error::invalid("who", super::EMAIL_OFF));
    }
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(Error::invalid(
            "who",
            "type your e-mail address or your username",
        ));
    }
    let secret = tokens::site_secret(conn, SECRET_NAME)?;
    let keys = [
        hash_key(&secret, &format!("reset-ip:{}", network_of(from))),
        hash_key(&secret, &format!("reset-who:{}", typed.to_lowercase())),
    ];
    write_tx(conn, |conn| {
        for key in &keys {
            lock_name(conn, &format!("mail-request:{key}"))?;
        }
        check_limits(conn, &keys, settings, now)?;
        for key in &keys {
            diesel::insert_into(mail_requests::table)
                .values((
                    mail_requests::key_hash.eq(key),
                    mail_requests::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        let Some((member, address)) = find(conn, typed)? else {
            return Ok(());
        };
        let minutes = i64::from(settings.reset_link_minutes.max(1));
        let token = links::issue(
            conn,
            member.id,
            Purpose::Reset,
            None,
            TimeDelta::minutes(minutes),
            now,
        )?;
        enqueue(
            conn,
            &reset_mail(&member, &address, &token, minutes, site),
            now,
            now,
        )?;
        Ok(())
    })
}

fn check_limits(
    conn: &mut DbConn,
    keys: &[String],
    settings: &EmailSettings,
    now: NaiveDateTime,
) -> Result<()> {
    let limit = settings.reset_requests_per_hour;
    if limit == 0 {
        return Ok(());
    }
    for key in keys {
        let recent: i64 = mail_requests::table
            .filter(mail_requests::key_hash.eq(key))
            .filter(mail_requests::created_at.gt(now - TimeDelta::hours(1)))
            .count()
            .get_result(conn)?;
        if recent >= i64::from(limit) {
            return Err(Error::RateLimited {
                retry_after_seconds: 3600,
                reason: format!(
                    "at most {limit} password-reset mails can be asked for in an hour, from \
                     one network and for one account; nothing was sent, so try again in an hour"
                ),
            });
        }
    }
    Ok(())
}

/// The member `typed` names (by verified address, or by username) and their verified address.
fn find(conn: &mut DbConn, typed: &str) -> Result<Option<(Member, String)>> {
    let lower = typed.to_lowercase();
    let by_address: Option<MemberId> = email_addresses::table
        .filter(email_addresses::address_lower.eq(&lower))
        .filter(email_addresses::verified_at.is_not_null())
        .select(email_addresses::member_id)
        .first(conn)
        .optional()?;
    let id = match by_address {
        Some(id) => Some(id),
        None => members_table::table
            .filter(members_table::username_lower.eq(&lower))
            .select(members_table::id)
            .first(conn)
            .optional()?,
    };
    let Some(id) = id else { return Ok(None) };
    let member = members::by_id(conn, id)?;
    if member.status == MemberStatus::Deleted {
        return Ok(None);
    }
    Ok(super::addresses::verified_for(conn, id)?.map(|address| (member, address)))
}

/// The page a reset link opens, under the site's public address.
pub fn link_url(site_url: &str, token: &str) -> String {
    format!("{}/forgot/email/{token}", site_url.trim_end_matches('/'))
}

/// A reset link for the operator to hand on (`hearth admin reset-password --link`): the same
/// single-use link, kept as a hash, as a mailed one, working for `lifetime`, but given to the
/// caller instead of mailed. In one transaction every session of the member ends and any
/// earlier reset link stops working. Returns the token and how many sessions ended.
pub fn issue_without_mail(
    conn: &mut DbConn,
    member: &Member,
    lifetime: TimeDelta,
    now: NaiveDateTime,
) -> Result<(String, usize)> {
    if member.status == MemberStatus::Deleted {
        return Err(Error::NotFound);
    }
    write_tx(conn, |conn| {
        let token = links::issue(conn, member.id, Purpose::Reset, None, lifetime, now)?;
        let ended = crate::accounts::sessions::end_all_in(conn, member.id)?;
        Ok((token, ended))
    })
}

fn reset_mail(member: &Member, address: &str, token: &str, minutes: i64, site: &Site) -> Mail {
    let link = link_url(&site.url, token);
    Mail {
        member_id: Some(member.id),
        to: address.to_owned(),
        kind: MailKind::PasswordReset,
        subject: format!("Choose a new password for {}", site.name),
        text: format!(
            "Hello {name},\n\nSomeone, probably you, asked to reset the password of your \
             account {name} on {site}. To choose a new one, open this link within {minutes} \
             minutes (it works once):\n\n{link}\n\nChoosing a new password signs you out \
             everywhere. If it was not you, ignore this mail: your password stays as it is.\n",
            name = member.username,
            site = site.name,
        ),
        html: format!(
            "<p>Hello {name},</p><p>Someone, probably you, asked to reset the password of your \
             account {name} on {site}. To choose a new one, open this link within {minutes} \
             minutes (it works once):</p><p><a href=\"{link}\">{link}</a></p><p>Choosing a new \
             password signs you out everywhere. If it was not you, ignore this mail: your \
             password stays as it is.</p>",
            name = escape_html(&member.username),
            site = escape_html(&site.name),
            link = escape_html(&link),
        ),
        unsubscribe_url: None,
    }
}

/// The member a reset link is for, if it still works (for its page).
pub fn for_link(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Member> {
    let link = links::live(conn, Purpose::Reset, token, now)?.ok_or(Error::NotFound)?;
    members::by_id(conn, link.member)
}

/// Opens a reset link with a new password: the link is used, the password set, and every
/// session of the member ended, in one transaction (of two at once, one wins).
pub fn complete(
    conn: &mut DbConn,
    token: &str,
    new_password: &str,
    now: NaiveDateTime,
) -> Result<Member> {
    let member = for_link(conn, token, now)?;
    let password_hash = credentials::new_password_hash(&member.username, new_password)?;
    write_tx(conn, |conn| {
        let claimed = links::claim(conn, Purpose::Reset, token, now)?.ok_or(Error::NotFound)?;
        if claimed.member != member.id {
            return Err(Error::NotFound);
        }
        // Every session of the member ends with it.
        credentials::set_password_in(conn, member.id, &password_hash, None)
    })?;
    Ok(member)
}

#[cfg(test)]
mod tests;
