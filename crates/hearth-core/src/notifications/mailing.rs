//! Notifications by e-mail: the scheduler `hearth serve` runs every minute ([`send_due`]).
//! It only queues mail (`mail::enqueue`); the mail worker sends it.
//!
//! A notification waits for a mail from when it is written (`mail_pending_since`, kept while
//! later news joins the unread row) until a mail takes it or the member reads it. For each
//! member who chose mail and has a verified address, outside their quiet hours:
//! - *as it happens*: the news of one thread (or conversation…) waits `batch_minutes` from its
//!   first notification, collecting the rest, and goes as one mail; at most `per_day` such mails
//!   in 24 hours, after which the rest waits for a digest at the member's digest hour;
//! - *daily* or *weekly*: one digest at the member's hour (and day) in their own zone of what
//!   waited since before that hour.
//!
//! Every notification is decided again for its reader exactly as `/notifications` decides it
//! (`listing::decided`): one about a post hidden since, a thread moved where they may not read,
//! a conversation they left is never mailed. A member's turn is one transaction that first
//! takes a lock named after the member (PostgreSQL; SQLite has one writer anyway), claims its
//! period in `notification_mails` and its notifications (`UPDATE … WHERE mail_pending_since IS
//! NOT NULL`) and queues the mail: two nodes, or a restart, mail each piece of news once.

mod compose;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Deserialize;

use super::email::{self, EmailMode, MailPreferences, Stored};
use super::listing::{self, Decided};
use super::Kind;
use crate::accounts::actors;
use crate::db::schema::{email_addresses, members, notification_mails, notification_preferences};
use crate::db::schema::{notifications, posts};
use crate::db::{lock_name, per_connection, write_tx_unseen, DbConn};
use crate::error::Result;
use crate::ids::{MemberId, NotificationId};
use crate::mail::{self, addresses, Mail, MailKind};
use crate::model::{Member, Moderation, Publication};

/// The operator's limits on notification mail (`[notification_mail]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MailLimits {
    /// How long the first news of a thread waits for more before its mail goes, in minutes.
    pub batch_minutes: u32,
    /// Mails as it happens per member per 24 hours (digests aside); 0: no limit.
    pub per_day: u32,
    /// Mails queued per run of the scheduler (a minute); the rest go in the next run.
    pub per_run: u32,
}

impl Default for MailLimits {
    fn default() -> MailLimits {
        MailLimits {
            batch_minutes: 15,
            per_day: 12,
            per_run: 500,
        }
    }
}

/// What the scheduler needs to know of the site.
#[derive(Debug, Clone)]
pub struct MailSchedule {
    /// Whether the site sends mail at all (an SMTP host is configured): nothing is queued
    /// otherwise.
    pub enabled: bool,
    pub site_name: String,
    /// The site's address, for the links (a trailing slash is dropped).
    pub public_url: String,
    pub limits: MailLimits,
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailRun {
    /// Mails queued.
    pub mails: usize,
    /// Where the next run starts when this one stopped at `per_run` (else from the first).
    pub resume_after: Option<MemberId>,
}

/// Members read per query while looking for due mail.
const MEMBERS_PER_PAGE: i64 = 200;

/// Notifications one member's turn looks at, the longest waiting first (the rest wait for
/// the next mail).
const ITEMS_PER_TURN: i64 = 100;

/// Claimed periods are kept this long (the longest, a week's digest, and a day to spare).
const PERIODS_KEPT_DAYS: i64 = 8;

/// A member who chose mail, as the first look found them.
struct Candidate {
    member: Member,
    prefs: MailPreferences,
    zone: Tz,
    oldest: NaiveDateTime,
}

/// Queues the notification mail due at `now`, for members after `after` (`None`: from the
/// first), at most `per_run` mails.
pub fn send_due(
    conn: &mut DbConn,
    schedule: &MailSchedule,
    after: Option<MemberId>,
    now: NaiveDateTime,
) -> Result<MailRun> {
    let mut run = MailRun::default();
    if !schedule.enabled {
        return Ok(run);
    }
    let mut cursor = after.unwrap_or(MemberId(0));
    loop {
        let (page, last) = candidates(conn, cursor)?;
        let Some(last) = last else {
            return Ok(run);
        };
        for candidate in page {
            if run.mails >= schedule.limits.per_run as usize {
                run.resume_after = Some(cursor);
                return Ok(run);
            }
            cursor = candidate.member.id;
            if may_be_due(schedule, &candidate, now) {
                run.mails += member_turn(conn, schedule, candidate, now)?;
            }
        }
        cursor = last;
    }
}

/// The next page of members with mail on and a verified address: those with news waiting,
/// and the last member the page read (`None` past the last).
fn candidates(conn: &mut DbConn, after: MemberId) -> Result<(Vec<Candidate>, Option<MemberId>)> {
    let rows: Vec<(Member, Stored)> = notification_preferences::table
        .inner_join(members::table.on(members::id.eq(notification_preferences::member_id)))
        .inner_join(
            email_addresses::table.on(email_addresses::member_id
                .eq(notification_preferences::member_id)
                .and(email_addresses::verified_at.is_not_null())),
        )
        // Written out, not bound: SQLite uses the partial index `notification_preferences_mail`
        // only when the query states its condition.
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "notification_preferences.email_mode <> 'never'",
        ))
        .filter(notification_preferences::member_id.gt(after))
        .order(notification_preferences::member_id)
        .limit(MEMBERS_PER_PAGE)
        .select((Member::as_select(), email::STORED))
        .load(conn)?;
    if rows.is_empty() {
        return Ok((Vec::new(), None));
    }
    let ids: Vec<MemberId> = rows.iter().map(|(m, _)| m.id).collect();
    let oldest: HashMap<MemberId, Option<NaiveDateTime>> = notifications::table
        .filter(notifications::member_id.eq_any(&ids))
        .filter(notifications::read_at.is_null())
        .filter(notifications::mail_pending_since.is_not_null())
        .group_by(notifications::member_id)
        .select((
            notifications::member_id,
            diesel::dsl::min(notifications::mail_pending_since),
        ))
        .load::<(MemberId, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .collect();
    let mut page = Vec::with_capacity(rows.len());
    let mut last = None;
    for (member, stored) in rows {
        last = Some(member.id);
        if let Some(Some(oldest)) = oldest.get(&member.id).copied() {
            let zone = member.time_zone.parse().unwrap_or(Tz::UTC);
            page.push(Candidate {
                member,
                prefs: MailPreferences::from_stored(stored),
                zone,
                oldest,
            });
        }
    }
    Ok((page, last))
}

