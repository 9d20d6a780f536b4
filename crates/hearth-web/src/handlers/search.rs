//! `/search`: the search form and its hits. Core counts the search against the searcher's limit
//! (`search::admit`, a short write) and decides what the reader finds (`search::find`, a read).

use actix_web::{web, HttpRequest, HttpResponse};
use hearth_core::search::{self, SearchPage, SearchQuery, Searcher, Sort};
use serde::{Deserialize, Serialize};

use super::{auth, form_again, Page};
use crate::errors::WebError;
use crate::state::{db, read, AppState, State};
use crate::viewer::Viewer;

/// The form as sent: everything text, so an empty field is never a 400.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SearchInput {
    #[serde(default)]
    q: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    thread: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    muted: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

impl SearchInput {
    fn query(&self) -> SearchQuery {
        SearchQuery {
            q: self.q.clone(),
            group: self.group.clone(),
            author: self.author.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            thread: self.thread.trim().parse().ok(),
            sort: if self.sort == "newest" {
                Sort::Newest
            } else {
                Sort::Relevance
            },
            muted: self.muted.is_some(),
            page: self.page,
        }
    }

    /// The query string of this search on another page.
    fn on_page(&self, page: i64) -> String {
        let mut pairs = serde_urlencoded::to_string([
            ("q", self.q.as_str()),
            ("group", self.group.as_str()),
            ("author", self.author.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("thread", self.thread.as_str()),
            ("sort", self.sort.as_str()),
        ])
        .unwrap_or_default();
        if self.muted.is_some() {
            pairs.push_str("&muted=1");
        }
        format!("/search?{pairs}&page={page}")
    }
}

/// `GET /search`: the form, and with words its hits.
pub async fn show(
    state: State,
    viewer: Viewer,
    request: HttpRequest,
    input: web::Query<SearchInput>,
) -> Result<HttpResponse, WebError> {
    let input = input.into_inner();
    let actor = viewer.actor();
    if input.query().is_empty() {
        let groups = read(&state, move |conn| search::groups_for(conn, &actor)).await?;
        return form(&state, &viewer, &input, &groups, None).render(&state);
    }
    let searcher = match viewer.member() {
        Some(member) => Searcher::Member(member.id),
        None => Searcher::Visitor(auth::client_address(&request, &state.config)),
    };
    let limits = state.config.search;
    let query = input.query();
    // Counted in a short write, then searched as a read: no search waits for a writer.
    let outcome = async {
        let admitted = db(&state, {
            let query = query.clone();
            move |conn| search::admit(conn, &limits, &searcher, &query)
        })
        .await?;
        read(&state, move |conn| {
            search::find(conn, &actor, &limits, &query, &admitted)
        })
        .await
    }
    .await;
    match outcome {
        Ok(found) => form(&state, &viewer, &input, &found.groups, Some(&found)).render(&state),
        Err(error) => {
            let actor = viewer.actor();
            let again = async {
                let groups = read(&state, move |conn| search::groups_for(conn, &actor)).await?;
                Ok(form(&state, &viewer, &input, &groups, None))
            };
            form_again(&state, error, again).await
        }
    }
}

fn form(
    state: &AppState,
    viewer: &Viewer,
    input: &SearchInput,
    groups: &[search::GroupChoice],
    found: Option<&SearchPage>,
) -> Page {
    let next = found
        .filter(|f| f.has_more)
        .map(|f| input.on_page(f.page + 1));
    let previous = found
        .filter(|f| f.page > 1)
        .map(|f| input.on_page(f.page - 1));
    Page::new(state, viewer, "search.html")
        .with("search", input)
        .with("groups", &groups)
        .with("found", &found)
        .with("next_url", &next)
        .with("previous_url", &previous)
}
