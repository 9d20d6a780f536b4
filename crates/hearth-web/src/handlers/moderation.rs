//! The moderators' pages: the review queue, decisions on posts, thread controls, the board's
//! settings and facilitators, actions on members, the moderation log; and the members' side:
//! reporting a post and reading notices from the moderators.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use hearth_core::accounts::members;
use hearth_core::forum::boards;
use hearth_core::ids::{PostId, ThreadId};
use hearth_core::model::Board;
use hearth_core::moderation::actions::{self, BoardSettings, ThreadChange};
use hearth_core::moderation::log::{self, Audience};
use hearth_core::moderation::review::{self, Decision, ReportReason};
use hearth_core::policy::{self, Action};
use hearth_core::{forum::posts, moderation::notices};
use serde::{Deserialize, Serialize};

use super::{invalid_or, post_url, see_other, thread_url, Choice, Page};
use crate::errors::WebError;
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

/// Only same-site paths are followed after an action.
fn back_to(next: Option<&str>, fallback: String) -> String {
    super::local_path(next).map_or(fallback, str::to_owned)
}

fn report_reasons() -> Vec<Choice> {
    ReportReason::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str(),
            label: r.label(),
        })
        .collect()
}

// ---- The review queue ----

/// `GET /review`: every board this member moderates, at-risk first, then oldest first.
pub async fn site_queue(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let entries = read(&state, move |conn| review::queue(conn, &member, None)).await?;
    Page::new(&state, &viewer, "review.html")
        .with("entries", &entries)
        .with("hide_reasons", &HIDE_REASONS)
        .with("here", "/review")
        .render(&state)
}

/// `GET /b/{slug}/review`: one board's queue.
pub async fn board_queue(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let (board, entries) = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let entries = review::queue(conn, &member, Some(&board))?;
        Ok((board, entries))
    })
    .await?;
    let here = format!("/b/{}/review", board.slug);
    Page::new(&state, &viewer, "review.html")
        .with("board", &board)
        .with("entries", &entries)
        .with("hide_reasons", &HIDE_REASONS)
        .with("here", &here)
        .render(&state)
}

#[derive(Deserialize)]
pub struct DecisionInput {
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    note: String,
    next: Option<String>,
}

/// `POST /p/{id}/moderate`: approve, hide, restore, dismiss or mark a check-in handled.
pub async fn decide(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
    input: web::Form<DecisionInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let reason = match (input.reason.trim(), input.detail.trim()) {
        ("", detail) => detail.to_owned(),
        (preset, "") => preset.to_owned(),
        (preset, detail) => format!("{preset}: {detail}"),
    };
    let decision = match input.decision.as_str() {
        "approve" => Decision::Approve,
        "hide" => Decision::Hide { reason },
        "restore" => Decision::Restore,
        "dismiss" => Decision::Dismiss,
        "handled" => Decision::Handled { note: input.note },
        _ => return Err(WebError::BadRequest("unknown decision".to_owned())),
    };
    let id = PostId(*id);
    let (_, thread, post) = db(&state, move |conn| {
        review::decide(conn, &member, id, &decision)
    })
    .await?;
    Ok(see_other(&back_to(
        input.next.as_deref(),
        post_url(&thread, post.position),
    )))
}

// ---- Reports ----

