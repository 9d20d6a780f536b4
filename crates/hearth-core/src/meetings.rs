//! A group's meetings: facilitators schedule one meeting or a series (weekly, every n weeks,
//! monthly on the nth weekday), cancel or move one meeting of it, edit or cancel the whole;
//! members answer going / maybe / not going for each meeting, with a waiting list when a
//! meeting has a capacity; iCalendar feeds per public group and per member.
//!
//! A series is stored as its first meeting's local wall time plus its IANA zone and expanded
//! with chrono-tz ([`recurrence`]), so meetings keep their local hour across daylight-saving
//! changes. One meeting of a series is named by its original local start (its *key*, such as
//! `20260312T1900`), which is also its `RECURRENCE-ID` in the feeds: moving a meeting does not
//! change its key, so answers stay with it.
//!
//! The online link and the place are for the group's members only
//! ([`Action::SeeMeetingDetails`]): [`Meeting`] does not serialize them and they are reached
//! only through [`details_for`] and the member's private feed.

pub mod ical;
pub mod recurrence;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use crate::forum::boards;

use crate::accounts::actors;
use crate::accounts::members;
use crate::accounts::tokens;
use crate::clock;
use crate::db::schema::{
    calendar_feeds, meeting_exceptions, meeting_rsvps, meetings, members as members_table,
};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::ids::{BoardId, MeetingId, MemberId};
use crate::model::AuthorRef;
use crate::model::{Board, Visibility};
use crate::moderation::notices;
use crate::policy::{self, Action, Actor, MemberActor};
use recurrence::{End, MonthWeek, Repeat, Schedule};

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
/// The key of one meeting of a series: its original local start.
const KEY_FORMAT: &str = "%Y%m%dT%H%M";
/// How far back the feeds reach.
const FEED_PAST_DAYS: i64 = 60;

/// One meeting or a series, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = meetings)]
pub struct Meeting {
    pub id: MeetingId,
    pub board_id: BoardId,
    pub title: String,
    pub agenda: String,
    /// Rendered by `hearth-markdown` when the meeting was saved.
    pub agenda_html: String,
    /// The first meeting's local date and time in `time_zone`.
    pub starts_local: NaiveDateTime,
    pub time_zone: String,
    pub duration_minutes: i32,
    /// `none`, `weekly` or `monthly`.
    pub repeat: String,
    pub interval_weeks: i32,
    pub month_week: Option<i32>,
    pub until_date: Option<NaiveDate>,
    pub occurrence_count: Option<i32>,
    /// Members only: never serialized, read through [`details_for`].
    #[serde(skip)]
    pub(crate) online_url: String,
    #[serde(skip)]
    pub(crate) place: String,
    pub capacity: Option<i32>,
    /// `scheduled` or `cancelled`.
    pub state: String,
    pub series_ends_at: Option<NaiveDateTime>,
    pub sequence: i32,
    pub created_by: MemberId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Meeting {
    pub fn zone(&self) -> Result<Tz> {
        self.time_zone
            .parse()
            .map_err(|_| Error::Internal(format!("meeting {} has an unknown zone", self.id)))
    }

    pub fn schedule(&self) -> Result<Schedule> {
        let repeat = match self.repeat.as_str() {
            "none" => Repeat::Once,
            "weekly" => Repeat::Weekly {
                interval: u32::try_from(self.interval_weeks.max(1)).unwrap_or(1),
            },
            "monthly" => Repeat::Monthly {
                week: self
                    .month_week
                    .and_then(MonthWeek::from_number)
                    .ok_or_else(|| Error::Internal("a monthly meeting without its week".into()))?,
            },
            other => return Err(Error::Internal(format!("unknown repeat {other:?}"))),
        };
        let end = match (self.until_date, self.occurrence_count) {
            (Some(date), _) => End::Until(date),
            (None, Some(n)) => End::Count(u32::try_from(n.max(1)).unwrap_or(1)),
            (None, None) => End::Never,
        };
        Ok(Schedule {
            start: self.starts_local,
            zone: self.zone()?,
            repeat,
            end,
        })
    }

    pub fn is_cancelled(&self) -> bool {
        self.state == "cancelled"
    }

    /// How it repeats, in words ("Every 2 weeks on Thursday", "Monthly on the last Tuesday").
    pub fn repeat_description(&self) -> String {
        let weekday = weekday_name(self.starts_local.date());
        let ends = match (self.until_date, self.occurrence_count) {
            (Some(date), _) => format!(", until {}", date.format("%-d %b %Y")),
            (None, Some(n)) => format!(", {n} times"),
            (None, None) => String::new(),
        };
        match self.repeat.as_str() {
            "weekly" if self.interval_weeks > 1 => {
                format!("Every {} weeks on {weekday}{ends}", self.interval_weeks)
            }
            "weekly" => format!("Every week on {weekday}{ends}"),
            "monthly" => {
                let week = match self.month_week.unwrap_or(1) {
                    1 => "first",
                    2 => "second",
                    3 => "third",
                    4 => "fourth",
                    _ => "last",
                };
                format!("Monthly on the {week} {weekday}{ends}")
            }
            _ => "Once".to_owned(),
        }
    }
}

fn weekday_name(date: NaiveDate) -> String {
    date.format("%A").to_string()
}

/// What only the group's members see.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingDetails {
    pub online_url: String,
    pub place: String,
}

