use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeDelta;
use hearth_core::accounts::members::Registration;
use hearth_core::accounts::throttle::{self, SignInKeys, Verdict};
use hearth_core::accounts::{devices, recovery};
use hearth_core::model::Member;
use hearth_core::{accounts::sessions, accounts::tokens, clock, Error};
use serde::{Deserialize, Serialize};

use super::{account, form_again, see_other, Page};
use crate::config::WebConfig;
use crate::errors::WebError;
use crate::state::{db, db_with_password, AppState, State};
use crate::viewer::{cookie_name, session_cookie, Viewer, DEVICE_COOKIE};

/// Every IANA zone name, for the time zone pickers.
pub fn time_zone_names() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// Only same-site paths are followed after signing in, never another host.
fn local_path(next: Option<&str>) -> String {
    super::local_path(next).unwrap_or("/").to_owned()
}

#[derive(Deserialize, Serialize, Default)]
pub struct RegisterInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default, skip_serializing)]
    password: String,
    #[serde(default)]
    time_zone: String,
}

impl RegisterInput {
    pub fn with_time_zone(time_zone: &str) -> RegisterInput {
        RegisterInput {
            time_zone: time_zone.to_owned(),
            ..Default::default()
        }
    }

    pub fn registration(&self) -> Registration {
        Registration {
            username: self.username.trim().to_owned(),
            display_name: self.display_name.clone(),
            password: self.password.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

fn register_page(
    state: &AppState,
    viewer: &Viewer,
    template: &'static str,
    input: &RegisterInput,
) -> Page {
    Page::new(state, viewer, template)
        .with_csrf(viewer)
        .with("form", input)
        .with("time_zones", &time_zone_names())
}

/// `GET /register`.
pub async fn register_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    if viewer.member().is_some() {
        return Ok(see_other("/"));
    }
    // A visitor whose browser told us its zone (`static/zone.js`) finds it chosen already.
    let input = RegisterInput::with_time_zone(&viewer.time_zone(&state.config.default_time_zone));
    register_page(&state, &viewer, "register.html", &input).render(&state)
}

/// `POST /register`: creates the account and signs the new member in. Throttled per address
/// (`registration_limits`): over the limit, the form comes back with what was typed and when
/// another account can be made.
pub async fn register(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<RegisterInput>,
) -> Result<HttpResponse, WebError> {
    let registration = input.registration();
    let limits = state.config.registration_limits;
    let address = client_address(&request, &state.config);
    let secret = state.throttle_key.clone();
    let created = db_with_password(&state, move |conn| {
        let now = clock::now();
        let member = throttle::register(conn, &secret, &registration, &limits, address, now)?;
        let codes = recovery::issue(conn, member.id, now)?;
        Ok((member, codes))
    })
    .await;
    match created {
        Ok((member, codes)) => {
            let mut response = sign_in_response(
                &state,
                &viewer,
                &request,
                member,
                account::CODES_PAGE,
                Welcome::New,
            )
            .await?;
            account::hand_over_codes(&mut response, &codes, state.config.secure_cookies())?;
            Ok(response)
        }
        Err(error) => {
            form_again(&state, error, async {
                Ok(register_page(&state, &viewer, "register.html", &input))
            })
            .await
        }
    }
}

/// How a member is greeted on the first page after signing in: in the new session's flash,
/// which the next page shows once.
pub enum Welcome {
    /// "Welcome back, Ana".
    Back,
    /// A new account: "Welcome to Hearth, Ana".
    New,
    /// Nothing to say (the page they land on says it).
    Quiet,
}

impl Welcome {
    fn message(&self, site_name: &str, member: &Member) -> Option<String> {
        let name = &member.display_name;
        match self {
            Welcome::Back => Some(format!("Welcome back, {name}")),
            Welcome::New => Some(format!("Welcome to {site_name}, {name}")),
            Welcome::Quiet => None,
        }
    }
}

/// Starts a fresh session (a new identifier: signing in never reuses one) and ends any
/// session this browser had before. The session is given a coarse device hint from the
/// request's User-Agent (the header itself is not kept), and `welcome` in its flash.
pub async fn sign_in_response(
    state: &State,
    viewer: &Viewer,
    request: &HttpRequest,
    member: Member,
    next: &str,
    welcome: Welcome,
) -> Result<HttpResponse, WebError> {
    let lifetime = TimeDelta::days(state.config.session_days);
    let previous = viewer.session_id();
    let user_agent = request
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let device_hint = devices::hint_from_user_agent(user_agent);
    let greeting = welcome.message(&state.config.site_name, &member);
    let (started, leaving) = db(state, move |conn| {
        if let Some(previous) = previous {
            sessions::end(conn, previous)?;
        }
        let started = sessions::start_on(conn, &member, lifetime, &device_hint)?;
        if let Some(greeting) = &greeting {
            sessions::set_flash(conn, started.session.id, greeting)?;
        }
        Ok((
            started,
            hearth_core::accounts::leaving::pending(conn, member.id)?,
        ))
    })
    .await?;
    // A member who asked to leave is offered to cancel first, whatever they came for and
    // however they signed in (a password, a recovery code).
    let next = if leaving.is_some() {
        "/settings/leaving"
    } else {
        next
    };
    let cookie = session_cookie(started.token, state.config.secure_cookies());
    let mut response = see_other(next);
    response
        .add_cookie(&cookie)
        .map_err(|_| WebError::Internal)?;
    Ok(response)
}

#[derive(Deserialize, Serialize, Default)]
pub struct SignInInput {
    #[serde(default)]
    username: String,
    #[serde(default, skip_serializing)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// `GET /signin`.
pub async fn sign_in_form(
    state: State,
    viewer: Viewer,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, WebError> {
    let input = SignInInput {
        next: Some(local_path(query.next.as_deref())),
        ..Default::default()
    };
    Page::new(&state, &viewer, "signin.html")
        .with_csrf(&viewer)
        .with("form", &input)
        .render(&state)
}

/// The address a request came from, for sign-in and registration throttling (the one place
/// that reads it): the connection's peer, or — only when the operator said Hearth sits behind a
/// proxy that appends it — the right-most `X-Forwarded-For` entry.
pub(crate) fn client_address(request: &HttpRequest, config: &WebConfig) -> IpAddr {
    if config.trust_x_forwarded_for {
        let last_hop = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .last()
            .map(str::trim);
        let parsed = last_hop.and_then(|entry| {
            entry
                .parse::<IpAddr>()
                .ok()
                .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        });
        if let Some(address) = parsed {
            return address;
        }
    } else if request.headers().contains_key("x-forwarded-for") {
        // Behind a proxy that Hearth was not told about, every visitor has the proxy's address
        // and one person's failed sign-ins throttle everyone. Said once per process (a client
        // can send the header too, so it is only a hint), without the address.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(
                "a request came with X-Forwarded-For, but trust_x_forwarded_for is off: behind \
                 a reverse proxy, every visitor counts as the proxy's address for sign-in and \
                 registration limits; set trust_x_forwarded_for = true if the proxy sets it"
            );
        }
    }
    request
        .peer_addr()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |peer| peer.ip())
}

/// `POST /signin`: the same answer for an unknown name and a wrong password. Throttled per
/// account from this address, per address and per account (see `hearth_core::accounts::throttle`):
/// each attempt is counted before its password is checked, slowed after a few failures (an
/// async wait: no worker is held), refused with 429 — without checking the password — after more.
pub async fn sign_in(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<SignInInput>,
) -> Result<HttpResponse, WebError> {
    let policy = state.config.sign_in_throttle;
    let address = client_address(&request, &state.config);
    let mut keys = SignInKeys::new(&state.throttle_key, address, &input.username);
    let device = throttle::device_subject(&input.username);
    let secure = state.config.secure_cookies();
    if let Some(cookie) = request
        .cookie(cookie_name(DEVICE_COOKIE, secure))
        .filter(|c| tokens::is_signed_token_for(&state.throttle_key, &device, c.value()))
    {
        keys = keys.from_known_device(&state.throttle_key, cookie.value());
    }
    let reserve_keys = keys.clone();
    let verdict = db(&state, move |conn| {
        throttle::reserve(conn, &reserve_keys, &policy, clock::now())
    })
    .await?;
    let reservation = match verdict {
        Verdict::Allow(reservation) => reservation,
        Verdict::Slow(reservation, delay) => {
            // Dropped with the request if the browser goes away meanwhile: the attempt then
            // stays counted as a failure.
            actix_web::rt::time::sleep(delay).await;
            reservation
        }
        Verdict::Refuse(retry_after) => {
            tracing::info!("a sign-in was refused: too many recent failures");
            return Err(throttle::refused(retry_after).into());
        }
    };
    let (username, password) = (input.username.clone(), input.password.clone());
    let outcome = db_with_password(&state, move |conn| {
        throttle::authenticate(conn, &keys, reservation, &username, &password)
    })
    .await;
    let next = local_path(input.next.as_deref());
    match outcome {
        Ok(member) => {
            let mut response =
                sign_in_response(&state, &viewer, &request, member, &next, Welcome::Back).await?;
            // This browser has now signed in to the account: a year's proof of it.
            let cookie = Cookie::build(
                cookie_name(DEVICE_COOKIE, secure),
                tokens::signed_token_for(&state.throttle_key, &device),
            )
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::days(365))
            .finish();
            response
                .add_cookie(&cookie)
                .map_err(|_| WebError::Internal)?;
            Ok(response)
        }
        Err(WebError::BadCredentials) => {
            let message = Error::BadCredentials.to_string();
            Page::new(&state, &viewer, "signin.html")
                .with_csrf(&viewer)
                .with("form", &input.into_inner())
                .with("failure", &message)
                .status(StatusCode::UNAUTHORIZED)
                .render(&state)
        }
        Err(other) => Err(other),
    }
}

/// `POST /signout`: ends this session on the server; the cookie no longer works anywhere.
pub async fn sign_out(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    if let Some(session_id) = viewer.session_id() {
        db(&state, move |conn| sessions::end(conn, session_id)).await?;
    }
    let mut response = see_other("/");
    response
        .add_removal_cookie(&session_cookie(
            String::new(),
            state.config.secure_cookies(),
        ))
        .map_err(|_| WebError::Internal)?;
    Ok(response)
}
