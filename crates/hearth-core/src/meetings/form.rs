//! The facilitator's meeting form and its checks, shared by scheduling and editing a series.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use chrono_tz::Tz;
use serde::Serialize;

use super::recurrence::{self, End, MonthWeek, Repeat, Schedule};
use super::{weekday_name, Meeting};
use crate::clock::parse_date;
use crate::error::{Error, Invalid, Result};
use crate::model::Board;

const MAX_TITLE_CHARS: usize = 120;
const MAX_AGENDA_CHARS: usize = 10_000;
const MAX_PLACE_CHARS: usize = 300;
const MAX_URL_CHARS: usize = 500;
const MAX_COUNT: u32 = 200;
const MAX_INTERVAL_WEEKS: u32 = 12;
const MAX_DURATION_MINUTES: i32 = 12 * 60;
const MAX_CAPACITY: i32 = 10_000;
/// How many meetings of a never-ending series are checked for daylight-saving gaps.
const GAP_HORIZON: usize = 600;

/// What a facilitator types; every field a string, checked by [`schedule`](super::schedule) and
/// [`update`](super::update).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MeetingForm {
    pub title: String,
    pub agenda: String,
    /// `YYYY-MM-DD`, local to `time_zone`.
    pub date: String,
    /// `HH:MM`, local to `time_zone`.
    pub time: String,
    pub time_zone: String,
    pub duration_minutes: String,
    /// `none`, `weekly` or `monthly`.
    pub repeat: String,
    pub interval_weeks: String,
    /// `1` to `4`, or `last`.
    pub month_week: String,
    /// `never`, `until` or `count`.
    pub end: String,
    pub until: String,
    pub count: String,
    pub online_url: String,
    pub place: String,
    /// Empty for no limit.
    pub capacity: String,
}

impl MeetingForm {
    /// A new meeting's form: in the group's zone, 90 minutes, once.
    pub fn for_board(board: &Board) -> MeetingForm {
        MeetingForm {
            time_zone: board.time_zone.clone(),
            duration_minutes: "90".to_owned(),
            repeat: "none".to_owned(),
            interval_weeks: "1".to_owned(),
            month_week: String::new(),
            end: "never".to_owned(),
            ..MeetingForm::default()
        }
    }

    /// The form for editing a meeting (the facilitator belongs to the group, so the link and
    /// place are theirs to see).
    pub fn of(meeting: &Meeting) -> MeetingForm {
        MeetingForm {
            title: meeting.title.clone(),
            agenda: meeting.agenda.clone(),
            date: meeting.starts_local.format("%Y-%m-%d").to_string(),
            time: meeting.starts_local.format("%H:%M").to_string(),
            time_zone: meeting.time_zone.clone(),
            duration_minutes: meeting.duration_minutes.to_string(),
            repeat: meeting.repeat.clone(),
            interval_weeks: meeting.interval_weeks.to_string(),
            month_week: match meeting.month_week {
                Some(-1) => "last".to_owned(),
                Some(n) => n.to_string(),
                None => String::new(),
            },
            end: match (meeting.until_date, meeting.occurrence_count) {
                (Some(_), _) => "until".to_owned(),
                (None, Some(_)) => "count".to_owned(),
                (None, None) => "never".to_owned(),
            },
            until: meeting
                .until_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            count: meeting
                .occurrence_count
                .map(|n| n.to_string())
                .unwrap_or_default(),
            online_url: meeting.online_url.clone(),
            place: meeting.place.clone(),
            capacity: meeting.capacity.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

/// A checked form, ready to store.
pub(super) struct Checked {
    pub(super) title: String,
    pub(super) agenda: String,
    pub(super) schedule: Schedule,
    pub(super) duration_minutes: i32,
    pub(super) interval_weeks: i32,
    pub(super) month_week: Option<i32>,
    pub(super) until_date: Option<NaiveDate>,
    pub(super) occurrence_count: Option<i32>,
    pub(super) online_url: String,
    pub(super) place: String,
    pub(super) capacity: Option<i32>,
    pub(super) series_ends_at: Option<NaiveDateTime>,
}

pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
}

/// An https address with a host, no spaces, quotes or angle brackets.
pub fn is_https_url(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with('.')
        && !host.contains('@')
        && text
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '\\' | '`'))
}

pub(super) fn describe_gap(zone: Tz, local: NaiveDateTime) -> String {
    format!(
        "{} does not exist in {} on {}: the clocks go forward then. Choose another time",
        local.format("%H:%M"),
        zone.name(),
        local.format("%-d %b %Y")
    )
}

