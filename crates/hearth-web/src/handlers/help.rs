//! `GET /help`: crisis resources, reachable from every page.

use actix_web::{web, HttpResponse};
use hearth_core::forum::posts;
use hearth_core::ids::PostId;
use hearth_core::model::Moderation;
use hearth_core::moderation::review;
use hearth_core::safety::crisis::{Helpline, Lead};
use serde::{Deserialize, Serialize};

use super::Page;
use crate::errors::WebError;
use crate::state::{read, State};
use crate::viewer::Viewer;

#[derive(Deserialize)]
pub struct HelpQuery {
    /// The post the member came from (as text: a malformed value must not stop this page).
    post: Option<String>,
    /// The private conversation the member came from (as text, read as leniently).
    conversation: Option<String>,
}

/// One helpline as the page shows it, with ready-made `tel:`/`sms:` links.
#[derive(Serialize)]
struct HelplineView<'a> {
    name: &'a str,
    phone: Option<&'a str>,
    phone_href: Option<String>,
    text: Option<&'a str>,
    text_href: Option<String>,
    url: Option<&'a str>,
    url_label: Option<&'a str>,
    hours: Option<&'a str>,
}

/// The post the page was opened from, when this reader may read it.
#[derive(Serialize)]
struct FromPost {
    id: PostId,
    /// The reader wrote it.
    mine: bool,
    /// The reader wrote it and its words opened a check-in: the page speaks to them about it.
    own: bool,
    group: String,
    group_slug: String,
    /// Published and visible; otherwise it waits for a facilitator's approval.
    is_up: bool,
}

#[derive(Serialize)]
struct CountryView<'a> {
    country: &'a str,
    helplines: Vec<HelplineView<'a>>,
}

/// `tel:`/`sms:` targets keep only a leading `+` and the digits ("116 123" → "116123").
fn dial(scheme: &str, number: &str) -> Option<String> {
    let digits: String = number
        .trim()
        .char_indices()
        .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
        .map(|(_, c)| c)
        .collect();
    digits
        .chars()
        .any(|c| c.is_ascii_digit())
        .then(|| format!("{scheme}:{digits}"))
}

/// A web address as people read it: `https://www.samaritans.org/` → `samaritans.org`.
fn url_label(url: &str) -> &str {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    rest.strip_prefix("www.")
        .unwrap_or(rest)
        .trim_end_matches('/')
}

fn view(line: &Helpline) -> HelplineView<'_> {
    HelplineView {
        name: &line.name,
        phone: line.phone.as_deref(),
        phone_href: line.phone.as_deref().and_then(|n| dial("tel", n)),
        text: line.text.as_deref(),
        text_href: line.text.as_deref().and_then(|n| dial("sms", n)),
        url: line.url.as_deref(),
        url_label: line.url.as_deref().map(url_label),
        hours: line.hours.as_deref(),
    }
}

/// `GET /help[?post=<id>|?conversation=<id>]`: the helplines by country; with `post` (or
/// `conversation`), a way back to it if this reader may see it. The page renders even when the database does not answer.
pub async fn show(
    state: State,
    viewer: Viewer,
    query: web::Query<HelpQuery>,
) -> Result<HttpResponse, WebError> {
    let post_id = query
        .post
        .as_deref()
        .and_then(|id| id.trim().parse::<i64>().ok())
        .map(PostId);
    let me = viewer.member().map(|m| m.id);
    let from_post = match post_id {
        Some(id) => {
            let actor = viewer.actor();
            read(&state, move |conn| {
                let (board, thread, post) = posts::readable_by_id(conn, &actor, id)?;
                // Spoken to as the author of a post with crisis words only when it was one.
                let mine = me == Some(post.author_id);
                let own = mine && review::opened_check_in(conn, id)?;
                Ok((board, thread, post, mine, own))
            })
            .await
            .ok()
            .map(|(board, _, post, mine, own)| FromPost {
                id,
                mine,
                own,
                group: board.name,
                group_slug: board.slug,
                is_up: post.moderation == Moderation::Visible,
            })
        }
        None => None,
    };
    let back_to_post = from_post.as_ref().map(|p| p.id);
    let conversation_id = query
        .conversation
        .as_deref()
        .and_then(|id| id.trim().parse::<i64>().ok())
        .map(hearth_core::ids::ConversationId);
    let back_to_conversation = match conversation_id {
        Some(id) => {
            let actor = viewer.actor();
            read(&state, move |conn| {
                hearth_core::conversations::readable_by_id(conn, &actor, id)
            })
            .await
            .ok()
        }
        None => None,
    };
    let resources = &state.config.crisis_resources;
    let zone = viewer.time_zone(&state.config.default_time_zone);
    let (by_country, lead) = resources.by_country_for(&zone);
    let found_theirs = lead == Lead::Theirs;
    let countries: Vec<CountryView<'_>> = by_country
        .into_iter()
        .map(|group| CountryView {
            country: group.country,
            helplines: group.helplines.into_iter().map(view).collect(),
        })
        .collect();
    // The one big button: the first number to call of the reader's own country.
    let call_first = found_theirs
        .then(|| {
            countries.first().and_then(|group| {
                group
                    .helplines
                    .iter()
                    .find(|line| line.phone_href.is_some())
            })
        })
        .flatten();
    // Or, where no line of theirs is known, the one big button finds one.
    let find_first = (lead == Lead::Elsewhere)
        .then(|| {
            countries
                .first()
                .and_then(|group| group.helplines.iter().find(|line| line.url.is_some()))
        })
        .flatten();
    Page::new(&state, &viewer, "help.html")
        .with("introduction", &resources.introduction)
        .with("from_post", &from_post)
        .with("call_first", &call_first)
        .with("find_first", &find_first)
        .with("found_their_country", &found_theirs)
        .with("countries", &countries)
        .with("back_to_post", &back_to_post)
        .with("back_to_conversation", &back_to_conversation)
        .render(&state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_dial_links() {
        assert_eq!(dial("tel", "116 123").as_deref(), Some("tel:116123"));
        assert_eq!(
            dial("tel", "+61 13 11 14").as_deref(),
            Some("tel:+61131114")
        );
        assert_eq!(dial("sms", "988").as_deref(), Some("sms:988"));
        assert_eq!(dial("tel", "ask at the desk"), None);
        assert_eq!(dial("tel", "1+1").as_deref(), Some("tel:11"));
    }

    #[test]
    fn addresses_are_shown_without_their_scheme() {
        assert_eq!(url_label("https://www.samaritans.org/"), "samaritans.org");
        assert_eq!(url_label("https://988lifeline.org"), "988lifeline.org");
        assert_eq!(url_label("http://example.org/help"), "example.org/help");
    }
}
