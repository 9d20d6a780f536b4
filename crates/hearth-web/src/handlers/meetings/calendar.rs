//! The iCalendar feeds: a public group's, and each member's private one with its page.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use hearth_core::clock;
use hearth_core::ids::MeetingId;
use hearth_core::meetings;

use crate::errors::WebError;
use crate::handlers::Page;
use crate::state::{db, read, AppState, State};
use crate::viewer::Viewer;

/// The host of the site's public address, for iCalendar UIDs (`meeting-7@forum.example.org`).
fn uid_domain(state: &AppState) -> String {
    let url = &state.config.public_url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    if host.is_empty() {
        "hearth.invalid".to_owned()
    } else {
        host.to_owned()
    }
}

fn calendar_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"meetings.ics\"",
        ))
        .body(body)
}

/// `GET /b/{slug}/meetings.ics`: a public group's meetings as iCalendar — never a link or a
/// place. Members-only and private groups have none (404).
pub async fn group_feed(state: State, slug: web::Path<String>) -> Result<HttpResponse, WebError> {
    let domain = uid_domain(&state);
    let body = read(&state, move |conn| {
        meetings::public_group_feed(conn, &slug, &domain, clock::now())
    })
    .await?;
    Ok(calendar_response(body))
}

/// `GET /m/{id}/meeting.ics`: "Add to my calendar" for one meeting, with its link and place
/// only for whom its page shows them; not found for whoever may not read its group.
pub async fn one_meeting(
    state: State,
    viewer: Viewer,
    id: web::Path<MeetingId>,
) -> Result<HttpResponse, WebError> {
    let domain = uid_domain(&state);
    let actor = viewer.actor();
    let id = id.into_inner();
    let page_url = format!(
        "{}{}",
        state.config.public_url.trim_end_matches('/'),
        super::meeting_url(id)
    );
    let body = read(&state, move |conn| {
        meetings::meeting_calendar(conn, &actor, id, &page_url, &domain)
    })
    .await?;
    let mut response = HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"meeting-{}.ics\"", id.0),
        ))
        .body(body);
    // It may carry a members' link: never kept by a shared cache.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// `GET /calendar`: the member's private feed of the meetings they are going to.
pub async fn calendar_page(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let created = read(&state, move |conn| {
        meetings::feed_created_at(conn, member.id)
    })
    .await?;
    Page::new(&state, &viewer, "calendar.html")
        .with("feed_created_at", &created)
        .with("new_url", &Option::<String>::None)
        .render(&state)
}

/// `POST /calendar/reset`: makes a new secret address (the old one stops working) and shows
/// it this once — only its hash is kept, so it cannot be shown again later. This page is the
/// one answer to a successful form that is not a redirect: a redirect would have to carry the
/// secret in a URL.
pub async fn reset_calendar(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (token, created) = db(&state, move |conn| {
        let token = meetings::reset_feed_token(conn, &member)?;
        let created = meetings::feed_created_at(conn, member.id)?;
        Ok((token, created))
    })
    .await?;
    let url = format!(
        "{}/calendar/{token}.ics",
        state.config.public_url.trim_end_matches('/')
    );
    Page::new(&state, &viewer, "calendar.html")
        .with("feed_created_at", &created)
        .with("new_url", &Some(url))
        .render(&state)
}

/// `GET /calendar/{token}.ics`: the private feed; unknown (or reset) tokens are not found.
pub async fn member_feed(state: State, token: web::Path<String>) -> Result<HttpResponse, WebError> {
    let domain = uid_domain(&state);
    let body = read(&state, move |conn| {
        meetings::member_feed(conn, &token, &domain, clock::now())
    })
    .await?;
    // The member's own meetings, at an address that is the secret: no shared cache keeps it.
    let mut response = calendar_response(body);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
