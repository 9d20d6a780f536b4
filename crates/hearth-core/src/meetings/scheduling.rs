//! Facilitators schedule, edit and cancel a meeting or a series, and cancel or move one date.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::answers::{fill_places, Response};
use super::form::{check_form, describe_gap, parse_time, Checked, MeetingForm};
use super::reading::{by_id, by_id_for};
use super::recurrence::{self, Repeat};
use super::reminders;
use super::MeetingState;
use super::{exceptions_of, expand, find_occurrence, occurrence, Meeting, Occurrence};
use crate::clock;
use crate::clock::parse_date;
use crate::db::schema::{meeting_exceptions, meeting_rsvps, meetings};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::ids::{MeetingId, MemberId};
use crate::model::Board;
use crate::notifications::Kind;
use crate::policy::{self, Action, MemberActor};

fn repeat_name(repeat: Repeat) -> &'static str {
    match repeat {
        Repeat::Once => "none",
        Repeat::Weekly { .. } => "weekly",
        Repeat::Monthly { .. } => "monthly",
    }
}

/// The columns a facilitator's form sets, written alike by [`schedule`] (with the group, the
/// author and the times) and by [`update`]. `None` is written as NULL both ways, so an edit
/// clears a capacity, an end date, a count or a month week the form no longer has.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = meetings)]
#[diesel(treat_none_as_default_value = false, treat_none_as_null = true)]
struct MeetingRow<'a> {
    title: &'a str,
    agenda: &'a str,
    agenda_html: &'a str,
    starts_local: NaiveDateTime,
    time_zone: &'static str,
    duration_minutes: i32,
    repeat: &'static str,
    interval_weeks: i32,
    month_week: Option<i32>,
    until_date: Option<NaiveDate>,
    occurrence_count: Option<i32>,
    online_url: &'a str,
    place: &'a str,
    capacity: Option<i32>,
    series_ends_at: Option<NaiveDateTime>,
}

impl<'a> MeetingRow<'a> {
    fn of(checked: &'a Checked, agenda_html: &'a str) -> MeetingRow<'a> {
        MeetingRow {
            title: &checked.title,
            agenda: &checked.agenda,
            agenda_html,
            starts_local: checked.schedule.start,
            time_zone: checked.schedule.zone.name(),
            duration_minutes: checked.duration_minutes,
            repeat: repeat_name(checked.schedule.repeat),
            interval_weeks: checked.interval_weeks,
            month_week: checked.month_week,
            until_date: checked.until_date,
            occurrence_count: checked.occurrence_count,
            online_url: &checked.online_url,
            place: &checked.place,
            capacity: checked.capacity,
            series_ends_at: checked.series_ends_at,
        }
    }
}

/// Schedules a meeting or a series for a group (its facilitators and the staff).
pub fn schedule(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    form: &MeetingForm,
) -> Result<Meeting> {
    policy::authorize(&member.actor(), Action::ScheduleMeeting(board))?;
    let now = clock::now();
    let checked = check_form(form, now, true)?;
    let agenda_html = hearth_markdown::render(&checked.agenda);
    let row = MeetingRow::of(&checked, agenda_html.as_str());
    write_tx(conn, |conn| {
        let id: MeetingId = diesel::insert_into(meetings::table)
            .values((
                &row,
                meetings::board_id.eq(board.id),
                meetings::created_by.eq(member.id),
                meetings::created_at.eq(now),
                meetings::updated_at.eq(now),
            ))
            .returning(meetings::id)
            .get_result(conn)?;
        by_id(conn, id)
    })
}

/// Loads a meeting for a change by a facilitator: they must moderate its group (404 or 403
/// otherwise). The forms that change it show what this loads.
pub fn for_change(
    conn: &mut DbConn,
    member: &MemberActor,
    id: MeetingId,
) -> Result<(Board, Meeting)> {
    let actor = member.actor();
    let (board, meeting) = by_id_for(conn, &actor, id)?;
    policy::authorize(&actor, Action::ScheduleMeeting(&board))?;
    Ok((board, meeting))
}

