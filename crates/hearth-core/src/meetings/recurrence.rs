//! When the meetings of a series happen: pure date arithmetic, no storage.
//!
//! A series is kept as the local wall time of its first meeting and the IANA zone it is held in,
//! so a weekly 19:00 meeting stays at 19:00 local time when the clocks change and its UTC instant
//! moves by the hour instead. Each local start is turned into a UTC instant with chrono-tz, the
//! way RFC 5545 reads a `DTSTART;TZID=…` (so the app and every calendar agree):
//!
//! - a local time that happens twice (the clocks go back) is the first of the two, the one
//!   still on daylight time;
//! - a local time that does not happen (the clocks go forward over it) is read with the offset
//!   in force before the gap, which lands it as far after the gap as it was into it (02:30 on
//!   a night the clocks jump from 02:00 to 03:00 becomes 03:30). Scheduling refuses such times
//!   up front ([`Schedule::first_gap`]), because RFC 5545 has calendars drop, not move, a
//!   recurrence that falls into a gap; the reading above is only a fallback for a zone whose
//!   rules changed after the meeting was saved.

use chrono::{
    Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, Offset, TimeZone, Weekday,
};
use chrono_tz::Tz;

/// How a series repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// One meeting.
    Once,
    /// Every `interval` weeks on the first meeting's weekday.
    Weekly { interval: u32 },
    /// Every month on the nth (or last) of the first meeting's weekday.
    Monthly { week: MonthWeek },
}

/// Which of a month's weekdays: the 1st to 4th, or the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthWeek {
    Nth(u8),
    Last,
}

impl MonthWeek {
    /// Stored as 1 to 4, or -1 for the last.
    pub fn from_number(n: i32) -> Option<MonthWeek> {
        match n {
            1..=4 => u8::try_from(n).ok().map(MonthWeek::Nth),
            -1 => Some(MonthWeek::Last),
            _ => None,
        }
    }

    pub fn number(self) -> i32 {
        match self {
            MonthWeek::Nth(n) => i32::from(n),
            MonthWeek::Last => -1,
        }
    }

    /// Whether `date` is this week's weekday of its month (e.g. the 2nd Tuesday).
    pub fn matches(self, date: NaiveDate) -> bool {
        nth_weekday(date.year(), date.month(), date.weekday(), self) == Some(date)
    }
}

/// How a series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Never,
    /// The last meeting is on or before this local date.
    Until(NaiveDate),
    /// After this many meetings (cancelled ones count, as in iCalendar's `COUNT`).
    Count(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The first meeting's local date and time in `zone`.
    pub start: NaiveDateTime,
    pub zone: Tz,
    pub repeat: Repeat,
    pub end: End,
}

impl Schedule {
    /// The local start of every meeting of the series in order, exceptions not applied.
    /// Unending for a series that never ends: bound it with `take_while`.
    pub fn local_starts(&self) -> impl Iterator<Item = NaiveDateTime> + '_ {
        let schedule = *self;
        let mut k: u32 = 0;
        let raw = std::iter::from_fn(move || {
            let next = schedule.nth_candidate(k);
            k = k.checked_add(1)?;
            next
        });
        let count = match self.end {
            End::Count(n) => n as usize,
            _ => usize::MAX,
        };
        let until = match self.end {
            End::Until(date) => Some(date),
            _ => None,
        };
        raw.take(if self.repeat == Repeat::Once {
            1
        } else {
            count
        })
        .take_while(move |local| until.is_none_or(|d| local.date() <= d))
    }

    fn nth_candidate(&self, k: u32) -> Option<NaiveDateTime> {
        match self.repeat {
            Repeat::Once => (k == 0).then_some(self.start),
            Repeat::Weekly { interval } => {
                let days = u64::from(k) * 7 * u64::from(interval.max(1));
                self.start.checked_add_days(Days::new(days))
            }
            Repeat::Monthly { week } => {
                let first = self.start.date().with_day(1)?;
                let month = first.checked_add_months(Months::new(k))?;
                let date = nth_weekday(month.year(), month.month(), self.start.weekday(), week)?;
                Some(date.and_time(self.start.time()))
            }
        }
    }

    /// Whether `local` is the original start of one of the series' meetings.
    pub fn has_start(&self, local: NaiveDateTime) -> bool {
        self.local_starts()
            .take_while(|start| *start <= local)
            .any(|start| start == local)
    }

    /// The last meeting's local start, for a series that ends.
    pub fn last_start(&self) -> Option<NaiveDateTime> {
        match (self.repeat, self.end) {
            (Repeat::Once, _) => Some(self.start),
            (_, End::Never) => None,
            _ => self.local_starts().last(),
        }
    }

    /// The first local start (within `horizon` meetings) that falls into a daylight-saving gap.
    pub fn first_gap(&self, horizon: usize) -> Option<NaiveDateTime> {
        self.local_starts()
            .take(horizon)
            .find(|local| is_gap(self.zone, *local))
    }
}

/// The nth (or last) `weekday` of a month.
pub fn nth_weekday(year: i32, month: u32, weekday: Weekday, week: MonthWeek) -> Option<NaiveDate> {
    match week {
        MonthWeek::Nth(n) => NaiveDate::from_weekday_of_month_opt(year, month, weekday, n),
        MonthWeek::Last => {
            let first_next =
                NaiveDate::from_ymd_opt(year, month, 1)?.checked_add_months(Months::new(1))?;
            let last = first_next.pred_opt()?;
            let back =
                (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
            last.checked_sub_days(Days::new(u64::from(back)))
        }
    }
}

/// Whether the local time does not exist in the zone (the clocks jump over it).
pub fn is_gap(zone: Tz, local: NaiveDateTime) -> bool {
    matches!(zone.from_local_datetime(&local), LocalResult::None)
}

/// The UTC instant of a local time in a zone, read as RFC 5545 reads a `DTSTART;TZID=…`.
pub fn to_utc(zone: Tz, local: NaiveDateTime) -> NaiveDateTime {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.naive_utc(),
        LocalResult::Ambiguous(a, b) => a.naive_utc().min(b.naive_utc()),
        LocalResult::None => {
            // The offset in force a day earlier is the one before the gap.
            let before = zone
                .offset_from_utc_datetime(&(local - chrono::TimeDelta::hours(24)))
                .fix()
                .local_minus_utc();
            local - chrono::TimeDelta::seconds(i64::from(before))
        }
    }
}

/// The local wall time of a UTC instant in a zone.
pub fn to_local(zone: Tz, utc: NaiveDateTime) -> NaiveDateTime {
    zone.from_utc_datetime(&utc).naive_local()
}
