use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use hearth_core::forum::posts::{self, ReplyForm};
use hearth_core::forum::threads::{self, ReplyBox, Shown, ThreadView};
use hearth_core::ids::{PostId, ThreadId};
use hearth_core::model::{AuthorRef, Moderation};
use hearth_core::notifications::{levels, Level};
use serde::{Deserialize, Serialize};

use super::{
    for_visitors, form_again, help_url, moderation, post_url, see_other, thread_url, Built, Page,
};
use crate::errors::WebError;
use crate::people::{badges_of, Avatar, BadgeView};
use crate::state::{db, read, State};
use crate::templates;
use crate::templates::Moment;
use crate::viewer::Viewer;
use hearth_core::forum::reactions::ReactionKind;

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

/// A post on a page as the template shows it. The chrome around its text (author, badges,
/// time, notice; reactions and links) comes written and escaped (`post_head`, `post_foot`):
/// tera resolves every `{{ a.b }}` by walking the context through JSON pointers, a few thousand
/// instructions each, and twenty posts of fifty lookups made rendering half of the signed-in
/// page's cost (docs/architecture.md, Decisions). What only moderators see stays in the template.
#[derive(Serialize)]
struct PostItem<'a> {
    id: PostId,
    position: i32,
    /// `post`; `deleted` (by its author); `withheld` (hidden by the moderators from this
    /// reader: a short notice in its place); `muted` (shown collapsed).
    shown: Shown,
    html: &'a str,
    author: Option<&'a AuthorRef>,
    /// `visible`, `awaiting` or `hidden`, for the moderation controls.
    moderation: &'static str,
    /// The header (avatar, author, badges, time) and any notice, as HTML with every value
    /// escaped (`post_head`).
    head_html: String,
    /// The reactions and the post's links, as HTML.
    foot_html: String,
    /// The text's version, which the moderation forms send back (a decision applies only to
    /// the text the moderator saw).
    edited_at: Option<NaiveDateTime>,
    can_moderate: bool,
}

/// One kind of reaction under a post.
struct ReactionItem {
    kind: &'static str,
    label: &'static str,
    count: i64,
    mine: bool,
}

fn reaction_items(readable: &hearth_core::forum::threads::ReadablePost) -> Vec<ReactionItem> {
    let given = |kind: ReactionKind| readable.reactions.iter().find(|c| c.kind == kind);
    ReactionKind::ALL
        .iter()
        .filter_map(|&kind| {
            let count = given(kind);
            if count.is_none() && !readable.can_react {
                return None;
            }
            Some(ReactionItem {
                kind: kind.as_str(),
                label: kind.label(),
                count: count.map_or(0, |c| c.count),
                mine: count.is_some_and(|c| c.mine),
            })
        })
        .collect()
}

/// What a post's chrome shows, gathered for [`post_head`] and [`post_foot`].
struct Chrome<'a> {
    n: i32,
    pid: PostId,
    author: Option<&'a AuthorRef>,
    avatar: Option<Avatar>,
    badges: Vec<BadgeView>,
    created: Moment,
    edited: Option<Moment>,
    notice: Option<String>,
    reactions: Vec<ReactionItem>,
    can_react: bool,
    can_quote: bool,
    can_edit: bool,
    can_delete: bool,
    can_report: bool,
}

/// The post's header and notice. Every value from a member or the database is escaped.
fn post_head(c: &Chrome) -> String {
    use std::fmt::Write;
    let e = tera::escape_html;
    let n = c.n;
    let mut h = String::with_capacity(640);
    h.push_str("<header class=\"post-header\">");
    if let Some(avatar) = &c.avatar {
        let _ = write!(
            h,
            "<span class=\"avatar tone-{}\" aria-hidden=\"true\">{}</span>",
            avatar.tone,
            e(&avatar.initials)
        );
    }
    let _ = write!(h, "<p id=\"post-{n}-by\">");
    match c.author {
        Some(a) => {
            let _ = write!(
                h,
                "<a href=\"/u/{}\">{}</a>",
                e(&a.username),
                e(&a.display_name)
            );
            if !a.pronouns.is_empty() {
                let _ = write!(h, " <span class=\"pronouns\">({})</span>", e(&a.pronouns));
            }
        }
        None => h.push_str("a former member"),
    }
    h.push_str("</p>");
    if !c.badges.is_empty() {
        h.push_str("<span class=\"badges\">");
        for b in &c.badges {
            let _ = write!(
                h,
                "<span class=\"badge badge-{}\">{}</span>",
                b.slug,
                e(b.label)
            );
        }
        h.push_str("</span>");
    }
    let _ = write!(
        h,
        "<p class=\"meta\"><a href=\"/p/{}\">{}<span class=\"visually-hidden\">, post {n}</span></a>",
        c.pid.0,
        templates::time_element(&c.created)
    );
    if let Some(edited) = &c.edited {
        let _ = write!(h, " · edited {}", templates::time_element(edited));
    }
    h.push_str("</p></header>");
    if let Some(notice) = &c.notice {
        let _ = write!(h, "<p class=\"notice\">{}</p>", e(notice));
    }
    h
}

