//! Errors at the edge: each becomes a status and a page a person can act on, in one place.

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use hearth_core::error::Denied;

use crate::state::AppState;
use crate::templates::{base_context, render};
use crate::viewer::Viewer;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("{}", .0.explanation())]
    Denied(Denied),
    #[error("{0}")]
    BadRequest(String),
    /// A form's input needs fixing; handlers show the form again with these messages.
    #[error("{0}")]
    Invalid(hearth_core::error::Invalid),
    #[error("that username and password do not match an account")]
    BadCredentials,
    /// The form's CSRF token did not match. For a same-origin form, what the member wrote is
    /// carried back to them on the error page, so nothing typed is lost.
    #[error("the form's security token did not match")]
    Csrf { kept_text: Option<String> },
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl From<hearth_core::Error> for WebError {
    fn from(error: hearth_core::Error) -> Self {
        use hearth_core::Error as E;
        match error {
            E::NotFound => WebError::NotFound,
            E::Denied(reason) => WebError::Denied(reason),
            E::Invalid(invalid) => WebError::Invalid(invalid),
            E::BadCredentials => WebError::BadCredentials,
            E::Unavailable(detail) => {
                tracing::error!(%detail, "a resource Hearth needs is unavailable");
                WebError::Unavailable
            }
            E::Database(detail) => {
                tracing::error!(%detail, "database error");
                WebError::Internal
            }
            E::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                WebError::Internal
            }
        }
    }
}

/// What an error page says, attached to the error response for the page renderer.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: String,
    pub hint: &'static str,
    /// Text the member sent that could not be saved, shown back to them to copy.
    pub kept_text: Option<String>,
}

impl WebError {
    fn page(&self) -> ErrorPage {
        let (title, hint) = match self {
            WebError::NotFound => (
                "We could not find that page",
                "It may have been moved or deleted, or you may need to sign in to see it.",
            ),
            WebError::Denied(Denied::SignInRequired) => (
                "Please sign in",
                "Sign in or create an account, then try again.",
            ),
            WebError::Denied(_) => (
                "You can't do that here",
                "If you think this is a mistake, ask a moderator.",
            ),
            WebError::BadRequest(_) | WebError::Invalid(_) => (
                "Something in the request was not right",
                "Go back, check the form and send it again.",
            ),
            WebError::BadCredentials => (
                "Sign-in failed",
                "Check your username and password and try again.",
            ),
            WebError::Csrf { .. } => (
                "This form has expired",
                "Go back (your text is still in the form), reload the page, and send it again.",
            ),
            WebError::Unavailable => ("Hearth is busy or resting", "Please try again in a minute."),
            WebError::Internal => (
                "Something went wrong on our side",
                "Please try again; if it keeps happening, tell the site's operator.",
            ),
        };
        let message = match self {
            WebError::NotFound => String::new(),
            other => other.to_string(),
        };
        let kept_text = match self {
            WebError::Csrf { kept_text } => kept_text.clone(),
            _ => None,
        };
        ErrorPage {
            title,
            message,
            hint,
            kept_text,
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Denied(Denied::SignInRequired) | WebError::BadCredentials => {
                StatusCode::UNAUTHORIZED
            }
            WebError::Denied(_) | WebError::Csrf { .. } => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::new(self.status_code());
        response.extensions_mut().insert(self.page());
        response
    }
}

fn default_page(status: StatusCode) -> ErrorPage {
    match status {
        StatusCode::NOT_FOUND => WebError::NotFound.page(),
        StatusCode::METHOD_NOT_ALLOWED => ErrorPage {
            title: "That address does not take this kind of request",
            message: String::new(),
            hint: "Go back and use the page's own buttons and links.",
            kept_text: None,
        },
        StatusCode::PAYLOAD_TOO_LARGE => ErrorPage {
            title: "That was too long to send",
            message: String::new(),
            hint: "Go back (your text is still in the form) and shorten it, or split it into two posts.",
            kept_text: None,
        },
        s if s.is_server_error() => WebError::Internal.page(),
        _ => WebError::BadRequest(String::new()).page(),
    }
}

/// Renders every 4xx and 5xx response as a themed page. Registered once, around all routes.
pub fn render_error_page<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = response.status();
    let attached = response.response().extensions().get::<ErrorPage>().cloned();
    // A handler that rendered its own page (a form shown again with its errors) keeps it.
    let has_own_body = !matches!(
        response.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    if attached.is_none() && has_own_body {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let page = attached.unwrap_or_else(|| default_page(status));
    let request = response.request().clone();
    let Some(state) = request.app_data::<actix_web::web::Data<AppState>>() else {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    };
    let viewer = Viewer::from_request_extensions(&request);
    let mut context = base_context(state, &viewer);
    context.insert("status", &status.as_u16());
    context.insert("title", page.title);
    context.insert("message", &page.message);
    context.insert("hint", page.hint);
    context.insert("sign_in_needed", &(status == StatusCode::UNAUTHORIZED));
    context.insert("path", request.path());
    context.insert("kept_text", &page.kept_text);
    let html = match render(state, "error.html", &context) {
        Ok(html) => html,
        Err(_) => format!(
            "<!doctype html><title>Error {}</title><p>{}</p>",
            status.as_u16(),
            page.title
        ),
    };
    let new_response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(html);
    let (request, _) = response.into_parts();
    let themed = ServiceResponse::new(request, new_response)
        .map_into_boxed_body()
        .map_into_right_body();
    Ok(ErrorHandlerResponse::Response(themed))
}

/// The type of body the error renderer produces around the inner one.
pub type ErrorBody<B> = EitherBody<B, BoxBody>;
