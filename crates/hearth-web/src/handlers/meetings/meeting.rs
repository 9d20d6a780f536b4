//! One meeting's page, with its coming dates, and each member's answer for a date.

use actix_web::{web, HttpResponse};
use chrono::TimeDelta;
use hearth_core::clock;
use hearth_core::ids::MeetingId;
use hearth_core::meetings::{self, Answers, Occurrence, Response};
use hearth_core::policy::{self, Action};
use serde::{Deserialize, Serialize};

use super::meeting_url;
use crate::errors::WebError;
use crate::handlers::{see_other, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// How many coming dates a meeting's page lists.
const MEETING_PAGE_LIMIT: usize = 10;
/// How far ahead it looks for them.
const MEETING_PAGE_YEARS: i64 = 20;

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
    id: web::Path<MeetingId>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let id = id.into_inner();
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

#[derive(Deserialize)]
pub struct RsvpInput {
    #[serde(default)]
    response: String,
}

/// `POST /m/{id}/o/{key}/rsvp`: going / maybe / not going for one date.
pub async fn rsvp(
    state: State,
    viewer: Viewer,
    path: web::Path<(MeetingId, String)>,
    input: web::Form<RsvpInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (id, key) = path.into_inner();
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