/// The reactions (a form for a reader who may react, counts for everyone else) and the
/// post's links. The form's token is asked of the viewer only for that form: a visitor's token
/// asked for makes the page theirs alone (`no-store`, not kept for other visitors).
fn post_foot(c: &Chrome, viewer: &Viewer) -> String {
    use std::fmt::Write;
    let (n, pid) = (c.n, c.pid.0);
    let mut h = String::with_capacity(900);
    let has_links = c.can_quote || c.can_edit || c.can_delete || c.can_report;
    if !(c.can_react || has_links || !c.reactions.is_empty()) {
        return h;
    }
    // One calm row under the post: the reactions at its start, the post's links at its end.
    h.push_str("<div class=\"post-foot\">");
    if c.can_react {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/p/{pid}/react\" class=\"reactions\"><input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
            tera::escape_html(viewer.csrf_token())
        );
        for r in &c.reactions {
            let _ = write!(
                h,
                "<button type=\"submit\" name=\"kind\" value=\"{}\" aria-pressed=\"{}\">",
                r.kind, r.mine
            );
            if r.count > 0 {
                let _ = write!(h, "{} · ", r.count);
            }
            let _ = write!(h, "{}</button>", r.label);
        }
        h.push_str("</form>");
    } else if !c.reactions.is_empty() {
        h.push_str("<p class=\"reactions\">");
        for r in &c.reactions {
            let _ = write!(h, "<span>{} · {}</span>", r.count, r.label);
        }
        h.push_str("</p>");
    }
    if has_links {
        h.push_str("<footer class=\"post-actions\">");
        for (shown, path, label) in [
            (c.can_quote, "quote#reply", "Quote"),
            (c.can_edit, "edit", "Edit"),
            (c.can_delete, "delete", "Delete"),
            (c.can_report, "report", "Report"),
        ] {
            if shown {
                let _ = write!(
                    h,
                    "<a href=\"/p/{pid}/{path}\">{label}<span class=\"visually-hidden\"> post {n}</span></a> "
                );
            }
        }
        h.push_str("</footer>");
    }
    h.push_str("</div>");
    h
}

#[derive(Serialize, Deserialize, Default)]
pub struct ReplyInput {
    #[serde(default)]
    body: String,
    #[serde(default)]
    submission_key: String,
    /// The ground rules version ticked as accepted.
    #[serde(default)]
    accept_rules: Option<i32>,
    /// Sent by the Preview button: show the reply above the form, post nothing.
    #[serde(default, skip_serializing)]
    preview: Option<String>,
}

async fn load(
    state: &State,
    viewer: &Viewer,
    id: ThreadId,
    page: i32,
) -> Result<ThreadView, WebError> {
    let actor = viewer.actor();
    read(state, move |conn| threads::page_for(conn, &actor, id, page)).await
}