#[derive(Deserialize, Serialize, Default)]
pub struct ReportInput {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct ReportQuery {
    sent: Option<u8>,
}

/// `GET /p/{id}/report`: the report form (or, after sending, the thanks).
pub async fn report_form(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    let actor = viewer.actor();
    let id = PostId(*id);
    let (board, thread, post) = read(&state, move |conn| {
        let found = posts::by_id_for(conn, &actor, id)?;
        let (board, thread, post) = &found;
        policy::authorize(&actor, Action::ReportPost(board, thread, post))?;
        Ok(found)
    })
    .await?;
    Page::new(&state, &viewer, "report.html")
        .with("board", &board)
        .with("thread", &thread)
        .with("post", &post)
        .with("post_url", &post_url(&thread, post.position))
        .with("reasons", &report_reasons())
        .with("form", &ReportInput::default())
        .with("sent", &query.sent.is_some())
        .render(&state)
}

/// `POST /p/{id}/report`.
pub async fn report(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
    input: web::Form<ReportInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let input = input.into_inner();
    let (reason, note) = (input.reason.clone(), input.note.clone());
    let post_id = PostId(*id);
    let outcome = db(&state, move |conn| {
        Ok(review::report(conn, &member, post_id, &reason, &note).map_err(WebError::from))
    })
    .await?;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/p/{post_id}/report?sent=1"))),
        Err(error) => {
            let invalid = invalid_or(error)?;
            let (board, thread, post) =
                db(&state, move |conn| posts::by_id_for(conn, &actor, post_id)).await?;
            Page::new(&state, &viewer, "report.html")
                .with("board", &board)
                .with("thread", &thread)
                .with("post", &post)
                .with("post_url", &post_url(&thread, post.position))
                .with("reasons", &report_reasons())
                .with("form", &input)
                .with("sent", &false)
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

// ---- Threads ----

#[derive(Deserialize)]
pub struct ThreadActionInput {
    action: String,
    #[serde(default)]
    board: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    slow_mode_seconds: String,
}

/// The slow-mode intervals offered: (seconds, words).
pub const SLOW_MODE_CHOICES: [(i32, &str); 6] = [
    (0, "Off"),
    (30, "30 seconds"),
    (60, "1 minute"),
    (300, "5 minutes"),
    (900, "15 minutes"),
    (3600, "1 hour"),
];

/// `POST /t/{id}/moderate`: lock, unlock, pin, unpin, move, slow mode.
pub async fn thread_action(
    state: State,
    viewer: Viewer,
    id: web::Path<i64>,
    input: web::Form<ThreadActionInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let input = input.into_inner();
    let id = ThreadId(*id);
    let thread = db(&state, move |conn| {
        let change = match input.action.as_str() {
            "lock" => ThreadChange::Lock(true),
            "unlock" => ThreadChange::Lock(false),
            "pin" => ThreadChange::Pin(true),
            "unpin" => ThreadChange::Pin(false),
            "slow_mode" => {
                ThreadChange::SlowMode(input.slow_mode_seconds.trim().parse().map_err(|_| {
                    hearth_core::Error::invalid("slow_mode_seconds", "choose a slow-mode interval")
                })?)
            }
            "move" => {
                let to = boards::by_slug_for(conn, &actor, &input.board).map_err(|_| {
                    hearth_core::Error::invalid("board", "choose a group to move the thread to")
                })?;
                ThreadChange::Move(to.id)
            }
            _ => return Err(hearth_core::Error::invalid("action", "unknown action")),
        };
        actions::change_thread(conn, &member, id, change, &input.reason)
    })
    .await?;
    Ok(see_other(&thread_url(thread.id, &thread.slug)))
}

// ---- Boards ----

/// What the board settings page shows.
async fn settings_page(state: &State, viewer: &Viewer, slug: String) -> Result<Page, WebError> {
    let actor = viewer.actor();
    let (board, facilitators, can_manage) = read(state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        policy::authorize(&actor, Action::Moderate(&board))?;
        let facilitators = actions::facilitators(conn, &board)?;
        let can_manage = policy::allows(&actor, Action::ManageBoard(&board));
        Ok((board, facilitators, can_manage))
    })
    .await?;
    let settings = BoardSettings {
        premod_first_posts: board.premod_first_posts,
    };
    Ok(Page::new(state, viewer, "board_settings.html")
        .with("board", &board)
        .with("facilitators", &facilitators)
        .with("can_manage", &can_manage)
        .with("form", &settings))
}

/// `GET /b/{slug}/settings`: pre-moderation for the board's moderators; facilitators for admins.
pub async fn board_settings(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    settings_page(&state, &viewer, slug.into_inner())
        .await?
        .render(&state)
}

#[derive(Deserialize)]
pub struct BoardSettingsInput {
    #[serde(default)]
    premod_first_posts: String,
}

/// `POST /b/{slug}/settings`.
pub async fn save_board_settings(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<BoardSettingsInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let slug = slug.into_inner();
    let Ok(premod_first_posts) = input.premod_first_posts.trim().parse::<i32>() else {
        let mut invalid = hearth_core::error::Invalid::default();
        invalid.add("premod_first_posts", "write a number, such as 0 or 3");
        return settings_page(&state, &viewer, slug)
            .await?
            .with_errors(&invalid)
            .render(&state);
    };
    let settings = BoardSettings { premod_first_posts };
    let lookup = slug.clone();
    let saved = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &lookup)?;
        Ok(actions::set_board_settings(conn, &member, &board, &settings).map_err(WebError::from))
    })
    .await?;
    match saved {
        Ok(board) => Ok(see_other(&format!("/b/{}/settings", board.slug))),
        Err(error) => {
            let invalid = invalid_or(error)?;
            settings_page(&state, &viewer, slug)
                .await?
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

#[derive(Deserialize)]
pub struct FacilitatorInput {
    username: String,
    /// "add" or "remove".
    change: String,
}

/// `POST /b/{slug}/facilitators`: admins add or remove a facilitator.
pub async fn set_facilitator(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<FacilitatorInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let slug = slug.into_inner();
    let input = input.into_inner();
    let lookup = slug.clone();
    let outcome = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &lookup)?;
        let add = input.change == "add";
        Ok(
            actions::set_facilitator(conn, &member, &board, &input.username, add)
                .map_err(WebError::from),
        )
    })
    .await?;
    match outcome {
        Ok(()) => Ok(see_other(&format!("/b/{slug}/settings"))),
        Err(error) => {
            let invalid = invalid_or(error)?;
            settings_page(&state, &viewer, slug)
                .await?
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

// ---- The moderation log ----

#[derive(Deserialize)]
pub struct LogQuery {
    before: Option<i64>,
}

/// `GET /b/{slug}/log`: the board's log — whole for its moderators, public for everyone else.
pub async fn board_log(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, WebError> {
    let actor = viewer.actor();
    let show_names = state.config.public_log_shows_names;
    let before = query.before;
    let (board, audience, lines) = read(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &slug)?;
        let (audience, lines) = log::board_log(conn, &actor, &board, show_names, before)?;
        Ok((board, audience, lines))
    })
    .await?;
    let older = (lines.len() as i64 == log::ENTRIES_PER_PAGE)
        .then(|| lines.last().map(|l| l.id))
        .flatten();
    Page::new(&state, &viewer, "log.html")
        .with("board", &board)
        .with("lines", &lines)
        .with("full", &(audience == Audience::Moderators))
        .with("older", &older)
        .render(&state)
}

/// `GET /log`: the whole site's log, for site moderators and admins.
pub async fn site_log(
    state: State,
    viewer: Viewer,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require_member()?;
    let actor = viewer.actor();
    let before = query.before;
    let lines = read(&state, move |conn| log::site_log(conn, &actor, before)).await?;
    let older = (lines.len() as i64 == log::ENTRIES_PER_PAGE)
        .then(|| lines.last().map(|l| l.id))
        .flatten();
    Page::new(&state, &viewer, "log.html")
        .with("lines", &lines)
        .with("full", &true)
        .with("older", &older)
        .render(&state)
}

// ---- Members ----

#[derive(Deserialize, Serialize, Clone)]
pub struct MemberActionInput {
    /// The board's slug for warnings about a board and for bans.
    #[serde(default)]
    board: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
    /// `YYYY-MM-DD`; empty lifts (suspensions) or means "until lifted" (bans).
    #[serde(default)]
    until: String,
    /// "lift" to end a suspension or a ban.
    #[serde(default)]
    change: String,
}

/// The end of the given day in UTC, or a clear error.
fn parse_until(text: &str) -> Result<Option<NaiveDateTime>, hearth_core::Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| Some(d.and_time(NaiveTime::MIN)))
        .map_err(|_| hearth_core::Error::invalid("until", "choose a date, such as 2027-01-31"))
}

