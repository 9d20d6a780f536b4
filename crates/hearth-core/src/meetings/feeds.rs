//! The iCalendar feeds: a public group's meetings, and a member's private feed of the
//! meetings they are going to.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::recurrence::{self, End, Repeat, Schedule};
use super::MeetingState;
use super::{details_for, exceptions_of, ical, occurrence, Exception, Meeting, MeetingDetails};
use crate::accounts::actors;
use crate::accounts::members;
use crate::accounts::tokens;
use crate::clock;
use crate::db::schema::{calendar_feeds, meeting_rsvps, meetings};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::forum::boards;
use crate::ids::{BoardId, MeetingId, MemberId};
use crate::model::{Board, Visibility};
use crate::policy::MemberActor;

/// How far back the feeds reach.
const FEED_PAST_DAYS: i64 = 60;

fn write_calendar_head(ics: &mut ical::Ics, name: &str) {
    ics.line("BEGIN:VCALENDAR");
    ics.line("VERSION:2.0");
    ics.line("PRODID:-//Hearth//Meetings//EN");
    ics.line("CALSCALE:GREGORIAN");
    ics.text("X-WR-CALNAME", name);
    ics.line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    ics.line("X-PUBLISHED-TTL:PT1H");
}

fn tzid_line(name: &str, zone: Tz, local: NaiveDateTime) -> String {
    format!("{name};TZID={}:{}", zone.name(), ical::local_value(local))
}

fn duration_value(minutes: i32) -> String {
    format!("PT{minutes}M")
}

fn rrule(schedule: &Schedule) -> Option<String> {
    let day = match schedule.start.weekday() {
        chrono::Weekday::Mon => "MO",
        chrono::Weekday::Tue => "TU",
        chrono::Weekday::Wed => "WE",
        chrono::Weekday::Thu => "TH",
        chrono::Weekday::Fri => "FR",
        chrono::Weekday::Sat => "SA",
        chrono::Weekday::Sun => "SU",
    };
    let mut rule = match schedule.repeat {
        Repeat::Once => return None,
        Repeat::Weekly { interval } => format!("FREQ=WEEKLY;INTERVAL={interval};BYDAY={day}"),
        Repeat::Monthly { week } => format!("FREQ=MONTHLY;BYDAY={}{day}", week.number()),
    };
    match schedule.end {
        End::Never => {}
        End::Count(n) => rule.push_str(&format!(";COUNT={n}")),
        End::Until(_) => {
            // With a TZID start, UNTIL is UTC: the exact start of the last meeting.
            let last = schedule.last_start()?;
            rule.push_str(&format!(
                ";UNTIL={}",
                ical::utc_value(recurrence::to_utc(schedule.zone, last))
            ));
        }
    }
    Some(rule)
}

/// The common lines of a meeting's VEVENT.
fn event_lines(
    ics: &mut ical::Ics,
    meeting: &Meeting,
    uid: &str,
    details: Option<&MeetingDetails>,
) {
    ics.text("UID", uid);
    ics.line(&format!("DTSTAMP:{}", ical::utc_value(meeting.updated_at)));
    ics.line(&format!(
        "LAST-MODIFIED:{}",
        ical::utc_value(meeting.updated_at)
    ));
    ics.line(&format!("SEQUENCE:{}", meeting.sequence));
    ics.text("SUMMARY", &meeting.title);
    let mut description = meeting.agenda.trim().to_owned();
    if let Some(details) = details {
        if !details.online_url.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&format!("Join online: {}", details.online_url));
            ics.text("URL", &details.online_url);
        }
        let location = if details.place.is_empty() {
            details.online_url.as_str()
        } else {
            details.place.as_str()
        };
        if !location.is_empty() {
            ics.text("LOCATION", location);
        }
    }
    if !description.is_empty() {
        ics.text("DESCRIPTION", &description);
    }
    ics.line(&format!(
        "DURATION:{}",
        duration_value(meeting.duration_minutes)
    ));
}

