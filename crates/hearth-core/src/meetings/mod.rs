//! A group's meetings: facilitators schedule one meeting or a series (weekly, every n weeks,
//! monthly on the nth weekday), cancel or move one meeting of it, edit or cancel the whole;
//! members answer going / maybe / not going for each meeting, with a waiting list when a
//! meeting has a capacity; iCalendar feeds per public group and per member.
//!
//! A series is stored as its first meeting's local wall time plus its IANA zone and expanded
//! with chrono-tz ([`recurrence`]), so meetings keep their local hour across daylight-saving
//! changes. One meeting of a series is named by its original local start (its *key*, such as
//! `20260312T1900`), which is also its `RECURRENCE-ID` in the feeds: moving a meeting does not
//! change its key, so answers stay with it.
//!
//! The online link and the place are for the group's members only
//! ([`Action::SeeMeetingDetails`]): [`Meeting`] does not serialize them and they are reached
//! only through [`details_for`] and the member's private feed.

pub mod ical;
pub mod recurrence;

mod answers;
mod feeds;
mod form;
mod reading;
mod reminders;
mod scheduling;

pub(crate) use answers::withdraw_from_group;
pub use answers::{answers, rsvp, Answers, Response};
pub use feeds::{
    feed_created_at, group_feed, meeting_calendar, member_feed, public_group_feed, reset_feed_token,
};
pub use form::{is_https_url, parse_time, MeetingForm};
pub use reading::{
    by_id_for, list_for, next_occurrence, page_for, upcoming_for_board, upcoming_of, DateView,
    GroupMeetings, MeetingView, Upcoming,
};
pub use reminders::send_due as send_due_reminders;
pub use scheduling::{
    cancel_occurrence, cancel_series, for_change, for_moving, for_scheduling, move_occurrence,
    schedule, update,
};

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{meeting_exceptions, meetings};
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::ids::{BoardId, MeetingId, MemberId};
use crate::model::Board;
use crate::policy::{self, Action, Actor};
use crate::text_enum::text_enum;
use recurrence::{End, MonthWeek, Repeat, Schedule};

/// How far ahead a group's next meeting and a meeting's coming dates are looked for: a meeting
/// planned two years out is still the group's next meeting, not "no meeting scheduled".
pub const LOOK_AHEAD: TimeDelta = TimeDelta::days(366 * 20);

/// The key of one meeting of a series: its original local start.
const KEY_FORMAT: &str = "%Y%m%dT%H%M";

text_enum! {
    /// Whether a meeting (the whole series) still takes place.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum MeetingState ("meeting state") {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
    }
}

/// One meeting or a series, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = meetings)]
pub struct Meeting {
    pub id: MeetingId,
    pub board_id: BoardId,
    pub title: String,
    pub agenda: String,
    /// Rendered by `hearth-markdown` when the meeting was saved.
    pub agenda_html: String,
    /// The first meeting's local date and time in `time_zone`.
    pub starts_local: NaiveDateTime,
    pub time_zone: String,
    pub duration_minutes: i32,
    /// `none`, `weekly` or `monthly`.
    pub repeat: String,
    pub interval_weeks: i32,
    pub month_week: Option<i32>,
    pub until_date: Option<NaiveDate>,
    pub occurrence_count: Option<i32>,
    /// Members only: never serialized, read through [`details_for`].
    #[serde(skip)]
    pub(crate) online_url: String,
    #[serde(skip)]
    pub(crate) place: String,
    pub capacity: Option<i32>,
    /// `scheduled` or `cancelled`.
    #[diesel(deserialize_as = String)]
    pub state: MeetingState,
    pub series_ends_at: Option<NaiveDateTime>,
    pub sequence: i32,
    pub created_by: MemberId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Meeting {
    pub fn zone(&self) -> Result<Tz> {
        self.time_zone
            .parse()
            .map_err(|_| Error::Internal(format!("meeting {} has an unknown zone", self.id)))
    }

    pub fn schedule(&self) -> Result<Schedule> {
        let repeat = match self.repeat.as_str() {
            "none" => Repeat::Once,
            "weekly" => Repeat::Weekly {
                interval: u32::try_from(self.interval_weeks.max(1)).unwrap_or(1),
            },
            "monthly" => Repeat::Monthly {
                week: self
                    .month_week
                    .and_then(MonthWeek::from_number)
                    .ok_or_else(|| Error::Internal("a monthly meeting without its week".into()))?,
            },
            other => return Err(Error::Internal(format!("unknown repeat {other:?}"))),
        };
        let end = match (self.until_date, self.occurrence_count) {
            (Some(date), _) => End::Until(date),
            (None, Some(n)) => End::Count(u32::try_from(n.max(1)).unwrap_or(1)),
            (None, None) => End::Never,
        };
        Ok(Schedule {
            start: self.starts_local,
            zone: self.zone()?,
            repeat,
            end,
        })
    }

    pub fn is_cancelled(&self) -> bool {
        self.state == MeetingState::Cancelled
    }

    /// How it repeats, in words ("Every 2 weeks on Thursday", "Monthly on the last Tuesday").
    pub fn repeat_description(&self) -> String {
        let weekday = weekday_name(self.starts_local.date());
        let ends = match (self.until_date, self.occurrence_count) {
            (Some(date), _) => format!(", until {}", date.format("%-d %b %Y")),
            (None, Some(n)) => format!(", {n} times"),
            (None, None) => String::new(),
        };
        match self.repeat.as_str() {
            "weekly" if self.interval_weeks > 1 => {
                format!("Every {} weeks on {weekday}{ends}", self.interval_weeks)
            }
            "weekly" => format!("Every week on {weekday}{ends}"),
            "monthly" => {
                let week = match self.month_week.unwrap_or(1) {
                    1 => "first",
                    2 => "second",
                    3 => "third",
                    4 => "fourth",
                    _ => "last",
                };
                format!("Monthly on the {week} {weekday}{ends}")
            }
            _ => "Once".to_owned(),
        }
    }
}

fn weekday_name(date: NaiveDate) -> String {
    date.format("%A").to_string()
}

/// What only the group's members see.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingDetails {
    pub online_url: String,
    pub place: String,
}

