//! Thin handlers: parse the request, call one core operation, render a page or redirect.

pub mod account;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod boards;
pub mod conversations;
pub mod email;
pub mod feeds;
pub mod groups;
pub mod help;
pub mod home;
pub mod leaving;
pub mod mail_settings;
pub mod meetings;
pub mod members;
pub mod metrics;
pub mod moderation;
pub mod notifications;
pub mod posts;
pub mod probes;
pub mod search;
pub mod setup;
pub mod threads;
pub mod unread;

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use hearth_core::db::DbConn;
use hearth_core::error::Invalid;
use hearth_core::model::Board;
use hearth_core::policy::MemberActor;
use tera::Context;

use crate::errors::WebError;
use crate::state::{db, AppState};
use crate::templates::{base_context, render};
use crate::viewer::Viewer;

/// A page about to be rendered: the template and its context.
pub struct Page {
    template: &'static str,
    context: Context,
    status: StatusCode,
}

impl Page {
    pub fn new(state: &AppState, viewer: &Viewer, template: &'static str) -> Page {
        let mut context = base_context(state, viewer);
        let robots = crate::robots::meta_for(state.config.search_engines, template, true);
        context.insert("robots", robots);
        Page {
            template,
            context,
            status: StatusCode::OK,
        }
    }

    /// A later page of a listing: never indexed (its first page is).
    pub fn later_page(mut self) -> Page {
        self.context.insert("robots", "noindex, nofollow");
        self
    }

    pub fn with(mut self, key: &str, value: &(impl serde::Serialize + ?Sized)) -> Page {
        self.context.insert(key, value);
        self
    }

    /// For pages whose forms a visitor may send (sign in, register, setup).
    pub fn with_csrf(mut self, viewer: &Viewer) -> Page {
        self.context.insert("csrf_token", viewer.csrf_token());
        self
    }

    /// Renders the form again with what to fix (422), the one way every form shows its errors
    /// (see [`form_again`]): `errors` maps a field to its message for the message under the
    /// field and its `aria-invalid`/`aria-describedby`; `error_list` is the summary at the top,
    /// in the order the fields come on the page (found by their `id` in a first rendering,
    /// since validators need not check fields in that order), each message in sentence case.
    fn render_with_errors(
        mut self,
        state: &AppState,
        invalid: &Invalid,
    ) -> Result<HttpResponse, WebError> {
        let mut list: Vec<FieldMessage> = Vec::new();
        for error in &invalid.0 {
            if !list.iter().any(|kept| kept.field == error.field) {
                list.push(FieldMessage {
                    field: error.field,
                    message: crate::errors::sentence_case(&error.message),
                });
            }
        }
        let errors: HashMap<&str, &str> =
            list.iter().map(|e| (e.field, e.message.as_str())).collect();
        self.context.insert("errors", &errors);
        self.context.insert("error_list", &list);
        self.status = StatusCode::UNPROCESSABLE_ENTITY;
        let html = render(state, self.template, &self.context)?;
        let ordered = in_page_order(&html, &list);
        if ordered
            .iter()
            .map(|e| e.field)
            .eq(list.iter().map(|e| e.field))
        {
            return Ok(html_response(self.status, html));
        }
        self.context.insert("error_list", &ordered);
        self.render(state)
    }

    pub fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    pub fn render(self, state: &AppState) -> Result<HttpResponse, WebError> {
        let html = render(state, self.template, &self.context)?;
        Ok(html_response(self.status, html))
    }
}

fn html_response(
    status: StatusCode,
    html: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// What a handler built for [`for_visitors`]: a page, or another answer (a redirect).
pub enum Built {
    Page(Page),
    Other(HttpResponse),
}

/// A page that every visitor sees alike (`path` names it; `None` for one not worth keeping):
/// for a visitor, served from [`crate::visitor_pages`] while nothing has been written since it
/// was rendered; otherwise `build` loads and renders it, and a visitor's copy is kept.
/// Members' pages are never kept.
pub async fn for_visitors<Fut>(
    state: &AppState,
    viewer: &Viewer,
    path: Option<&str>,
    build: impl FnOnce() -> Fut,
) -> Result<HttpResponse, WebError>
where
    Fut: std::future::Future<Output = Result<Built, WebError>>,
{
    // Visitors whose browser told us their zone see times in it: their pages are kept apart,
    // one copy per zone, so nobody is shown another reader's zone.
    let keyed =
        path.filter(|_| viewer.member().is_none())
            .map(|path| match viewer.visitor_zone() {
                Some(zone) => format!("{path}\n{zone}"),
                None => path.to_owned(),
            });
    let path = keyed.as_deref();
    if let Some(path) = path {
        let kept = state.visitor_pages.get(path);
        if state.metrics.is_some() && state.visitor_pages.enabled() {
            crate::telemetry::record_kept_page(kept.is_some());
        }
        if let Some(html) = kept {
            return Ok(html_response(StatusCode::OK, html));
        }
    }
    // Taken before anything is loaded: a write finishing meanwhile makes this copy stale.
    let generation = state.visitor_pages.generation();
    let page = match build().await? {
        Built::Page(page) => page,
        Built::Other(response) => return Ok(response),
    };
    let status = page.status;
    let html = actix_web::web::Bytes::from(render(state, page.template, &page.context)?);
    if let Some(path) = path.filter(|_| status == StatusCode::OK && !viewer.used_visitor_token()) {
        state.visitor_pages.keep(path, generation, html.clone());
    }
    Ok(html_response(status, html))
}

/// Post/Redirect/Get: every successful form ends here.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A member's action on the group at `slug` (joining, leaving, answering a request): requires a
/// member, finds the group by its public face ([`hearth_core::forum::boards::group_by_slug`];
/// `operation` asks the policy) and runs `operation` on the database threads.
pub async fn on_group<T, F>(
    state: &AppState,
    viewer: &Viewer,
    slug: String,
    operation: F,
) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &MemberActor, &Board) -> hearth_core::Result<T> + Send + 'static,
{
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    db(state, move |conn| {
        let board = hearth_core::forum::boards::group_by_slug(conn, &actor, &slug)?;
        operation(conn, &member, &board)
    })
    .await
}