fn board_of(
    conn: &mut hearth_core::db::DbConn,
    actor: &policy::Actor,
    slug: &str,
) -> hearth_core::Result<Option<Board>> {
    if slug.trim().is_empty() {
        return Ok(None);
    }
    boards::by_slug_for(conn, actor, slug.trim()).map(Some)
}

/// `POST /u/{username}/{warn|suspend|ban}`: back to the profile.
pub async fn member_action(
    state: State,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    input: web::Form<MemberActionInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let (username, verb) = path.into_inner();
    let input = input.into_inner();
    let location = format!("/u/{username}");
    let kept = input.clone();
    let verb_kept = verb.clone();
    let lookup = username.clone();
    let done = db(&state, move |conn| {
        let target = members::by_username(conn, &lookup)?;
        let outcome = act_on_member(conn, &member, &actor, &target, &verb, &input);
        Ok(outcome.map_err(WebError::from))
    })
    .await?;
    match done {
        Ok(()) => Ok(see_other(&location)),
        // Shown again with what was typed, and what to fix.
        Err(error) => {
            let invalid = invalid_or(error)?;
            super::members::profile_page(&state, &viewer, username)
                .await?
                .with("kept", &kept)
                .with("kept_verb", &verb_kept)
                .with_errors(&invalid)
                .render(&state)
        }
    }
}

