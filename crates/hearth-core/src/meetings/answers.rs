//! Members' answers per date (going, maybe, not going), the waiting list of a full meeting
//! and the places that open up on it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use super::reading::{by_id, by_id_for};
use super::{exceptions_of, find_occurrence, occurrence, recurrence, Meeting, Occurrence};
use crate::accounts::members;
use crate::clock;
use crate::db::schema::{meeting_rsvps, meetings, members as members_table};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::{BoardId, MeetingId, MemberId};
use crate::model::{AuthorRef, Board};
use crate::notifications::Kind;
use crate::policy::{self, Action, Actor, MemberActor};
use crate::text_enum::text_enum;

text_enum! {
    /// A member's answer for one meeting.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Response ("meeting answer") {
        Going = "going",
        Maybe = "maybe",
        NotGoing = "not_going",
        /// Said going when the meeting was full: on the waiting list.
        Waiting = "waiting",
    }
}

impl Response {
    /// What a member can choose (waiting is where "going" lands when the meeting is full).
    pub fn parse_choice(text: &str) -> Option<Response> {
        Response::parse(text).filter(|r| *r != Response::Waiting)
    }

    fn from_stored(text: &str) -> Response {
        Response::parse(text).unwrap_or(Response::NotGoing)
    }
}

/// The answers for one meeting as a reader sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Answers {
    pub key: String,
    pub going: usize,
    pub maybe: usize,
    pub waiting: usize,
    /// The reader's own answer, and their place on the waiting list (1 = next).
    pub mine: Option<Response>,
    pub my_waiting_place: Option<usize>,
    /// Who is going, for the group's members (empty for everyone else).
    pub going_people: Vec<AuthorRef>,
    pub full: bool,
}

/// The answers for these meetings of a series, keyed by occurrence key.
pub fn answers(
    conn: &mut DbConn,
    actor: &Actor,
    board: &Board,
    meeting: &Meeting,
    occurrences: &[Occurrence],
) -> Result<HashMap<String, Answers>> {
    let originals: Vec<NaiveDateTime> = occurrences.iter().map(|o| o.original_local).collect();
    let rows: Vec<(NaiveDateTime, MemberId, String)> = meeting_rsvps::table
        .filter(meeting_rsvps::meeting_id.eq(meeting.id))
        .filter(meeting_rsvps::occurrence_local.eq_any(&originals))
        .order((
            meeting_rsvps::responded_at.asc(),
            meeting_rsvps::member_id.asc(),
        ))
        .select((
            meeting_rsvps::occurrence_local,
            meeting_rsvps::member_id,
            meeting_rsvps::response,
        ))
        .load(conn)?;
    let sees_people = policy::allows(actor, Action::SeeMeetingDetails(board));
    let me = actor.member().map(|m| m.id);
    let going_ids: Vec<MemberId> = rows
        .iter()
        .filter(|r| r.2 == "going")
        .map(|r| r.1)
        .collect();
    let people = if sees_people {
        members::authors_by_ids(conn, &going_ids)?
    } else {
        HashMap::new()
    };
    let mut out = HashMap::new();
    for occurrence in occurrences {
        let mine_rows = rows.iter().filter(|r| r.0 == occurrence.original_local);
        let mut answers = Answers {
            key: occurrence.key.clone(),
            going: 0,
            maybe: 0,
            waiting: 0,
            mine: None,
            my_waiting_place: None,
            going_people: Vec::new(),
            full: false,
        };
        for (_, member_id, response) in mine_rows {
            let response = Response::from_stored(response);
            match response {
                Response::Going => {
                    answers.going += 1;
                    if let Some(person) = people.get(member_id) {
                        answers.going_people.push(person.clone());
                    }
                }
                Response::Maybe => answers.maybe += 1,
                Response::Waiting => answers.waiting += 1,
                Response::NotGoing => {}
            }
            if Some(*member_id) == me {
                answers.mine = Some(response);
                if response == Response::Waiting {
                    answers.my_waiting_place = Some(answers.waiting);
                }
            }
        }
        answers.full = meeting
            .capacity
            .is_some_and(|c| answers.going >= usize::try_from(c).unwrap_or(0));
        out.insert(occurrence.key.clone(), answers);
    }
    Ok(out)
}

