//! The review queue and the decisions moderators make on posts in it.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::ids::PostId;
use hearth_core::moderation::review::{self, Decision, Seen};
use serde::Deserialize;

use crate::errors::WebError;
use crate::handlers::{local_path, post_url, see_other, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// The preset reasons a moderator picks from when hiding a post (two taps on a phone).
const HIDE_REASONS: [&str; 5] = [
    "It goes against this group's ground rules",
    "It is unkind to another member",
    "It shares someone's personal details",
    "It is spam or advertising",
    "It is off-topic for this group",
];

/// Used by the thread page's hide controls, which offer the same reasons.
pub fn hide_reasons() -> &'static [&'static str] {
    &HIDE_REASONS
}

/// Only same-site paths are followed after an action.
fn back_to(next: Option<&str>, fallback: String) -> String {
    local_path(next).map_or(fallback, str::to_owned)
}

/// `GET /review`: every board this member moderates, at-risk first, then oldest first.
pub async fn site_queue(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let entries = read(&state, move |conn| review::queue(conn, &member, None)).await?;
    Page::new(&state, &viewer, "review.html")
        .with("entries", &entries)
        .with("hide_reasons", &HIDE_REASONS)
        .with("here", "/review")
        .render(&state)
}

/// `GET /b/{slug}/review`: one board's queue.
pub async fn board_queue(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let (board, entries) = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let entries = review::queue(conn, &member, Some(&board))?;
        Ok((board, entries))
    })
    .await?;
    let here = format!("/b/{}/review", board.slug);
    Page::new(&state, &viewer, "review.html")
        .with("board", &board)
        .with("entries", &entries)
        .with("hide_reasons", &HIDE_REASONS)
        .with("here", &here)
        .render(&state)
}

#[derive(Deserialize)]
pub struct DecisionInput {
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    note: String,
    /// The post's last edit as the page showed it: the decision applies to that text only.
    #[serde(default)]
    edited_at: String,
    next: Option<String>,
}

/// `POST /p/{id}/moderate`: approve, hide, restore, dismiss or mark a check-in handled.
pub async fn decide(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    input: web::Form<DecisionInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let reason = match (input.reason.trim(), input.detail.trim()) {
        ("", detail) => detail.to_owned(),
        (preset, "") => preset.to_owned(),
        (preset, detail) => format!("{preset}: {detail}"),
    };
    let decision = match input.decision.as_str() {
        "approve" => Decision::Approve,
        "hide" => Decision::Hide { reason },
        "restore" => Decision::Restore,
        "dismiss" => Decision::Dismiss,
        "handled" => Decision::Handled { note: input.note },
        _ => return Err(WebError::BadRequest("unknown decision".to_owned())),
    };
    let id = id.into_inner();
    let seen = Seen::from_form(&input.edited_at)?;
    let (_, thread, post) = db(&state, move |conn| {
        review::decide(conn, &member, id, seen, &decision)
    })
    .await?;
    Ok(see_other(&back_to(
        input.next.as_deref(),
        post_url(&thread, post.position),
    )))
}
