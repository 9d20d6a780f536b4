//! What members going to a meeting are told: that it changed or was cancelled (in the
//! transaction of the change), and that it starts soon, as long before as each chose on
//! `/settings` ([`ReminderLead`]).
//!
//! Reminders are written by [`send_due`], which `hearth serve` runs every minute. Each member
//! is reminded once per meeting date: the reminder's key (meeting, date, member) is claimed in
//! `meeting_reminders` in the transaction that writes the notification, so two nodes on one
//! PostgreSQL database, two runs at once or a restart never remind twice. Everyone told must
//! still be able to read the group (the policy decides, as for every notification).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::answers::{when_for_member, Response};
use super::{exceptions_of, expand, Meeting, MeetingState, Occurrence};
use crate::accounts::actors;
use crate::db::schema::{meeting_reminders, meeting_rsvps, meetings, notification_preferences};
use crate::db::{per_connection, write_tx_unseen, DbConn};
use crate::error::Result;
use crate::ids::{BoardId, MeetingId, MemberId};
use crate::model::Board;
use crate::notifications::{self, Kind, ReminderLead, Subject};
use crate::policy::{self, Action, Actor};

/// Which of `ids` may read the group now (members of a private group, not banned from it).
fn readers_of(conn: &mut DbConn, board: &Board, ids: &[MemberId]) -> Result<HashSet<MemberId>> {
    Ok(actors::actors_on_board(conn, ids, board.id)?
        .into_iter()
        .filter(|actor| {
            policy::allows(
                &Actor::Member(Box::new(actor.clone())),
                Action::ReadBoard(board),
            )
        })
        .map(|actor| actor.id)
        .collect())
}

/// Tells members who answered one meeting date that it changed or was cancelled (`kind`),
/// each with the date in their own zone; only those who may still read the group. Inside the
/// caller's transaction.
pub(super) fn tell(
    conn: &mut DbConn,
    meeting: &Meeting,
    kind: Kind,
    ids: &[MemberId],
    message: impl Fn(&str) -> String,
    starts_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let board = crate::forum::boards::by_id(conn, meeting.board_id)?;
    let readers = readers_of(conn, &board, ids)?;
    let subject = Subject {
        board: Some(meeting.board_id),
        meeting: Some(meeting.id),
        ..Subject::default()
    };
    for &id in ids.iter().filter(|id| readers.contains(id)) {
        let when = when_for_member(conn, id, starts_at)?;
        notifications::notice(conn, id, kind, subject, &message(&when), now)?;
    }
    Ok(())
}

/// One reminder to send: a member going to one meeting date.
#[derive(Debug, Clone)]
struct Due {
    meeting_id: MeetingId,
    board_id: BoardId,
    title: String,
    original_local: NaiveDateTime,
    starts_at: NaiveDateTime,
    member: MemberId,
}