/// How late a digest may still go after its hour (or the end of quiet hours that held it):
/// a server down longer leaves the news for the next one rather than mailing at odd hours.
const DIGEST_LATEST_HOURS: i64 = 6;

/// The instant of the digest the member's news would go in now, with its period's name, if one
/// is due: its hour has come (held past quiet hours), not long ago. Its period is claimed in
/// the turn.
fn digest_due(
    prefs: MailPreferences,
    zone: Tz,
    now: NaiveDateTime,
) -> Option<(NaiveDateTime, String)> {
    let (at, date) = prefs.last_digest(zone, now)?;
    let start = prefs.quiet.map_or(at, |q| q.next_allowed(zone, at));
    (start <= now && now < start + TimeDelta::hours(DIGEST_LATEST_HOURS))
        .then(|| (at, format!("{}:{date}", prefs.mode.as_str())))
}

/// The daily digest that takes what a member's daily limit held back.
fn overflow(prefs: MailPreferences) -> MailPreferences {
    MailPreferences {
        mode: EmailMode::Daily,
        ..prefs
    }
}

/// Whether anything of the member's can be due (without a transaction): outside quiet hours,
/// a batch old enough, or a digest whose hour came.
fn may_be_due(schedule: &MailSchedule, c: &Candidate, now: NaiveDateTime) -> bool {
    if c.prefs
        .quiet
        .is_some_and(|q| q.next_allowed(c.zone, now) > now)
    {
        return false;
    }
    match c.prefs.mode {
        EmailMode::Never => false,
        EmailMode::Now => c.oldest <= now - batch(schedule),
        EmailMode::Daily | EmailMode::Weekly => {
            digest_due(c.prefs, c.zone, now).is_some_and(|(at, _)| c.oldest < at)
        }
    }
}

fn batch(schedule: &MailSchedule) -> TimeDelta {
    TimeDelta::minutes(i64::from(schedule.limits.batch_minutes))
}

/// One mail to write: its notifications, and the period it claims.
struct Planned<'a> {
    items: Vec<&'a Decided>,
    period: String,
    digest: Option<&'static str>,
}

