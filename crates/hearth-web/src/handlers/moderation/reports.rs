//! A member reports a post to the moderators.

use actix_web::{web, HttpResponse};
use hearth_core::ids::PostId;
use hearth_core::policy::{self, Action};
use hearth_core::posts;
use hearth_core::review::{self, ReportReason};
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

/// `GET /p/{id}/report`: the report form (or, after sending, the thanks).
pub async fn report_form(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    let actor = viewer.actor();
    let id = id.into_inner();
    let (board, thread, post) = read(&state, move |conn| {
        let found = posts::by_id_for(conn, &actor, id)?;
        let (board, thread, post) = &found;
        policy::authorize(&actor, Action::ReportPost(board, thread, post))?;
        Ok(found)
    })
    .await?;
    Page::new(&state, &viewer, "report.html")
        .with("board", &board)
        .with("thread", &thread)
        .with("post", &post)
        .with("post_url", &post_url(&thread, post.position))
        .with("reasons", &report_reasons())
        .with("form", &ReportInput::default())
        .with("sent", &query.sent.is_some())
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
    let outcome = db(&state, move |conn| {
        review::report(conn, &member, post_id, &reason, &note)
    })
    .await;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/p/{post_id}/report?sent=1"))),
        Err(error) => {
            form_again(&state, error, async {
                let (board, thread, post) =
                    read(&state, move |conn| posts::by_id_for(conn, &actor, post_id)).await?;
                Ok(Page::new(&state, &viewer, "report.html")
                    .with("board", &board)
                    .with("thread", &thread)
                    .with("post", &post)
                    .with("post_url", &post_url(&thread, post.position))
                    .with("reasons", &report_reasons())
                    .with("form", &input)
                    .with("sent", &false))
            })
            .await
        }
    }
}
