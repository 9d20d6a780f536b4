//! Time as Hearth stores it: UTC, to the microsecond (what both backends keep exactly).

use std::ops::RangeInclusive;

use chrono::{Datelike, DurationRound, NaiveDate, NaiveDateTime, TimeDelta, Utc};

pub fn now() -> NaiveDateTime {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
        .naive_utc()
}

/// The years of a date a person gives (a form's date, a page's `?from=`, a meeting's key).
/// Anything else is no date at all, so the arithmetic done on input (a list's weeks ahead, a
/// series' ten years of dates) can never leave chrono's range and panic.
pub const INPUT_YEARS: RangeInclusive<i32> = 1900..=2200;

/// A `YYYY-MM-DD` date within [`INPUT_YEARS`].
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|date| INPUT_YEARS.contains(&date.year()))
}

/// A date and time in `format` within [`INPUT_YEARS`].
pub fn parse_date_time(text: &str, format: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, format)
        .ok()
        .filter(|at| INPUT_YEARS.contains(&at.year()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_far_outside_human_years_are_no_dates() {
        assert_eq!(
            parse_date(" 2027-01-31 "),
            NaiveDate::from_ymd_opt(2027, 1, 31)
        );
        assert_eq!(parse_date("+262142-12-31"), None);
        assert_eq!(parse_date("-0001-01-01"), None);
        assert_eq!(parse_date("9999-12-31"), None);
        assert_eq!(parse_date("2027-02-30"), None);
        assert!(parse_date_time("20260312T1900", "%Y%m%dT%H%M").is_some());
        assert_eq!(parse_date_time("+2621421231T1900", "%Y%m%dT%H%M"), None);
    }
}
