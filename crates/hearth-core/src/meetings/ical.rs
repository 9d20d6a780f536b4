//! Writing iCalendar (RFC 5545) by hand: content lines folded at 75 octets with CRLF, TEXT
//! values escaped, and a `VTIMEZONE` for every zone used, built from chrono-tz's own rules so
//! that `DTSTART;TZID=…` with an `RRULE` keeps each meeting at its local hour in every
//! calendar, across daylight-saving changes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// The longest content line, in octets, before it is folded.
const LINE_OCTETS: usize = 75;

/// An iCalendar object being written.
#[derive(Default)]
pub struct Ics {
    out: String,
}

impl Ics {
    /// Writes one content line, folded so that no line exceeds 75 octets (continuations begin
    /// with a space, and a UTF-8 character is never split), ending in CRLF.
    pub fn line(&mut self, content: &str) {
        let mut rest = content;
        let mut limit = LINE_OCTETS;
        loop {
            if rest.len() <= limit {
                self.out.push_str(rest);
                self.out.push_str("\r\n");
                return;
            }
            let mut cut = limit;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            self.out.push_str(&rest[..cut]);
            self.out.push_str("\r\n ");
            rest = &rest[cut..];
            // The leading space counts towards the next line's 75 octets.
            limit = LINE_OCTETS - 1;
        }
    }

    /// A property whose value is TEXT (escaped).
    pub fn text(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{}", escape_text(value)));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// TEXT escaping: backslash, semicolon, comma and newlines (RFC 5545 §3.3.11). Other control
/// characters are dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A local date-time value, `19970714T133000` (for use after `;TZID=zone:`).
pub fn local_value(local: NaiveDateTime) -> String {
    local.format("%Y%m%dT%H%M%S").to_string()
}

/// A UTC date-time value, `19970714T173000Z`.
pub fn utc_value(utc: NaiveDateTime) -> String {
    utc.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The years each zone is used in, for [`vtimezone`].
#[derive(Default)]
pub struct ZonesUsed(BTreeMap<String, (Tz, i32, i32)>);

impl ZonesUsed {
    pub fn add(&mut self, zone: Tz, from: NaiveDate, to: NaiveDate) {
        let to = to.max(from);
        let entry = self
            .0
            .entry(zone.name().to_owned())
            .or_insert((zone, from.year(), to.year()));
        entry.1 = entry.1.min(from.year());
        entry.2 = entry.2.max(to.year());
    }

    pub fn write(&self, ics: &mut Ics) {
        for (zone, from, to) in self.0.values() {
            vtimezone(ics, *zone, *from, *to);
        }
    }
}

fn offset_value(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

struct Observance {
    /// UTC instant the offset starts.
    at: NaiveDateTime,
    from: i32,
    to: i32,
    daylight: bool,
    name: Option<String>,
}

fn offset_at(zone: Tz, utc: NaiveDateTime) -> (i32, bool, Option<String>) {
    let offset = zone.offset_from_utc_datetime(&utc);
    (
        offset.fix().local_minus_utc(),
        offset.dst_offset() != TimeDelta::zero(),
        offset.abbreviation().map(str::to_owned),
    )
}

/// Every change of the zone's offset from the start of `from_year` to the end of `to_year`:
/// found by stepping a day at a time, then bisecting to the second.
fn transitions(zone: Tz, from_year: i32, to_year: i32) -> Vec<Observance> {
    let mut found = Vec::new();
    let (Some(start), Some(end)) = (
        NaiveDate::from_ymd_opt(from_year, 1, 1),
        NaiveDate::from_ymd_opt(to_year + 1, 1, 1),
    ) else {
        return found;
    };
    let (start, end) = (
        start.and_time(chrono::NaiveTime::MIN),
        end.and_time(chrono::NaiveTime::MIN),
    );
    let day = TimeDelta::days(1);
    let mut t = start;
    let mut current = offset_at(zone, t);
    while t < end {
        let next = t + day;
        let there = offset_at(zone, next);
        if there.0 != current.0 || there.1 != current.1 {
            // Bisect: offset at `lo` is the old one, at `hi` the new one.
            let (mut lo, mut hi) = (0_i64, 86_400_i64);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let at_mid = offset_at(zone, t + TimeDelta::seconds(mid));
                if at_mid.0 == current.0 && at_mid.1 == current.1 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = t + TimeDelta::seconds(hi);
            let new = offset_at(zone, hi);
            found.push(Observance {
                at: hi,
                from: current.0,
                to: new.0,
                daylight: new.1,
                name: new.2.clone(),
            });
            current = new;
        }
        t = next;
    }
    found
}

/// A `VTIMEZONE` for `zone` that covers `from_year` to `to_year`: the offset in force at the
/// start, then one observance per change (each a single onset, no `RRULE`, which RFC 5545 allows
/// and every calendar reads).
pub fn vtimezone(ics: &mut Ics, zone: Tz, from_year: i32, to_year: i32) {
    ics.line("BEGIN:VTIMEZONE");
    ics.text("TZID", zone.name());
    let Some(start) = NaiveDate::from_ymd_opt(from_year, 1, 1) else {
        ics.line("END:VTIMEZONE");
        return;
    };
    let start = start.and_time(chrono::NaiveTime::MIN);
    let (offset, daylight, name) = offset_at(zone, start);
    let first = Observance {
        at: start,
        from: offset,
        to: offset,
        daylight,
        name,
    };
    for observance in std::iter::once(first).chain(transitions(zone, from_year, to_year)) {
        let kind = if observance.daylight {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        ics.line(&format!("BEGIN:{kind}"));
        // The onset in the local time in force before it.
        let onset = observance.at + TimeDelta::seconds(i64::from(observance.from));
        ics.line(&format!("DTSTART:{}", local_value(onset)));
        ics.line(&format!("TZOFFSETFROM:{}", offset_value(observance.from)));
        ics.line(&format!("TZOFFSETTO:{}", offset_value(observance.to)));
        if let Some(name) = observance.name.filter(|n| !n.is_empty()) {
            ics.text("TZNAME", &name);
        }
        ics.line(&format!("END:{kind}"));
    }
    ics.line("END:VTIMEZONE");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut ics = Ics::default();
        let value = "é".repeat(100);
        ics.text("SUMMARY", &value);
        let out = ics.finish();
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{value}\r\n"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a;b,c\\d\r\ne"), "a\\;b\\,c\\\\d\\ne");
    }

    #[test]
    fn berlin_has_two_changes_a_year() {
        let found = transitions(chrono_tz::Europe::Berlin, 2026, 2026);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].at.to_string(), "2026-03-29 01:00:00");
        assert_eq!(
            (found[0].from, found[0].to, found[0].daylight),
            (3600, 7200, true)
        );
        assert_eq!(found[1].at.to_string(), "2026-10-25 01:00:00");
        assert_eq!(offset_value(-18000), "-0500");
    }
}