/// The public feed of a public group's meetings: each series one VEVENT with its RRULE,
/// cancelled meetings as EXDATE, moved ones as RECURRENCE-ID overrides. Never a link or a
/// place. Not found for members-only and private groups.
pub fn group_feed(
    conn: &mut DbConn,
    board: &Board,
    uid_domain: &str,
    now: NaiveDateTime,
) -> Result<String> {
    if board.visibility != Visibility::Public {
        return Err(Error::NotFound);
    }
    let since = now - TimeDelta::days(FEED_PAST_DAYS);
    let series: Vec<Meeting> = meetings::table
        .filter(meetings::board_id.eq(board.id))
        .filter(meetings::state.eq(MeetingState::Scheduled.as_str()))
        .filter(
            meetings::series_ends_at
                .is_null()
                .or(meetings::series_ends_at.gt(since)),
        )
        .order(meetings::id.asc())
        .select(Meeting::as_select())
        .load(conn)?;
    let ids: Vec<MeetingId> = series.iter().map(|m| m.id).collect();
    let exceptions = exceptions_of(conn, &ids)?;
    let mut zones = ical::ZonesUsed::default();
    let mut events = ical::Ics::default();
    for meeting in &series {
        let schedule = meeting.schedule()?;
        let zone = schedule.zone;
        let uid = format!("meeting-{}@{uid_domain}", meeting.id);
        let own: Vec<&Exception> = exceptions
            .iter()
            .filter(|e| e.meeting_id == meeting.id)
            .collect();
        // A series that goes on: its zone's changes for ten years past today (or its start).
        let last = schedule.last_start().unwrap_or_else(|| {
            schedule.start.max(recurrence::to_local(zone, now)) + TimeDelta::days(3660)
        });
        let mut latest = last;
        for e in &own {
            if let Some(moved) = e.moved_to_local {
                latest = latest.max(moved);
            }
        }
        zones.add(zone, schedule.start.date(), latest.date());
        if schedule.repeat == Repeat::Once {
            let exception = own.first().copied();
            if exception.is_some_and(|e| e.cancelled) {
                continue;
            }
            let only = occurrence(meeting, zone, schedule.start, exception);
            events.line("BEGIN:VEVENT");
            event_lines(&mut events, meeting, &uid, None);
            events.line(&tzid_line("DTSTART", zone, only.local_start));
            events.line("END:VEVENT");
            continue;
        }
        events.line("BEGIN:VEVENT");
        event_lines(&mut events, meeting, &uid, None);
        events.line(&tzid_line("DTSTART", zone, schedule.start));
        if let Some(rule) = rrule(&schedule) {
            events.line(&format!("RRULE:{rule}"));
        }
        for e in own.iter().filter(|e| e.cancelled) {
            events.line(&tzid_line("EXDATE", zone, e.original_local));
        }
        events.line("END:VEVENT");
        for e in own
            .iter()
            .filter(|e| !e.cancelled && e.moved_to_local.is_some())
        {
            let moved = occurrence(meeting, zone, e.original_local, Some(e));
            events.line("BEGIN:VEVENT");
            event_lines(&mut events, meeting, &uid, None);
            events.line(&tzid_line("RECURRENCE-ID", zone, e.original_local));
            events.line(&tzid_line("DTSTART", zone, moved.local_start));
            events.line("END:VEVENT");
        }
    }
    let mut ics = ical::Ics::default();
    write_calendar_head(&mut ics, &board.name);
    zones.write(&mut ics);
    let mut out = ics.finish();
    out.push_str(&events.finish());
    out.push_str("END:VCALENDAR\r\n");
    Ok(out)
}

