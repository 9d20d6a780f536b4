use actix_web::{web, HttpResponse};
use hearth_core::forum::threads::{self, BoardCursor, NewThreadForm, ThreadListing};
use hearth_core::ids::ThreadId;
use hearth_core::model::AuthorRef;
use hearth_core::notifications::{levels, Level};
use hearth_core::{forum::boards, forum::posts, forum::publish, groups};
use serde::{Deserialize, Serialize};

use super::unread::UnreadLink;
use super::{
    for_visitors, form_again, help_url, preview_answer, see_other, thread_url, Built, Page,
};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::templates;
use crate::viewer::Viewer;

#[derive(Deserialize)]
pub struct BoardQuery {
    after: Option<String>,
}

/// `GET /b/{slug}`: a board's threads, pinned first, newest activity next; `?after=` pages on.
pub async fn show(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let after = match query.after.as_deref() {
        Some(text) => Some(BoardCursor::decode(text).ok_or(WebError::NotFound)?),
        None => None,
    };
    // First pages only: any cursor is a valid address, and older pages are read far less.
    let path = after.is_none().then(|| format!("/b/{slug}"));
    for_visitors(&state, &viewer, path.as_deref(), || {
        board_page(&state, &viewer, slug, after)
    })
    .await
}

async fn board_page(
    state: &State,
    viewer: &Viewer,
    slug: String,
    after: Option<BoardCursor>,
) -> Result<Built, WebError> {
    super::unread::write_waiting_reads(state, viewer).await;
    let actor = viewer.actor();
    let view = read(state, move |conn| {
        boards::page_for(conn, &actor, &slug, after)
    })
    .await?;
    let board = &view.board;
    // The public face, which the board page shows above its threads.
    let face = |template| {
        Page::new(state, viewer, template)
            .with("board", board)
            .with("category", &view.category)
            .with("format_label", board.meeting_format.label())
            .with("standing", &view.standing)
            .with("can_join", &view.can_join)
            .with("members_label", &view.members_label)
    };
    let Some(inside) = &view.inside else {
        return Ok(Built::Page(face("group_front.html")));
    };
    let zone = templates::zone(&viewer.time_zone(&state.config.default_time_zone));
    let page = match after {
        Some(_) => face("board.html").later_page(),
        None => face("board.html"),
    };
    Ok(Built::Page(
        page.with("threads", &thread_rows(&inside.threads.threads, zone))
            .with("next_cursor", &inside.threads.next.map(|c| c.encode()))
            .with("is_first_page", &after.is_none())
            .with("can_start_thread", &inside.can_start_thread)
            .with("can_moderate", &inside.can_moderate)
            .with("can_mark_read", &inside.can_mark_read)
            .with("next_meeting", &inside.next_meeting)
            .with("level", &inside.level.map(|level| level.as_str()))
            .with("level_choices", &super::level_choices()),
    ))
}

/// The level control's form.
#[derive(Deserialize)]
pub struct LevelInput {
    #[serde(default)]
    level: String,
}

/// `POST /b/{slug}/level`: how closely the member follows the group; back to its page.
pub async fn set_level(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<LevelInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let slug = slug.into_inner();
    let level = Level::from_form(&input.level)?;
    let slug = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        levels::set_for_board(conn, &member, &board, level)?;
        Ok(board.slug)
    })
    .await?;
    viewer.flash("Notifications for this group saved");
    Ok(see_other(&format!("/b/{slug}#level")))
}

/// A thread on a board page as the template shows it: flat, its time already formatted (see
/// `threads::PostItem` for why).
#[derive(Serialize)]
struct ThreadRow<'a> {
    id: ThreadId,
    slug: &'a str,
    title: &'a str,
    /// One line of the opening post, plain text (the template escapes it).
    excerpt: &'a str,
    /// The reader muted its author: the row says so instead of an excerpt.
    author_muted: bool,
    pinned: bool,
    locked: bool,
    reply_count: i64,
    author: Option<&'a AuthorRef>,
    last_poster: Option<&'a AuthorRef>,
    /// The last poster's avatar and site-role badge (a facilitator's badge needs the group's
    /// facilitators, which the listing does not load).
    last_poster_avatar: Option<crate::people::Avatar>,
    last_poster_badges: Vec<crate::people::BadgeView>,
    last_iso: String,
    last_text: String,
    last_title: String,
    /// What is new in it for a member ("3 new"); `None` for visitors and when nothing is.
    unread: Option<UnreadLink>,
}

