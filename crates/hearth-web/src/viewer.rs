//! Who is reading: resolves the session cookie once per request, checks the CSRF token of
//! every state-changing request, and sets the cookies and caching rules that follow.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use hearth_core::ids::SessionId;
use hearth_core::model::Member;
use hearth_core::policy::{Actor, MemberActor};
use hearth_core::{accounts::sessions, accounts::tokens, moderation::review, notifications};
use serde::Serialize;

use crate::errors::WebError;
use crate::state::{db, read, State};

/// The session cookie's name on a plain-http site (local trials, tests).
pub const SESSION_COOKIE: &str = "hearth_session";
/// Holds the CSRF token of visitors who have not signed in (double-submit cookie).
pub const VISITOR_CSRF_COOKIE: &str = "hearth_csrf";

/// Proves that this browser signed in to an account before (`throttle::device_subject`), so
/// guesses at that account from elsewhere do not lock it out here.
pub const DEVICE_COOKIE: &str = "hearth_device";

/// Carries a set of recovery codes just made from the form that made them to the one page
/// that shows them (`/recovery-codes`, which deletes it): so the codes are on a page of their
/// own after a redirect, never in a URL, and the server keeps only their hashes. It lives ten
/// minutes at most.
pub const NEW_CODES_COOKIE: &str = "hearth_new_codes";

/// A visitor's time zone, as their browser knows it: set by `static/zone.js` (not `HttpOnly`,
/// since the script writes it; `SameSite=Lax`). Only a zone chrono-tz knows is used: anything
/// else is ignored, so the value printed on pages is always one of the server's own names.
/// Members' pages use the zone in their settings instead.
pub const ZONE_COOKIE: &str = "hearth_zone";

/// The names Hearth's cookies have on this site. On https they carry the `__Host-` prefix,
/// which browsers accept only from a secure page, with `Secure`, `Path=/` and no `Domain`: a
/// neighbouring subdomain or a plain-http page cannot plant or overwrite them. The unprefixed
/// names are then ignored.
pub fn cookie_name(name: &'static str, secure: bool) -> &'static str {
    match (name, secure) {
        (SESSION_COOKIE, true) => "__Host-hearth_session",
        (VISITOR_CSRF_COOKIE, true) => "__Host-hearth_csrf",
        (DEVICE_COOKIE, true) => "__Host-hearth_device",
        (NEW_CODES_COOKIE, true) => "__Host-hearth_new_codes",
        (name, _) => name,
    }
}
/// The form field every state-changing form carries.
pub const CSRF_FIELD: &str = "csrf_token";
/// Forms larger than this are refused (a post is at most 50,000 characters).
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The reader of this request: a signed-in member with their session, or a visitor.
#[derive(Clone)]
pub struct Viewer(Rc<ViewerInner>);

struct ViewerInner {
    actor: Actor,
    /// Posts awaiting a decision on the boards this member moderates (0 for everyone else).
    review_count: i64,
    /// The bell: what this member has not read (notifications, counted).
    unread_notifications: i64,
    session_id: Option<SessionId>,
    csrf_token: String,
    /// A visitor's zone from [`ZONE_COOKIE`], if it names a known zone.
    visitor_zone: Option<String>,
    /// A visitor's token was minted for this request and must be sent as a cookie.
    new_visitor_token: bool,
    visitor_token_used: Cell<bool>,
    /// The confirmation the session held when this request began, for the page it renders.
    flash: Option<String>,
    /// A page was rendered with [`Viewer::flash_for_page`]: the session layer clears it.
    flash_shown: Cell<bool>,
    /// A confirmation this request's action left ([`Viewer::flash`]), written by the session
    /// layer when the handler answers with a redirect.
    new_flash: RefCell<Option<String>>,
}

/// The little about the reader that templates show.
#[derive(Serialize)]
pub struct ViewerSummary<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub is_admin: bool,
    pub is_staff: bool,
    /// Facilitates a board or moderates the site: the review link shows.
    pub moderates: bool,
    pub review_count: i64,
    pub unread_notifications: i64,
}