/// The link and place of a meeting, if the actor belongs to its group.
pub fn details_for(actor: &Actor, board: &Board, meeting: &Meeting) -> Option<MeetingDetails> {
    (meeting.board_id == board.id && policy::allows(actor, Action::SeeMeetingDetails(board))).then(
        || MeetingDetails {
            online_url: meeting.online_url.clone(),
            place: meeting.place.clone(),
        },
    )
}

/// One meeting of a series (or the one meeting).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Occurrence {
    pub meeting_id: MeetingId,
    /// Its original local start, `20260312T1900`: names it in URLs and answers.
    pub key: String,
    pub original_local: NaiveDateTime,
    /// Its local start in the meeting's zone (moved or not).
    pub local_start: NaiveDateTime,
    /// UTC.
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub moved: bool,
    pub cancelled: bool,
}

pub fn key_of(local: NaiveDateTime) -> String {
    local.format(KEY_FORMAT).to_string()
}

pub fn parse_key(key: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(key, KEY_FORMAT).ok()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_exceptions)]
struct Exception {
    meeting_id: MeetingId,
    original_local: NaiveDateTime,
    cancelled: bool,
    moved_to_local: Option<NaiveDateTime>,
}

fn occurrence(
    meeting: &Meeting,
    zone: Tz,
    original: NaiveDateTime,
    exception: Option<&Exception>,
) -> Occurrence {
    let local_start = exception.and_then(|e| e.moved_to_local).unwrap_or(original);
    let starts_at = recurrence::to_utc(zone, local_start);
    Occurrence {
        meeting_id: meeting.id,
        key: key_of(original),
        original_local: original,
        local_start,
        starts_at,
        ends_at: starts_at + TimeDelta::minutes(i64::from(meeting.duration_minutes)),
        moved: exception.is_some_and(|e| e.moved_to_local.is_some()),
        cancelled: meeting.is_cancelled() || exception.is_some_and(|e| e.cancelled),
    }
}

/// The meetings of a series that end after `from` and start before `to` (UTC), exceptions
/// applied (cancelled ones included, marked), in order of start, at most `limit`.
fn expand(
    meeting: &Meeting,
    exceptions: &[Exception],
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: usize,
) -> Result<Vec<Occurrence>> {
    let schedule = meeting.schedule()?;
    let zone = schedule.zone;
    let duration = TimeDelta::minutes(i64::from(meeting.duration_minutes));
    let by_original: HashMap<NaiveDateTime, &Exception> = exceptions
        .iter()
        .filter(|e| e.meeting_id == meeting.id)
        .map(|e| (e.original_local, e))
        .collect();
    let mut found = Vec::new();
    for original in schedule.local_starts() {
        let starts_at = recurrence::to_utc(zone, original);
        if starts_at >= to {
            break;
        }
        let exception = by_original.get(&original).copied();
        if exception.is_some_and(|e| e.moved_to_local.is_some()) {
            continue; // placed by its new time below
        }
        if starts_at + duration > from {
            found.push(occurrence(meeting, zone, original, exception));
        }
        if found.len() >= limit && exception.is_none() {
            break;
        }
    }
    for exception in by_original.values() {
        if exception.moved_to_local.is_some() {
            let moved = occurrence(meeting, zone, exception.original_local, Some(exception));
            if moved.ends_at > from && moved.starts_at < to {
                found.push(moved);
            }
        }
    }
    found.sort_by_key(|o| o.starts_at);
    found.truncate(limit);
    Ok(found)
}

