//! `hearth-web`: the HTTP front end. One route table ([`routes`]), thin handlers, server-side
//! sessions with CSRF checks ([`viewer`]), tera themes ([`templates`]) and error pages
//! ([`errors`]). It never writes SQL and never decides a permission: it asks `hearth-core`.

pub mod config;
pub mod errors;
mod handlers;
pub mod people;
pub mod robots;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod templates;
pub mod viewer;
mod visitor_pages;

use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, DefaultHeaders, ErrorHandlers, Next};
use actix_web::{web, App, HttpServer};
use hearth_core::db::{Pool, Readers};

pub use config::WebConfig;
use state::AppState;
pub use visitor_pages::Budget as VisitorPagesBudget;

/// The Content-Security-Policy of every page: no inline script, nothing from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ))
}

/// One line per request: method, route pattern (never the concrete path, which can hold a
/// setup token or a username), status and time. No addresses, no bodies, no cookies. With
/// metrics on, the same pattern, method, status and time are counted (`telemetry`).
async fn request_log(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let method = request.method().clone();
    let measured = request
        .app_data::<state::State>()
        .is_some_and(|state| state.metrics.is_some());
    let started = Instant::now();
    let response = next.call(request).await?;
    let pattern = response.request().match_pattern();
    let status = response.status().as_u16();
    let took = started.elapsed();
    if measured {
        telemetry::record_request(pattern.as_deref(), &method, status, took);
    }
    let route = pattern.as_deref().unwrap_or("(no route)");
    let elapsed_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    // A probe every few seconds is no news, not even a failing one (`/readyz` says why).
    let probe = handlers::probes::PROBE_PATHS.contains(&response.request().path());
    if status >= 500 && !probe {
        tracing::warn!(%method, route, status, elapsed_us, "request failed");
    } else {
        tracing::debug!(%method, route, status, elapsed_us, "request");
    }
    Ok(response)
}

/// Builds the server on an already-bound listener (tests bind port 0 and read the port back).
/// Every GET route answers HEAD: the request is served as a GET and its body dropped, so a
/// HEAD gets the GET's status and headers without a route of its own.
async fn head_as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, ()>>, actix_web::Error> {
    let head = request.method() == Method::HEAD;
    if head {
        request.head_mut().method = Method::GET;
    }
    let response = next.call(request).await?;
    Ok(if head {
        response.map_body(|_, _| EitherBody::right(()))
    } else {
        response.map_into_left_body()
    })
}

pub fn server(
    pool: Pool,
    readers: Option<Readers>,
    config: WebConfig,
    listener: TcpListener,
    workers: usize,
) -> Result<Server, String> {
    let templates = templates::load(config.theme_dir.as_deref())?;
    let state = state::shared(
        AppState::new(pool, readers, templates, config)
            .map_err(|e| format!("cannot start the database threads: {e}"))?,
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::FormConfig::default().limit(1024 * 1024))
            .app_data(web::PayloadConfig::default().limit(1024 * 1024))
            .configure(routes::configure)
            .wrap(from_fn(viewer::session_layer))
            .wrap(from_fn(request_log))
            .wrap(ErrorHandlers::new().default_handler(errors::render_error_page))
            .wrap(security_headers())
            .wrap(from_fn(head_as_get))
    })
    .workers(workers.max(1))
    .listen(listener)
    .map_err(|e| format!("cannot listen: {e}"))?
    .run();
    Ok(server)
}
