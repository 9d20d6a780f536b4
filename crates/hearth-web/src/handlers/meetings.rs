//! A group's meetings: the list, one meeting with its dates and answers, the facilitators'
//! forms, and the iCalendar feeds (a public group's, and each member's private one).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, TimeDelta};
use hearth_core::clock;
use hearth_core::forum::boards;
use hearth_core::ids::MeetingId;
use hearth_core::meetings::{self, Answers, Meeting, MeetingForm, Occurrence, Response};
use hearth_core::model::{Board, Visibility};
use hearth_core::policy::{self, Action, Actor};
use serde::{Deserialize, Serialize};

use super::auth::time_zone_names;
use super::{invalid_or, see_other, Choice, Page};
use crate::errors::WebError;
use crate::state::{db, read, AppState, State};
use crate::viewer::Viewer;

/// How far ahead the group's list looks, and how many it shows.
const LIST_WEEKS: i64 = 8;
const LIST_LIMIT: usize = 50;
/// How many coming dates a meeting's page lists.
const MEETING_PAGE_LIMIT: usize = 10;
/// How far ahead it looks for them.
const MEETING_PAGE_YEARS: i64 = 20;

/// The host of the site's public address, for iCalendar UIDs (`meeting-7@forum.example.org`).
fn uid_domain(state: &AppState) -> String {
    let url = &state.config.public_url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    if host.is_empty() {
        "hearth.invalid".to_owned()
    } else {
        host.to_owned()
    }
}

fn calendar_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"meetings.ics\"",
        ))
        .body(body)
}

fn meeting_url(id: MeetingId) -> String {
    format!("/m/{id}")
}

#[derive(Deserialize)]
pub struct ListQuery {
    /// The first day (UTC) of the weeks shown, `YYYY-MM-DD`; today when absent.
    from: Option<String>,
}

/// `GET /b/{slug}/meetings`: the group's meetings of the next eight weeks.
pub async fn list(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let now = clock::now();
    let from = match query.from.as_deref() {
        Some(text) => meetings::parse_date(text)
            .ok_or(WebError::NotFound)?
            .and_time(chrono::NaiveTime::MIN)
            .max(now),
        None => now,
    };
    let to = from + TimeDelta::weeks(LIST_WEEKS);
    let actor = viewer.actor();
    let (board, upcoming, can_schedule) = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let upcoming = meetings::upcoming_for_board(conn, board.id, from, to, LIST_LIMIT)?;
        let can_schedule = policy::allows(&actor, Action::ScheduleMeeting(&board));
        Ok((board, upcoming, can_schedule))
    })
    .await?;
    let later = if upcoming.len() >= LIST_LIMIT {
        upcoming.last().map(|u| u.occurrence.starts_at.date())
    } else {
        Some(to.date())
    };
    Page::new(&state, &viewer, "meetings.html")
        .with("board", &board)
        .with("upcoming", &upcoming)
        .with("can_schedule", &can_schedule)
        .with("is_first_page", &query.from.is_none())
        .with(
            "later",
            &later.map(|d: NaiveDate| d.format("%Y-%m-%d").to_string()),
        )
        .with("weeks", &LIST_WEEKS)
        .with("has_public_feed", &(board.visibility == Visibility::Public))
        .render(&state)
}

/// `GET /b/{slug}/meetings.ics`: a public group's meetings as iCalendar — never a link or a
/// place. Members-only and private groups have none (404).
pub async fn group_feed(state: State, slug: web::Path<String>) -> Result<HttpResponse, WebError> {
    let domain = uid_domain(&state);
    let body = read(&state, move |conn| {
        // Read as a visitor: the feed is public, whoever fetches it.
        let board = boards::by_slug_for(conn, &Actor::Visitor, &slug)?;
        meetings::group_feed(conn, &board, &domain, clock::now())
    })
    .await?;
    Ok(calendar_response(body))
}

/// One date of a meeting with its answers, for the meeting page.
#[derive(Serialize)]
struct DateView {
    occurrence: Occurrence,
    answers: Option<Answers>,
    /// Still to come (answers can change).
    open: bool,
}

/// `GET /m/{id}`: a meeting, its coming dates, answers and (for members) where it is.
pub async fn show(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let id = MeetingId(*id);
    let now = clock::now();
    let (board, meeting, dates, details) = read(&state, move |conn| {
        let (board, meeting) = meetings::by_id_for(conn, &actor, id)?;
        let until = now + TimeDelta::days(366 * MEETING_PAGE_YEARS);
        let occurrences = meetings::upcoming_of(conn, &meeting, now, until, MEETING_PAGE_LIMIT)?;
        let mut answers = meetings::answers(conn, &actor, &board, &meeting, &occurrences)?;
        let dates: Vec<DateView> = occurrences
            .into_iter()
            .map(|occurrence| DateView {
                answers: answers.remove(&occurrence.key),
                open: !occurrence.cancelled && occurrence.ends_at > now,
                occurrence,
            })
            .collect();
        let details = meetings::details_for(&actor, &board, &meeting);
        Ok((board, meeting, dates, details))
    })
    .await?;
    let actor = viewer.actor();
    Page::new(&state, &viewer, "meeting.html")
        .with("board", &board)
        .with("meeting", &meeting)
        .with("repeats", &meeting.repeat_description())
        .with("dates", &dates)
        .with("details", &details)
        .with("can_rsvp", &policy::allows(&actor, Action::Rsvp(&board)))
        .with(
            "can_schedule",
            &(policy::allows(&actor, Action::ScheduleMeeting(&board)) && !meeting.is_cancelled()),
        )
        .render(&state)
}