fn thread_page(state: &State, viewer: &Viewer, view: &ThreadView, reply: &ReplyInput) -> Page {
    let (board, thread) = (&view.board, &view.thread);
    let zone = templates::zone(&viewer.time_zone(&state.config.default_time_zone));
    let now = hearth_core::clock::now();
    let items: Vec<PostItem> = view
        .posts
        .iter()
        .map(|readable| {
            let post = &readable.post;
            let notice = match post.moderation {
                Moderation::Visible => None,
                Moderation::Awaiting => Some(
                    "This post is waiting for a facilitator's approval; only you and the group's moderators can see it for now.".to_owned(),
                ),
                Moderation::Hidden if post.hidden_reason.is_empty() => Some(
                    "The moderators hid this post. Only you and the moderators can see it.".to_owned(),
                ),
                Moderation::Hidden => Some(format!(
                    "The moderators hid this post: {}. Only you and the moderators can see it.",
                    post.hidden_reason
                )),
            };
            let can_quote =
                matches!(view.reply, ReplyBox::Allowed) && post.moderation == Moderation::Visible;
            let author = readable.author.as_ref();
            let chrome = Chrome {
                n: post.position,
                pid: post.id,
                author,
                avatar: author.map(|a| Avatar::of(a.id, &a.display_name)),
                badges: author.map_or_else(Vec::new, |a| {
                    badges_of(a, readable.facilitator, Some(post.created_at))
                }),
                created: templates::moment(post.created_at, now, zone),
                edited: post.edited_at.map(|at| templates::moment(at, now, zone)),
                notice,
                reactions: reaction_items(readable),
                can_react: readable.can_react,
                can_quote,
                can_edit: readable.can_edit,
                can_delete: readable.can_delete,
                can_report: readable.can_report,
            };
            let shown = readable.shown == Shown::Post;
            PostItem {
                id: post.id,
                position: post.position,
                shown: readable.shown,
                html: &post.html,
                author,
                moderation: post.moderation.as_str(),
                head_html: if shown { post_head(&chrome) } else { String::new() },
                foot_html: if shown {
                    post_foot(&chrome, viewer)
                } else {
                    String::new()
                },
                edited_at: post.edited_at,
                can_moderate: view.can_moderate,
            }
        })
        .collect();
    // "allowed", "sign_in", or the reason replies are closed to this reader.
    let (reply_state, reply_reason) = match view.reply {
        ReplyBox::Allowed => ("allowed", ""),
        ReplyBox::SignIn => ("sign_in", ""),
        ReplyBox::Closed(reason) => ("closed", reason),
    };
    let pages = pager(view.page, view.n_pages);
    Page::new(state, viewer, "thread.html")
        .with("board", board)
        .with("thread", thread)
        .with("thread_url", &thread_url(thread.id, &thread.slug))
        .with("posts", &items)
        .with("page", &view.page)
        .with("n_pages", &view.n_pages)
        .with("pages", &pages)
        .with("reply_state", reply_state)
        .with("reply_reason", reply_reason)
        .with("can_moderate", &view.can_moderate)
        .with("must_accept_rules", &view.must_accept_rules)
        .with("move_targets", &view.move_targets)
        .with("hide_reasons", moderation::queue::hide_reasons())
        .with("slow_mode_choices", &moderation::threads::SLOW_MODE_CHOICES)
        .with(
            "slow_mode_words",
            &hearth_core::safety::limits::span_words(i64::from(thread.slow_mode_seconds)),
        )
        .with("form", reply)
        .with("level", &view.level.map(|level| level.as_str()))
        .with("level_choices", &super::level_choices())
}

/// The first page of a thread with a fresh reply form, for a moderation form on it shown
/// again with what to fix (a lock without its reason); `kept` is what the moderator typed.
pub(crate) async fn first_page_for_moderation(
    state: &State,
    viewer: &Viewer,
    id: ThreadId,
    kept: &impl Serialize,
) -> Result<Page, WebError> {
    let view = load(state, viewer, id, 1).await?;
    let reply = ReplyInput {
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    Ok(thread_page(state, viewer, &view, &reply).with("moderation_form", kept))
}

/// One entry of a thread's pager: a page number (the current one marked) or a gap.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub(crate) struct PagerItem {
    /// `None` for a gap ("…").
    page: Option<i32>,
    current: bool,
}

/// The pager's entries: the first and last pages, two on each side of the current one, and
/// gaps between. Computed here, not in the template: a 500-page thread has 9 entries, not 500.
pub(crate) fn pager(page: i32, n_pages: i32) -> Vec<PagerItem> {
    let mut items: Vec<PagerItem> = Vec::new();
    for p in 1..=n_pages {
        let near = (page - 2..=page + 2).contains(&p);
        if p == 1 || p == n_pages || near {
            items.push(PagerItem {
                page: Some(p),
                current: p == page,
            });
        } else if items.last().is_some_and(|last| last.page.is_some()) {
            items.push(PagerItem {
                page: None,
                current: false,
            });
        }
    }
    items
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
    let path = format!("/t/{segment}?page={requested}");
    for_visitors(&state, &viewer, Some(&path), || async {
        let view = load(&state, &viewer, id, requested).await?;
        let canonical = thread_url(view.thread.id, &view.thread.slug);
        // Any other address of this page (wrong words, a page below 1 or past the end) is
        // sent to the one address, which is also the only one kept for visitors.
        if *segment != canonical.trim_start_matches("/t/") || view.page != requested {
            let page = view.page;
            let location = if page == 1 {
                canonical
            } else {
                format!("{canonical}?page={page}")
            };
            return Ok(Built::Other(
                HttpResponse::PermanentRedirect()
                    .insert_header(("location", location))
                    .finish(),
            ));
        }
        let reply = ReplyInput {
            submission_key: posts::new_submission_key(),
            ..Default::default()
        };
        // Only when this page moved the member's marker: a page read again writes nothing.
        super::unread::record_reading(&state, &viewer, view.thread.id, view.marks_read).await;
        Ok(Built::Page(thread_page(&state, &viewer, &view, &reply)))
    })
    .await
}

