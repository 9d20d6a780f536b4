//! Moderators' actions on a member, sent from the member's profile: warn, suspend, ban.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDateTime, NaiveTime};
use hearth_core::accounts::members;
use hearth_core::forum::boards;
use hearth_core::model::Board;
use hearth_core::moderation::actions;
use hearth_core::policy;
use serde::{Deserialize, Serialize};

use crate::errors::WebError;
use crate::handlers::{form_again, see_other};
use crate::state::{db, State};
use crate::viewer::Viewer;

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
    hearth_core::clock::parse_date(text)
        .map(|d| Some(d.and_time(NaiveTime::MIN)))
        .ok_or_else(|| hearth_core::Error::invalid("until", "choose a date, such as 2027-01-31"))
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
    let confirmation = match (verb.as_str(), input.change.as_str()) {
        ("warn", _) => format!("{username} is warned"),
        ("suspend", "lift") => format!("{username}'s suspension is lifted"),
        ("suspend", _) => format!("{username} is suspended"),
        ("ban", "lift") => format!("{username} may post in the group again"),
        (_, _) => format!("{username} can no longer post in the group"),
    };
    let lookup = username.clone();
    let done = db(&state, move |conn| {
        let target = members::by_username(conn, &lookup)?;
        let outcome = act_on_member(conn, &member, &actor, &target, &verb, &input);
        Ok(outcome.map_err(WebError::from))
    })
    .await?;
    match done {
        Ok(()) => {
            viewer.flash(confirmation);
            Ok(see_other(&location))
        }
        // Shown again with what was typed, and what to fix.
        Err(error) => {
            form_again(&state, error, async {
                Ok(
                    crate::handlers::members::profile_page(&state, &viewer, username)
                        .await?
                        .with("kept", &kept)
                        .with("kept_verb", &verb_kept),
                )
            })
            .await
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
