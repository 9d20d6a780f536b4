//! The facilitators' forms: schedule a meeting, edit or cancel the series, move or cancel one date.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::ids::MeetingId;
use hearth_core::meetings::{self, Meeting, MeetingForm, Occurrence};
use hearth_core::model::Board;
use serde::{Deserialize, Serialize};

use super::meeting_url;
use crate::errors::WebError;
use crate::handlers::auth::time_zone_names;
use crate::handlers::{form_again, see_other, Choice, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

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
    let member = viewer.require_member()?;
    let board = read(&state, move |conn| {
        meetings::for_scheduling(conn, &member, &slug)
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
        Ok(meeting) => {
            viewer.flash("Meeting scheduled");
            Ok(see_other(&meeting_url(meeting.id)))
        }
        Err(error) => {
            form_again(&state, error, async {
                Ok(form_page(&state, &viewer, &board, None, &form))
            })
            .await
        }
    }
}

/// A meeting a facilitator may change (404 or 403 otherwise).
async fn for_change(
    state: &State,
    viewer: &Viewer,
    id: MeetingId,
) -> Result<(Board, Meeting), WebError> {
    let member = viewer.require_member()?;
    read(state, move |conn| meetings::for_change(conn, &member, id)).await
}

/// `GET /m/{id}/edit`: the whole series.
pub async fn edit_form(
    state: State,
    viewer: Viewer,
    id: web::Path<MeetingId>,
) -> Result<HttpResponse, WebError> {
    let (board, meeting) = for_change(&state, &viewer, id.into_inner()).await?;
    let form = MeetingForm::of(&meeting);
    form_page(&state, &viewer, &board, Some(&meeting), &form).render(&state)
}

/// `POST /m/{id}/edit`.
pub async fn update(
    state: State,
    viewer: Viewer,
    id: web::Path<MeetingId>,
    input: web::Form<MeetingForm>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let form = input.into_inner();
    let sent = form.clone();
    let outcome = db(&state, move |conn| {
        meetings::update(conn, &member, id, &sent)
    })
    .await;
    match outcome {
        Ok(meeting) => {
            viewer.flash("Meeting saved");
            Ok(see_other(&meeting_url(meeting.id)))
        }
        Err(error) => {
            form_again(&state, error, async {
                let (board, meeting) = for_change(&state, &viewer, id).await?;
                Ok(form_page(&state, &viewer, &board, Some(&meeting), &form))
            })
            .await
        }
    }
}

/// `GET /m/{id}/cancel`: asks before cancelling the whole series.
pub async fn cancel_form(
    state: State,
    viewer: Viewer,
    id: web::Path<MeetingId>,
) -> Result<HttpResponse, WebError> {
    let (board, meeting) = for_change(&state, &viewer, id.into_inner()).await?;
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
    id: web::Path<MeetingId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let (board, _) = for_change(&state, &viewer, id).await?;
    db(&state, move |conn| {
        meetings::cancel_series(conn, &member, id)
    })
    .await?;
    viewer.flash("Meetings cancelled");
    Ok(see_other(&format!("/b/{}/meetings", board.slug)))
}

/// `POST /m/{id}/o/{key}/cancel`: cancels one date.
pub async fn cancel_occurrence(
    state: State,
    viewer: Viewer,
    path: web::Path<(MeetingId, String)>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (id, key) = path.into_inner();
    db(&state, move |conn| {
        meetings::cancel_occurrence(conn, &member, id, &key)
    })
    .await?;
    viewer.flash("That date is cancelled");
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
    let member = viewer.require_member()?;
    read(state, move |conn| {
        meetings::for_moving(conn, &member, id, &key)
    })
    .await
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
    path: web::Path<(MeetingId, String)>,
) -> Result<HttpResponse, WebError> {
    let (id, key) = path.into_inner();
    let (board, meeting, occurrence) = occurrence_for_change(&state, &viewer, id, key).await?;
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
    path: web::Path<(MeetingId, String)>,
    input: web::Form<MoveInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (id, key) = path.into_inner();
    let form = input.into_inner();
    let sent = form.clone();
    let moved_key = key.clone();
    let outcome = db(&state, move |conn| {
        meetings::move_occurrence(conn, &member, id, &moved_key, &sent.date, &sent.time)
    })
    .await;
    match outcome {
        Ok(_) => {
            viewer.flash("That date is moved");
            Ok(see_other(&meeting_url(id)))
        }
        Err(error) => {
            form_again(&state, error, async {
                let (board, meeting, occurrence) =
                    occurrence_for_change(&state, &viewer, id, key).await?;
                Ok(move_page(
                    &state,
                    &viewer,
                    &board,
                    &meeting,
                    &occurrence,
                    &form,
                ))
            })
            .await
        }
    }
}