fn exceptions_of(conn: &mut DbConn, ids: &[MeetingId]) -> Result<Vec<Exception>> {
    Ok(meeting_exceptions::table
        .filter(meeting_exceptions::meeting_id.eq_any(ids))
        .select(Exception::as_select())
        .load(conn)?)
}

/// One meeting of a series, found by its key, exceptions applied.
fn find_occurrence(conn: &mut DbConn, meeting: &Meeting, key: &str) -> Result<Occurrence> {
    let original = parse_key(key).ok_or(Error::NotFound)?;
    if !meeting.schedule()?.has_start(original) {
        return Err(Error::NotFound);
    }
    let exceptions = exceptions_of(conn, &[meeting.id])?;
    let exception = exceptions.iter().find(|e| e.original_local == original);
    Ok(occurrence(meeting, meeting.zone()?, original, exception))
}

// ---- Reading ----

/// One date of a series by its key (cancelled or moved as it is); not found if the series has
/// no such date.
pub fn occurrence_by_key(conn: &mut DbConn, meeting: &Meeting, key: &str) -> Result<Occurrence> {
    find_occurrence(conn, meeting, key)
}

fn by_id(conn: &mut DbConn, id: MeetingId) -> Result<Meeting> {
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

// ---- Answers ----

/// A member's answer for one meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Going,
    Maybe,
    NotGoing,
    /// Said going when the meeting was full: on the waiting list.
    Waiting,
}