impl Viewer {
    /// A visitor with the token their cookie carried, or a new one signed with `key`.
    fn visitor(existing_token: Option<String>, key: &[u8], zone: Option<String>) -> Viewer {
        let new_visitor_token = existing_token.is_none();
        Viewer(Rc::new(ViewerInner {
            visitor_zone: zone,
            actor: Actor::Visitor,
            review_count: 0,
            unread_notifications: 0,
            session_id: None,
            csrf_token: existing_token.unwrap_or_else(|| tokens::signed_token(key)),
            new_visitor_token,
            visitor_token_used: Cell::new(false),
            flash: None,
            flash_shown: Cell::new(false),
            new_flash: RefCell::new(None),
        }))
    }

    fn signed_in(signed_in: SignedIn) -> Viewer {
        let SignedIn {
            session,
            review_count,
            unread_notifications,
        } = signed_in;
        Viewer(Rc::new(ViewerInner {
            actor: Actor::Member(Box::new(session.member)),
            review_count,
            unread_notifications,
            session_id: Some(session.id),
            visitor_zone: None,
            csrf_token: session.csrf_token,
            new_visitor_token: false,
            visitor_token_used: Cell::new(false),
            flash: session.flash,
            flash_shown: Cell::new(false),
            new_flash: RefCell::new(None),
        }))
    }

    /// The viewer the session layer stored for this request (a visitor if none was stored:
    /// their token, unsigned, matches no form).
    pub fn from_request_extensions(request: &HttpRequest) -> Viewer {
        request
            .extensions()
            .get::<Viewer>()
            .cloned()
            .unwrap_or_else(|| Viewer::visitor(None, &[], None))
    }

    /// An owned copy of the actor, for moving into a database operation.
    pub fn actor(&self) -> Actor {
        self.0.actor.clone()
    }

    pub fn member(&self) -> Option<&Member> {
        self.0.actor.member()
    }

    /// The signed-in member, or the "please sign in" error.
    pub fn require_member(&self) -> Result<MemberActor, WebError> {
        self.0
            .actor
            .member_actor()
            .cloned()
            .ok_or(WebError::Denied(hearth_core::error::Denied::SignInRequired))
    }

    pub fn session_id(&self) -> Option<SessionId> {
        self.0.session_id
    }

    /// The token to put in forms. For visitors this also asks for the cookie to be sent.
    pub fn csrf_token(&self) -> &str {
        if self.0.session_id.is_none() {
            self.0.visitor_token_used.set(true);
        }
        &self.0.csrf_token
    }

    /// A visitor whose page carried a form token: that page is theirs alone.
    pub fn used_visitor_token(&self) -> bool {
        self.0.visitor_token_used.get()
    }

    /// Leaves a short confirmation of the action this request took ("Your reply is posted"),
    /// shown once on the next page this member opens, however many redirects lead there. Kept
    /// in the session row, written by the session layer only when the handler answers with a
    /// redirect (an action that failed confirms nothing). Visitors have no session row and
    /// get none: their few actions (signing in, registering) land on a page that says so.
    pub fn flash(&self, message: impl Into<String>) {
        if self.0.session_id.is_some() {
            *self.0.new_flash.borrow_mut() = Some(message.into());
        }
    }

    /// The confirmation waiting for this page, if any; once a page takes it, the session layer
    /// clears it from the session.
    pub fn flash_for_page(&self) -> Option<&str> {
        let flash = self.0.flash.as_deref();
        if flash.is_some() {
            self.0.flash_shown.set(true);
        }
        flash
    }

    /// The zone times are shown in: a member's own, a visitor's browser's (the zone cookie),
    /// else the site's default.
    pub fn time_zone(&self, default_zone: &str) -> String {
        match self.member() {
            Some(m) => m.time_zone.clone(),
            None => self
                .0
                .visitor_zone
                .clone()
                .unwrap_or_else(|| default_zone.to_owned()),
        }
    }

