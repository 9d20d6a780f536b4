//! How a member wants their notifications by e-mail, on `/settings`: as they happen (batched
//! per thread), in a daily or weekly digest at an hour of their own time zone, or never (the
//! default: many members are anonymous); quiet hours in their zone that hold any mail; and
//! whether mail from private groups may carry the words. Stored in `notification_preferences`
//! beside the levels (no row: the defaults).

use chrono::{Datelike, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Weekday};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{notification_preferences, notifications};
use crate::db::{per_connection, write_tx_unseen, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::meetings::recurrence::{to_local, to_utc};
use crate::text_enum::text_enum;

text_enum! {
    /// When a member's notifications are mailed.
    #[derive(Serialize)]
    pub enum EmailMode ("notification e-mail") {
        Never = "never",
        /// As they happen: one mail per thread at most every batch window.
        Now = "now",
        Daily = "daily",
        Weekly = "weekly",
    }
}

impl EmailMode {
    /// The words the settings page shows.
    pub fn label(self) -> &'static str {
        match self {
            EmailMode::Never => "Never",
            EmailMode::Now => "As it happens (at most one mail per thread every quarter hour)",
            EmailMode::Daily => "A daily digest",
            EmailMode::Weekly => "A weekly digest",
        }
    }
}

/// Hours of the day, in the member's zone, when no mail is sent: `from` until `to`, wrapping
/// midnight when `to` is earlier (22:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

impl QuietHours {
    /// Whether the local time of day is inside them.
    pub fn contains(self, time: NaiveTime) -> bool {
        if self.from <= self.to {
            self.from <= time && time < self.to
        } else {
            time >= self.from || time < self.to
        }
    }

    /// The first instant at or after `now` (UTC) outside them in `zone`: `now` itself, or the
    /// end of the quiet hours it falls in (a local time the clocks skip is read as after the gap).
    pub fn next_allowed(self, zone: Tz, now: NaiveDateTime) -> NaiveDateTime {
        let local = to_local(zone, now);
        if !self.contains(local.time()) {
            return now;
        }
        // Wrapping hours entered in the evening end on the next day.
        let end_date = if self.from > self.to && local.time() >= self.from {
            local.date() + TimeDelta::days(1)
        } else {
            local.date()
        };
        to_utc(zone, end_date.and_time(self.to)).max(now)
    }
}

/// A member's notification e-mail settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MailPreferences {
    pub mode: EmailMode,
    /// The hour of the digest, 0–23, in the member's zone.
    pub digest_hour: u32,
    /// The day of the weekly digest.
    pub digest_weekday: Weekday,
    pub quiet: Option<QuietHours>,
    /// Mail about private groups carries the thread's title and the post's words.
    pub private_words: bool,
}

impl Default for MailPreferences {
    fn default() -> MailPreferences {
        MailPreferences {
            mode: EmailMode::Never,
            digest_hour: 7,
            digest_weekday: Weekday::Mon,
            quiet: None,
            private_words: false,
        }
    }
}

/// The columns of one member's row (as [`load`] selects them).
pub(crate) type Stored = (String, i32, i32, Option<i32>, Option<i32>, bool);

pub(crate) const STORED: (
    notification_preferences::email_mode,
    notification_preferences::digest_hour,
    notification_preferences::digest_weekday,
    notification_preferences::quiet_from,
    notification_preferences::quiet_to,
    notification_preferences::private_words,
) = (
    notification_preferences::email_mode,
    notification_preferences::digest_hour,
    notification_preferences::digest_weekday,
    notification_preferences::quiet_from,
    notification_preferences::quiet_to,
    notification_preferences::private_words,
);

fn minutes_of(time: NaiveTime) -> i32 {
    (time.hour() * 60 + time.minute()) as i32
}

fn time_of(minutes: i32) -> Option<NaiveTime> {
    let minutes = u32::try_from(minutes).ok()?;
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0)
}

