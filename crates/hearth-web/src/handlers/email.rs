//! A member's e-mail address (`/settings/email`), its verification link (`/email/verify/…`),
//! and a forgotten password reset by mail (`/forgot/email`, `/forgot/email/…`). When the
//! operator set no SMTP server each page says plainly that this community sends no e-mail.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hearth_core::clock;
use hearth_core::mail::reset::SAME_ANSWER;
use hearth_core::mail::verification::{self, OwnAddress, Requested};
use hearth_core::mail::{reset, Site};
use serde::{Deserialize, Serialize};

use super::account::reserve_password;
use super::auth::client_address;
use super::{form_again, see_other, Page};
use crate::errors::WebError;
use crate::state::{db, db_with_password, read, AppState, State};
use crate::viewer::Viewer;

fn site(state: &AppState) -> Site {
    Site {
        name: state.config.site_name.clone(),
        url: state.config.public_url.trim_end_matches('/').to_owned(),
    }
}

/// What the address form keeps when it comes back: the address, never the password.
#[derive(Deserialize, Serialize, Default)]
pub struct AddressInput {
    #[serde(default)]
    address: String,
    #[serde(default, skip_serializing)]
    password: String,
}

#[derive(Deserialize)]
pub struct AddressQuery {
    #[serde(default)]
    asked: Option<String>,
}

fn address_page(
    state: &AppState,
    viewer: &Viewer,
    current: Option<&OwnAddress>,
    input: &AddressInput,
    asked: bool,
) -> Page {
    Page::new(state, viewer, "settings_email.html")
        .with("current", &current)
        .with("form", input)
        .with("asked", &asked)
        .with("same_answer", verification::SAME_ANSWER)
}

async fn own_address(state: &State, viewer: &Viewer) -> Result<Option<OwnAddress>, WebError> {
    let member = viewer.require_member()?;
    read(state, move |conn| {
        verification::address_of(conn, member.id, clock::now())
    })
    .await
}

/// `GET /settings/email`: the member's address, verified or waiting, and the form to add,
/// change or remove it.
pub async fn address_form(
    state: State,
    viewer: Viewer,
    query: web::Query<AddressQuery>,
) -> Result<HttpResponse, WebError> {
    let current = own_address(&state, &viewer).await?;
    let asked = query.asked.is_some();
    address_page(
        &state,
        &viewer,
        current.as_ref(),
        &AddressInput::default(),
        asked,
    )
    .render(&state)
}