    /// A visitor's zone from their cookie, if they sent a known one: the pages kept for
    /// visitors are kept apart per zone.
    pub fn visitor_zone(&self) -> Option<&str> {
        self.0.visitor_zone.as_deref()
    }

    pub fn summary(&self) -> Option<ViewerSummary<'_>> {
        self.0.actor.member_actor().map(|m| ViewerSummary {
            username: &m.username,
            display_name: &m.display_name,
            is_admin: m.is_admin(),
            is_staff: m.is_staff(),
            moderates: m.moderates_any(),
            review_count: self.0.review_count,
            unread_notifications: self.0.unread_notifications,
        })
    }
}

impl FromRequest for Viewer {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Viewer, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Viewer::from_request_extensions(request)))
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `POST /unsubscribe/{token}`: a mail client's one-click unsubscribe (RFC 8058) comes without
/// our cookies or form token; the signed token in the address authenticates it instead, and it
/// can only switch that member's notification mail off. Exactly this route, nothing else.
fn is_one_click_unsubscribe(method: &Method, path: &str) -> bool {
    let Some(token) = path.strip_prefix("/unsubscribe/") else {
        return false;
    };
    *method == Method::POST
        && !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A resumed session with the counts its header shows.
struct SignedIn {
    session: sessions::Session,
    review_count: i64,
    unread_notifications: i64,
}

/// The session layer, wrapped around every route but the probes (`/healthz`, `/readyz`) and a
/// served `/metrics`, which read no cookie and set none.
pub async fn session_layer(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    if crate::handlers::probes::PROBE_PATHS.contains(&request.path())
        || crate::handlers::metrics::bypasses_session(&request)
    {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let state = request
        .app_data::<State>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("no state"))?;
    let (viewer, stale_cookie) = resolve_viewer(&state, request.request()).await;
    request.extensions_mut().insert(viewer.clone());
    if !is_safe_method(request.method())
        && !is_one_click_unsubscribe(request.method(), request.path())
    {
        if let Err(error) = check_csrf(&state, &mut request, &viewer).await {
            return Ok(request.error_response(error).map_into_right_body());
        }
    }
    let mut response = next.call(request).await?;
    keep_flash(&state, &viewer, response.status()).await;
    finish_response(&state, &viewer, stale_cookie, &mut response);
    Ok(response.map_into_left_body())
}

async fn resolve_viewer(state: &State, request: &HttpRequest) -> (Viewer, bool) {
    let secure = state.config.secure_cookies();
    let key = &state.visitor_csrf_key;
    // Only a token this site signed: a made-up one (planted in the browser) is ignored.
    let visitor_token = request
        .cookie(cookie_name(VISITOR_CSRF_COOKIE, secure))
        .map(|c| c.value().to_owned())
        .filter(|t| tokens::is_signed_token(key, t));
    let zone = request
        .cookie(ZONE_COOKIE)
        .and_then(|c| known_zone(c.value()));
    let Some(token) = request
        .cookie(cookie_name(SESSION_COOKIE, secure))
        .map(|c| c.value().to_owned())
    else {
        return (Viewer::visitor(visitor_token, key, zone), false);
    };
    if !plausible_token(&token) {
        return (Viewer::visitor(visitor_token, key, zone), true);
    }
    let resumed = read(state, move |conn| {
        let session = sessions::resume(conn, &token)?;
        let review_count = review::open_count(conn, &session.member)?;
        let unread_notifications = notifications::unread_count(conn, session.member.id)?;
        Ok(SignedIn {
            session,
            review_count,
            unread_notifications,
        })
    });
    match resumed.await {
        Ok(signed_in) => {
            mark_seen(state, &signed_in.session).await;
            (Viewer::signed_in(signed_in), false)
        }
        Err(_) => (Viewer::visitor(visitor_token, key, zone), true),
    }
}

/// Writes the confirmation a handler left for the next page (when it answered with a redirect),
/// or clears the one this page showed. A failure is logged and does not fail the request: a
/// confirmation is a courtesy.
async fn keep_flash(state: &State, viewer: &Viewer, status: actix_web::http::StatusCode) {
    let Some(id) = viewer.session_id() else {
        return;
    };
    let new_flash = viewer.0.new_flash.borrow_mut().take();
    let written = match (new_flash, status.is_redirection()) {
        (Some(message), true) => {
            db(state, move |conn| sessions::set_flash(conn, id, &message)).await
        }
        _ => match viewer.0.flash.clone() {
            Some(shown) if viewer.0.flash_shown.get() && !status.is_redirection() => {
                db(state, move |conn| sessions::clear_flash(conn, id, &shown)).await
            }
            _ => Ok(()),
        },
    };
    if let Err(error) = written {
        tracing::warn!(%error, "a confirmation could not be kept or cleared");
    }
}

/// The zone a cookie names, if chrono-tz knows it (by its own spelling of the name).
pub fn known_zone(value: &str) -> Option<String> {
    if value.len() > 64 {
        return None;
    }
    value
        .replace("%2F", "/")
        .parse::<chrono_tz::Tz>()
        .ok()
        .map(|zone| zone.name().to_owned())
}

/// Marks the session as used for the list on `/settings`, at most once per
/// `session_last_seen_minutes`: the other requests of a session only compare a time they
/// already read. A failure is logged and does not fail the request.
async fn mark_seen(state: &State, session: &sessions::Session) {
    let every = chrono::TimeDelta::minutes(i64::from(state.config.session_last_seen_minutes));
    let now = hearth_core::clock::now();
    if !sessions::needs_touch(session, now, every) {
        return;
    }
    let id = session.id;
    if let Err(error) = db(state, move |conn| sessions::touch(conn, id, now, every)).await {
        tracing::warn!(%error, "a session's last use could not be recorded");
    }
}

/// Refuses cross-site requests outright, then compares the form's token with the session's.
async fn check_csrf(
    state: &State,
    request: &mut ServiceRequest,
    viewer: &Viewer,
) -> Result<(), WebError> {
    let fetch_site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if fetch_site == "cross-site" {
        return Err(WebError::Csrf { kept_text: None });
    }
    let same_origin = fetch_site == "same-origin";
    let body = request
        .extract::<web::Bytes>()
        .await
        .map_err(|_| WebError::BadRequest("the form could not be read".to_owned()))?;
    if body.len() > MAX_FORM_BYTES {
        return Err(WebError::BadRequest("the form is too large".to_owned()));
    }
    // The browser vouches that the form came from a page of the origin it was sent to, which
    // served this form: what the member wrote may be handed back.
    let kept_text = || {
        if same_origin {
            form_field(&body, "body").filter(|t| !t.trim().is_empty())
        } else {
            None
        }
    };
    if !origin_matches(state, request) {
        // Our own page, opened at another address than `public_url` (`localhost` for
        // `127.0.0.1`): refused, but nothing typed is lost.
        return Err(WebError::ForeignOrigin {
            site: state.config.public_url.clone(),
            kept_text: kept_text(),
        });
    }
    let sent = form_field(&body, CSRF_FIELD);
    // A visitor without our cookie cannot have a matching form, whatever it sent.
    let has_token = viewer.session_id().is_some() || !viewer.0.new_visitor_token;
    let matches =
        sent.is_some_and(|sent| has_token && tokens::constant_time_eq(&sent, &viewer.0.csrf_token));
    if matches {
        request.set_payload(Payload::from(body));
        return Ok(());
    }
    Err(WebError::Csrf {
        kept_text: kept_text(),
    })
}

/// A browser's `Origin`, when it names one, must be this site's: the origin of the configured
/// public address (see [`same_origin`]). Neither the `Host` header nor forwarded headers count
/// (a client writes them), so behind a proxy `public_url` must be the address members use.
fn origin_matches(state: &State, request: &ServiceRequest) -> bool {
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even for our own
    // forms. It proves nothing either way, so the token alone decides (cross-site requests
    // were already refused by `Sec-Fetch-Site`).
    if origin == "null" || same_origin(origin, &state.config.public_url) {
        return true;
    }
    // Said once per refusal, without anything a member wrote: the usual cause is a
    // `public_url` that is not the address in the browser.
    tracing::info!(
        origin,
        public_url = %state.config.public_url,
        "a form from another origin was refused (is public_url the address members use?)"
    );
    false
}

/// Whether two URLs have the same origin: scheme and host compared without case, and a
/// default port (`:443` for https, `:80` for http) the same as none, as browsers write it.
fn same_origin(a: &str, b: &str) -> bool {
    fn origin(url: &str) -> Option<(String, String)> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => ":443",
            "http" => ":80",
            _ => "",
        };
        let host = match authority.strip_suffix(default_port) {
            Some(host) if !default_port.is_empty() => host.to_owned(),
            _ => authority,
        };
        (!host.is_empty()).then_some((scheme, host))
    }
    matches!((origin(a), origin(b)), (Some(a), Some(b)) if a == b)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn finish_response<B>(
    state: &State,
    viewer: &Viewer,
    stale_cookie: bool,
    response: &mut ServiceResponse<B>,
) {
    let secure = state.config.secure_cookies();
    if stale_cookie
        && response
            .response()
            .cookies()
            .all(|c| c.name() != cookie_name(SESSION_COOKIE, secure))
    {
        let _ = response
            .response_mut()
            .add_removal_cookie(&session_cookie(String::new(), secure));
    }
    let sends_visitor_token = viewer.0.new_visitor_token && viewer.0.visitor_token_used.get();
    if sends_visitor_token {
        let cookie = Cookie::build(
            cookie_name(VISITOR_CSRF_COOKIE, secure),
            viewer.0.csrf_token.clone(),
        )
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
        let _ = response.response_mut().add_cookie(&cookie);
    }
    // A page depends on the cookies it came with (the session; a visitor's zone, in which its
    // times are written), so a shared cache must not hand one reader's copy to another: it
    // varies by them. Responses that say themselves how they may be kept (static files, feeds,
    // calendars, robots.txt) depend on no cookie and stay shareable.
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .append(header::VARY, header::HeaderValue::from_static("Cookie"));
    }
    if viewer.session_id().is_some() || viewer.0.visitor_token_used.get() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
}

