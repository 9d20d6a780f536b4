//! The member's notifications: `/notifications`, newest first, and marking them read.

use actix_web::{web, HttpResponse};
use hearth_core::clock;
use hearth_core::ids::NotificationId;
use hearth_core::notifications;
use serde::Deserialize;

use super::{see_other, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

#[derive(Deserialize)]
pub struct Older {
    before: Option<i64>,
}

/// `GET /notifications`: what happened for the signed-in member, grouped and newest first.
pub async fn list(
    state: State,
    viewer: Viewer,
    query: web::Query<Older>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let before = query.before;
    let reader = member.clone();
    let mut page = read(&state, move |conn| {
        notifications::list(conn, &reader, before)
    })
    .await?;
    // What the member may no longer read is not shown; nor will the bell count it.
    if !page.stale.is_empty() {
        let stale = std::mem::take(&mut page.stale);
        page.unread = db(&state, move |conn| {
            notifications::mark_stale_read(conn, member.id, stale, clock::now())
        })
        .await?;
    }
    Page::new(&state, &viewer, "notifications.html")
        .with("notifications", &page.items)
        .with("older", &page.older)
        .with("unread", &page.unread)
        .with_csrf(&viewer)
        .render(&state)
}

/// `POST /notifications/{id}/read`: marks one read.
pub async fn mark_one(
    state: State,
    viewer: Viewer,
    id: web::Path<NotificationId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    db(&state, move |conn| {
        notifications::mark_read(conn, member.id, id, clock::now())
    })
    .await?;
    viewer.flash("Marked as read");
    Ok(see_other("/notifications"))
}

/// `POST /notifications/read`: marks them all read.
pub async fn mark_all(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    db(&state, move |conn| {
        notifications::mark_all_read(conn, member.id, clock::now())
    })
    .await?;
    viewer.flash("All notifications marked as read");
    Ok(see_other("/notifications"))
}

/// `GET /notices`: where the moderators' notices were before they became notifications.
pub async fn old_notices() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((actix_web::http::header::LOCATION, "/notifications"))
        .finish()
}