/// `POST /settings/email`: with the member's password, mails a verification link to the new
/// address (the same answer whoever holds it); the verified one stays until it is opened.
pub async fn save_address(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<AddressInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?.member;
    let typed = input.address.clone();
    let password = input.password.clone();
    let settings = state.config.email.clone();
    let site = site(&state);
    let (keys, reservation) = reserve_password(&state, &request, &member.username).await?;
    let requested = db_with_password(&state, move |conn| {
        verification::request(
            conn,
            &keys,
            reservation,
            &member,
            &typed,
            &password,
            &settings,
            &site,
            clock::now(),
        )
    })
    .await;
    match requested {
        Ok(Requested::Asked) => {
            viewer.flash("Check your inbox: a link to confirm the address is on its way");
            Ok(see_other("/settings/email?asked=1"))
        }
        Ok(Requested::AlreadyVerified) => {
            viewer.flash("That address is already confirmed");
            Ok(see_other("/settings/email"))
        }
        Err(error) => {
            let error = error.keeping_text(&input.address);
            form_again(&state, error, async {
                let current = own_address(&state, &viewer).await?;
                Ok(address_page(
                    &state,
                    &viewer,
                    current.as_ref(),
                    &input,
                    false,
                ))
            })
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct RemoveInput {
    #[serde(default)]
    remove_password: String,
}

/// `POST /settings/email/remove`: with the member's password, no more mail to the address.
pub async fn remove_address(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<RemoveInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?.member;
    let password = input.into_inner().remove_password;
    let (keys, reservation) = reserve_password(&state, &request, &member.username).await?;
    let removed = db_with_password(&state, move |conn| {
        verification::remove(conn, &keys, reservation, &member, &password, clock::now())
    })
    .await;
    match removed {
        Ok(()) => {
            viewer.flash("Address removed");
            Ok(see_other("/settings/email"))
        }
        Err(error) => {
            form_again(&state, error, async {
                let current = own_address(&state, &viewer).await?;
                Ok(address_page(
                    &state,
                    &viewer,
                    current.as_ref(),
                    &AddressInput::default(),
                    false,
                ))
            })
            .await
        }
    }
}

/// A link from a mail that no longer works (used, expired, replaced, or never made): 404, with
/// what to do instead.
fn link_gone(state: &AppState, viewer: &Viewer, kind: &str) -> Result<HttpResponse, WebError> {
    Page::new(state, viewer, "email_link_gone.html")
        .with("kind", kind)
        .status(StatusCode::NOT_FOUND)
        .render(state)
}

/// `GET /email/verify/{token}`: the address to confirm, with a button (opening a link
/// changes nothing: mail scanners open links too).
pub async fn verify_form(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let action = format!("/email/verify/{token}");
    let found = read(&state, move |conn| {
        verification::for_link(conn, &token, clock::now())
    })
    .await;
    match found {
        Ok(address) => Page::new(&state, &viewer, "email_verify.html")
            .with_csrf(&viewer)
            .with("address", &address)
            .with("action", &action)
            .with("done", &false)
            .render(&state),
        Err(WebError::NotFound) => link_gone(&state, &viewer, "verify"),
        Err(error) => Err(error),
    }
}

/// `POST /email/verify/{token}`: the address is verified (the link works once).
pub async fn verify(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    match db(&state, move |conn| {
        verification::verify(conn, &token, clock::now())
    })
    .await
    {
        Ok(address) => Page::new(&state, &viewer, "email_verify.html")
            .with("address", &address)
            .with("done", &true)
            .render(&state),
        Err(WebError::NotFound) => link_gone(&state, &viewer, "verify"),
        Err(error) => Err(error),
    }
}

#[derive(Deserialize, Serialize, Default)]
pub struct ForgotInput {
    #[serde(default)]
    who: String,
}

fn forgot_page(state: &AppState, viewer: &Viewer, input: &ForgotInput, sent: bool) -> Page {
    Page::new(state, viewer, "forgot_email.html")
        .with_csrf(viewer)
        .with("form", input)
        .with("sent", &sent)
        .with("same_answer", SAME_ANSWER)
}

/// `GET /forgot/email`: the form asking for an address or username.
pub async fn forgot_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    forgot_page(&state, &viewer, &ForgotInput::default(), false).render(&state)
}

/// `POST /forgot/email`: the same answer for every request within the limits.
pub async fn forgot(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Form<ForgotInput>,
) -> Result<HttpResponse, WebError> {
    let typed = input.who.clone();
    let from = client_address(&request, &state.config);
    let settings = state.config.email.clone();
    let site = site(&state);
    let asked = db(&state, move |conn| {
        reset::request(conn, &typed, from, &settings, &site, clock::now())
    })
    .await;
    match asked {
        Ok(()) => forgot_page(&state, &viewer, &ForgotInput::default(), true).render(&state),
        Err(error) => {
            form_again(&state, error, async {
                Ok(forgot_page(&state, &viewer, &input, false))
            })
            .await
        }
    }
}

fn new_password_page(state: &AppState, viewer: &Viewer, token: &str, username: &str) -> Page {
    Page::new(state, viewer, "forgot_email_password.html")
        .with_csrf(viewer)
        .with("action", &format!("/forgot/email/{token}"))
        .with("username", username)
        .with("done", &false)
}

/// `GET /forgot/email/{token}`: the new-password form, while the link works.
pub async fn new_password_form(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let looked_up = token.clone();
    match read(&state, move |conn| {
        reset::for_link(conn, &looked_up, clock::now())
    })
    .await
    {
        Ok(member) => new_password_page(&state, &viewer, &token, &member.username).render(&state),
        Err(WebError::NotFound) => link_gone(&state, &viewer, "reset"),
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
pub struct NewPasswordInput {
    #[serde(default)]
    password: String,
}

/// `POST /forgot/email/{token}`: sets the password and ends every session of the member.
pub async fn set_new_password(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
    input: web::Form<NewPasswordInput>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let password = input.into_inner().password;
    let again_token = token.clone();
    let done = db_with_password(&state, move |conn| {
        reset::complete(conn, &token, &password, clock::now())
    })
    .await;
    match done {
        Ok(member) => Page::new(&state, &viewer, "forgot_email_password.html")
            .with("username", &member.username)
            .with("done", &true)
            .render(&state),
        Err(WebError::NotFound) => link_gone(&state, &viewer, "reset"),
        Err(error) => {
            form_again(&state, error, async {
                let looked_up = again_token.clone();
                let member = read(&state, move |conn| {
                    reset::for_link(conn, &looked_up, clock::now())
                })
                .await?;
                Ok(new_password_page(
                    &state,
                    &viewer,
                    &again_token,
                    &member.username,
                ))
            })
            .await
        }
    }
}
