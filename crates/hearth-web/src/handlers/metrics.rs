//! `/metrics`: Prometheus text for the operator's scraper, off unless `[metrics] enabled`.
//! Off, it is a 404 like any path Hearth does not serve (through the session layer, as every
//! unknown path goes). On, it goes around the session layer as the probes do (no cookie read
//! or set), asks for the bearer token (401 with `WWW-Authenticate: Bearer` without the right
//! one), is never cached, and is logged only at debug level like any request.

use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use hearth_core::maintenance::gauges;

use crate::errors::WebError;
use crate::state::{self, State};
use crate::telemetry;

pub const PATH: &str = "/metrics";

/// Whether the session layer leaves `request` alone: `/metrics` on a server that serves it.
pub fn bypasses_session(request: &ServiceRequest) -> bool {
    request.path() == PATH
        && request
            .app_data::<State>()
            .is_some_and(|state| state.metrics.is_some())
}

fn plain(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// `GET /metrics`.
pub async fn scrape(state: State, request: HttpRequest) -> Result<HttpResponse, WebError> {
    let Some(exporter) = state.metrics.as_ref() else {
        return Err(WebError::NotFound);
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if !exporter.allows(authorization) {
        return Ok(plain(HttpResponse::Unauthorized())
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"hearth metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body("/metrics needs the bearer token from the [metrics] settings\n"));
    }
    let gauges = match exporter.kept_gauges() {
        Some(text) => text,
        None => {
            let max_attempts = state.config.email.max_attempts();
            // On the database threads, not inline: a count over every thread is more than the
            // microseconds a page load takes on an async thread.
            let read = state::db(&state, move |conn| {
                hearth_core::db::read_only(conn, |conn| gauges::read(conn, max_attempts))
            })
            .await?;
            let text = telemetry::gauges_text(&read);
            exporter.keep_gauges(&text);
            text
        }
    };
    let mut body = exporter.render();
    body.push_str(&gauges);
    Ok(plain(HttpResponse::Ok())
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
