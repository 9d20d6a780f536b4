//! A member's control of their account: on `/settings`, changing the password, the signed-in
//! devices (and ending them), new recovery codes; the page that shows a new set of codes once;
//! and "Forgot your password?" with a recovery code.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use hearth_core::accounts::recovery::{self, CodeReset};
use hearth_core::accounts::throttle::{self, Reservation, SignInKeys, ThrottlePolicy, Verdict};
use hearth_core::accounts::{credentials, sessions};
use hearth_core::ids::SessionId;
use hearth_core::{clock, Error};
use serde::{Deserialize, Serialize};

use super::auth::{client_address, sign_in_response, Welcome};
use super::members::saved_settings_page;
use super::{form_again, see_other, Page};
use crate::errors::WebError;
use crate::state::{db, db_with_password, read, AppState, State};
use crate::viewer::{cookie_name, Viewer, NEW_CODES_COOKIE};

/// The page that shows a set of recovery codes just made.
pub const CODES_PAGE: &str = "/recovery-codes";
/// How long the codes wait in their cookie for the page that shows them.
const CODES_COOKIE_MINUTES: i64 = 10;

/// One signed-in device in the list on `/settings`.
#[derive(Serialize)]
pub struct DeviceLine {
    id: SessionId,
    device: String,
    signed_in_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    /// The session of this very request.
    this_device: bool,
}

/// What `/settings` shows of the account: its devices and how many recovery codes are left.
#[derive(Serialize)]
pub struct AccountSection {
    devices: Vec<DeviceLine>,
    codes_left: i64,
}

/// The account section of `/settings` for the signed-in member.
pub async fn section(state: &State, viewer: &Viewer) -> Result<AccountSection, WebError> {
    let member = viewer.require_member()?;
    let this = viewer.session_id();
    read(state, move |conn| {
        // This device first, then the others as the core lists them (most recently used first).
        let mut listed = sessions::list_for(conn, member.id)?;
        listed.sort_by_key(|s| Some(s.id) != this);
        let devices = listed
            .into_iter()
            .map(|s| DeviceLine {
                id: s.id,
                last_seen_at: s.last_seen(),
                device: if s.device_hint.is_empty() {
                    "an unknown device".to_owned()
                } else {
                    s.device_hint
                },
                signed_in_at: s.created_at,
                this_device: Some(s.id) == this,
            })
            .collect();
        let codes_left = recovery::remaining(conn, member.id)?;
        Ok(AccountSection {
            devices,
            codes_left,
        })
    })
    .await
}

