//! Reading meetings: one by its id, one date of a series by its key, a group's coming dates.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::MeetingState;
use super::{
    answers, details_for, exceptions_of, expand, Answers, Meeting, MeetingDetails, Occurrence,
};
use crate::db::schema::meetings;
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::forum::boards;
use crate::ids::{BoardId, MeetingId};
use crate::model::Board;
use crate::policy::{self, Action, Actor};

pub(super) fn by_id(conn: &mut DbConn, id: MeetingId) -> Result<Meeting> {
    meetings::table
        .find(id)
        .select(Meeting::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// A meeting and its group, if the actor may read the group.
pub fn by_id_for(conn: &mut DbConn, actor: &Actor, id: MeetingId) -> Result<(Board, Meeting)> {
    let meeting = by_id(conn, id)?;
    let board = boards::by_id_for(conn, actor, meeting.board_id)?;
    Ok((board, meeting))
}

/// The next meetings of one series (from `now`), cancelled ones included and marked.
pub fn upcoming_of(
    conn: &mut DbConn,
    meeting: &Meeting,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: usize,
) -> Result<Vec<Occurrence>> {
    let exceptions = exceptions_of(conn, &[meeting.id])?;
    expand(meeting, &exceptions, now, until, limit)
}

/// One meeting of a group with its series.
#[derive(Debug, Clone, Serialize)]
pub struct Upcoming {
    pub meeting: Meeting,
    pub occurrence: Occurrence,
}

/// A group's meetings between `from` and `to` (UTC), in order, at most `limit`; cancelled
/// ones of running series are included and marked. The caller has checked the actor may
/// read the board.
pub fn upcoming_for_board(
    conn: &mut DbConn,
    board_id: BoardId,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: usize,
) -> Result<Vec<Upcoming>> {
    let series: Vec<Meeting> = meetings::table
        .filter(meetings::board_id.eq(board_id))
        .filter(meetings::state.eq(MeetingState::Scheduled.as_str()))
        .filter(
            meetings::series_ends_at
                .is_null()
                .or(meetings::series_ends_at.gt(from)),
        )
        .select(Meeting::as_select())
        .load(conn)?;
    let ids: Vec<MeetingId> = series.iter().map(|m| m.id).collect();
    let exceptions = exceptions_of(conn, &ids)?;
    let mut found = Vec::new();
    for meeting in &series {
        for occurrence in expand(meeting, &exceptions, from, to, limit)? {
            found.push(Upcoming {
                meeting: meeting.clone(),
                occurrence,
            });
        }
    }
    found.sort_by(|a, b| {
        (a.occurrence.starts_at, a.meeting.id).cmp(&(b.occurrence.starts_at, b.meeting.id))
    });
    found.truncate(limit);
    Ok(found)
}

/// The group's next meeting that is not cancelled and has not ended by `now`, however far
/// ahead it is (up to [`LOOK_AHEAD`](super::LOOK_AHEAD)), for a board page or a group directory. The caller has checked the actor may read
/// the board; nothing returned here is members-only.
pub fn next_occurrence(
    conn: &mut DbConn,
    board_id: BoardId,
    now: NaiveDateTime,
) -> Result<Option<Upcoming>> {
    let found = upcoming_for_board(conn, board_id, now, now + super::LOOK_AHEAD, 50)?;
    Ok(found.into_iter().find(|u| !u.occurrence.cancelled))
}

/// A group's list of meetings as a reader sees it.
#[derive(Debug)]
pub struct GroupMeetings {
    pub board: Board,
    pub upcoming: Vec<Upcoming>,
    /// The reader may schedule the group's meetings.
    pub can_schedule: bool,
}

/// The meetings between `from` and `to` of the group at `slug`, at most `limit`, if `actor`
/// may read the group.
pub fn list_for(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: usize,
) -> Result<GroupMeetings> {
    let board = boards::by_slug_for(conn, actor, slug)?;
    Ok(GroupMeetings {
        upcoming: upcoming_for_board(conn, board.id, from, to, limit)?,
        can_schedule: policy::allows(actor, Action::ScheduleMeeting(&board)),
        board,
    })
}

/// One meeting's page as a reader sees it: its coming dates with their answers, its details
/// for the group's members, and what the reader may do.
#[derive(Debug)]
pub struct MeetingView {
    pub board: Board,
    pub meeting: Meeting,
    pub dates: Vec<DateView>,
    pub details: Option<MeetingDetails>,
    pub can_rsvp: bool,
    /// The reader may edit or cancel the series (which is not cancelled already).
    pub can_schedule: bool,
}

/// One date of a meeting with its answers.
#[derive(Debug, Serialize)]
pub struct DateView {
    pub occurrence: Occurrence,
    pub answers: Option<Answers>,
    /// Still to come (answers can change).
    pub open: bool,
}

/// The meeting `id` as `actor` sees it at `now`, with its next dates until `until`, at most
/// `limit`.
pub fn page_for(
    conn: &mut DbConn,
    actor: &Actor,
    id: MeetingId,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: usize,
) -> Result<MeetingView> {
    let (board, meeting) = by_id_for(conn, actor, id)?;
    let occurrences = upcoming_of(conn, &meeting, now, until, limit)?;
    let mut answers = answers(conn, actor, &board, &meeting, &occurrences)?;
    let dates = occurrences
        .into_iter()
        .map(|occurrence| DateView {
            answers: answers.remove(&occurrence.key),
            open: !occurrence.cancelled && occurrence.ends_at > now,
            occurrence,
        })
        .collect();
    Ok(MeetingView {
        details: details_for(actor, &board, &meeting),
        can_rsvp: policy::allows(actor, Action::Rsvp(&board)),
        can_schedule: policy::allows(actor, Action::ScheduleMeeting(&board))
            && !meeting.is_cancelled(),
        board,
        meeting,
        dates,
    })
}
