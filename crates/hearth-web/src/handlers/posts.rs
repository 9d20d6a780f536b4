use actix_web::{web, HttpResponse};
use hearth_core::forum::posts::{self, Deleted};
use hearth_core::forum::reactions::{self, ReactionKind};
use hearth_core::forum::threads;
use hearth_core::ids::PostId;
use hearth_core::model::{Board, Post, Thread};
use serde::{Deserialize, Serialize};

use super::{form_again, post_url, see_other, thread_url, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

#[derive(Deserialize)]
pub struct ReactInput {
    #[serde(default)]
    kind: String,
}

/// `POST /p/{id}/react`: gives a reaction to a post, or takes it back, then returns to the
/// post on its thread page (a plain form: no script needed).
pub async fn react(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    form: web::Form<ReactInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let kind = ReactionKind::parse(&form.kind)
        .ok_or_else(|| WebError::BadRequest("there is no such reaction".to_owned()))?;
    let per_hour = state.config.posting.reactions_per_hour;
    let id = id.into_inner();
    let reacted = db(&state, move |conn| {
        reactions::toggle(conn, &member, id, kind, per_hour, hearth_core::clock::now())
    })
    .await?;
    Ok(see_other(&post_url(&reacted.thread, reacted.position)))
}

/// `GET /p/{id}`: a permanent link to a post, sent on to the page of its thread that holds it.
pub async fn permalink(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let id = id.into_inner();
    let (_, thread, post) =
        read(&state, move |conn| posts::readable_by_id(conn, &actor, id)).await?;
    Ok(see_other(&post_url(&thread, post.position)))
}

#[derive(Deserialize, Serialize, Default)]
pub struct EditInput {
    #[serde(default)]
    body: String,
    /// Sent by the Preview button: show the new text above the form, save nothing.
    #[serde(default, skip_serializing)]
    preview: Option<String>,
}

fn edit_page(
    state: &State,
    viewer: &Viewer,
    (board, thread, post): &(Board, Thread, Post),
    form: &EditInput,
) -> Page {
    Page::new(state, viewer, "edit_post.html")
        .with("board", board)
        .with("thread", thread)
        .with("post", post)
        .with("form", form)
}

/// `GET /p/{id}/edit`: the edit form, filled with the post's current text.
pub async fn edit_form(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let found = read(&state, move |conn| posts::for_edit(conn, &member, id)).await?;
    let input = EditInput {
        body: found.2.source.clone(),
        preview: None,
    };
    edit_page(&state, &viewer, &found, &input).render(&state)
}

/// `POST /p/{id}/edit`: saves the new text (the old one goes to the revision history).
pub async fn edit(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    input: web::Form<EditInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let id = id.into_inner();
    if input.preview.is_some() {
        // Only a post this member may edit, found as the edit form finds it.
        let body = input.body.clone();
        let rules = state.config.posting.clone();
        let (found, preview) = db(&state, move |conn| {
            let found = posts::for_edit(conn, &member, id)?;
            let preview = hearth_core::forum::publish::preview(conn, &rules, &member, &body)
                .map_err(WebError::from);
            Ok((found, preview))
        })
        .await?;
        let page = edit_page(&state, &viewer, &found, &input);
        return super::preview_answer(&state, page, &input.body, preview).await;
    }
    let body = input.body.clone();
    let rules = state.config.posting.clone();
    let edited = db(&state, move |conn| {
        posts::edit(conn, &rules, &member, id, &body)
    })
    .await;
    match edited {
        Ok(posted) if posted.check_in => Ok(see_other(&super::help_url(posted.post.id))),
        Ok(posted) => {
            viewer.flash("Your changes are saved");
            Ok(see_other(&post_url(&posted.thread, posted.post.position)))
        }
        Err(error) => {
            form_again(&state, error.keeping_text(&input.body), async {
                let found = read(&state, move |conn| posts::by_id_for(conn, &actor, id)).await?;
                Ok(edit_page(&state, &viewer, &found, &input))
            })
            .await
        }
    }
}

/// `GET /p/{id}/delete`: asks before deleting (works without JavaScript).
pub async fn delete_form(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let (board, thread, post) =
        read(&state, move |conn| posts::for_delete(conn, &member, id)).await?;
    Page::new(&state, &viewer, "delete_post.html")
        .with("board", &board)
        .with("thread", &thread)
        .with("post", &post)
        .render(&state)
}

/// `POST /p/{id}/delete`: the author's own delete; back to the thread, or the board if the
/// thread went with it.
pub async fn delete(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let id = id.into_inner();
    let location = db(&state, move |conn| {
        Ok(match posts::delete_own(conn, &member, id)? {
            Deleted::Post { thread_id } => {
                let (_, thread) = threads::by_id_for(conn, &actor, thread_id)?;
                thread_url(thread.id, &thread.slug)
            }
            Deleted::Thread { board_id } => {
                let board = hearth_core::forum::boards::by_id_for(conn, &actor, board_id)?;
                format!("/b/{}", board.slug)
            }
        })
    })
    .await?;
    viewer.flash("Your post is deleted");
    Ok(see_other(&location))
}