impl MailPreferences {
    pub(crate) fn from_stored(row: Stored) -> MailPreferences {
        let fallback = MailPreferences::default();
        let (mode, hour, weekday, quiet_from, quiet_to, private_words) = row;
        let quiet = match (quiet_from.and_then(time_of), quiet_to.and_then(time_of)) {
            (Some(from), Some(to)) if from != to => Some(QuietHours { from, to }),
            _ => None,
        };
        MailPreferences {
            mode: EmailMode::parse(&mode).unwrap_or(fallback.mode),
            digest_hour: u32::try_from(hour)
                .ok()
                .filter(|h| *h < 24)
                .unwrap_or(fallback.digest_hour),
            digest_weekday: u8::try_from(weekday)
                .ok()
                .and_then(|d| Weekday::try_from(d).ok())
                .unwrap_or(fallback.digest_weekday),
            quiet,
            private_words,
        }
    }

    /// Reads the settings form's fields: the mode, the digest's hour (`"7"`) and day
    /// (`"0"` Monday … `"6"` Sunday), quiet hours (`"22:00"`, `"08:00"`, both or neither),
    /// and whether private groups' words may be mailed.
    pub fn from_form(
        mode: &str,
        digest_hour: &str,
        digest_weekday: &str,
        quiet_from: &str,
        quiet_to: &str,
        private_words: bool,
    ) -> Result<MailPreferences> {
        let mode = EmailMode::parse(mode.trim())
            .ok_or_else(|| Error::invalid("email_mode", "Choose when to be sent e-mail."))?;
        let digest_hour = digest_hour
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|h| *h < 24)
            .ok_or_else(|| Error::invalid("digest_hour", "Choose the hour of the digest."))?;
        let digest_weekday = digest_weekday
            .trim()
            .parse::<u8>()
            .ok()
            .and_then(|d| Weekday::try_from(d).ok())
            .ok_or_else(|| Error::invalid("digest_weekday", "Choose the day of the digest."))?;
        let time = |text: &str, field: &'static str| -> Result<Option<NaiveTime>> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            NaiveTime::parse_from_str(text, "%H:%M")
                .map(Some)
                .map_err(|_| Error::invalid(field, "Write a time like 22:00."))
        };
        let quiet = match (time(quiet_from, "quiet_from")?, time(quiet_to, "quiet_to")?) {
            (None, None) => None,
            (Some(from), Some(to)) if from != to => Some(QuietHours { from, to }),
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "quiet_to",
                    "Quiet hours end at another time than they start.",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::invalid("quiet_from", "Say when quiet hours start."))
            }
            (Some(_), None) => return Err(Error::invalid("quiet_to", "Say when quiet hours end.")),
        };
        Ok(MailPreferences {
            mode,
            digest_hour,
            digest_weekday,
            quiet,
            private_words,
        })
    }

    /// The latest digest instant (UTC) at or before `now`, with the local date that names it:
    /// today's or yesterday's hour for a daily digest, the chosen weekday's for a weekly one.
    /// `None` for the other modes.
    pub fn last_digest(self, zone: Tz, now: NaiveDateTime) -> Option<(NaiveDateTime, String)> {
        let hour = NaiveTime::from_hms_opt(self.digest_hour, 0, 0)?;
        let today = to_local(zone, now).date();
        let step = match self.mode {
            EmailMode::Daily => 1,
            EmailMode::Weekly => 7,
            EmailMode::Never | EmailMode::Now => return None,
        };
        // The first candidate date: today, or for a weekly digest the chosen day this week.
        let mut date = today;
        if self.mode == EmailMode::Weekly {
            let back = (7 + today.weekday().num_days_from_monday()
                - self.digest_weekday.num_days_from_monday())
                % 7;
            date = today - TimeDelta::days(i64::from(back));
        }
        let mut at = to_utc(zone, date.and_time(hour));
        if at > now {
            date -= TimeDelta::days(step);
            at = to_utc(zone, date.and_time(hour));
        }
        Some((at, date.format("%Y-%m-%d").to_string()))
    }
}

/// The member's notification e-mail settings (the defaults where they chose none).
pub fn mail_preferences(conn: &mut DbConn, member: MemberId) -> Result<MailPreferences> {
    let row: Option<Stored> = notification_preferences::table
        .find(member)
        .select(STORED)
        .get_result(conn)
        .optional()?;
    Ok(row.map_or_else(MailPreferences::default, MailPreferences::from_stored))
}

