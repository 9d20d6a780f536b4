//! `/healthz` and `/readyz`, for systemd, load balancers and monitors. Both are plain text,
//! never cached, and go around the session layer ([`PROBE_PATHS`]): no cookie is read or set,
//! and a probe every few seconds costs no session lookup.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::state::State;

/// The paths the session layer and the request log leave alone.
pub const PROBE_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// How long `/readyz` waits for a database connection before it says the database is
/// unreachable (the pool's own wait is 30 s, longer than a probe's patience).
const READY_WAIT: Duration = Duration::from_secs(2);

fn plain(mut response: actix_web::HttpResponseBuilder, text: &'static str) -> HttpResponse {
    response
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text)
}

/// `GET /healthz`: the process is alive and answers. It does not touch the database.
pub async fn alive() -> HttpResponse {
    plain(HttpResponse::Ok(), "ok")
}

/// `GET /readyz`: 200 when a database connection answers and no migration is pending, 503
/// with a short reason otherwise.
pub async fn ready(state: State) -> HttpResponse {
    let pool = state.pool.clone();
    let checked = web::block(move || {
        let mut conn = pool.get_timeout(READY_WAIT).ok()?;
        hearth_core::db::ping(&mut conn).ok()?;
        Some(hearth_core::db::pending_migrations(&mut conn).ok())
    })
    .await;
    match checked {
        Ok(Some(Some(false))) => plain(HttpResponse::Ok(), "ok"),
        Ok(Some(Some(true))) => plain(
            HttpResponse::ServiceUnavailable(),
            "a database migration is pending",
        ),
        Ok(Some(None)) => plain(
            HttpResponse::ServiceUnavailable(),
            "the migrations could not be read",
        ),
        Ok(None) | Err(_) => plain(
            HttpResponse::ServiceUnavailable(),
            "the database is unreachable",
        ),
    }
}
