//! A member reports a post to the moderators.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use hearth_core::forum::posts;
use hearth_core::ids::PostId;
use hearth_core::model::{Board, Post, Thread};
use hearth_core::moderation::review::{self, ReportReason};
use serde::{Deserialize, Serialize};

use crate::errors::WebError;
use crate::handlers::{form_again, post_url, see_other, Choice, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

fn report_reasons() -> Vec<Choice> {
    ReportReason::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str(),
            label: r.label(),
        })
        .collect()
}

#[derive(Deserialize, Serialize, Default)]
pub struct ReportInput {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct ReportQuery {
    sent: Option<u8>,
}

/// The report form about a post, or (`sent`) the thanks for a report.
fn report_page(
    state: &State,
    viewer: &Viewer,
    (board, thread, post): &(Board, Thread, Post),
    form: &ReportInput,
    sent: bool,
) -> Page {
    Page::new(state, viewer, "report.html")
        .with("board", board)
        .with("thread", thread)
        .with("post", post)
        .with("post_url", &post_url(thread, post.position))
        .with("reasons", &report_reasons())
        .with("form", form)
        .with("sent", &sent)
}

/// `GET /p/{id}/report`: the report form (or, after sending, the thanks).
pub async fn report_form(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let found = read(&state, move |conn| review::for_report(conn, &member, id)).await?;
    report_page(
        &state,
        &viewer,
        &found,
        &ReportInput::default(),
        query.sent.is_some(),
    )
    .render(&state)
}

/// `POST /p/{id}/report`.
pub async fn report(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    input: web::Form<ReportInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let input = input.into_inner();
    let (reason, note) = (input.reason.clone(), input.note.clone());
    let post_id = id.into_inner();
    let limits = state.config.report_limits;
    let outcome = db(&state, move |conn| {
        review::report(conn, &limits, &member, post_id, &reason, &note)
    })
    .await;
    match outcome {
        Ok(_) => {
            viewer.flash("Your report is sent");
            Ok(see_other(&format!("/p/{post_id}/report?sent=1")))
        }
        // Over the report limit: the form again, saying when, with what they chose and wrote.
        Err(WebError::RateLimited {
            retry_after_seconds,
            reason,
            ..
        }) => {
            let found = read(&state, move |conn| posts::by_id_for(conn, &actor, post_id)).await?;
            let mut response = report_page(&state, &viewer, &found, &input, false)
                .with("limit_reached", &reason)
                .status(StatusCode::TOO_MANY_REQUESTS)
                .render(&state)?;
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_seconds.max(1)),
            );
            Ok(response)
        }
        Err(error) => {
            form_again(&state, error, async {
                let found =
                    read(&state, move |conn| posts::by_id_for(conn, &actor, post_id)).await?;
                Ok(report_page(&state, &viewer, &found, &input, false))
            })
            .await
        }
    }
}
