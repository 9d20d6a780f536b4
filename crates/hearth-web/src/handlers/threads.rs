use actix_web::{web, HttpResponse};
use hearth_core::boards::Board;
use hearth_core::error::Denied;
use std::collections::HashSet;

use hearth_core::ids::{MemberId, ThreadId};
use hearth_core::mutes;
use hearth_core::policy::{self, Action, Actor, Decision};
use hearth_core::posts::{self, PostView, ReplyForm, ThreadPage};
use hearth_core::threads::{self, Thread};
use serde::{Deserialize, Serialize};

use super::{invalid_or, post_url, see_other, thread_url, Page};
use crate::errors::WebError;
use crate::state::{db, State};
use crate::viewer::Viewer;

#[derive(Deserialize)]
pub struct ThreadQuery {
    page: Option<i32>,
}

/// The id at the front of `123-losing-milo`; the words after it are only for people.
fn parse_thread_ref(segment: &str) -> Result<ThreadId, WebError> {
    let digits = segment.split('-').next().unwrap_or_default();
    digits
        .parse::<i64>()
        .map(ThreadId)
        .map_err(|_| WebError::NotFound)
}

/// A post on a page, with what this reader may do to it.
#[derive(Serialize)]
struct PostItem<'a> {
    #[serde(flatten)]
    view: &'a PostView,
    can_edit: bool,
    can_delete: bool,
    /// The reader muted its author: the post is shown collapsed.
    muted: bool,
}

#[derive(Serialize, Deserialize, Default)]
pub struct ReplyInput {
    #[serde(default)]
    body: String,
    #[serde(default)]
    submission_key: String,
}

struct Loaded {
    board: Board,
    thread: Thread,
    page: ThreadPage,
    muted: HashSet<MemberId>,
}

async fn load(state: &State, actor: Actor, id: ThreadId, page: i32) -> Result<Loaded, WebError> {
    db(state, move |conn| {
        let (board, thread) = threads::by_id_for(conn, &actor, id)?;
        let page = posts::thread_page(conn, &thread, page)?;
        let muted = match actor.member() {
            Some(me) => mutes::muted_by(conn, me.id)?,
            None => HashSet::new(),
        };
        Ok(Loaded {
            board,
            thread,
            page,
            muted,
        })
    })
    .await
}

fn thread_page(state: &State, viewer: &Viewer, loaded: &Loaded, reply: &ReplyInput) -> Page {
    let actor = viewer.actor();
    let (board, thread) = (&loaded.board, &loaded.thread);
    let items: Vec<PostItem> = loaded
        .page
        .posts
        .iter()
        .map(|view| PostItem {
            view,
            can_edit: policy::allows(&actor, Action::EditPost(board, thread, &view.post)),
            can_delete: policy::allows(&actor, Action::DeletePost(board, thread, &view.post)),
            muted: loaded.muted.contains(&view.post.author_id),
        })
        .collect();
    // "allowed", "sign_in", or the reason replies are closed to this reader.
    let (reply_state, reply_reason) = match policy::decide(&actor, Action::Reply(board, thread)) {
        Decision::Allow => ("allowed", ""),
        Decision::Deny(Denied::SignInRequired) => ("sign_in", ""),
        Decision::Deny(reason) => ("closed", reason.explanation()),
        Decision::Hide => ("closed", ""),
    };
    let pages: Vec<i32> = (1..=loaded.page.n_pages).collect();
    Page::new(state, viewer, "thread.html")
        .with("board", board)
        .with("thread", thread)
        .with("thread_url", &thread_url(thread.id, &thread.slug))
        .with("posts", &items)
        .with("page", &loaded.page.page)
        .with("n_pages", &loaded.page.n_pages)
        .with("pages", &pages)
        .with("reply_state", reply_state)
        .with("reply_reason", reply_reason)
        .with("form", reply)
}

/// `GET /t/{id}-{slug}?page=N`: one page of a thread, with the reply form on it.
pub async fn show(
    state: State,
    viewer: Viewer,
    segment: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, WebError> {
    let id = parse_thread_ref(&segment)?;
    let requested = query.page.unwrap_or(1);
    let loaded = load(&state, viewer.actor(), id, requested).await?;
    let canonical = thread_url(loaded.thread.id, &loaded.thread.slug);
    if *segment != canonical.trim_start_matches("/t/") || loaded.page.page != requested.max(1) {
        let page = loaded.page.page;
        let location = if page == 1 {
            canonical
        } else {
            format!("{canonical}?page={page}")
        };
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header(("location", location))
            .finish());
    }
    let reply = ReplyInput {
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    thread_page(&state, &viewer, &loaded, &reply).render(&state)
}

/// `POST /t/{id}/reply`: adds the reply, then shows it in place.
pub async fn reply(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
    input: web::Form<ReplyInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let id = ThreadId(*id);
    let form = ReplyForm {
        body: input.body.clone(),
        submission_key: input.submission_key.clone(),
    };
    let outcome = db(&state, move |conn| {
        let posted = posts::reply(conn, &member, id, &form).map_err(WebError::from);
        let thread = posted
            .as_ref()
            .ok()
            .map(|_| threads::by_id_for(conn, &Actor::Member(member), id))
            .transpose()?;
        Ok((posted, thread))
    })
    .await?;
    match outcome {
        (Ok(post), Some((_, thread))) => Ok(see_other(&post_url(&thread, post.position))),
        (Ok(_), None) => Err(WebError::Internal),
        (Err(error), _) => {
            let invalid = invalid_or(error)?;
            let last_page = i32::MAX;
            let loaded = load(&state, viewer.actor(), id, last_page).await?;
            thread_page(&state, &viewer, &loaded, &input)
                .with_errors(&invalid)
                .render(&state)
        }
    }
}
