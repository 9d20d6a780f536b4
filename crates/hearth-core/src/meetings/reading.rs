//! Reading meetings: one by its id, one date of a series by its key, a group's coming dates.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use super::{exceptions_of, expand, find_occurrence, Meeting, Occurrence};
use crate::db::schema::meetings;
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::forum::boards;
use crate::ids::{BoardId, MeetingId};
use crate::model::Board;
use crate::policy::Actor;

/// One date of a series by its key (cancelled or moved as it is); not found if the series has
/// no such date.
pub fn occurrence_by_key(conn: &mut DbConn, meeting: &Meeting, key: &str) -> Result<Occurrence> {
    find_occurrence(conn, meeting, key)
}

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
        .filter(meetings::state.eq("scheduled"))
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

/// The group's next meeting that is not cancelled and has not ended by `now`, looking a year
/// ahead (for a board page or a group directory). The caller has checked the actor may read
/// the board; nothing returned here is members-only.
pub fn next_occurrence(
    conn: &mut DbConn,
    board_id: BoardId,
    now: NaiveDateTime,
) -> Result<Option<Upcoming>> {
    let found = upcoming_for_board(conn, board_id, now, now + TimeDelta::days(366), 50)?;
    Ok(found.into_iter().find(|u| !u.occurrence.cancelled))
}