fn act_on_member(
    conn: &mut hearth_core::db::DbConn,
    member: &hearth_core::policy::MemberActor,
    actor: &policy::Actor,
    target: &hearth_core::model::Member,
    verb: &str,
    input: &MemberActionInput,
) -> hearth_core::Result<()> {
    let lift = input.change == "lift";
    match verb {
        "warn" => {
            let board = board_of(conn, actor, &input.board)?;
            actions::warn(conn, member, target, board.as_ref(), &input.message)
        }
        "suspend" => {
            let until = if lift {
                None
            } else {
                Some(parse_until(&input.until)?.ok_or_else(|| {
                    hearth_core::Error::invalid("until", "choose the day the suspension ends")
                })?)
            };
            actions::suspend(conn, member, target, until, &input.reason)
        }
        _ => {
            let board = board_of(conn, actor, &input.board)?.ok_or_else(|| {
                hearth_core::Error::invalid("board", "choose the group to ban them from")
            })?;
            let ban = if lift {
                None
            } else {
                Some(parse_until(&input.until)?)
            };
            actions::ban_from_board(conn, member, &board, target, ban, &input.reason)
        }
    }
}

// ---- Notices ----

/// `GET /notices`: messages from the moderators to the signed-in member.
pub async fn notices_page(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let list = read(&state, move |conn| notices::list(conn, member.id)).await?;
    Page::new(&state, &viewer, "notices.html")
        .with("notices", &list)
        .render(&state)
}

/// `POST /notices/read`: marks them all read.
pub async fn mark_notices_read(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    db(&state, move |conn| notices::mark_read(conn, member.id)).await?;
    Ok(see_other("/notices"))
}

/// Used by the thread page: the boards a moderator may move a thread to.
pub fn move_targets(
    conn: &mut hearth_core::db::DbConn,
    actor: &policy::Actor,
    from: &Board,
) -> hearth_core::Result<Vec<(String, String)>> {
    Ok(boards::list_for(conn, actor)?
        .into_iter()
        .map(|s| s.board)
        .filter(|b| b.id != from.id && policy::allows(actor, Action::MoveThread(from, b)))
        .map(|b| (b.slug, b.name))
        .collect())
}

/// Re-exported for the thread page's controls.
pub fn hide_reasons() -> &'static [&'static str] {
    &HIDE_REASONS
}
