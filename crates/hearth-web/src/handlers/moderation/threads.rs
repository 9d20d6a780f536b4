//! A thread's controls: lock, pin, move, slow mode.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::ids::ThreadId;
use hearth_core::moderation::actions::{self, ThreadChange};
use serde::{Deserialize, Serialize};

use crate::errors::WebError;
use crate::handlers::threads::first_page_for_moderation;
use crate::handlers::{form_again, see_other, thread_url};
use crate::state::{db, State};
use crate::viewer::Viewer;

#[derive(Deserialize, Serialize, Clone)]
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
    id: web::Path<ThreadId>,
    input: web::Form<ThreadActionInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let input = input.into_inner();
    let kept = input.clone();
    let id = id.into_inner();
    let done = match input.action.as_str() {
        "lock" => "Thread locked",
        "unlock" => "Thread unlocked",
        "pin" => "Thread pinned",
        "unpin" => "Thread unpinned",
        "slow_mode" => "Slow mode changed",
        _ => "Thread moved",
    };
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
    .await;
    match thread {
        Ok(thread) => {
            viewer.flash(done);
            Ok(see_other(&thread_url(thread.id, &thread.slug)))
        }
        // The thread's first page, its moderation tools open with what to fix and what
        // was typed.
        Err(error) => {
            form_again(
                &state,
                error,
                first_page_for_moderation(&state, &viewer, id, &kept),
            )
            .await
        }
    }
}
