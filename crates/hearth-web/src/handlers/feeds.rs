//! Atom 1.0 feeds of a public group (its newest threads) and a public thread (its newest
//! posts), for feed readers, which cannot sign in: what is in them is what any visitor may
//! read (`hearth_core::forum::feeds`), and other groups and threads have none (404).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono::NaiveDateTime;
use hearth_core::forum::feeds::{self, FeedEntry};
use hearth_core::ids::ThreadId;

use crate::errors::WebError;
use crate::robots::SearchEngines;
use crate::state::{read, AppState, State};

/// The feed's time: stored times are UTC.
fn utc(at: NaiveDateTime) -> FixedDateTime {
    at.and_utc().fixed_offset()
}

fn link(href: String, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href,
        rel: rel.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        ..Link::default()
    }
}

/// One post as an entry: its stored, sanitized HTML as the content, whose links (written
/// relative to the site) resolve against the site's address.
fn entry(base: &str, item: &FeedEntry, title: String) -> Entry {
    let permalink = format!("{base}/p/{}", item.post.id);
    Entry {
        id: permalink.clone(),
        title: Text::plain(title),
        updated: utc(item.post.edited_at.unwrap_or(item.post.created_at)),
        published: Some(utc(item.post.created_at)),
        authors: vec![Person {
            name: item.author.display_name.clone(),
            ..Person::default()
        }],
        links: vec![link(permalink, "alternate", Some("text/html"))],
        content: Some(Content {
            base: Some(format!("{base}/")),
            value: Some(item.post.html.clone()),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

fn atom_response(state: &AppState, feed: &Feed) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.content_type("application/atom+xml; charset=utf-8");
    // A feed is members' words: as their threads, indexed only when the operator said so.
    if state.config.search_engines != SearchEngines::Public {
        response.insert_header(("x-robots-tag", "noindex"));
    }
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(feed.to_string())
}

/// The feed's own fields, from its newest entry (or `fallback` when it has none).
fn feed(
    base: &str,
    title: String,
    page: String,
    own: String,
    fallback: NaiveDateTime,
    entries: Vec<Entry>,
) -> Feed {
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| utc(fallback));
    Feed {
        id: format!("{base}{own}"),
        title: Text::plain(title),
        updated,
        links: vec![
            link(format!("{base}{own}"), "self", Some("application/atom+xml")),
            link(format!("{base}{page}"), "alternate", Some("text/html")),
        ],
        entries,
        ..Feed::default()
    }
}

/// `GET /b/{slug}/feed.atom`: a public group's newest threads.
pub async fn group_feed(state: State, slug: web::Path<String>) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let found = {
        let slug = slug.clone();
        read(&state, move |conn| feeds::group_feed(conn, &slug)).await?
    };
    let base = state.config.public_url.trim_end_matches('/');
    let entries = found
        .entries
        .iter()
        .map(|item| entry(base, item, item.thread.title.clone()))
        .collect();
    let atom = feed(
        base,
        format!("{} — {}", found.board.name, state.config.site_name),
        format!("/b/{slug}"),
        format!("/b/{slug}/feed.atom"),
        found.board.created_at,
        entries,
    );
    Ok(atom_response(&state, &atom))
}

/// `GET /t/{id}/feed.atom`: a public thread's newest posts.
pub async fn thread_feed(state: State, id: web::Path<ThreadId>) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let found = read(&state, move |conn| feeds::thread_feed(conn, id)).await?;
    let base = state.config.public_url.trim_end_matches('/');
    let Some(thread) = &found.thread else {
        return Err(WebError::NotFound);
    };
    let entries = found
        .entries
        .iter()
        .map(|item| {
            let title = if item.post.position == 1 {
                thread.title.clone()
            } else {
                format!("Re: {}", thread.title)
            };
            entry(base, item, title)
        })
        .collect();
    let atom = feed(
        base,
        format!("{} — {}", thread.title, found.board.name),
        super::thread_url(thread.id, &thread.slug),
        format!("/t/{id}/feed.atom"),
        thread.created_at,
        entries,
    );
    Ok(atom_response(&state, &atom))
}
