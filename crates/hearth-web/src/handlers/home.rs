use actix_web::HttpResponse;
use hearth_core::forum::{boards, reads};
use hearth_core::groups::{self, DirectoryQuery};
use serde::Serialize;

use super::unread::UnreadLink;
use super::{for_visitors, Built, Page};
use crate::errors::WebError;
use crate::state::{read, State};
use crate::viewer::Viewer;

/// A thread the member watches, on their home page.
#[derive(Serialize)]
struct WatchedRow<'a> {
    url: String,
    title: &'a str,
    board_name: &'a str,
    unread: Option<UnreadLink>,
}

/// One of the member's groups on their home page.
#[derive(Serialize)]
struct GroupRow<'a> {
    slug: &'a str,
    name: &'a str,
    n_unread_threads: i64,
    more: bool,
}

/// `GET /`: for a visitor, the welcome and the groups they may see with their thread counts
/// and latest activity. For a member, their home first: their groups with what is new in
/// each, and their groups' next meetings; then the groups they may see.
pub async fn show(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    for_visitors(&state, &viewer, Some("/"), || async {
        super::unread::write_waiting_reads(&state, &viewer).await;
        let actor = viewer.actor();
        let member = viewer.require_member().ok();
        let (boards, home, cards) = read(&state, move |conn| {
            let home = match &member {
                Some(member) => Some(reads::home_for(conn, member)?),
                None => None,
            };
            // A visitor's home shows the directory's first groups, as the directory's cards.
            let cards = match &member {
                Some(_) => None,
                None => Some(groups::directory(conn, &actor, &DirectoryQuery::default())?),
            };
            Ok((boards::list_for(conn, &actor)?, home, cards))
        })
        .await?;
        let page = Page::new(&state, &viewer, "home.html")
            .with("boards", &boards)
            .with("is_first_run", &boards.is_empty());
        let Some(home) = home else {
            let (cards, more) = cards.map_or((Vec::new(), false), |c| (c.groups, c.has_more));
            return Ok(Built::Page(
                page.with("cards", &cards).with("more_groups", &more),
            ));
        };
        let groups: Vec<GroupRow> = home
            .groups
            .iter()
            .map(|g| GroupRow {
                slug: &g.board.slug,
                name: &g.board.name,
                n_unread_threads: g.n_unread_threads,
                more: g.more,
            })
            .collect();
        let meetings: Vec<_> = home
            .next_meetings
            .iter()
            .map(|(board, next)| (board.slug.as_str(), board.name.as_str(), next))
            .collect();
        let watched: Vec<WatchedRow> = home
            .watched
            .iter()
            .map(|w| WatchedRow {
                url: super::thread_url(w.thread.id, &w.thread.slug),
                title: &w.thread.title,
                board_name: &w.board.name,
                unread: w.unread.as_ref().map(|u| UnreadLink::of(&w.thread, u)),
            })
            .collect();
        Ok(Built::Page(
            page.with("home", &true)
                .with("groups", &groups)
                .with("replies", &home.replies)
                .with("watched", &watched)
                .with("next_meetings", &meetings),
        ))
    })
    .await
}
