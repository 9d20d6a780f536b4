//! A member's notification settings on `/settings`: their levels for the threads they start
//! and reply to ([`Defaults`]), and how long before a meeting they are going to they are
//! reminded of it ([`ReminderLead`]). One row per member; no row is the site's defaults.

use diesel::prelude::*;
use serde::Serialize;

use super::levels::{Defaults, Level};
use crate::db::schema::notification_preferences;
use crate::db::{per_connection, write_tx_unseen, DbConn};
use crate::error::{Error, Result};
use crate::ids::MemberId;

/// How long before a meeting a member going to it is reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderLead {
    Never,
    Minutes15,
    Hour,
    Day,
}

impl ReminderLead {
    /// Every choice, in the order the settings page offers them.
    pub const ALL: &'static [ReminderLead] = &[
        ReminderLead::Never,
        ReminderLead::Minutes15,
        ReminderLead::Hour,
        ReminderLead::Day,
    ];

    /// The longest lead anyone may choose: how far ahead the reminder worker looks.
    pub const LONGEST_MINUTES: i32 = 24 * 60;

    /// Minutes before the meeting (0: never), as stored and as the form sends it.
    pub fn minutes(self) -> i32 {
        match self {
            ReminderLead::Never => 0,
            ReminderLead::Minutes15 => 15,
            ReminderLead::Hour => 60,
            ReminderLead::Day => Self::LONGEST_MINUTES,
        }
    }

    pub fn from_minutes(minutes: i32) -> Option<ReminderLead> {
        Self::ALL
            .iter()
            .copied()
            .find(|lead| lead.minutes() == minutes)
    }

    /// The minutes as the settings form sends them.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderLead::Never => "0",
            ReminderLead::Minutes15 => "15",
            ReminderLead::Hour => "60",
            ReminderLead::Day => "1440",
        }
    }

    /// The words the settings page shows.
    pub fn label(self) -> &'static str {
        match self {
            ReminderLead::Never => "Never",
            ReminderLead::Minutes15 => "15 minutes before",
            ReminderLead::Hour => "1 hour before",
            ReminderLead::Day => "1 day before",
        }
    }

    /// Parses the choice a form sent (its minutes).
    pub fn from_form(text: &str) -> Result<ReminderLead> {
        Self::ALL
            .iter()
            .copied()
            .find(|lead| lead.as_str() == text.trim())
            .ok_or_else(|| Error::invalid("reminder", "Choose when to be reminded."))
    }
}

/// A member's notification settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preferences {
    pub defaults: Defaults,
    pub reminder: ReminderLead,
}

impl Default for Preferences {
    fn default() -> Preferences {
        Preferences {
            defaults: Defaults::default(),
            reminder: ReminderLead::Hour,
        }
    }
}

/// The member's settings (the site's defaults where they chose none).
pub fn preferences(conn: &mut DbConn, member: MemberId) -> Result<Preferences> {
    let fallback = Preferences::default();
    let row: Option<(String, String, i32)> = notification_preferences::table
        .find(member)
        .select((
            notification_preferences::started_level,
            notification_preferences::replied_level,
            notification_preferences::reminder_minutes,
        ))
        .get_result(conn)
        .optional()?;
    Ok(
        row.map_or(fallback, |(started, replied, minutes)| Preferences {
            defaults: Defaults {
                started: Level::parse(&started).unwrap_or(fallback.defaults.started),
                replied: Level::parse(&replied).unwrap_or(fallback.defaults.replied),
            },
            reminder: ReminderLead::from_minutes(minutes).unwrap_or(fallback.reminder),
        }),
    )
}

/// Saves the member's settings: levels for threads they write in from now on, and reminders
/// for meetings not yet reminded of.
pub fn save_preferences(conn: &mut DbConn, member: MemberId, chosen: &Preferences) -> Result<()> {
    let now = crate::clock::now();
    let started = chosen.defaults.started.as_str();
    let replied = chosen.defaults.replied.as_str();
    let minutes = chosen.reminder.minutes();
    write_tx_unseen(conn, |conn| {
        let upsert = diesel::insert_into(notification_preferences::table)
            .values((
                notification_preferences::member_id.eq(member),
                notification_preferences::started_level.eq(started),
                notification_preferences::replied_level.eq(replied),
                notification_preferences::reminder_minutes.eq(minutes),
                notification_preferences::updated_at.eq(now),
            ))
            .on_conflict(notification_preferences::member_id)
            .do_update()
            .set((
                notification_preferences::started_level.eq(started),
                notification_preferences::replied_level.eq(replied),
                notification_preferences::reminder_minutes.eq(minutes),
                notification_preferences::updated_at.eq(now),
            ));
        per_connection!(conn, |c| upsert.execute(c))?;
        Ok(())
    })
}