// ---- Facilitators' forms ----

const MONTH_WEEKS: [Choice; 5] = [
    Choice {
        value: "1",
        label: "First",
    },
    Choice {
        value: "2",
        label: "Second",
    },
    Choice {
        value: "3",
        label: "Third",
    },
    Choice {
        value: "4",
        label: "Fourth",
    },
    Choice {
        value: "last",
        label: "Last",
    },
];

fn form_page(
    state: &State,
    viewer: &Viewer,
    board: &Board,
    meeting: Option<&Meeting>,
    form: &MeetingForm,
) -> Page {
    Page::new(state, viewer, "meeting_form.html")
        .with("board", board)
        .with("meeting", &meeting)
        .with("form", form)
        .with("time_zones", &time_zone_names())
        .with("month_weeks", &MONTH_WEEKS)
}

/// `GET /b/{slug}/meetings/new`.
pub async fn new_form(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    let actor = viewer.actor();
    let board = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        policy::authorize(&actor, Action::ScheduleMeeting(&board))?;
        Ok(board)
    })
    .await?;
    let form = MeetingForm::for_board(&board);
    form_page(&state, &viewer, &board, None, &form).render(&state)
}

/// `POST /b/{slug}/meetings/new`: schedules it, then shows it.
pub async fn create(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<MeetingForm>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let form = input.into_inner();
    let sent = form.clone();
    let (board, outcome) = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let outcome = meetings::schedule(conn, &member, &board, &sent).map_err(WebError::from);
        Ok((board, outcome))
    })
    .await?;
    match outcome {
        Ok(meeting) => Ok(see_other(&meeting_url(meeting.id))),
        Err(error) => {
            let invalid = invalid_or(error)?;
            form_page(&state, &viewer, &board, None, &form)
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

/// A meeting a facilitator may change (404 or 403 otherwise).
async fn for_change(
    state: &State,
    viewer: &Viewer,
    id: MeetingId,
) -> Result<(Board, Meeting), WebError> {
    viewer.require_member()?;
    let actor = viewer.actor();
    read(state, move |conn| {
        let (board, meeting) = meetings::by_id_for(conn, &actor, id)?;
        policy::authorize(&actor, Action::ScheduleMeeting(&board))?;
        Ok((board, meeting))
    })
    .await
}

/// `GET /m/{id}/edit`: the whole series.
pub async fn edit_form(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (board, meeting) = for_change(&state, &viewer, MeetingId(*id)).await?;
    let form = MeetingForm::of(&meeting);
    form_page(&state, &viewer, &board, Some(&meeting), &form).render(&state)
}

/// `POST /m/{id}/edit`.
pub async fn update(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
    input: web::Form<MeetingForm>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = MeetingId(*id);
    let form = input.into_inner();
    let sent = form.clone();
    let outcome = db(&state, move |conn| {
        Ok(meetings::update(conn, &member, id, &sent).map_err(WebError::from))
    })
    .await?;
    match outcome {
        Ok(meeting) => Ok(see_other(&meeting_url(meeting.id))),
        Err(error) => {
            let invalid = invalid_or(error)?;
            let (board, meeting) = for_change(&state, &viewer, id).await?;
            form_page(&state, &viewer, &board, Some(&meeting), &form)
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

/// `GET /m/{id}/cancel`: asks before cancelling the whole series.
pub async fn cancel_form(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (board, meeting) = for_change(&state, &viewer, MeetingId(*id)).await?;
    Page::new(&state, &viewer, "meeting_cancel.html")
        .with("board", &board)
        .with("meeting", &meeting)
        .with("repeats", &meeting.repeat_description())
        .render(&state)
}

/// `POST /m/{id}/cancel`: cancels the whole series; back to the group's meetings.
pub async fn cancel_series(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = MeetingId(*id);
    let (board, _) = for_change(&state, &viewer, id).await?;
    db(&state, move |conn| {
        meetings::cancel_series(conn, &member, id)
    })
    .await?;
    Ok(see_other(&format!("/b/{}/meetings", board.slug)))
}

/// `POST /m/{id}/o/{key}/cancel`: cancels one date.
pub async fn cancel_occurrence(
    state: State,
    viewer: Viewer,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (id, key) = path.into_inner();
    let id = MeetingId(id);
    db(&state, move |conn| {
        meetings::cancel_occurrence(conn, &member, id, &key)
    })
    .await?;
    Ok(see_other(&meeting_url(id)))
}

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct MoveInput {
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

/// The date being moved, as its form shows it.
async fn occurrence_for_change(
    state: &State,
    viewer: &Viewer,
    id: MeetingId,
    key: String,
) -> Result<(Board, Meeting, Occurrence), WebError> {
    let (board, meeting) = for_change(state, viewer, id).await?;
    let found = meeting.clone();
    let occurrence = read(state, move |conn| {
        meetings::occurrence_by_key(conn, &found, &key)
    })
    .await?;
    Ok((board, meeting, occurrence))
}

fn move_page(
    state: &State,
    viewer: &Viewer,
    board: &Board,
    meeting: &Meeting,
    occurrence: &Occurrence,
    form: &MoveInput,
) -> Page {
    Page::new(state, viewer, "meeting_move.html")
        .with("board", board)
        .with("meeting", meeting)
        .with("occurrence", occurrence)
        .with("form", form)
}

/// `GET /m/{id}/o/{key}/move`: moves one date (in the meeting's zone).
pub async fn move_form(
    state: State,
    viewer: Viewer,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, WebError> {
    let (id, key) = path.into_inner();
    let (board, meeting, occurrence) =
        occurrence_for_change(&state, &viewer, MeetingId(id), key).await?;
    let form = MoveInput {
        date: occurrence.local_start.format("%Y-%m-%d").to_string(),
        time: occurrence.local_start.format("%H:%M").to_string(),
    };
    move_page(&state, &viewer, &board, &meeting, &occurrence, &form).render(&state)
}

/// `POST /m/{id}/o/{key}/move`.
pub async fn move_occurrence(
    state: State,
    viewer: Viewer,
    path: web::Path<(i64, String)>,
    input: web::Form<MoveInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (id, key) = path.into_inner();
    let id = MeetingId(id);
    let form = input.into_inner();
    let sent = form.clone();
    let moved_key = key.clone();
    let outcome = db(&state, move |conn| {
        Ok(
            meetings::move_occurrence(conn, &member, id, &moved_key, &sent.date, &sent.time)
                .map_err(WebError::from),
        )
    })
    .await?;
    match outcome {
        Ok(_) => Ok(see_other(&meeting_url(id))),
        Err(error) => {
            let invalid = invalid_or(error)?;
            let (board, meeting, occurrence) =
                occurrence_for_change(&state, &viewer, id, key).await?;
            move_page(&state, &viewer, &board, &meeting, &occurrence, &form)
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

// ---- Answers ----

#[derive(Deserialize)]
pub struct RsvpInput {
    #[serde(default)]
    response: String,
}

/// `POST /m/{id}/o/{key}/rsvp`: going / maybe / not going for one date.
pub async fn rsvp(
    state: State,
    viewer: Viewer,
    path: web::Path<(i64, String)>,
    input: web::Form<RsvpInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (id, key) = path.into_inner();
    let id = MeetingId(id);
    let choice = Response::parse_choice(&input.response)
        .ok_or_else(|| WebError::BadRequest("choose going, maybe or not going".to_owned()))?;
    let answered = db(&state, move |conn| {
        Ok(meetings::rsvp(conn, &member, id, &key, choice).map_err(WebError::from))
    })
    .await?;
    match answered {
        Ok(_) => Ok(see_other(&format!("{}#dates", meeting_url(id)))),
        Err(WebError::Invalid(invalid)) => Err(WebError::BadRequest(invalid.to_string())),
        Err(other) => Err(other),
    }
}

// ---- The member's private feed ----

/// `GET /calendar`: the member's private feed of the meetings they are going to.
pub async fn calendar_page(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let created = read(&state, move |conn| {
        meetings::feed_created_at(conn, member.id)
    })
    .await?;
    Page::new(&state, &viewer, "calendar.html")
        .with("feed_created_at", &created)
        .with("new_url", &Option::<String>::None)
        .render(&state)
}

/// `POST /calendar/reset`: makes a new secret address (the old one stops working) and shows
/// it this once — only its hash is kept, so it cannot be shown again later. This page is the
/// one answer to a successful form that is not a redirect: a redirect would have to carry the
/// secret in a URL.
pub async fn reset_calendar(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (token, created) = db(&state, move |conn| {
        let token = meetings::reset_feed_token(conn, &member)?;
        let created = meetings::feed_created_at(conn, member.id)?;
        Ok((token, created))
    })
    .await?;
    let url = format!(
        "{}/calendar/{token}.ics",
        state.config.public_url.trim_end_matches('/')
    );
    Page::new(&state, &viewer, "calendar.html")
        .with("feed_created_at", &created)
        .with("new_url", &Some(url))
        .render(&state)
}

/// `GET /calendar/{token}.ics`: the private feed; unknown (or reset) tokens are not found.
pub async fn member_feed(state: State, token: web::Path<String>) -> Result<HttpResponse, WebError> {
    let domain = uid_domain(&state);
    let body = read(&state, move |conn| {
        meetings::member_feed(conn, &token, &domain, clock::now())
    })
    .await?;
    Ok(calendar_response(body))
}
