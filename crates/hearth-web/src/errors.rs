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
    /// A form whose `Origin` is not the site's configured address (`public_url`): the usual
    /// cause is opening the site at another address (`localhost` for `127.0.0.1`).
    #[error("forms are accepted only from this site's own address ({site})")]
    ForeignOrigin {
        site: String,
        kept_text: Option<String>,
    },
    /// Too much, too fast (posting limits, slow mode, sign-in throttling): 429 with
    /// `Retry-After`. A handler that had the member's text can hand it back with
    /// [`WebError::keeping_text`], as the CSRF failure does.
    #[error("{reason}")]
    RateLimited {
        retry_after_seconds: i64,
        reason: String,
        kept_text: Option<String>,
    },
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
            E::RateLimited {
                retry_after_seconds,
                reason,
            } => WebError::RateLimited {
                retry_after_seconds,
                reason,
                kept_text: None,
            },
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
    /// For 429: when the person may try again (sent as `Retry-After` and shown on the page).
    pub retry_after_seconds: Option<i64>,
}

impl WebError {
    /// Hands the member's text back on the error page when the error means it was not saved
    /// (a posting limit). Other errors are returned unchanged.
    pub fn keeping_text(self, text: &str) -> WebError {
        match self {
            WebError::RateLimited {
                retry_after_seconds,
                reason,
                kept_text: None,
            } if !text.trim().is_empty() => WebError::RateLimited {
                retry_after_seconds,
                reason,
                kept_text: Some(text.to_owned()),
            },
            other => other,
        }
    }
}

/// `message` with its first letter a capital and the rest as written (tera's `capitalize`
/// would lower-case an address or a name in it).
pub(crate) fn sentence_case(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
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
            WebError::ForeignOrigin { .. } => (
                "This form came from another address",
                "Open the site at the address above and send the form again.",
            ),
            WebError::RateLimited { .. } => (
                "Please wait before trying again",
                "These limits keep the community safe from spam and from people guessing \
                 passwords. Nothing else is wrong.",
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
            WebError::Csrf { kept_text }
            | WebError::ForeignOrigin { kept_text, .. }
            | WebError::RateLimited { kept_text, .. } => kept_text.clone(),
            _ => None,
        };
        let retry_after_seconds = match self {
            WebError::RateLimited {
                retry_after_seconds,
                ..
            } => Some((*retry_after_seconds).max(1)),
            _ => None,
        };
        ErrorPage {
            title,
            message,
            hint,
            kept_text,
            retry_after_seconds,
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
            WebError::Denied(_) | WebError::Csrf { .. } | WebError::ForeignOrigin { .. } => {
                StatusCode::FORBIDDEN
            }
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let page = self.page();
        let mut response = HttpResponse::new(self.status_code());
        if let Some(seconds) = page.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(page);
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
            retry_after_seconds: None,
        },
        StatusCode::PAYLOAD_TOO_LARGE => ErrorPage {
            title: "That was too long to send",
            message: String::new(),
            hint: "Go back (your text is still in the form) and shorten it, or split it into two posts.",
            kept_text: None,
            retry_after_seconds: None,
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
    // The session layer has already run (this handler wraps it), so a confirmation shown here
    // would never be cleared: it waits for the next ordinary page.
    context.insert("flash", &None::<&str>);
    context.insert("status", &status.as_u16());
    context.insert("title", page.title);
    // Capitalized here, not by tera's `capitalize`, which would lower-case an address in it.
    context.insert("message", &sentence_case(&page.message));
    context.insert("hint", page.hint);
    context.insert("sign_in_needed", &(status == StatusCode::UNAUTHORIZED));
    context.insert("path", request.path());
    context.insert("kept_text", &page.kept_text);
    let retry_at = page
        .retry_after_seconds
        .map(|seconds| hearth_core::clock::now() + chrono::TimeDelta::seconds(seconds));
    context.insert("retry_at", &retry_at);
    let html = match render(state, "error.html", &context) {
        Ok(html) => html,
        Err(_) => format!(
            "<!doctype html><title>Error {}</title><p>{}</p>",
            status.as_u16(),
            page.title
        ),
    };
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"));
    // What the layers under this one said about the page it replaces still holds: a signed-in
    // page is not stored, a rotated or new cookie still arrives, a varying answer still varies.
    for name in [header::CACHE_CONTROL, header::SET_COOKIE, header::VARY] {
        for value in response.headers().get_all(&name) {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    if let Some(seconds) = page.retry_after_seconds {
        builder.insert_header((header::RETRY_AFTER, seconds));
    }
    let new_response = builder.body(html);
    let (request, _) = response.into_parts();
    let themed = ServiceResponse::new(request, new_response)
        .map_into_boxed_body()
        .map_into_right_body();
    Ok(ErrorHandlerResponse::Response(themed))
}

/// The type of body the error renderer produces around the inner one.
pub type ErrorBody<B> = EitherBody<B, BoxBody>;

#[cfg(test)]
mod tests {
    use super::*;

    fn limited() -> WebError {
        WebError::from(hearth_core::Error::RateLimited {
            retry_after_seconds: 42,
            reason: "you have reached this site's limit".to_owned(),
        })
    }

    #[test]
    fn a_rate_limit_is_429_with_retry_after() {
        let error = limited();
        assert_eq!(error.status_code(), StatusCode::TOO_MANY_REQUESTS);
        let response = error.error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "42");
        let page = response.extensions().get::<ErrorPage>().cloned().unwrap();
        assert_eq!(page.message, "you have reached this site's limit");
        assert_eq!(page.retry_after_seconds, Some(42));
        assert_eq!(page.kept_text, None);
    }

    #[test]
    fn a_rate_limited_post_keeps_the_members_text() {
        let page = limited().keeping_text("what I wrote").page();
        assert_eq!(page.kept_text.as_deref(), Some("what I wrote"));
        assert_eq!(limited().keeping_text("  ").page().kept_text, None);
        // Other errors are not changed.
        assert!(matches!(
            WebError::NotFound.keeping_text("text"),
            WebError::NotFound
        ));
    }
}

#[cfg(test)]
mod sentence_tests {
    use super::sentence_case;

    #[test]
    fn only_the_first_letter_changes() {
        assert_eq!(
            sentence_case("forms are accepted only from https://Example.org/Forum"),
            "Forms are accepted only from https://Example.org/Forum"
        );
        assert_eq!(sentence_case("éa"), "Éa");
        assert_eq!(sentence_case(""), "");
    }
}
