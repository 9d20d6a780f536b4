//! The moderation log: a board's (whole or public) and the whole site's.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::ids::LogEntryId;
use hearth_core::moderation::log::{self, Audience};
use serde::Deserialize;

use crate::errors::WebError;
use crate::handlers::Page;
use crate::state::{read, State};
use crate::viewer::Viewer;

#[derive(Deserialize)]
pub struct LogQuery {
    before: Option<LogEntryId>,
}

/// `GET /b/{slug}/log`: the board's log — whole for its moderators, public for everyone else.
pub async fn board_log(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let show_names = state.config.public_log_shows_names;
    let before = query.before;
    let (board, audience, lines) = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let (audience, lines) = log::board_log(conn, &actor, &board, show_names, before)?;
        Ok((board, audience, lines))
    })
    .await?;
    let older = (lines.len() as i64 == log::ENTRIES_PER_PAGE)
        .then(|| lines.last().map(|l| l.id))
        .flatten();
    Page::new(&state, &viewer, "log.html")
        .with("board", &board)
        .with("lines", &lines)
        .with("full", &(audience == Audience::Moderators))
        .with("older", &older)
        .render(&state)
}

/// `GET /log`: the whole site's log, for site moderators and admins.
pub async fn site_log(
    state: State,
    viewer: Viewer,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    let actor = viewer.actor();
    let before = query.before;
    let lines = read(&state, move |conn| log::site_log(conn, &actor, before)).await?;
    let older = (lines.len() as i64 == log::ENTRIES_PER_PAGE)
        .then(|| lines.last().map(|l| l.id))
        .flatten();
    Page::new(&state, &viewer, "log.html")
        .with("lines", &lines)
        .with("full", &true)
        .with("older", &older)
        .render(&state)
}