/// Saves them. A member who turns mail on is mailed news from now on, not the unread
/// notifications of before.
pub fn save_mail_preferences(
    conn: &mut DbConn,
    member: MemberId,
    chosen: &MailPreferences,
) -> Result<()> {
    let now = crate::clock::now();
    write_tx_unseen(conn, |conn| {
        let before = mail_preferences(conn, member)?;
        store(conn, member, chosen, now)?;
        if before.mode == EmailMode::Never && chosen.mode != EmailMode::Never {
            super::in_lock_order!(
                conn,
                notifications::table
                    .filter(notifications::member_id.eq(member))
                    .filter(notifications::mail_pending_since.is_not_null()),
                |rows| diesel::update(rows)
                    .set(notifications::mail_pending_since.eq(None::<NaiveDateTime>))
                    .execute(conn)
            )?;
        }
        Ok(())
    })
}

/// Writes the member's row (inside the caller's transaction).
pub(crate) fn store(
    conn: &mut DbConn,
    member: MemberId,
    chosen: &MailPreferences,
    now: NaiveDateTime,
) -> Result<()> {
    let values = (
        notification_preferences::email_mode.eq(chosen.mode.as_str()),
        notification_preferences::digest_hour.eq(chosen.digest_hour as i32),
        notification_preferences::digest_weekday
            .eq(chosen.digest_weekday.num_days_from_monday() as i32),
        notification_preferences::quiet_from.eq(chosen.quiet.map(|q| minutes_of(q.from))),
        notification_preferences::quiet_to.eq(chosen.quiet.map(|q| minutes_of(q.to))),
        notification_preferences::private_words.eq(chosen.private_words),
        notification_preferences::updated_at.eq(now),
    );
    let defaults = super::levels::Defaults::default();
    let upsert = diesel::insert_into(notification_preferences::table)
        .values((
            notification_preferences::member_id.eq(member),
            notification_preferences::started_level.eq(defaults.started.as_str()),
            notification_preferences::replied_level.eq(defaults.replied.as_str()),
            values,
        ))
        .on_conflict(notification_preferences::member_id)
        .do_update()
        .set(values);
    per_connection!(conn, |c| upsert.execute(c))?;
    Ok(())
}

/// Turns the member's notification mail off (the unsubscribe link), inside the caller's
/// transaction. Returns whether it was on.
pub(crate) fn switch_off(conn: &mut DbConn, member: MemberId, now: NaiveDateTime) -> Result<bool> {
    let before = mail_preferences(conn, member)?;
    if before.mode == EmailMode::Never {
        return Ok(false);
    }
    let off = MailPreferences {
        mode: EmailMode::Never,
        ..before
    };
    store(conn, member, &off, now)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn quiet(from: &str, to: &str) -> QuietHours {
        QuietHours {
            from: NaiveTime::parse_from_str(from, "%H:%M").unwrap(),
            to: NaiveTime::parse_from_str(to, "%H:%M").unwrap(),
        }
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_end_in_the_members_zone() {
        let night = quiet("22:00", "08:00");
        // London in winter is UTC: 23:30 is quiet until 08:00 the next morning.
        assert_eq!(
            night.next_allowed(London, at("2026-12-01 23:30")),
            at("2026-12-02 08:00")
        );
        assert_eq!(
            night.next_allowed(London, at("2026-12-02 03:00")),
            at("2026-12-02 08:00")
        );
        assert_eq!(
            night.next_allowed(London, at("2026-12-02 12:00")),
            at("2026-12-02 12:00")
        );
        // In summer 08:00 in London is 07:00 UTC.
        assert_eq!(
            night.next_allowed(London, at("2026-07-01 22:00")),
            at("2026-07-02 07:00")
        );
        let afternoon = quiet("13:00", "15:00");
        assert!(afternoon.contains(NaiveTime::from_hms_opt(14, 59, 0).unwrap()));
        assert!(!afternoon.contains(NaiveTime::from_hms_opt(15, 0, 0).unwrap()));
    }

    #[test]
    fn the_form_refuses_half_quiet_hours_and_hours_outside_the_day() {
        assert!(MailPreferences::from_form("daily", "7", "0", "22:00", "", false).is_err());
        assert!(MailPreferences::from_form("daily", "24", "0", "", "", false).is_err());
        assert!(MailPreferences::from_form("hourly", "7", "0", "", "", false).is_err());
        let chosen =
            MailPreferences::from_form("weekly", "18", "6", "22:00", "07:30", true).unwrap();
        assert_eq!(chosen.digest_weekday, Weekday::Sun);
        assert_eq!(chosen.quiet, Some(quiet("22:00", "07:30")));
    }
}
