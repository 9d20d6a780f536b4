//! What is new for a member: `/unread`, "mark all read" for a group, and the read marker a
//! thread page moves.

use actix_web::{web, HttpResponse};
use hearth_core::forum::reads::{self, MarkRead, Unread, UnreadPage};
use hearth_core::forum::threads::BoardCursor;
use hearth_core::ids::ThreadId;
use hearth_core::model::Thread;
use serde::{Deserialize, Serialize};

use super::{local_path, on_group, post_url, see_other, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::templates;
use crate::viewer::Viewer;

/// What a listing shows of [`Unread`]: "3 new" (or "New" for a thread never opened), linking
/// to the first post the reader has not seen.
#[derive(Serialize)]
pub(crate) struct UnreadLink {
    opened: bool,
    n_new: i64,
    url: String,
}

impl UnreadLink {
    pub(crate) fn of(thread: &Thread, unread: &Unread) -> UnreadLink {
        UnreadLink {
            opened: unread.opened,
            n_new: unread.n_new,
            url: post_url(thread, unread.first_new_position),
        }
    }
}

/// After a thread page was loaded for a member: records how far they read when the page
/// moved their marker forward (`ThreadView::marks_read`), and writes nothing otherwise. The
/// marker alone waits in the server's `PendingReads`, written with the others within a
/// second; when notifications about what the page showed wait, it is written at once with
/// them, so the bell on the next page agrees. A marker that could not be written is not worth
/// failing the page they came to read.
pub(crate) async fn record_reading(
    state: &State,
    viewer: &Viewer,
    thread_id: ThreadId,
    marks_read: Option<MarkRead>,
) {
    let (Some(member), Some(mark)) = (viewer.member(), marks_read) else {
        return;
    };
    let member_id = member.id;
    let now = hearth_core::clock::now();
    if !mark.notified
        && state
            .pending_reads
            .add(member_id, thread_id, mark.up_to, now)
    {
        return;
    }
    let written = db(state, move |conn| {
        reads::record(conn, member_id, thread_id, mark.up_to, now)
    })
    .await;
    if written.is_err() {
        tracing::warn!("a read marker could not be written");
    }
}

/// Before a page that shows what is new to the member (a group's threads, `/unread`, their
/// home): writes their markers still waiting, so a thread they have just read is not new.
/// Nothing is written when none wait (nearly always).
pub(crate) async fn write_waiting_reads(state: &State, viewer: &Viewer) {
    let Some(member) = viewer.member() else {
        return;
    };
    let marks = state.pending_reads.take_for(member.id);
    if marks.is_empty() {
        return;
    }
    if db(state, move |conn| reads::record_pending(conn, &marks))
        .await
        .is_err()
    {
        tracing::warn!("read markers could not be written");
    }
}

#[derive(Deserialize)]
pub struct UnreadQuery {
    after: Option<String>,
}

/// A thread on `/unread` as the template shows it.
#[derive(Serialize)]
struct UnreadRow<'a> {
    thread_url: String,
    title: &'a str,
    board_slug: &'a str,
    board_name: &'a str,
    unread: UnreadLink,
    last: templates::Moment,
}

/// `GET /unread?after=`: the threads with posts new to the member across their groups, newest
/// activity first, with "mark all read" for each of their groups.
pub async fn show(
    state: State,
    viewer: Viewer,
    query: web::Query<UnreadQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let after = match query.after.as_deref() {
        Some(text) => Some(BoardCursor::decode(text).ok_or(WebError::NotFound)?),
        None => None,
    };
    write_waiting_reads(&state, &viewer).await;
    let page: UnreadPage =
        read(&state, move |conn| reads::unread_for(conn, &member, after)).await?;
    let zone = templates::zone(&viewer.time_zone(&state.config.default_time_zone));
    let now = hearth_core::clock::now();
    let rows: Vec<UnreadRow> = page
        .threads
        .iter()
        .map(|t| UnreadRow {
            thread_url: super::thread_url(t.thread.id, &t.thread.slug),
            title: &t.thread.title,
            board_slug: &t.board.slug,
            board_name: &t.board.name,
            unread: UnreadLink::of(&t.thread, &t.unread),
            last: templates::moment(t.thread.last_activity_at, now, zone),
        })
        .collect();
    let groups: Vec<(&str, &str)> = page
        .groups
        .iter()
        .map(|b| (b.slug.as_str(), b.name.as_str()))
        .collect();
    let mut shown = Page::new(&state, &viewer, "unread.html");
    if after.is_some() {
        shown = shown.later_page();
    }
    shown
        .with("threads", &rows)
        .with("groups", &groups)
        .with("is_first_page", &after.is_none())
        .with("next_cursor", &page.next.map(|c| c.encode()))
        .render(&state)
}

#[derive(Deserialize)]
pub struct MarkReadInput {
    /// Where the form was sent from (`/unread`, the home page, the group's page).
    next: Option<String>,
}

/// `POST /b/{slug}/read`: "mark all read" for one group, then back where the form was.
pub async fn mark_group_read(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<MarkReadInput>,
) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let back = local_path(input.next.as_deref())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/b/{slug}"));
    on_group(&state, &viewer, slug, |conn, member, board| {
        reads::mark_group_read(conn, member, board)
    })
    .await?;
    viewer.flash("Marked as read");
    Ok(see_other(&back))
}