/// Makes (or replaces) the member's private feed address; returns the secret token, which is
/// shown once: only its SHA-256 is kept, and the old address stops working.
pub fn reset_feed_token(conn: &mut DbConn, member: &MemberActor) -> Result<String> {
    let token = tokens::random_token();
    let hash = tokens::hash_token(&token);
    let now = clock::now();
    write_tx(conn, |conn| {
        diesel::delete(calendar_feeds::table.find(member.id)).execute(conn)?;
        diesel::insert_into(calendar_feeds::table)
            .values((
                calendar_feeds::member_id.eq(member.id),
                calendar_feeds::token_hash.eq(&hash),
                calendar_feeds::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(token)
}

/// When the member's private feed address was made, if they have one.
pub fn feed_created_at(conn: &mut DbConn, member_id: MemberId) -> Result<Option<NaiveDateTime>> {
    Ok(calendar_feeds::table
        .find(member_id)
        .select(calendar_feeds::created_at)
        .get_result(conn)
        .optional()?)
}

/// The private feed behind a secret token: the meetings its member is going to (from two
/// months back), with link and place, in groups they still belong to. Unknown tokens are not
/// found.
pub fn member_feed(
    conn: &mut DbConn,
    token: &str,
    uid_domain: &str,
    now: NaiveDateTime,
) -> Result<String> {
    let hash = tokens::hash_token(token);
    let member_id: MemberId = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(&hash))
        .select(calendar_feeds::member_id)
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let member = members::by_id(conn, member_id)?;
    let member = actors::actor_for(conn, member)?;
    let actor = member.actor();
    let going: Vec<(MeetingId, NaiveDateTime)> = meeting_rsvps::table
        .filter(meeting_rsvps::member_id.eq(member_id))
        .filter(meeting_rsvps::response.eq("going"))
        .order((
            meeting_rsvps::meeting_id.asc(),
            meeting_rsvps::occurrence_local.asc(),
        ))
        .select((meeting_rsvps::meeting_id, meeting_rsvps::occurrence_local))
        .load(conn)?;
    let mut ids: Vec<MeetingId> = going.iter().map(|g| g.0).collect();
    ids.dedup();
    let series: Vec<Meeting> = meetings::table
        .filter(meetings::id.eq_any(&ids))
        .filter(meetings::state.eq(MeetingState::Scheduled.as_str()))
        .select(Meeting::as_select())
        .load(conn)?;
    let exceptions = exceptions_of(conn, &ids)?;
    let mut boards_seen: HashMap<BoardId, Option<Board>> = HashMap::new();
    let mut zones = ical::ZonesUsed::default();
    let mut events = ical::Ics::default();
    let since = now - TimeDelta::days(FEED_PAST_DAYS);
    for (meeting_id, original) in going {
        let Some(meeting) = series.iter().find(|m| m.id == meeting_id) else {
            continue;
        };
        let board = match boards_seen.get(&meeting.board_id) {
            Some(board) => board.clone(),
            None => {
                let board = boards::by_id_for(conn, &actor, meeting.board_id).ok();
                boards_seen.insert(meeting.board_id, board.clone());
                board
            }
        };
        let Some(board) = board else { continue };
        let Some(details) = details_for(&actor, &board, meeting) else {
            continue;
        };
        let schedule = meeting.schedule()?;
        if !schedule.has_start(original) {
            continue;
        }
        let zone = schedule.zone;
        let exception = exceptions
            .iter()
            .find(|e| e.meeting_id == meeting_id && e.original_local == original);
        let one = occurrence(meeting, zone, original, exception);
        if one.cancelled || one.ends_at < since {
            continue;
        }
        zones.add(zone, one.local_start.date(), one.local_start.date());
        events.line("BEGIN:VEVENT");
        let uid = format!("meeting-{}-{}@{uid_domain}", meeting.id, one.key);
        event_lines(&mut events, meeting, &uid, Some(&details));
        events.line(&tzid_line("DTSTART", zone, one.local_start));
        events.line("END:VEVENT");
    }
    let mut ics = ical::Ics::default();
    write_calendar_head(&mut ics, "My meetings");
    zones.write(&mut ics);
    let mut out = ics.finish();
    out.push_str(&events.finish());
    out.push_str("END:VCALENDAR\r\n");
    Ok(out)
}

/// [`group_feed`] of the group at `slug`, read as a visitor: the feed is public, whoever
/// fetches it.
pub fn public_group_feed(
    conn: &mut DbConn,
    slug: &str,
    uid_domain: &str,
    now: NaiveDateTime,
) -> Result<String> {
    let board = boards::by_slug_for(conn, &crate::policy::Actor::Visitor, slug)?;
    group_feed(conn, &board, uid_domain, now)
}

/// "Add to my calendar" for one meeting (`/m/{id}/meeting.ics`): one VEVENT, its series as an
/// RRULE with cancelled dates as EXDATE (a moved date is an override of the same UID), with a
/// DTEND rather than a DURATION, the meeting page as its URL, and the link and place only for
/// whom the meeting page shows them. Not found unless the actor may read the group.
pub fn meeting_calendar(
    conn: &mut DbConn,
    actor: &crate::policy::Actor,
    id: MeetingId,
    page_url: &str,
    uid_domain: &str,
) -> Result<String> {
    let (board, meeting) = super::reading::by_id_for(conn, actor, id)?;
    let details = details_for(actor, &board, &meeting);
    let schedule = meeting.schedule()?;
    let zone = schedule.zone;
    let exceptions = exceptions_of(conn, &[meeting.id])?;
    let last = schedule
        .last_start()
        .unwrap_or_else(|| schedule.start + TimeDelta::days(3660));
    let mut latest = last;
    for e in &exceptions {
        if let Some(moved) = e.moved_to_local {
            latest = latest.max(moved);
        }
    }
    let mut zones = ical::ZonesUsed::default();
    zones.add(zone, schedule.start.date(), latest.date());
    let length = TimeDelta::minutes(i64::from(meeting.duration_minutes));
    let uid = format!("meeting-{}@{uid_domain}", meeting.id);
    let mut events = ical::Ics::default();
    let once = schedule.repeat == Repeat::Once;
    // A single meeting moved is the meeting at its new time, not an override.
    let first = if once {
        occurrence(&meeting, zone, schedule.start, exceptions.first()).local_start
    } else {
        schedule.start
    };
    events.line("BEGIN:VEVENT");
    one_event_lines(&mut events, &meeting, &uid, page_url, details.as_ref());
    events.line(&tzid_line("DTSTART", zone, first));
    events.line(&tzid_line("DTEND", zone, first + length));
    let cancelled_once = once && exceptions.first().is_some_and(|e| e.cancelled);
    if meeting.is_cancelled() || cancelled_once {
        events.line("STATUS:CANCELLED");
    }
    if !once {
        if let Some(rule) = rrule(&schedule) {
            events.line(&format!("RRULE:{rule}"));
        }
        for e in exceptions.iter().filter(|e| e.cancelled) {
            events.line(&tzid_line("EXDATE", zone, e.original_local));
        }
    }
    events.line("END:VEVENT");
    if !once {
        for e in exceptions
            .iter()
            .filter(|e| !e.cancelled && e.moved_to_local.is_some())
        {
            let moved = occurrence(&meeting, zone, e.original_local, Some(e));
            events.line("BEGIN:VEVENT");
            one_event_lines(&mut events, &meeting, &uid, page_url, details.as_ref());
            events.line(&tzid_line("RECURRENCE-ID", zone, e.original_local));
            events.line(&tzid_line("DTSTART", zone, moved.local_start));
            events.line(&tzid_line("DTEND", zone, moved.local_start + length));
            events.line("END:VEVENT");
        }
    }
    let mut ics = ical::Ics::default();
    ics.line("BEGIN:VCALENDAR");
    ics.line("VERSION:2.0");
    ics.line("PRODID:-//Hearth//Meetings//EN");
    ics.line("CALSCALE:GREGORIAN");
    ics.line("METHOD:PUBLISH");
    zones.write(&mut ics);
    let mut out = ics.finish();
    out.push_str(&events.finish());
    out.push_str("END:VCALENDAR\r\n");
    Ok(out)
}

/// The lines of [`meeting_calendar`]'s VEVENT besides its times.
fn one_event_lines(
    ics: &mut ical::Ics,
    meeting: &Meeting,
    uid: &str,
    page_url: &str,
    details: Option<&MeetingDetails>,
) {
    ics.text("UID", uid);
    ics.line(&format!("DTSTAMP:{}", ical::utc_value(meeting.updated_at)));
    ics.line(&format!("SEQUENCE:{}", meeting.sequence));
    ics.text("SUMMARY", &meeting.title);
    ics.text("URL", page_url);
    let mut description = meeting.agenda.trim().to_owned();
    if let Some(details) = details {
        if !details.online_url.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&format!("Join online: {}", details.online_url));
        }
        let location = if details.place.is_empty() {
            details.online_url.as_str()
        } else {
            details.place.as_str()
        };
        if !location.is_empty() {
            ics.text("LOCATION", location);
        }
    }
    if !description.is_empty() {
        ics.text("DESCRIPTION", &description);
    }
}