/// One member's turn, in one transaction: returns the mails queued.
fn member_turn(
    conn: &mut DbConn,
    schedule: &MailSchedule,
    candidate: Candidate,
    now: NaiveDateTime,
) -> Result<usize> {
    // Made before the transaction: the site secret may have to be written first.
    let token = super::unsubscribe::token_for(conn, candidate.member.id)?;
    let base = schedule.public_url.trim_end_matches('/').to_owned();
    let unsubscribe_url = format!("{base}/unsubscribe/{token}");
    let member = candidate.member;
    let zone = candidate.zone;
    write_tx_unseen(conn, |conn| {
        lock_name(conn, &format!("notification-mail:{}", member.id))?;
        // Read again under the lock: what they chose, and their address, may have changed.
        let prefs = email::mail_preferences(conn, member.id)?;
        let Some(address) = addresses::verified_for(conn, member.id)? else {
            return Ok(0);
        };
        if prefs.mode == EmailMode::Never
            || prefs.quiet.is_some_and(|q| q.next_allowed(zone, now) > now)
        {
            return Ok(0);
        }
        let waiting: Vec<(NotificationId, Option<NaiveDateTime>)> = notifications::table
            .filter(notifications::member_id.eq(member.id))
            .filter(notifications::read_at.is_null())
            .filter(notifications::mail_pending_since.is_not_null())
            .order(notifications::mail_pending_since.asc())
            .limit(ITEMS_PER_TURN)
            .select((notifications::id, notifications::mail_pending_since))
            .load(conn)?;
        let since: HashMap<NotificationId, NaiveDateTime> = waiting
            .iter()
            .filter_map(|(id, at)| at.map(|at| (*id, at)))
            .collect();
        let ids: Vec<NotificationId> = since.keys().copied().collect();
        let reader = actors::actor_for(conn, member.clone())?;
        let (kept, stale) = listing::decided(conn, &reader, &ids)?;
        // What they may no longer read is never mailed, even should it become readable again.
        if !stale.is_empty() {
            super::in_lock_order!(
                conn,
                notifications::table.filter(notifications::id.eq_any(&stale)),
                |rows| diesel::update(rows)
                    .set(notifications::mail_pending_since.eq(None::<NaiveDateTime>))
                    .execute(conn)
            )?;
        }
        let waited = |d: &Decided| since.get(&d.item.id).copied().unwrap_or(now);
        let plans = plan(conn, schedule, prefs, zone, &kept, &waited, member.id, now)?;
        let mut queued = 0;
        for planned in plans {
            if write_mail(
                conn,
                schedule,
                &member,
                &address,
                prefs,
                &unsubscribe_url,
                planned,
                now,
            )? {
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// Which mails are due for the member now.
#[allow(clippy::too_many_arguments)]
fn plan<'a>(
    conn: &mut DbConn,
    schedule: &MailSchedule,
    prefs: MailPreferences,
    zone: Tz,
    kept: &'a [Decided],
    waited: &dyn Fn(&Decided) -> NaiveDateTime,
    member: MemberId,
    now: NaiveDateTime,
) -> Result<Vec<Planned<'a>>> {
    let digest_of = |prefs: MailPreferences, label: &'static str| {
        digest_due(prefs, zone, now).map(|(at, period)| {
            let items: Vec<&Decided> = kept.iter().filter(|d| waited(d) < at).collect();
            Planned {
                items,
                period,
                digest: Some(label),
            }
        })
    };
    let mut plans = Vec::new();
    match prefs.mode {
        EmailMode::Never => {}
        EmailMode::Daily => plans.extend(digest_of(prefs, "Your daily digest")),
        EmailMode::Weekly => plans.extend(digest_of(prefs, "Your weekly digest")),
        EmailMode::Now => {
            // The news of one thread (conversation, meeting…) is one mail.
            let mut groups: BTreeMap<String, Vec<&Decided>> = BTreeMap::new();
            for decided in kept {
                groups.entry(group_key(decided)).or_default().push(decided);
            }
            let cutoff = now - batch(schedule);
            let mut due: Vec<(NaiveDateTime, String, Vec<&Decided>)> = groups
                .into_iter()
                .filter_map(|(key, items)| {
                    let first = items.iter().map(|d| waited(d)).min()?;
                    (first <= cutoff).then_some((first, key, items))
                })
                .collect();
            due.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let mut allowance = match schedule.limits.per_day {
                0 => usize::MAX,
                limit => (limit as usize).saturating_sub(sent_today(conn, member, now)?),
            };
            let mut held: Vec<&Decided> = Vec::new();
            for (_, key, items) in due {
                if allowance == 0 {
                    held.extend(items);
                    continue;
                }
                allowance -= 1;
                plans.push(Planned {
                    items,
                    period: format!("now:{key}:{}", now.format("%Y-%m-%dT%H:%M")),
                    digest: None,
                });
            }
            // Past the daily limit, the rest waits for the day's digest at their hour.
            if !held.is_empty() {
                if let Some((at, period)) = digest_due(overflow(prefs), zone, now) {
                    plans.push(Planned {
                        items: held.into_iter().filter(|d| waited(d) < at).collect(),
                        period,
                        digest: Some("Your daily digest"),
                    });
                }
            }
        }
    }
    plans.retain(|p| !p.items.is_empty());
    Ok(plans)
}

/// What groups notifications into one mail as they happen.
fn group_key(decided: &Decided) -> String {
    if let Some(thread) = decided.thread {
        format!("t{thread}")
    } else if let Some(conversation) = decided.conversation {
        format!("c{conversation}")
    } else if let Some(link) = &decided.item.link {
        link.clone()
    } else {
        format!("n{}", decided.item.id)
    }
}

/// The member's mails as it happens in the last 24 hours.
fn sent_today(conn: &mut DbConn, member: MemberId, now: NaiveDateTime) -> Result<usize> {
    let count: i64 = notification_mails::table
        .filter(notification_mails::member_id.eq(member))
        .filter(notification_mails::digest.eq(false))
        .filter(notification_mails::created_at.gt(now - TimeDelta::hours(24)))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Claims the period and the notifications of one mail and queues it; `false` when another
/// run had claimed them.
#[allow(clippy::too_many_arguments)]
fn write_mail(
    conn: &mut DbConn,
    schedule: &MailSchedule,
    member: &Member,
    address: &str,
    prefs: MailPreferences,
    unsubscribe_url: &str,
    planned: Planned<'_>,
    now: NaiveDateTime,
) -> Result<bool> {
    let insert = diesel::insert_into(notification_mails::table)
        .values((
            notification_mails::member_id.eq(member.id),
            notification_mails::period.eq(&planned.period),
            notification_mails::digest.eq(planned.digest.is_some()),
            notification_mails::created_at.eq(now),
        ))
        .on_conflict_do_nothing();
    if per_connection!(conn, |c| insert.execute(c))? == 0 {
        return Ok(false);
    }
    let ids: Vec<NotificationId> = planned.items.iter().map(|d| d.item.id).collect();
    let claimed: Vec<NotificationId> = super::in_lock_order!(
        conn,
        notifications::table
            .filter(notifications::id.eq_any(&ids))
            .filter(notifications::read_at.is_null())
            .filter(notifications::mail_pending_since.is_not_null()),
        |rows| diesel::update(rows)
            .set((
                notifications::mail_pending_since.eq(None::<NaiveDateTime>),
                notifications::mailed_at.eq(now),
            ))
            .returning(notifications::id)
            .get_results(conn)
    )?;
    if claimed.is_empty() {
        return Ok(false);
    }
    let mut told = Vec::with_capacity(claimed.len());
    for decided in planned
        .items
        .into_iter()
        .filter(|d| claimed.contains(&d.item.id))
    {
        // Private messages never; a private group's words only when the member chose them.
        let words = decided.conversation.is_none() && (!decided.private || prefs.private_words);
        let excerpt = if words {
            excerpt_of(conn, decided)?
        } else {
            None
        };
        told.push(compose::Told {
            decided,
            excerpt,
            words,
        });
    }
    let base = schedule.public_url.trim_end_matches('/');
    let frame = compose::Frame {
        site_name: &schedule.site_name,
        public_url: base,
        unsubscribe_url,
        digest: planned.digest,
    };
    let composed = compose::compose(&frame, &told);
    let mail = Mail {
        member_id: Some(member.id),
        to: address.to_owned(),
        kind: if planned.digest.is_some() {
            MailKind::Digest
        } else {
            MailKind::Notification
        },
        subject: composed.subject,
        text: composed.text,
        html: composed.html,
        unsubscribe_url: Some(unsubscribe_url.to_owned()),
    };
    mail::enqueue(conn, &mail, now, now)?;
    Ok(true)
}

/// The words of the first post a notification tells of, while it is published and visible.
fn excerpt_of(conn: &mut DbConn, decided: &Decided) -> Result<Option<String>> {
    let about_a_post = matches!(
        Kind::parse(decided.item.kind),
        Some(Kind::Reply | Kind::ReplyToYou | Kind::Mention | Kind::WatchedPost | Kind::NewThread)
    );
    let Some(post) = decided.post.filter(|_| about_a_post) else {
        return Ok(None);
    };
    let source: Option<String> = posts::table
        .find(post)
        .filter(posts::state.eq(Publication::Published.as_str()))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()))
        .select(posts::source)
        .get_result(conn)
        .optional()?;
    Ok(source
        .map(|s| hearth_markdown::plain_text_excerpt(&s, 240))
        .filter(|s| !s.trim().is_empty()))
}

/// Deletes claimed periods older than a week and a day (run hourly).
pub fn purge_periods(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize> {
    let before = now - TimeDelta::days(PERIODS_KEPT_DAYS);
    write_tx_unseen(conn, |conn| {
        Ok(diesel::delete(notification_mails::table)
            .filter(notification_mails::created_at.lt(before))
            .execute(conn)?)
    })
}

#[cfg(test)]
mod tests;
