//! The review queue and the decisions moderators make on posts in it.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::ids::{MemberId, PostId, ReviewItemId};
use hearth_core::model::Board;
use hearth_core::moderation::review::{self, Decision, QueuePage, Seen};
use serde::{Deserialize, Serialize};

use crate::errors::WebError;
use crate::handlers::threads::pager;
use crate::handlers::{form_again, local_path, post_url, see_other, Page};
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// The preset reasons a moderator picks from when hiding a post (two taps on a phone).
const HIDE_REASONS: [&str; 5] = [
    "It goes against this group's ground rules",
    "It is unkind to another member",
    "It shares someone's personal details",
    "It is spam or advertising",
    "It is off-topic for this group",
];

/// Used by the thread page's and conversations' hide controls, which offer the same reasons.
pub fn hide_reasons() -> &'static [&'static str] {
    &HIDE_REASONS
}

/// The reason a hide form sends (`m::hide_reason`, for posts and messages alike): the reason
/// chosen from the list, with the moderator's detail after it. None is ever assumed: without
/// one it is empty, which the core refuses after it checked who asks.
pub fn hide_reason(chosen: &str, detail: &str) -> String {
    match (chosen.trim(), detail.trim()) {
        ("", _) => String::new(),
        (chosen, "") => chosen.to_owned(),
        (chosen, detail) => format!("{chosen}: {detail}"),
    }
}

/// The page that asks again for a reason to hide (`hide_post.html`), when a hide form came
/// without one: `what` ("post", "message") is hidden by `action`, then back to `back`.
pub fn hide_again_page(
    state: &State,
    viewer: &Viewer,
    what: &str,
    action: &str,
    form: &impl Serialize,
    back: &str,
) -> Page {
    Page::new(state, viewer, "hide_post.html")
        .with("what", what)
        .with("action", action)
        .with("form", form)
        .with("hide_reasons", &HIDE_REASONS)
        .with("back", back)
}

/// Only same-site paths are followed after an action.
fn back_to(next: Option<&str>, fallback: String) -> String {
    local_path(next).map_or(fallback, str::to_owned)
}

#[derive(Deserialize)]
pub struct QueueQuery {
    page: Option<String>,
}

impl QueueQuery {
    /// The page asked for, read leniently: a page past the end (however large) or not a number
    /// is clamped by the queue to one there is.
    fn page(&self) -> i64 {
        let Some(page) = self.page.as_deref().map(str::trim) else {
            return 1;
        };
        match page.parse::<i64>() {
            Ok(n) => n,
            Err(_) if !page.is_empty() && page.bytes().all(|b| b.is_ascii_digit()) => i64::MAX,
            Err(_) => 1,
        }
    }
}

/// One page of a queue: its posts, its counts, the pager, and the forms that come back to it.
fn queue_page(state: &State, viewer: &Viewer, board: Option<&Board>, queue: &QueuePage) -> Page {
    let queue_url = board.map_or("/review".to_owned(), |b| format!("/b/{}/review", b.slug));
    let here = if queue.page > 1 {
        format!("{queue_url}?page={}", queue.page)
    } else {
        queue_url.clone()
    };
    let page = i32::try_from(queue.page).unwrap_or(i32::MAX);
    let n_pages = i32::try_from(queue.n_pages).unwrap_or(i32::MAX);
    let mut built = Page::new(state, viewer, "review.html")
        .with("entries", &queue.entries)
        .with("conversations", &queue.conversations)
        .with("n_posts", &queue.n_posts)
        .with("n_items", &queue.n_items)
        .with("n_at_risk", &queue.n_at_risk)
        .with("n_conversation_check_ins", &queue.n_conversation_check_ins)
        .with("join_requests", &queue.join_requests)
        .with("page", &page)
        .with("n_pages", &n_pages)
        .with("pages", &pager(page, n_pages))
        .with("hide_reasons", &HIDE_REASONS)
        .with("queue_url", &queue_url)
        .with("here", &here);
    if let Some(board) = board {
        built = built.with("board", board);
    }
    built
}