fn thread_rows<'a>(listings: &'a [ThreadListing], zone: chrono_tz::Tz) -> Vec<ThreadRow<'a>> {
    let now = hearth_core::clock::now();
    listings
        .iter()
        .map(|l| {
            let last = templates::moment(l.thread.last_activity_at, now, zone);
            ThreadRow {
                id: l.thread.id,
                slug: &l.thread.slug,
                title: &l.thread.title,
                excerpt: &l.excerpt,
                author_muted: l.author_muted,
                pinned: l.thread.pinned,
                locked: l.thread.locked,
                reply_count: l.thread.reply_count,
                author: l.author.as_ref(),
                last_poster: l.last_poster.as_ref(),
                last_poster_avatar: l
                    .last_poster
                    .as_ref()
                    .map(|p| crate::people::Avatar::of(p.id, &p.display_name)),
                last_poster_badges: l
                    .last_poster
                    .as_ref()
                    .map_or_else(Vec::new, |p| crate::people::badges_of(p, false, None)),
                last_iso: last.iso,
                last_text: last.text,
                last_title: last.title,
                unread: l.unread.as_ref().map(|u| UnreadLink::of(&l.thread, u)),
            }
        })
        .collect()
}

#[derive(Deserialize, Serialize, Default)]
pub struct NewThreadInput {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    submission_key: String,
    /// The ground rules version ticked as accepted.
    #[serde(default)]
    accept_rules: Option<i32>,
    /// Sent by the Preview button: show the post above the form, post nothing.
    #[serde(default, skip_serializing)]
    preview: Option<String>,
}

/// `GET /b/{slug}/new`: the new-thread form.
pub async fn new_thread_form(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (board, must_accept) = read(&state, move |conn| {
        threads::for_new_thread(conn, &member, &slug)
    })
    .await?;
    let input = NewThreadInput {
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    Page::new(&state, &viewer, "new_thread.html")
        .with("board", &board)
        .with("form", &input)
        .with("must_accept_rules", &must_accept)
        .render(&state)
}

/// `POST /b/{slug}/new`: starts the thread, then shows it.
pub async fn create_thread(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<NewThreadInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let input = input.into_inner();
    if input.preview.is_some() {
        // The form's own loader decides who may see it; then the preview is counted and
        // rendered, on the database threads.
        let body = input.body.clone();
        let rules = state.config.posting.clone();
        let (board, must_accept, preview) = db(&state, move |conn| {
            let (board, must_accept) = threads::for_new_thread(conn, &member, &slug)?;
            let preview = publish::preview(conn, &rules, &member, &body).map_err(WebError::from);
            Ok((board, must_accept, preview))
        })
        .await?;
        let page = Page::new(&state, &viewer, "new_thread.html")
            .with("board", &board)
            .with("form", &input)
            .with("must_accept_rules", &must_accept);
        return preview_answer(&state, page, &input.body, preview).await;
    }
    let form = NewThreadForm {
        title: input.title.clone(),
        body: input.body.clone(),
        submission_key: input.submission_key.clone(),
        accept_rules_version: input.accept_rules,
    };
    let rules = state.config.posting.clone();
    let outcome = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let started = threads::start(conn, &rules, &member, &board, &form);
        let must_accept = started.is_err() && groups::must_accept_rules(conn, &member, &board)?;
        Ok((board, started.map_err(WebError::from), must_accept))
    })
    .await?;
    let (board, started, must_accept) = outcome;
    match started {
        Ok(posted) if posted.check_in => Ok(see_other(&help_url(posted.post.id))),
        Ok(posted) => {
            viewer.flash("Your thread is posted");
            Ok(see_other(&thread_url(
                posted.thread.id,
                &posted.thread.slug,
            )))
        }
        Err(error) => {
            form_again(&state, error.keeping_text(&input.body), async {
                Ok(Page::new(&state, &viewer, "new_thread.html")
                    .with("board", &board)
                    .with("form", &input)
                    .with("must_accept_rules", &must_accept))
            })
            .await
        }
    }
}