/// The one way a form is shown again after it could not be saved: when only the member's
/// input needs fixing, the page `form` builds (holding what they sent) is answered with what
/// to fix (422); any other error is answered with its own error page, and `form` never runs.
pub async fn form_again(
    state: &AppState,
    error: WebError,
    form: impl std::future::Future<Output = Result<Page, WebError>>,
) -> Result<HttpResponse, WebError> {
    let WebError::Invalid(invalid) = error else {
        return Err(error);
    };
    form.await?.render_with_errors(state, &invalid)
}

/// The answer to a form's Preview button (`publish::preview`, run on the database threads):
/// `page`, the form holding what was typed, with the rendered text above it; or, when the text
/// cannot be previewed, as a refused post is answered: the form again with what to fix (too
/// long, too complex: 422), or the error page that hands the text back (too many previews: 429).
pub async fn preview_answer(
    state: &AppState,
    page: Page,
    body: &str,
    preview: Result<hearth_markdown::SafeHtml, WebError>,
) -> Result<HttpResponse, WebError> {
    match preview {
        Ok(html) => page.with("preview_html", html.as_str()).render(state),
        Err(error) => form_again(state, error.keeping_text(body), async { Ok(page) }).await,
    }
}

/// One line of a form's error summary.
#[derive(serde::Serialize, Clone)]
struct FieldMessage {
    field: &'static str,
    message: String,
}

/// `errors` sorted by where their field (`id="field"`) first comes in `html`; a message whose
/// field is not on the page goes last, keeping its place among those.
fn in_page_order(html: &str, errors: &[FieldMessage]) -> Vec<FieldMessage> {
    let mut placed: Vec<(usize, FieldMessage)> = errors
        .iter()
        .map(|error| {
            let at = html
                .find(&format!("id=\"{}\"", error.field))
                .unwrap_or(usize::MAX);
            (at, error.clone())
        })
        .collect();
    placed.sort_by_key(|(at, _)| *at);
    placed.into_iter().map(|(_, error)| error).collect()
}

/// A path on this site to send someone back to after a form, or `None`: only `/…` paths, never
/// `//host` or `/\host`, and no control or space characters (browsers drop a tab from
/// `/\t/evil.example` and follow `//evil.example`).
pub fn local_path(next: Option<&str>) -> Option<&str> {
    let path = next?;
    let mut chars = path.chars();
    let starts_well = chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'));
    let clean = !path
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    (starts_well && clean).then_some(path)
}

/// One option of a select or radio group: what the form sends, and what the reader sees.
#[derive(serde::Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// The levels of the level control on thread and group pages and the defaults on
/// `/settings`, most attentive first.
pub fn level_choices() -> Vec<Choice> {
    hearth_core::notifications::Level::ALL
        .iter()
        .rev()
        .map(|level| Choice {
            value: level.as_str(),
            label: level.label(),
        })
        .collect()
}

/// The ways a group can meet, for forms and the directory's filter.
pub fn format_choices() -> Vec<Choice> {
    hearth_core::model::MeetingFormat::ALL
        .iter()
        .map(|f| Choice {
            value: f.as_str(),
            label: f.label(),
        })
        .collect()
}

/// The crisis resources, with the way back to the post that led there.
pub fn help_url(post: hearth_core::ids::PostId) -> String {
    format!("/help?post={post}")
}

/// The canonical address of a thread (page 1).
pub fn thread_url(id: hearth_core::ids::ThreadId, slug: &str) -> String {
    format!("/t/{id}-{slug}")
}

/// Where a post is: its thread's page that holds it, at its anchor.
pub fn post_url(thread: &hearth_core::model::Thread, position: i32) -> String {
    let page = hearth_core::forum::posts::page_of_position(position);
    let base = thread_url(thread.id, &thread.slug);
    if page == 1 {
        format!("{base}#post-{position}")
    } else {
        format!("{base}?page={page}#post-{position}")
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for ok in ["/", "/b/pets", "/t/1-x?page=2#post-3"] {
            assert_eq!(local_path(Some(ok)), Some(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "https://evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(local_path(None), None);
    }
}