/// `GET /review?page=N`: every board this member moderates, crisis check-ins first, then
/// reports that someone may be at risk, then the oldest.
pub async fn site_queue(
    state: State,
    viewer: Viewer,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let page = query.page();
    let queue = read(&state, move |conn| review::queue(conn, &member, None, page)).await?;
    queue_page(&state, &viewer, None, &queue).render(&state)
}

/// `GET /b/{slug}/review?page=N`: one board's queue.
pub async fn board_queue(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let page = query.page();
    let (board, queue) = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let queue = review::queue(conn, &member, Some(&board), page)?;
        Ok((board, queue))
    })
    .await?;
    queue_page(&state, &viewer, Some(&board), &queue).render(&state)
}

#[derive(Deserialize)]
pub struct DismissReportsInput {
    /// The newest of the member's reports the queue showed.
    up_to: ReviewItemId,
    /// The group whose queue it was; none for the site-wide `/review`.
    #[serde(default)]
    board: String,
    next: Option<String>,
}

/// `POST /review/reporters/{id}/dismiss`: dismisses every open report member `id` sent that
/// the queue showed (on the boards the moderator may moderate); the posts stay as they are.
pub async fn dismiss_reports_from(
    state: State,
    viewer: Viewer,
    reporter: web::Path<MemberId>,
    input: web::Form<DismissReportsInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let reporter = reporter.into_inner();
    let input = input.into_inner();
    let (up_to, slug) = (input.up_to, input.board.trim().to_owned());
    let board_slug = slug.clone();
    db(&state, move |conn| {
        let board = match board_slug.as_str() {
            "" => None,
            slug => Some(boards::by_slug_for(conn, &actor, slug)?),
        };
        review::dismiss_reports_from(conn, &member, reporter, board.as_ref(), up_to)
    })
    .await?;
    let fallback = if slug.is_empty() {
        "/review".to_owned()
    } else {
        format!("/b/{slug}/review")
    };
    viewer.flash("Reports dismissed");
    Ok(see_other(&back_to(input.next.as_deref(), fallback)))
}

#[derive(Deserialize, Serialize)]
pub struct DecisionInput {
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    note: String,
    /// The post's last edit as the page showed it: the decision applies to that text only.
    #[serde(default)]
    edited_at: String,
    next: Option<String>,
}

/// `POST /p/{id}/moderate`: approve, hide, restore, dismiss or mark a check-in handled.
pub async fn decide(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
    input: web::Form<DecisionInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    // Without a reason chosen the post is not hidden, and the form comes back with the detail
    // the moderator typed.
    let reason = hide_reason(&input.reason, &input.detail);
    let done = match input.decision.as_str() {
        "approve" => "Post approved",
        "hide" => "Post hidden",
        "restore" => "Post restored",
        "dismiss" => "Reports dismissed",
        _ => "Marked as handled",
    };
    let decision = match input.decision.as_str() {
        "approve" => Decision::Approve,
        "hide" => Decision::Hide { reason },
        "restore" => Decision::Restore,
        "dismiss" => Decision::Dismiss,
        "handled" => Decision::Handled {
            note: input.note.clone(),
        },
        _ => return Err(WebError::BadRequest("unknown decision".to_owned())),
    };
    let id = id.into_inner();
    let seen = Seen::from_form(&input.edited_at)?;
    let posting = state.config.posting.clone();
    let decided = db(&state, move |conn| {
        review::decide(conn, &posting, &member, id, seen, &decision)
    })
    .await;
    let (_, thread, post) = match decided {
        Ok(decided) => decided,
        Err(error) if input.decision == "hide" => {
            let back = local_path(input.next.as_deref()).unwrap_or("/review");
            let action = format!("/p/{id}/moderate");
            let page = hide_again_page(&state, &viewer, "post", &action, &input, back);
            return form_again(&state, error, async { Ok(page) }).await;
        }
        Err(error) => return Err(error),
    };
    viewer.flash(done);
    Ok(see_other(&back_to(
        input.next.as_deref(),
        post_url(&thread, post.position),
    )))
}
