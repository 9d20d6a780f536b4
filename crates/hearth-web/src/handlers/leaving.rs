//! Leaving, from `/settings`: deleting or anonymising one's account (a confirmation page with
//! the password, then signed out everywhere; signing in within the cooling-off period offers
//! to cancel), and "Export my data" (the password again, then one JSON file).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use hearth_core::accounts::credentials::Confirmation;
use hearth_core::accounts::leaving::LeavingMode;
use hearth_core::accounts::{export, leaving};
use hearth_core::clock;
use serde::{Deserialize, Serialize};

use super::account::reserve_password;
use super::{form_again, see_other, Choice, Page};
use crate::errors::WebError;
use crate::state::{db, db_with_password, read, State};
use crate::viewer::Viewer;

/// What the leaving form sends back (the password is never shown again).
#[derive(Deserialize, Serialize, Default)]
pub struct LeaveInput {
    #[serde(default)]
    mode: String,
    #[serde(default, skip_serializing)]
    password: String,
}

fn mode_choices() -> Vec<Choice> {
    vec![
        Choice {
            value: LeavingMode::Delete.as_str(),
            label: "Delete my words too",
        },
        Choice {
            value: LeavingMode::Anonymise.as_str(),
            label: "Keep my words, under \u{201c}a former member\u{201d}",
        },
    ]
}

fn leave_page(state: &State, viewer: &Viewer, input: &LeaveInput) -> Page {
    Page::new(state, viewer, "leave.html")
        .with("form", input)
        .with("mode_choices", &mode_choices())
        .with("cooling_off_days", &state.config.leaving.cooling_off_days)
        .with(
            "username_hold_days",
            &state.config.leaving.username_hold_days,
        )
}

/// `GET /settings/leave`: the confirmation page, with the choice between delete and
/// anonymise; a member who already asked is shown their request instead.
pub async fn leave_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let pending = read(&state, move |conn| leaving::pending(conn, member.id)).await?;
    if pending.is_some() {
        return Ok(see_other("/settings/leaving"));
    }
    leave_page(&state, &viewer, &LeaveInput::default()).render(&state)
}

/// `POST /settings/leave`: the request, with the password; every session ends, so the answer
/// is the visitor's page that says what happens next.
pub async fn leave(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<LeaveInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let rules = state.config.leaving;
    let outcome = match LeavingMode::parse(&input.mode) {
        Some(mode) => {
            let (keys, reservation) = reserve_password(&state, &request, &member.member.username).await?;
            let password = input.password.clone();
            db_with_password(&state, move |conn| {
                let confirmation = Confirmation {
                    keys: &keys,
                    reservation,
                    password: &password,
                };
                leaving::request(conn, &member, mode, confirmation, &rules, clock::now())
            })
            .await
        }
        None => Err(hearth_core::Error::invalid(
            "mode",
            "choose whether your words go with your account or stay under \u{201c}a former member\u{201d}",
        )
        .into()),
    };
    match outcome {
        Ok(_) => Ok(see_other("/left")),
        Err(error) => {
            form_again(&state, error, async {
                Ok(leave_page(&state, &viewer, &input))
            })
            .await
        }
    }
}

/// `GET /left`: what happens after asking (signed out by then).
pub async fn left(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    Page::new(&state, &viewer, "left.html")
        .with("cooling_off_days", &state.config.leaving.cooling_off_days)
        .render(&state)
}

/// `GET /settings/leaving`: a member who asked to leave and signed in again: when it happens,
/// and the one button that cancels it.
pub async fn pending(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let pending = read(&state, move |conn| leaving::pending(conn, member.id)).await?;
    let Some(departure) = pending else {
        return Ok(see_other("/settings"));
    };
    Page::new(&state, &viewer, "leaving.html")
        .with("mode", &departure.mode)
        .with("due_at", &departure.due_at)
        .render(&state)
}

/// `POST /settings/leaving/cancel`: the member keeps their account.
pub async fn cancel(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    db(&state, move |conn| leaving::cancel(conn, &member)).await?;
    viewer.flash("You are staying: leaving is cancelled");
    Ok(see_other("/settings#leaving"))
}

#[derive(Deserialize, Default)]
pub struct ExportInput {
    #[serde(default)]
    password: String,
}

fn export_page(state: &State, viewer: &Viewer) -> Page {
    Page::new(state, viewer, "export.html")
        .with("exports_per_day", &state.config.leaving.exports_per_day)
}

/// `GET /settings/export`: the password, before the download.
pub async fn export_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    export_page(&state, &viewer).render(&state)
}

/// `POST /settings/export`: the member's data as one JSON file (`docs/export.md`).
pub async fn export(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<ExportInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let rules = state.config.leaving;
    let password = input.into_inner().password;
    let (keys, reservation) = reserve_password(&state, &request, &member.member.username).await?;
    let outcome = db_with_password(&state, move |conn| {
        let confirmation = Confirmation {
            keys: &keys,
            reservation,
            password: &password,
        };
        export::for_member(conn, &member, confirmation, &rules, clock::now())
    })
    .await;
    match outcome {
        Ok(data) => {
            let body = serde_json::to_vec_pretty(&data).map_err(|_| WebError::Internal)?;
            Ok(HttpResponse::Ok()
                .content_type("application/json; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"hearth-data.json\"",
                ))
                .body(body))
        }
        Err(error) => form_again(&state, error, async { Ok(export_page(&state, &viewer)) }).await,
    }
}