/// Sends every reminder due at `now`: to each member going to a meeting date that starts
/// within their chosen lead (and has not started), once. Returns how many were sent. Reads
/// first and takes the write lock only when something is due.
pub fn send_due(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize> {
    if due(conn, now)?.is_empty() {
        return Ok(0);
    }
    write_tx_unseen(conn, |conn| {
        let mut sent = 0;
        // Decided again inside the transaction: an answer or a membership may have changed.
        for reminder in due(conn, now)? {
            if !claim(conn, &reminder, now)? {
                continue; // another node or run sent it
            }
            let when = when_for_member(conn, reminder.member, reminder.starts_at)?;
            let subject = Subject {
                board: Some(reminder.board_id),
                meeting: Some(reminder.meeting_id),
                ..Subject::default()
            };
            let body = format!("\u{201c}{}\u{201d} starts soon: {when}.", reminder.title);
            notifications::notice(
                conn,
                reminder.member,
                Kind::MeetingReminder,
                subject,
                &body,
                now,
            )?;
            sent += 1;
        }
        Ok(sent)
    })
}

/// Takes the reminder's key; false when it was taken before (by this node or another).
fn claim(conn: &mut DbConn, reminder: &Due, now: NaiveDateTime) -> Result<bool> {
    let insert = diesel::insert_into(meeting_reminders::table)
        .values((
            meeting_reminders::meeting_id.eq(reminder.meeting_id),
            meeting_reminders::occurrence_local.eq(reminder.original_local),
            meeting_reminders::member_id.eq(reminder.member),
            meeting_reminders::sent_at.eq(now),
        ))
        .on_conflict_do_nothing();
    let inserted = per_connection!(conn, |c| insert.execute(c))?;
    Ok(inserted == 1)
}

/// The reminders due at `now` and not yet sent.
fn due(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<Due>> {
    let horizon = now + TimeDelta::minutes(i64::from(ReminderLead::LONGEST_MINUTES));
    let series: Vec<Meeting> = meetings::table
        .filter(meetings::state.eq(MeetingState::Scheduled.as_str()))
        .filter(
            meetings::series_ends_at
                .is_null()
                .or(meetings::series_ends_at.gt(now)),
        )
        .select(Meeting::as_select())
        .load(conn)?;
    let ids: Vec<MeetingId> = series.iter().map(|m| m.id).collect();
    let exceptions = exceptions_of(conn, &ids)?;
    let mut found = Vec::new();
    let mut boards: HashMap<BoardId, Board> = HashMap::new();
    for meeting in &series {
        // `expand` takes what starts before its end: one starting exactly a day ahead is due.
        let soon: Vec<Occurrence> = expand(
            meeting,
            &exceptions,
            now,
            horizon + TimeDelta::seconds(1),
            50,
        )?
        .into_iter()
        .filter(|o| !o.cancelled && o.starts_at > now && o.starts_at <= horizon)
        .collect();
        for occurrence in soon {
            let waiting = unreminded(conn, meeting.id, occurrence.original_local)?;
            let leads = leads_of(conn, &waiting)?;
            let due_now: Vec<MemberId> = waiting
                .into_iter()
                .filter(|id| {
                    let minutes = leads
                        .get(id)
                        .copied()
                        .unwrap_or(ReminderLead::Hour.minutes());
                    minutes > 0
                        && occurrence.starts_at - TimeDelta::minutes(i64::from(minutes)) <= now
                })
                .collect();
            if due_now.is_empty() {
                continue;
            }
            let board = match boards.get(&meeting.board_id) {
                Some(board) => board.clone(),
                None => {
                    let board = crate::forum::boards::by_id(conn, meeting.board_id)?;
                    boards.insert(board.id, board.clone());
                    board
                }
            };
            let readers = readers_of(conn, &board, &due_now)?;
            for member in due_now.into_iter().filter(|id| readers.contains(id)) {
                found.push(Due {
                    meeting_id: meeting.id,
                    board_id: meeting.board_id,
                    title: meeting.title.clone(),
                    original_local: occurrence.original_local,
                    starts_at: occurrence.starts_at,
                    member,
                });
            }
        }
    }
    Ok(found)
}

/// Who is going to one meeting date and has not been reminded of it.
fn unreminded(
    conn: &mut DbConn,
    meeting: MeetingId,
    original: NaiveDateTime,
) -> Result<Vec<MemberId>> {
    let going: Vec<MemberId> = meeting_rsvps::table
        .filter(meeting_rsvps::meeting_id.eq(meeting))
        .filter(meeting_rsvps::occurrence_local.eq(original))
        .filter(meeting_rsvps::response.eq(Response::Going.as_str()))
        .select(meeting_rsvps::member_id)
        .load(conn)?;
    if going.is_empty() {
        return Ok(going);
    }
    let reminded: HashSet<MemberId> = meeting_reminders::table
        .filter(meeting_reminders::meeting_id.eq(meeting))
        .filter(meeting_reminders::occurrence_local.eq(original))
        .select(meeting_reminders::member_id)
        .load::<MemberId>(conn)?
        .into_iter()
        .collect();
    Ok(going
        .into_iter()
        .filter(|id| !reminded.contains(id))
        .collect())
}

/// The reminder lead each of `members` chose, in minutes (absent: the default).
fn leads_of(conn: &mut DbConn, members: &[MemberId]) -> Result<HashMap<MemberId, i32>> {
    let mut leads = HashMap::new();
    for chunk in members.chunks(500) {
        let rows: Vec<(MemberId, i32)> = notification_preferences::table
            .filter(notification_preferences::member_id.eq_any(chunk))
            .select((
                notification_preferences::member_id,
                notification_preferences::reminder_minutes,
            ))
            .load(conn)?;
        leads.extend(rows);
    }
    Ok(leads)
}

#[cfg(test)]
mod tests;