/// The link and place of a meeting, if the actor belongs to its group.
pub fn details_for(actor: &Actor, board: &Board, meeting: &Meeting) -> Option<MeetingDetails> {
    (meeting.board_id == board.id && policy::allows(actor, Action::SeeMeetingDetails(board))).then(
        || MeetingDetails {
            online_url: meeting.online_url.clone(),
            place: meeting.place.clone(),
        },
    )
}

/// One meeting of a series (or the one meeting).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Occurrence {
    pub meeting_id: MeetingId,
    /// Its original local start, `20260312T1900`: names it in URLs and answers.
    pub key: String,
    pub original_local: NaiveDateTime,
    /// Its local start in the meeting's zone (moved or not).
    pub local_start: NaiveDateTime,
    /// UTC.
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub moved: bool,
    pub cancelled: bool,
}

pub fn key_of(local: NaiveDateTime) -> String {
    local.format(KEY_FORMAT).to_string()
}

pub fn parse_key(key: &str) -> Option<NaiveDateTime> {
    crate::clock::parse_date_time(key, KEY_FORMAT)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_exceptions)]
struct Exception {
    meeting_id: MeetingId,
    original_local: NaiveDateTime,
    cancelled: bool,
    moved_to_local: Option<NaiveDateTime>,
}

fn occurrence(
    meeting: &Meeting,
    zone: Tz,
    original: NaiveDateTime,
    exception: Option<&Exception>,
) -> Occurrence {
    let local_start = exception.and_then(|e| e.moved_to_local).unwrap_or(original);
    let starts_at = recurrence::to_utc(zone, local_start);
    Occurrence {
        meeting_id: meeting.id,
        key: key_of(original),
        original_local: original,
        local_start,
        starts_at,
        ends_at: starts_at + TimeDelta::minutes(i64::from(meeting.duration_minutes)),
        moved: exception.is_some_and(|e| e.moved_to_local.is_some()),
        cancelled: meeting.is_cancelled() || exception.is_some_and(|e| e.cancelled),
    }
}

/// The meetings of a series that end after `from` and start before `to` (UTC), exceptions
/// applied (cancelled ones included, marked), in order of start, at most `limit`.
fn expand(
    meeting: &Meeting,
    exceptions: &[Exception],
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: usize,
) -> Result<Vec<Occurrence>> {
    let schedule = meeting.schedule()?;
    let zone = schedule.zone;
    let duration = TimeDelta::minutes(i64::from(meeting.duration_minutes));
    let by_original: HashMap<NaiveDateTime, &Exception> = exceptions
        .iter()
        .filter(|e| e.meeting_id == meeting.id)
        .map(|e| (e.original_local, e))
        .collect();
    let mut found = Vec::new();
    for original in schedule.local_starts() {
        let starts_at = recurrence::to_utc(zone, original);
        if starts_at >= to {
            break;
        }
        let exception = by_original.get(&original).copied();
        if exception.is_some_and(|e| e.moved_to_local.is_some()) {
            continue; // placed by its new time below
        }
        if starts_at + duration > from {
            found.push(occurrence(meeting, zone, original, exception));
        }
        if found.len() >= limit && exception.is_none() {
            break;
        }
    }
    for exception in by_original.values() {
        if exception.moved_to_local.is_some() {
            let moved = occurrence(meeting, zone, exception.original_local, Some(exception));
            if moved.ends_at > from && moved.starts_at < to {
                found.push(moved);
            }
        }
    }
    found.sort_by_key(|o| o.starts_at);
    found.truncate(limit);
    Ok(found)
}

fn exceptions_of(conn: &mut DbConn, ids: &[MeetingId]) -> Result<Vec<Exception>> {
    Ok(meeting_exceptions::table
        .filter(meeting_exceptions::meeting_id.eq_any(ids))
        .select(Exception::as_select())
        .load(conn)?)
}

/// One meeting of a series, found by its key, exceptions applied.
fn find_occurrence(conn: &mut DbConn, meeting: &Meeting, key: &str) -> Result<Occurrence> {
    let original = parse_key(key).ok_or(Error::NotFound)?;
    if !meeting.schedule()?.has_start(original) {
        return Err(Error::NotFound);
    }
    let exceptions = exceptions_of(conn, &[meeting.id])?;
    let exception = exceptions.iter().find(|e| e.original_local == original);
    Ok(occurrence(meeting, meeting.zone()?, original, exception))
}

#[cfg(test)]
mod tests;
