//! A board's settings page: pre-moderation for its moderators, facilitators for admins.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::moderation::actions::{self, BoardSettings};
use serde::Deserialize;

use crate::errors::WebError;
use crate::handlers::{form_again, see_other, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// What the board settings page shows.
async fn settings_page(state: &State, viewer: &Viewer, slug: String) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let view = read(state, move |conn| {
        actions::settings_for(conn, &member, &slug)
    })
    .await?;
    let settings = BoardSettings {
        premod_first_posts: view.board.premod_first_posts,
    };
    Ok(Page::new(state, viewer, "board_settings.html")
        .with("board", &view.board)
        .with("facilitators", &view.facilitators)
        .with("can_manage", &view.can_manage)
        .with("form", &settings))
}

/// `GET /b/{slug}/settings`: pre-moderation for the board's moderators; facilitators for admins.
pub async fn board_settings(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    settings_page(&state, &viewer, slug.into_inner())
        .await?
        .render(&state)
}

#[derive(Deserialize)]
pub struct BoardSettingsInput {
    #[serde(default)]
    premod_first_posts: String,
}

/// `POST /b/{slug}/settings`.
pub async fn save_board_settings(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<BoardSettingsInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let slug = slug.into_inner();
    let Ok(premod_first_posts) = input.premod_first_posts.trim().parse::<i32>() else {
        let error =
            hearth_core::Error::invalid("premod_first_posts", "write a number, such as 0 or 3");
        return form_again(&state, error.into(), settings_page(&state, &viewer, slug)).await;
    };
    let settings = BoardSettings { premod_first_posts };
    let lookup = slug.clone();
    let saved = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &lookup)?;
        Ok(actions::set_board_settings(conn, &member, &board, &settings).map_err(WebError::from))
    })
    .await?;
    match saved {
        Ok(board) => {
            viewer.flash("Group settings saved");
            Ok(see_other(&format!("/b/{}/settings", board.slug)))
        }
        Err(error) => form_again(&state, error, settings_page(&state, &viewer, slug)).await,
    }
}

#[derive(Deserialize)]
pub struct FacilitatorInput {
    username: String,
    /// "add" or "remove".
    change: String,
}

/// `POST /b/{slug}/facilitators`: admins add or remove a facilitator.
pub async fn set_facilitator(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<FacilitatorInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let slug = slug.into_inner();
    let input = input.into_inner();
    let lookup = slug.clone();
    let outcome = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &lookup)?;
        let add = input.change == "add";
        Ok(
            actions::set_facilitator(conn, &member, &board, &input.username, add)
                .map_err(WebError::from),
        )
    })
    .await?;
    match outcome {
        Ok(()) => {
            viewer.flash("Facilitators updated");
            Ok(see_other(&format!("/b/{slug}/settings")))
        }
        Err(error) => form_again(&state, error, settings_page(&state, &viewer, slug)).await,
    }
}