impl Response {
    pub fn as_str(self) -> &'static str {
        match self {
            Response::Going => "going",
            Response::Maybe => "maybe",
            Response::NotGoing => "not_going",
            Response::Waiting => "waiting",
        }
    }

    /// What a member can choose (waiting is where "going" lands when the meeting is full).
    pub fn parse_choice(text: &str) -> Option<Response> {
        match text {
            "going" => Some(Response::Going),
            "maybe" => Some(Response::Maybe),
            "not_going" => Some(Response::NotGoing),
            _ => None,
        }
    }

    fn from_stored(text: &str) -> Response {
        match text {
            "going" => Response::Going,
            "maybe" => Response::Maybe,
            "waiting" => Response::Waiting,
            _ => Response::NotGoing,
        }
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
fn when_for_member(conn: &mut DbConn, member_id: MemberId, utc: NaiveDateTime) -> Result<String> {
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
fn fill_places(
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
        let when = when_for_member(conn, member_id, occurrence.starts_at)?;
        notices::send(
            conn,
            member_id,
            &format!(
                "A place opened up at \u{201c}{}\u{201d} on {when}: you have moved up from the waiting list and are now going.",
                meeting.title
            ),
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

// ---- Scheduling ----

/// What a facilitator types; every field a string, checked by [`schedule`] and [`update`].
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
struct Checked {
    title: String,
    agenda: String,
    schedule: Schedule,
    duration_minutes: i32,
    interval_weeks: i32,
    month_week: Option<i32>,
    until_date: Option<NaiveDate>,
    occurrence_count: Option<i32>,
    online_url: String,
    place: String,
    capacity: Option<i32>,
    series_ends_at: Option<NaiveDateTime>,
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
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

fn describe_gap(zone: Tz, local: NaiveDateTime) -> String {
    format!(
        "{} does not exist in {} on {}: the clocks go forward then. Choose another time",
        local.format("%H:%M"),
        zone.name(),
        local.format("%-d %b %Y")
    )
}

fn check_form(form: &MeetingForm, now: NaiveDateTime, is_new: bool) -> Result<Checked> {
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

fn repeat_name(repeat: Repeat) -> &'static str {
    match repeat {
        Repeat::Once => "none",
        Repeat::Weekly { .. } => "weekly",
        Repeat::Monthly { .. } => "monthly",
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
    write_tx(conn, |conn| {
        let id: MeetingId = diesel::insert_into(meetings::table)
            .values((
                meetings::board_id.eq(board.id),
                meetings::title.eq(&checked.title),
                meetings::agenda.eq(&checked.agenda),
                meetings::agenda_html.eq(agenda_html.as_str()),
                meetings::starts_local.eq(checked.schedule.start),
                meetings::time_zone.eq(checked.schedule.zone.name()),
                meetings::duration_minutes.eq(checked.duration_minutes),
                meetings::repeat.eq(repeat_name(checked.schedule.repeat)),
                meetings::interval_weeks.eq(checked.interval_weeks),
                meetings::month_week.eq(checked.month_week),
                meetings::until_date.eq(checked.until_date),
                meetings::occurrence_count.eq(checked.occurrence_count),
                meetings::online_url.eq(&checked.online_url),
                meetings::place.eq(&checked.place),
                meetings::capacity.eq(checked.capacity),
                meetings::series_ends_at.eq(checked.series_ends_at),
                meetings::created_by.eq(member.id),
                meetings::created_at.eq(now),
                meetings::updated_at.eq(now),
            ))
            .returning(meetings::id)
            .get_result(conn)?;
        by_id(conn, id)
    })
}

/// Loads a meeting for a change by a facilitator: they must moderate its group.
fn for_change(conn: &mut DbConn, member: &MemberActor, id: MeetingId) -> Result<(Board, Meeting)> {
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
    let (_, meeting) = for_change(conn, member, id)?;
    if meeting.is_cancelled() {
        return Err(Error::invalid("title", "this meeting was cancelled"));
    }
    let now = clock::now();
    let checked = check_form(form, now, false)?;
    let agenda_html = hearth_markdown::render(&checked.agenda);
    write_tx(conn, |conn| {
        diesel::update(meetings::table.find(id))
            .set((
                meetings::title.eq(&checked.title),
                meetings::agenda.eq(&checked.agenda),
                meetings::agenda_html.eq(agenda_html.as_str()),
                meetings::starts_local.eq(checked.schedule.start),
                meetings::time_zone.eq(checked.schedule.zone.name()),
                meetings::duration_minutes.eq(checked.duration_minutes),
                meetings::repeat.eq(repeat_name(checked.schedule.repeat)),
                meetings::interval_weeks.eq(checked.interval_weeks),
                meetings::month_week.eq(checked.month_week),
                meetings::until_date.eq(checked.until_date),
                meetings::occurrence_count.eq(checked.occurrence_count),
                meetings::online_url.eq(&checked.online_url),
                meetings::place.eq(&checked.place),
                meetings::capacity.eq(checked.capacity),
                meetings::series_ends_at.eq(checked.series_ends_at),
            ))
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
        Ok(meeting)
    })
}

/// Tells everyone going to (or waiting for) one meeting that it changed.
fn tell_attendees(
    conn: &mut DbConn,
    meeting: &Meeting,
    original: NaiveDateTime,
    message: impl Fn(&str) -> String,
    now: NaiveDateTime,
    starts_at: NaiveDateTime,
) -> Result<()> {
    let ids: Vec<MemberId> = meeting_rsvps::table
        .filter(meeting_rsvps::meeting_id.eq(meeting.id))
        .filter(meeting_rsvps::occurrence_local.eq(original))
        .filter(meeting_rsvps::response.eq_any(["going", "waiting", "maybe"]))
        .select(meeting_rsvps::member_id)
        .load(conn)?;
    for id in ids {
        let when = when_for_member(conn, id, starts_at)?;
        notices::send(conn, id, &message(&when), now)?;
    }
    Ok(())
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
            .set(meetings::state.eq("cancelled"))
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

// ---- Feeds ----

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
        .filter(meetings::state.eq("scheduled"))
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
        .filter(meetings::state.eq("scheduled"))
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

#[cfg(test)]
mod tests;