fn touch(conn: &mut DbConn, id: MeetingId, now: NaiveDateTime) -> Result<()> {
    diesel::update(meetings::table.find(id))
        .set((
            meetings::sequence.eq(meetings::sequence + 1),
            meetings::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Edits a whole series. Meetings that the new schedule no longer has lose their exceptions
/// and answers; a larger capacity (or none) moves people up from the waiting lists.
pub fn update(
    conn: &mut DbConn,
    member: &MemberActor,
    id: MeetingId,
    form: &MeetingForm,
) -> Result<Meeting> {
    let (_, before) = for_change(conn, member, id)?;
    if before.is_cancelled() {
        return Err(Error::invalid("title", "this meeting was cancelled"));
    }
    let now = clock::now();
    let checked = check_form(form, now, false)?;
    let agenda_html = hearth_markdown::render(&checked.agenda);
    let row = MeetingRow::of(&checked, agenda_html.as_str());
    write_tx(conn, |conn| {
        // Who is going to (or waiting for, or maybe going to) a date still to come, before
        // the edit drops the answers of dates the series no longer has.
        let coming = answering_for_coming_dates(conn, &before, now)?;
        diesel::update(meetings::table.find(id))
            .set(&row)
            .execute(conn)?;
        touch(conn, id, now)?;
        let meeting = by_id(conn, id)?;
        let schedule = meeting.schedule()?;
        // Exceptions and answers of meetings the series no longer has.
        let exceptions = exceptions_of(conn, &[id])?;
        for exception in exceptions {
            if !schedule.has_start(exception.original_local) {
                diesel::delete(meeting_exceptions::table.find((id, exception.original_local)))
                    .execute(conn)?;
            }
        }
        let answered: Vec<NaiveDateTime> = meeting_rsvps::table
            .filter(meeting_rsvps::meeting_id.eq(id))
            .select(meeting_rsvps::occurrence_local)
            .distinct()
            .load(conn)?;
        let exceptions = exceptions_of(conn, &[id])?;
        let zone = schedule.zone;
        for original in answered {
            if !schedule.has_start(original) {
                diesel::delete(
                    meeting_rsvps::table
                        .filter(meeting_rsvps::meeting_id.eq(id))
                        .filter(meeting_rsvps::occurrence_local.eq(original)),
                )
                .execute(conn)?;
                continue;
            }
            let exception = exceptions.iter().find(|e| e.original_local == original);
            let occurrence = occurrence(&meeting, zone, original, exception);
            if occurrence.ends_at > now && !occurrence.cancelled {
                fill_places(conn, &meeting, &occurrence, now)?;
            }
        }
        // What those going need to know changed (when, how long, how often, where, the link):
        // they are told, once each, with the series' next date (an answer for a date that
        // moved is gone: they answer again). A new agenda or title alone is not worth a bell.
        if changes_plans(&before, &meeting) {
            let next = schedule
                .local_starts()
                .take(600)
                .map(|local| super::recurrence::to_utc(zone, local))
                .find(|starts| *starts > now);
            if let Some(starts_at) = next {
                let title = meeting.title.clone();
                let message = |when: &str| {
                    format!(
                        "\u{201c}{title}\u{201d} was changed by its organisers (its time, place \
                         or link). Its next date: {when}."
                    )
                };
                let kind = Kind::MeetingChanged;
                reminders::tell(conn, &meeting, kind, &coming, message, starts_at, now)?;
            }
        }
        Ok(meeting)
    })
}

/// The members answering going, waiting or maybe for a date of `meeting` that has not ended.
fn answering_for_coming_dates(
    conn: &mut DbConn,
    meeting: &Meeting,
    now: NaiveDateTime,
) -> Result<Vec<MemberId>> {
    let zone = meeting.zone()?;
    let length = chrono::TimeDelta::minutes(i64::from(meeting.duration_minutes));
    let answers: Vec<(MemberId, NaiveDateTime)> = meeting_rsvps::table
        .filter(meeting_rsvps::meeting_id.eq(meeting.id))
        .filter(meeting_rsvps::response.eq_any([
            Response::Going.as_str(),
            Response::Waiting.as_str(),
            Response::Maybe.as_str(),
        ]))
        .select((meeting_rsvps::member_id, meeting_rsvps::occurrence_local))
        .load(conn)?;
    let mut members: Vec<MemberId> = answers
        .into_iter()
        .filter(|(_, local)| super::recurrence::to_utc(zone, *local) + length > now)
        .map(|(member, _)| member)
        .collect();
    members.sort_unstable();
    members.dedup();
    Ok(members)
}

/// Whether an edit changed what someone going needs to know: when, for how long, how often,
/// where, or the link.
fn changes_plans(before: &Meeting, after: &Meeting) -> bool {
    (
        before.starts_local,
        &before.time_zone,
        before.duration_minutes,
        &before.repeat,
        before.interval_weeks,
        before.month_week,
        before.until_date,
        before.occurrence_count,
        &before.online_url,
        &before.place,
    ) != (
        after.starts_local,
        &after.time_zone,
        after.duration_minutes,
        &after.repeat,
        after.interval_weeks,
        after.month_week,
        after.until_date,
        after.occurrence_count,
        &after.online_url,
        &after.place,
    )
}

/// Tells everyone going to (or waiting for, or maybe going to) one meeting that it changed
/// or was cancelled (`kind`), as a notification about the meeting.
fn tell_attendees(
    conn: &mut DbConn,
    meeting: &Meeting,
    original: NaiveDateTime,
    kind: Kind,
    message: impl Fn(&str) -> String,
    now: NaiveDateTime,
    starts_at: NaiveDateTime,
) -> Result<()> {
    let ids: Vec<MemberId> = meeting_rsvps::table
        .filter(meeting_rsvps::meeting_id.eq(meeting.id))
        .filter(meeting_rsvps::occurrence_local.eq(original))
        .filter(meeting_rsvps::response.eq_any([
            Response::Going.as_str(),
            Response::Waiting.as_str(),
            Response::Maybe.as_str(),
        ]))
        .select(meeting_rsvps::member_id)
        .load(conn)?;
    reminders::tell(conn, meeting, kind, &ids, message, starts_at, now)
}

/// Cancels one meeting of a series; those who answered going, maybe or waiting get a notice.
pub fn cancel_occurrence(
    conn: &mut DbConn,
    member: &MemberActor,
    id: MeetingId,
    key: &str,
) -> Result<()> {
    let (_, meeting) = for_change(conn, member, id)?;
    let now = clock::now();
    write_tx(conn, |conn| {
        let occurrence = find_occurrence(conn, &meeting, key)?;
        if occurrence.cancelled {
            return Ok(());
        }
        diesel::delete(meeting_exceptions::table.find((id, occurrence.original_local)))
            .execute(conn)?;
        diesel::insert_into(meeting_exceptions::table)
            .values((
                meeting_exceptions::meeting_id.eq(id),
                meeting_exceptions::original_local.eq(occurrence.original_local),
                meeting_exceptions::cancelled.eq(true),
                meeting_exceptions::moved_to_local
                    .eq(occurrence.moved.then_some(occurrence.local_start)),
                meeting_exceptions::created_at.eq(now),
            ))
            .execute(conn)?;
        touch(conn, id, now)?;
        if occurrence.ends_at > now {
            let title = meeting.title.clone();
            tell_attendees(
                conn,
                &meeting,
                occurrence.original_local,
                Kind::MeetingCancelled,
                |when| format!("\u{201c}{title}\u{201d} on {when} is cancelled."),
                now,
                occurrence.starts_at,
            )?;
        }
        Ok(())
    })
}

/// Moves one meeting of a series to another local date and time (in the meeting's zone);
/// answers stay with it, and those who answered get a notice.
pub fn move_occurrence(
    conn: &mut DbConn,
    member: &MemberActor,
    id: MeetingId,
    key: &str,
    date: &str,
    time: &str,
) -> Result<Occurrence> {
    let (_, meeting) = for_change(conn, member, id)?;
    let zone = meeting.zone()?;
    let now = clock::now();
    let mut invalid = Invalid::default();
    let date = parse_date(date);
    if date.is_none() {
        invalid.add("date", "give the new date, like 2026-03-12");
    }
    let time = parse_time(time);
    if time.is_none() {
        invalid.add("time", "give the new time, like 19:00");
    }
    let new_local = date.zip(time).map(|(d, t)| d.and_time(t));
    if let Some(local) = new_local {
        if recurrence::is_gap(zone, local) {
            invalid.add("time", describe_gap(zone, local));
        } else if recurrence::to_utc(zone, local) < now {
            invalid.add("date", "the new time has to be in the future");
        }
    }
    invalid.into_result()?;
    let new_local = new_local.ok_or_else(|| Error::Internal("checked".into()))?;
    write_tx(conn, |conn| {
        let before = find_occurrence(conn, &meeting, key)?;
        if before.cancelled {
            return Err(Error::invalid("date", "this meeting was cancelled"));
        }
        let original = before.original_local;
        diesel::delete(meeting_exceptions::table.find((id, original))).execute(conn)?;
        // Moved back to where it was: no exception at all.
        if new_local != original {
            diesel::insert_into(meeting_exceptions::table)
                .values((
                    meeting_exceptions::meeting_id.eq(id),
                    meeting_exceptions::original_local.eq(original),
                    meeting_exceptions::cancelled.eq(false),
                    meeting_exceptions::moved_to_local.eq(Some(new_local)),
                    meeting_exceptions::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        touch(conn, id, now)?;
        let after = find_occurrence(conn, &meeting, key)?;
        if let Some(ends) = meeting.series_ends_at {
            if after.ends_at > ends {
                diesel::update(meetings::table.find(id))
                    .set(meetings::series_ends_at.eq(after.ends_at))
                    .execute(conn)?;
            }
        }
        let title = meeting.title.clone();
        tell_attendees(
            conn,
            &meeting,
            original,
            Kind::MeetingChanged,
            |when| format!("\u{201c}{title}\u{201d} has moved: it is now on {when}."),
            now,
            after.starts_at,
        )?;
        Ok(after)
    })
}

/// Cancels a whole series (its meetings stay listed nowhere; answers are kept for the record).
pub fn cancel_series(conn: &mut DbConn, member: &MemberActor, id: MeetingId) -> Result<()> {
    let (_, meeting) = for_change(conn, member, id)?;
    let now = clock::now();
    write_tx(conn, |conn| {
        diesel::update(meetings::table.find(id))
            .set(meetings::state.eq(MeetingState::Cancelled.as_str()))
            .execute(conn)?;
        touch(conn, id, now)?;
        // Tell those going to its coming meetings.
        let exceptions = exceptions_of(conn, &[id])?;
        let coming = expand(&meeting, &exceptions, now, now + TimeDelta::days(366), 100)?;
        let title = meeting.title.clone();
        for occurrence in coming.iter().filter(|o| !o.cancelled) {
            tell_attendees(
                conn,
                &meeting,
                occurrence.original_local,
                Kind::MeetingCancelled,
                |when| {
                    format!("\u{201c}{title}\u{201d} on {when} is cancelled: the facilitators cancelled the whole series.")
                },
                now,
                occurrence.starts_at,
            )?;
        }
        Ok(())
    })
}

/// The group at `slug` for the form that schedules a meeting, if `member` may (see
/// [`schedule`]).
pub fn for_scheduling(conn: &mut DbConn, member: &MemberActor, slug: &str) -> Result<Board> {
    let actor = member.actor();
    let board = crate::forum::boards::by_slug_for(conn, &actor, slug)?;
    policy::authorize(&actor, Action::ScheduleMeeting(&board))?;
    Ok(board)
}

/// The date `key` of a meeting, for the form that moves it (see [`move_occurrence`]).
pub fn for_moving(
    conn: &mut DbConn,
    member: &MemberActor,
    id: MeetingId,
    key: &str,
) -> Result<(Board, Meeting, Occurrence)> {
    let (board, meeting) = for_change(conn, member, id)?;
    let occurrence = find_occurrence(conn, &meeting, key)?;
    Ok((board, meeting, occurrence))
}