pub(super) fn check_form(form: &MeetingForm, now: NaiveDateTime, is_new: bool) -> Result<Checked> {
    let mut invalid = Invalid::default();
    let title = form.title.trim().to_owned();
    let n_title = title.chars().count();
    if n_title == 0 || n_title > MAX_TITLE_CHARS {
        invalid.add(
            "title",
            format!("a meeting needs a title of 1 to {MAX_TITLE_CHARS} characters"),
        );
    }
    if form.agenda.chars().count() > MAX_AGENDA_CHARS {
        invalid.add(
            "agenda",
            format!("the agenda has at most {MAX_AGENDA_CHARS} characters"),
        );
    }
    let zone: Option<Tz> = form.time_zone.trim().parse().ok();
    if zone.is_none() {
        invalid.add("time_zone", "choose a time zone from the list");
    }
    let date = parse_date(&form.date);
    if date.is_none() {
        invalid.add(
            "date",
            "give the date of the first meeting, like 2026-03-12",
        );
    }
    let time = parse_time(&form.time);
    if time.is_none() {
        invalid.add("time", "give the time it starts, like 19:00");
    }
    let duration = form.duration_minutes.trim().parse::<i32>().ok();
    let duration = duration.filter(|d| (5..=MAX_DURATION_MINUTES).contains(d));
    if duration.is_none() {
        invalid.add(
            "duration_minutes",
            format!("a meeting lasts 5 to {MAX_DURATION_MINUTES} minutes"),
        );
    }
    let mut interval_weeks = 1;
    let mut month_week = None;
    let repeat = match form.repeat.as_str() {
        "none" | "" => Some(Repeat::Once),
        "weekly" => match form.interval_weeks.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_INTERVAL_WEEKS).contains(&n) => {
                interval_weeks = i32::try_from(n).unwrap_or(1);
                Some(Repeat::Weekly { interval: n })
            }
            _ => {
                invalid.add(
                    "interval_weeks",
                    format!("repeat every 1 to {MAX_INTERVAL_WEEKS} weeks"),
                );
                None
            }
        },
        "monthly" => {
            let week = match form.month_week.trim() {
                "last" => Some(MonthWeek::Last),
                n => n.parse::<i32>().ok().and_then(MonthWeek::from_number),
            };
            match (week, date) {
                (None, _) => {
                    invalid.add(
                        "month_week",
                        "choose which week of the month: first to fourth, or last",
                    );
                    None
                }
                (Some(week), Some(date)) if !week.matches(date) => {
                    invalid.add(
                        "month_week",
                        format!(
                            "{} is not the {} {} of its month: choose the date of the first meeting",
                            date.format("%-d %b %Y"),
                            match week {
                                MonthWeek::Nth(1) => "first",
                                MonthWeek::Nth(2) => "second",
                                MonthWeek::Nth(3) => "third",
                                MonthWeek::Nth(_) => "fourth",
                                MonthWeek::Last => "last",
                            },
                            weekday_name(date)
                        ),
                    );
                    None
                }
                (Some(week), _) => {
                    month_week = Some(week.number());
                    Some(Repeat::Monthly { week })
                }
            }
        }
        _ => {
            invalid.add("repeat", "choose how often it meets");
            None
        }
    };
    let mut until_date = None;
    let mut occurrence_count = None;
    let end = if repeat == Some(Repeat::Once) {
        Some(End::Never)
    } else {
        match form.end.as_str() {
            "never" | "" => Some(End::Never),
            "until" => match parse_date(&form.until) {
                Some(until) if date.is_none_or(|d| until >= d) => {
                    until_date = Some(until);
                    Some(End::Until(until))
                }
                _ => {
                    invalid.add(
                        "until",
                        "give the date of the last meeting, on or after the first",
                    );
                    None
                }
            },
            "count" => match form.count.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => {
                    occurrence_count = i32::try_from(n).ok();
                    Some(End::Count(n))
                }
                _ => {
                    invalid.add(
                        "count",
                        format!("give a number of meetings from 1 to {MAX_COUNT}"),
                    );
                    None
                }
            },
            _ => {
                invalid.add("end", "choose when the meetings end");
                None
            }
        }
    };
    let online_url = form.online_url.trim().to_owned();
    if !online_url.is_empty()
        && (online_url.chars().count() > MAX_URL_CHARS || !is_https_url(&online_url))
    {
        invalid.add(
            "online_url",
            "give the whole https:// address of the online meeting",
        );
    }
    let place = form.place.trim().to_owned();
    if place.chars().count() > MAX_PLACE_CHARS {
        invalid.add(
            "place",
            format!("the place has at most {MAX_PLACE_CHARS} characters"),
        );
    }
    let capacity = match form.capacity.trim() {
        "" => None,
        text => match text.parse::<i32>() {
            Ok(n) if (1..=MAX_CAPACITY).contains(&n) => Some(n),
            _ => {
                invalid.add(
                    "capacity",
                    "give how many people can come (1 or more), or leave it empty",
                );
                None
            }
        },
    };
    let mut schedule = None;
    if let (Some(zone), Some(date), Some(time), Some(repeat), Some(end)) =
        (zone, date, time, repeat, end)
    {
        let candidate = Schedule {
            start: date.and_time(time),
            zone,
            repeat,
            end,
        };
        if let Some(gap) = candidate.first_gap(GAP_HORIZON) {
            invalid.add("time", describe_gap(zone, gap));
        } else if is_new && recurrence::to_utc(zone, candidate.start) < now {
            invalid.add("date", "the first meeting has to be in the future");
        } else {
            schedule = Some(candidate);
        }
    }
    invalid.into_result()?;
    let (Some(schedule), Some(duration_minutes)) = (schedule, duration) else {
        return Err(Error::Internal("a checked form without a schedule".into()));
    };
    let series_ends_at = schedule.last_start().map(|last| {
        recurrence::to_utc(schedule.zone, last) + TimeDelta::minutes(i64::from(duration_minutes))
    });
    Ok(Checked {
        title,
        agenda: form.agenda.clone(),
        schedule,
        duration_minutes,
        interval_weeks,
        month_week,
        until_date,
        occurrence_count,
        online_url,
        place,
        capacity,
        series_ends_at,
    })
}