/// Gives a set of codes just made to the response, for [`show_codes`] after the redirect: in
/// an `HttpOnly` cookie of that page's own, for ten minutes at most.
pub fn hand_over_codes(
    response: &mut HttpResponse,
    codes: &[String],
    secure: bool,
) -> Result<(), WebError> {
    let cookie = Cookie::build(cookie_name(NEW_CODES_COOKIE, secure), codes.join("."))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::minutes(
            CODES_COOKIE_MINUTES,
        ))
        .finish();
    response.add_cookie(&cookie).map_err(|_| WebError::Internal)
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /recovery-codes`: a set of codes just made, shown once ("keep these somewhere safe"),
/// then forgotten by the browser. Only codes that are the member's current, unused set are
/// shown; without them the page says how to make new ones.
pub async fn show_codes(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let secure = state.config.secure_cookies();
    let handed: Vec<String> = request
        .cookie(cookie_name(NEW_CODES_COOKIE, secure))
        .map(|c| c.value().split('.').map(str::to_owned).collect())
        .unwrap_or_default();
    let codes = if handed.is_empty() {
        Vec::new()
    } else {
        let check = handed.clone();
        let current = read(&state, move |conn| {
            recovery::are_current(conn, member.id, &check)
        })
        .await?;
        if current {
            handed
        } else {
            Vec::new()
        }
    };
    let next = super::local_path(query.next.as_deref()).unwrap_or("/");
    let mut response = Page::new(&state, &viewer, "recovery_codes.html")
        .with("codes", &codes)
        .with("next", next)
        .render(&state)?;
    let mut removal = Cookie::build(cookie_name(NEW_CODES_COOKIE, secure), "")
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish();
    removal.make_removal();
    response
        .add_cookie(&removal)
        .map_err(|_| WebError::Internal)?;
    Ok(response)
}

/// Counts an attempt before anything is checked (see `throttle::reserve`), waits out a slowed
/// one, and refuses with `refusal` when the throttle says so.
pub(super) async fn reserve(
    state: &AppState,
    keys: &SignInKeys,
    policy: ThrottlePolicy,
    refusal: fn(std::time::Duration) -> Error,
) -> Result<Reservation, WebError> {
    let reserve_keys = keys.clone();
    let verdict = db(state, move |conn| {
        throttle::reserve(conn, &reserve_keys, &policy, clock::now())
    })
    .await?;
    match verdict {
        Verdict::Allow(reservation) => Ok(reservation),
        Verdict::Slow(reservation, delay) => {
            actix_web::rt::time::sleep(delay).await;
            Ok(reservation)
        }
        Verdict::Refuse(retry_after) => {
            tracing::info!("an attempt was refused: too many recent failures");
            Err(refusal(retry_after).into())
        }
    }
}

/// Counts an attempt to type `username`'s password before it is checked, as a sign-in's (the
/// same throttle, so a stolen session cannot guess it); past the limit a 429 that says so, and
/// the password is not checked. Every form that asks a signed-in member for their password
/// reserves through here.
pub(super) async fn reserve_password(
    state: &AppState,
    request: &HttpRequest,
    username: &str,
) -> Result<(SignInKeys, Reservation), WebError> {
    let address = client_address(request, &state.config);
    let keys = SignInKeys::new(&state.throttle_key, address, username);
    let reservation = reserve(
        state,
        &keys,
        state.config.sign_in_throttle,
        throttle::refused,
    )
    .await?;
    Ok((keys, reservation))
}

/// The settings page again with the member's saved values and `error`'s messages.
async fn settings_again(
    state: &State,
    viewer: &Viewer,
    error: WebError,
) -> Result<HttpResponse, WebError> {
    form_again(state, error, saved_settings_page(state, viewer)).await
}

#[derive(Deserialize)]
pub struct PasswordInput {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
}

/// `POST /settings/password`: the current password (checked as a sign-in is, and counted by
/// its throttle), then the new one; every other session ends, this one stays.
pub async fn change_password(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<PasswordInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let this = viewer.session_id().ok_or(WebError::Internal)?;
    let PasswordInput {
        current_password,
        password,
    } = input.into_inner();
    if let Err(invalid) = credentials::check_new_password(&member.username, &password) {
        return settings_again(&state, &viewer, invalid.into()).await;
    }
    let (keys, reservation) = reserve_password(&state, &request, &member.username).await?;
    let changed = db_with_password(&state, move |conn| {
        credentials::change_password(
            conn,
            &keys,
            reservation,
            &member,
            &current_password,
            &password,
            this,
        )
    })
    .await;
    match changed {
        Ok(_) => {
            viewer.flash("Your password is changed");
            Ok(see_other("/settings?done=password#change-password"))
        }
        Err(error) => settings_again(&state, &viewer, error).await,
    }
}

/// `POST /settings/sessions/{id}/end`: signs one of the member's devices out. Another
/// member's session is not found.
pub async fn end_session(
    state: State,
    viewer: Viewer,
    id: web::Path<SessionId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    db(&state, move |conn| sessions::end_own(conn, member.id, id)).await?;
    if Some(id) == viewer.session_id() {
        return Ok(see_other("/"));
    }
    viewer.flash("That device is signed out");
    Ok(see_other("/settings?done=session#devices"))
}

/// `POST /settings/sessions/end-others`: "sign out everywhere else".
pub async fn end_other_sessions(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let this = viewer.session_id().ok_or(WebError::Internal)?;
    db(&state, move |conn| {
        sessions::end_all_except(conn, member.id, this)
    })
    .await?;
    viewer.flash("Every other device is signed out");
    Ok(see_other("/settings?done=others#devices"))
}

#[derive(Deserialize)]
pub struct ConfirmInput {
    #[serde(default)]
    codes_password: String,
}

/// `POST /settings/recovery-codes`: with the member's password, a new set of ten codes (the
/// old ones stop working), shown once on [`CODES_PAGE`].
pub async fn regenerate_codes(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<ConfirmInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let password = input.into_inner().codes_password;
    let (keys, reservation) = reserve_password(&state, &request, &member.username).await?;
    let made = db_with_password(&state, move |conn| {
        credentials::confirm_password(
            conn,
            &keys,
            reservation,
            &member,
            &password,
            "codes_password",
        )?;
        recovery::issue(conn, member.id, clock::now())
    })
    .await;
    match made {
        Ok(codes) => {
            let mut response = see_other(&format!("{CODES_PAGE}?next=/settings"));
            hand_over_codes(&mut response, &codes, state.config.secure_cookies())?;
            Ok(response)
        }
        Err(error) => settings_again(&state, &viewer, error).await,
    }
}

/// What the "Forgot your password?" form keeps when it comes back: the name, never the code or
/// a password.
#[derive(Deserialize, Serialize, Default)]
pub struct ForgotInput {
    #[serde(default)]
    username: String,
    #[serde(default, skip_serializing)]
    code: String,
    #[serde(default, skip_serializing)]
    password: String,
}

fn forgot_page(state: &State, viewer: &Viewer, input: &ForgotInput) -> Page {
    Page::new(state, viewer, "forgot_password.html")
        .with_csrf(viewer)
        .with("form", input)
}

/// `GET /forgot-password`.
pub async fn forgot_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    forgot_page(&state, &viewer, &ForgotInput::default()).render(&state)
}

/// `POST /forgot-password`: a username, one recovery code and a new password. Throttled like
/// sign-in (`recovery_throttle`, counted before the code is checked); an unknown name and a
/// wrong or used code get the same answer. A right code is used up, sets the password, ends
/// every session of the member and signs them in here.
pub async fn forgot(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<ForgotInput>,
) -> Result<HttpResponse, WebError> {
    let input = input.into_inner();
    let form = CodeReset {
        username: input.username.trim().to_owned(),
        code: input.code.clone(),
        new_password: input.password.clone(),
    };
    if let Err(invalid) = recovery::check(&form) {
        return form_again(&state, invalid.into(), async {
            Ok(forgot_page(&state, &viewer, &input))
        })
        .await;
    }
    let address = client_address(&request, &state.config);
    let keys = SignInKeys::for_recovery(&state.throttle_key, address, &form.username);
    let reservation = reserve(
        &state,
        &keys,
        state.config.recovery_throttle,
        throttle::refused_recovery,
    )
    .await?;
    let reset = db_with_password(&state, move |conn| {
        recovery::reset_with_code(conn, &keys, reservation, &form)
    })
    .await;
    match reset {
        Ok(member) => {
            sign_in_response(
                &state,
                &viewer,
                &request,
                member,
                "/settings?done=recovered#change-password",
                // The settings page says they are in and what to do next.
                Welcome::Quiet,
            )
            .await
        }
        Err(WebError::BadCredentials) => forgot_page(&state, &viewer, &input)
            .with(
                "failure",
                "that username and recovery code do not match an account, or the code was used \
                 already; check both and try again (each code works once)",
            )
            .status(StatusCode::UNAUTHORIZED)
            .render(&state),
        Err(error) => {
            form_again(&state, error, async {
                Ok(forgot_page(&state, &viewer, &input))
            })
            .await
        }
    }
}
