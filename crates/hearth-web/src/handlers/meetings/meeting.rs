//! One meeting's page, with its coming dates, and each member's answer for a date.

use actix_web::{web, HttpResponse};
use hearth_core::clock;
use hearth_core::ids::MeetingId;
use hearth_core::meetings::{self, Response};
use serde::Deserialize;

use super::meeting_url;
use crate::errors::WebError;
use crate::handlers::{see_other, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// How many coming dates a meeting's page lists.
const MEETING_PAGE_LIMIT: usize = 10;

/// `GET /m/{id}`: a meeting, its coming dates, answers and (for members) where it is.
pub async fn show(
    state: State,
    viewer: Viewer,
    id: web::Path<MeetingId>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let id = id.into_inner();
    let now = clock::now();
    let until = now + meetings::LOOK_AHEAD;
    let view = read(&state, move |conn| {
        meetings::page_for(conn, &actor, id, now, until, MEETING_PAGE_LIMIT)
    })
    .await?;
    let meeting = &view.meeting;
    Page::new(&state, &viewer, "meeting.html")
        .with("board", &view.board)
        .with("meeting", meeting)
        .with("repeats", &meeting.repeat_description())
        .with("dates", &view.dates)
        .with("details", &view.details)
        .with("can_rsvp", &view.can_rsvp)
        .with("can_schedule", &view.can_schedule)
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
        Ok(_) => {
            viewer.flash("Your answer is saved");
            Ok(see_other(&format!("{}#dates", meeting_url(id))))
        }
        Err(WebError::Invalid(invalid)) => Err(WebError::BadRequest(invalid.to_string())),
        Err(other) => Err(other),
    }
}
