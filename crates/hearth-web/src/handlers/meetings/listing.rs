//! A group's list of meetings.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, TimeDelta};
use hearth_core::clock;
use hearth_core::meetings;
use hearth_core::model::Visibility;
use serde::Deserialize;

use crate::errors::WebError;
use crate::handlers::Page;
use crate::state::{read, State};
use crate::viewer::Viewer;

/// How far ahead the group's list looks, and how many it shows.
const LIST_WEEKS: i64 = 8;
const LIST_LIMIT: usize = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    /// The first day (UTC) of the weeks shown, `YYYY-MM-DD`; today when absent.
    from: Option<String>,
}

/// `GET /b/{slug}/meetings`: the group's meetings of the next eight weeks.
pub async fn list(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let now = clock::now();
    let from = match query.from.as_deref() {
        Some(text) => clock::parse_date(text)
            .ok_or(WebError::NotFound)?
            .and_time(chrono::NaiveTime::MIN)
            .max(now),
        None => now,
    };
    let to = from + TimeDelta::weeks(LIST_WEEKS);
    let actor = viewer.actor();
    let shown = read(&state, move |conn| {
        meetings::list_for(conn, &actor, &slug, from, to, LIST_LIMIT)
    })
    .await?;
    let (board, upcoming) = (&shown.board, &shown.upcoming);
    let later = if upcoming.len() >= LIST_LIMIT {
        upcoming.last().map(|u| u.occurrence.starts_at.date())
    } else {
        Some(to.date())
    };
    Page::new(&state, &viewer, "meetings.html")
        .with("board", board)
        .with("upcoming", upcoming)
        .with("can_schedule", &shown.can_schedule)
        .with("is_first_page", &query.from.is_none())
        .with(
            "later",
            &later.map(|d: NaiveDate| d.format("%Y-%m-%d").to_string()),
        )
        .with("weeks", &LIST_WEEKS)
        .with("has_public_feed", &(board.visibility == Visibility::Public))
        .render(&state)
}
