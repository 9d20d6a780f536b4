//! The first administrator's account, from the link `hearth serve` printed.

use actix_web::{web, HttpRequest, HttpResponse};
use hearth_core::accounts::{recovery, setup};
use hearth_core::clock;

use super::auth::{sign_in_response, time_zone_names, RegisterInput, Welcome};
use super::{account, form_again, Page};
use crate::errors::WebError;
use crate::state::{db_with_password, read, State};
use crate::viewer::Viewer;

/// `GET /setup/{token}`: the first administrator's account form, from the link `hearth serve`
/// printed. Unknown, used or expired tokens are not found.
pub async fn form(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let check = token.clone();
    if !read(&state, move |conn| setup::token_is_valid(conn, &check)).await? {
        return Err(WebError::NotFound);
    }
    let input = RegisterInput::with_time_zone(&state.config.default_time_zone);
    Page::new(&state, &viewer, "setup.html")
        .with_csrf(&viewer)
        .with("form", &input)
        .with("token", &token)
        .with("time_zones", &time_zone_names())
        .render(&state)
}

/// `POST /setup/{token}`: creates the administrator, spends the token, signs them in.
pub async fn create_admin(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    token: web::Path<String>,
    input: web::Form<RegisterInput>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let registration = input.registration();
    let spent = token.clone();
    match db_with_password(&state, move |conn| {
        let admin = setup::create_first_admin(conn, &spent, &registration)?;
        let codes = recovery::issue(conn, admin.id, clock::now())?;
        Ok((admin, codes))
    })
    .await
    {
        Ok((admin, codes)) => {
            let next = format!("{}?next=/admin", account::CODES_PAGE);
            let mut response =
                sign_in_response(&state, &viewer, &request, admin, &next, Welcome::New).await?;
            account::hand_over_codes(&mut response, &codes, state.config.secure_cookies())?;
            Ok(response)
        }
        Err(error) => {
            form_again(&state, error, async {
                Ok(Page::new(&state, &viewer, "setup.html")
                    .with_csrf(&viewer)
                    .with("form", &input.into_inner())
                    .with("token", &token)
                    .with("time_zones", &time_zone_names()))
            })
            .await
        }
    }
}