/// Takes the meeting row's lock (PostgreSQL), so answers to one meeting are decided one at
/// a time and the waiting list keeps its order.
fn lock_meeting(conn: &mut DbConn, id: MeetingId) -> Result<()> {
    diesel::update(meetings::table.find(id))
        .set(meetings::state.eq(meetings::state))
        .execute(conn)?;
    Ok(())
}

fn stored_response(
    conn: &mut DbConn,
    meeting_id: MeetingId,
    original: NaiveDateTime,
    member_id: MemberId,
) -> Result<Option<Response>> {
    let found: Option<String> = meeting_rsvps::table
        .find((meeting_id, original, member_id))
        .select(meeting_rsvps::response)
        .get_result(conn)
        .optional()?;
    Ok(found.as_deref().map(Response::from_stored))
}

fn count_going(conn: &mut DbConn, meeting_id: MeetingId, original: NaiveDateTime) -> Result<i64> {
    Ok(meeting_rsvps::table
        .filter(meeting_rsvps::meeting_id.eq(meeting_id))
        .filter(meeting_rsvps::occurrence_local.eq(original))
        .filter(meeting_rsvps::response.eq("going"))
        .count()
        .get_result(conn)?)
}

fn store_response(
    conn: &mut DbConn,
    meeting_id: MeetingId,
    original: NaiveDateTime,
    member_id: MemberId,
    response: Response,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::delete(meeting_rsvps::table.find((meeting_id, original, member_id))).execute(conn)?;
    diesel::insert_into(meeting_rsvps::table)
        .values((
            meeting_rsvps::meeting_id.eq(meeting_id),
            meeting_rsvps::occurrence_local.eq(original),
            meeting_rsvps::member_id.eq(member_id),
            meeting_rsvps::response.eq(response.as_str()),
            meeting_rsvps::responded_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// "Thu 12 Mar 2026, 19:00 (Europe/London)" in the member's own zone, for notices.
pub(super) fn when_for_member(
    conn: &mut DbConn,
    member_id: MemberId,
    utc: NaiveDateTime,
) -> Result<String> {
    let zone: String = members_table::table
        .find(member_id)
        .select(members_table::time_zone)
        .get_result(conn)?;
    let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
    let local = recurrence::to_local(tz, utc);
    Ok(format!(
        "{} ({})",
        local.format("%a %-d %b %Y, %H:%M"),
        tz.name()
    ))
}

/// Moves the first on the waiting list up while the meeting has room; each gets a notice.
/// Runs inside the caller's transaction.
pub(super) fn fill_places(
    conn: &mut DbConn,
    meeting: &Meeting,
    occurrence: &Occurrence,
    now: NaiveDateTime,
) -> Result<()> {
    loop {
        if let Some(capacity) = meeting.capacity {
            if count_going(conn, meeting.id, occurrence.original_local)? >= i64::from(capacity) {
                return Ok(());
            }
        }
        let next: Option<MemberId> = meeting_rsvps::table
            .filter(meeting_rsvps::meeting_id.eq(meeting.id))
            .filter(meeting_rsvps::occurrence_local.eq(occurrence.original_local))
            .filter(meeting_rsvps::response.eq("waiting"))
            .order((
                meeting_rsvps::responded_at.asc(),
                meeting_rsvps::member_id.asc(),
            ))
            .select(meeting_rsvps::member_id)
            .first(conn)
            .optional()?;
        let Some(member_id) = next else {
            return Ok(());
        };
        diesel::update(meeting_rsvps::table.find((
            meeting.id,
            occurrence.original_local,
            member_id,
        )))
        .set(meeting_rsvps::response.eq("going"))
        .execute(conn)?;
        super::reminders::tell(
            conn,
            meeting,
            Kind::MeetingChanged,
            &[member_id],
            |when| {
                format!(
                "A place opened up at \u{201c}{}\u{201d} on {when}: you have moved up from the waiting list and are now going.",
                meeting.title
            )
            },
            occurrence.starts_at,
            now,
        )?;
    }
}

/// Answers for one meeting of a series. "Going" to a full meeting puts the member on the
/// waiting list; leaving "going" moves the first on the list up (with a notice). Returns the
/// answer as stored (going or waiting for "going").
pub fn rsvp(
    conn: &mut DbConn,
    member: &MemberActor,
    meeting_id: MeetingId,
    key: &str,
    choice: Response,
) -> Result<Response> {
    let actor = member.actor();
    let (board, meeting) = by_id_for(conn, &actor, meeting_id)?;
    policy::authorize(&actor, Action::Rsvp(&board))?;
    let now = clock::now();
    write_tx(conn, |conn| {
        lock_meeting(conn, meeting.id)?;
        let meeting = by_id(conn, meeting.id)?;
        let occurrence = find_occurrence(conn, &meeting, key)?;
        if occurrence.cancelled {
            return Err(Error::invalid("response", "this meeting was cancelled"));
        }
        if occurrence.ends_at <= now {
            return Err(Error::invalid("response", "this meeting is over"));
        }
        let original = occurrence.original_local;
        let before = stored_response(conn, meeting.id, original, member.id)?;
        let stored = match choice {
            Response::Going | Response::Waiting => match before {
                Some(Response::Going) => return Ok(Response::Going),
                Some(Response::Waiting) => return Ok(Response::Waiting),
                _ => {
                    let full = match meeting.capacity {
                        Some(c) => count_going(conn, meeting.id, original)? >= i64::from(c),
                        None => false,
                    };
                    if full {
                        Response::Waiting
                    } else {
                        Response::Going
                    }
                }
            },
            other => other,
        };
        store_response(conn, meeting.id, original, member.id, stored, now)?;
        if before == Some(Response::Going) && stored != Response::Going {
            fill_places(conn, &meeting, &occurrence, now)?;
        }
        Ok(stored)
    })
}

/// A member leaving a group gives up their places at its coming meetings (and their places on
/// waiting lists); the first waiting moves up. Runs inside the caller's transaction.
pub(crate) fn withdraw_from_group(
    conn: &mut DbConn,
    board_id: BoardId,
    member_id: MemberId,
    now: NaiveDateTime,
) -> Result<()> {
    let series: Vec<Meeting> = meetings::table
        .filter(meetings::board_id.eq(board_id))
        .select(Meeting::as_select())
        .load(conn)?;
    for meeting in series {
        let rows: Vec<(NaiveDateTime, String)> = meeting_rsvps::table
            .filter(meeting_rsvps::meeting_id.eq(meeting.id))
            .filter(meeting_rsvps::member_id.eq(member_id))
            .select((meeting_rsvps::occurrence_local, meeting_rsvps::response))
            .load(conn)?;
        if rows.is_empty() {
            continue;
        }
        let zone = meeting.zone()?;
        let exceptions = exceptions_of(conn, &[meeting.id])?;
        for (original, response) in rows {
            let exception = exceptions.iter().find(|e| e.original_local == original);
            let occurrence = occurrence(&meeting, zone, original, exception);
            if occurrence.ends_at <= now {
                continue; // who came to past meetings stays as it was
            }
            diesel::delete(meeting_rsvps::table.find((meeting.id, original, member_id)))
                .execute(conn)?;
            if response == "going" && !occurrence.cancelled {
                fill_places(conn, &meeting, &occurrence, now)?;
            }
        }
    }
    Ok(())
}