/// The session cookie: `HttpOnly`, `SameSite=Lax`, and `Secure` and `__Host-` when the site
/// is on https.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(cookie_name(SESSION_COOKIE, secure), token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_the_one_click_unsubscribe_post_skips_the_form_token() {
        use super::{is_one_click_unsubscribe, Method};
        assert!(is_one_click_unsubscribe(
            &Method::POST,
            "/unsubscribe/7.abc_-.XYZ"
        ));
        for (method, path) in [
            (Method::POST, "/unsubscribe/"),
            (Method::POST, "/unsubscribe/7.abc/x"),
            (Method::POST, "/unsubscribe/../settings/mail"),
            (Method::POST, "/settings/mail"),
            (Method::POST, "/unsubscribex/7.abc"),
            (Method::PUT, "/unsubscribe/7.abc"),
            (Method::DELETE, "/unsubscribe/7.abc"),
        ] {
            assert!(!is_one_click_unsubscribe(&method, path), "{method} {path}");
        }
    }

    #[test]
    fn origins_compare_as_browsers_write_them() {
        let site = "https://Forum.Example.org:443/";
        assert!(same_origin("https://forum.example.org", site));
        assert!(same_origin(
            "HTTPS://forum.example.org",
            "https://forum.example.org/path"
        ));
        assert!(same_origin(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080"
        ));
        assert!(same_origin("http://example.org", "http://example.org:80"));
        assert!(
            !same_origin("http://forum.example.org", site),
            "another scheme"
        );
        assert!(
            !same_origin("https://forum.example.org:8443", site),
            "another port"
        );
        assert!(!same_origin("https://evil.example", site));
        assert!(!same_origin("https://forum.example.org.evil.example", site));
        assert!(
            !same_origin("forum.example.org", "forum.example.org"),
            "no scheme"
        );
        assert!(!same_origin("https://", "https://"), "no host");
    }
}