/// `GET /p/{id}/quote`: the thread page holding the post, its reply form started with the
/// post quoted and attributed (the link is `…/quote#reply`, so the browser goes to the form).
/// A post the reader may not read is not found.
pub async fn quote(
    state: State,
    viewer: Viewer,
    id: web::Path<PostId>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let id = id.into_inner();
    let (view, body) = read(&state, move |conn| posts::quote_for(conn, &actor, id)).await?;
    let reply = ReplyInput {
        body,
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    thread_page(&state, &viewer, &view, &reply).render(&state)
}

/// `POST /t/{id}/reply`: adds the reply, then shows it in place.
pub async fn reply(
    state: State,
    viewer: Viewer,
    id: web::Path<ThreadId>,
    input: web::Form<ReplyInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let id = id.into_inner();
    if input.preview.is_some() {
        // The last page, as after a refused reply, read through the thread's own loader.
        let view = load(&state, &viewer, id, i32::MAX).await?;
        let body = input.body.clone();
        let rules = state.config.posting.clone();
        let preview = db(&state, move |conn| {
            hearth_core::forum::publish::preview(conn, &rules, &member, &body)
        })
        .await;
        let page = thread_page(&state, &viewer, &view, &input);
        return super::preview_answer(&state, page, &input.body, preview).await;
    }
    let form = ReplyForm {
        body: input.body.clone(),
        submission_key: input.submission_key.clone(),
        accept_rules_version: input.accept_rules,
    };
    let rules = state.config.posting.clone();
    let outcome = db(&state, move |conn| {
        posts::reply(conn, &rules, &member, id, &form)
    })
    .await;
    match outcome {
        Ok(posted) if posted.check_in => Ok(see_other(&help_url(posted.post.id))),
        Ok(posted) => {
            viewer.flash("Your reply is posted");
            Ok(see_other(&post_url(&posted.thread, posted.post.position)))
        }
        Err(error) => {
            form_again(&state, error.keeping_text(&input.body), async {
                let last_page = i32::MAX;
                let view = load(&state, &viewer, id, last_page).await?;
                Ok(thread_page(&state, &viewer, &view, &input))
            })
            .await
        }
    }
}

/// The level control's form: a level, and the page of the thread it was sent from.
#[derive(Deserialize)]
pub struct LevelInput {
    #[serde(default)]
    level: String,
    page: Option<i32>,
}

/// `POST /t/{id}/level`: how closely the member follows the thread; back to the page.
pub async fn set_level(
    state: State,
    viewer: Viewer,
    id: web::Path<ThreadId>,
    input: web::Form<LevelInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let id = id.into_inner();
    let level = Level::from_form(&input.level)?;
    let canonical = db(&state, move |conn| {
        let (board, thread) = threads::by_id_for(conn, &actor, id)?;
        levels::set_for_thread(conn, &member, &board, &thread, level)?;
        Ok(thread_url(thread.id, &thread.slug))
    })
    .await?;
    let location = match input.page {
        Some(page) if page > 1 => format!("{canonical}?page={page}#level"),
        _ => format!("{canonical}#level"),
    };
    viewer.flash("Notifications for this thread saved");
    Ok(see_other(&location))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(page: i32, n_pages: i32) -> String {
        pager(page, n_pages)
            .iter()
            .map(|item| match (item.page, item.current) {
                (Some(p), true) => format!("[{p}]"),
                (Some(p), false) => p.to_string(),
                (None, _) => "…".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_pager_shows_the_ends_the_window_and_gaps() {
        assert_eq!(shown(1, 1), "[1]");
        assert_eq!(shown(1, 10), "[1] 2 3 … 10");
        assert_eq!(shown(250, 500), "1 … 248 249 [250] 251 252 … 500");
        assert_eq!(shown(500, 500), "1 … 498 499 [500]");
        assert_eq!(shown(4, 7), "1 2 3 [4] 5 6 7");
    }
}
