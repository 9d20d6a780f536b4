//! Members' pages: a profile (with the mute and moderation forms its reader may use), and
//! the member's own settings.

use actix_web::{web, HttpResponse};
use hearth_core::accounts::members::{self, ProfileUpdate};
use hearth_core::{accounts::mutes, conversations};
use serde::{Deserialize, Serialize};

use super::auth::time_zone_names;
use super::{form_again, see_other, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// `GET /u/{username}`: a member's public profile.
pub async fn profile(
    state: State,
    viewer: Viewer,
    username: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    profile_page(&state, &viewer, username.into_inner())
        .await?
        .render(&state)
}

/// A profile, with the moderation forms its reader may use.
pub async fn profile_page(
    state: &State,
    viewer: &Viewer,
    username: String,
) -> Result<Page, WebError> {
    let actor = viewer.actor();
    let me = viewer.require_member().ok();
    let rules = state.config.conversations;
    let (view, reach_in) = read(state, move |conn| {
        let view = members::profile_for(conn, &actor, &username)?;
        // The groups in which the reader may write to this member privately.
        let reach_in = match &me {
            Some(me) => conversations::ways_to_reach(conn, &rules, me, &username)?,
            None => Vec::new(),
        };
        Ok((view, reach_in))
    })
    .await?;
    Ok(Page::new(state, viewer, "profile.html")
        .with("reach_in", &reach_in)
        .with("member", &view.member)
        .with("is_self", &view.is_self)
        .with("muted", &view.muted)
        .with("can_mute", &view.can_mute)
        .with("can_warn_boards", &view.warn_boards)
        .with("can_warn_site", &view.can_warn_site)
        .with("can_suspend", &view.can_suspend)
        .with("ban_boards", &view.ban_boards))
}

/// `POST /u/{username}/mute` and `/unmute`: back to the profile either way.
pub async fn set_muted(
    state: State,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require_member()?;
    let (username, verb) = path.into_inner();
    let location = format!("/u/{username}");
    db(&state, move |conn| {
        let target = members::by_username(conn, &username)?;
        match verb.as_str() {
            "mute" => mutes::mute(conn, &me, &target),
            _ => mutes::unmute(conn, &me, &target),
        }
    })
    .await?;
    Ok(see_other(&location))
}

#[derive(Deserialize, Serialize, Default)]
pub struct SettingsInput {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    pronouns: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    time_zone: String,
}

fn settings_page(state: &State, viewer: &Viewer, input: &SettingsInput) -> Page {
    Page::new(state, viewer, "settings.html")
        .with("form", input)
        .with("time_zones", &time_zone_names())
}

/// `GET /settings`: the signed-in member's own profile form.
pub async fn settings_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?.member;
    let input = SettingsInput {
        display_name: member.display_name,
        pronouns: member.pronouns,
        bio: member.bio,
        time_zone: member.time_zone,
    };
    settings_page(&state, &viewer, &input).render(&state)
}

/// `POST /settings`.
pub async fn save_settings(
    state: State,
    viewer: Viewer,
    input: web::Form<SettingsInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let update = ProfileUpdate {
        display_name: input.display_name.clone(),
        pronouns: input.pronouns.clone(),
        bio: input.bio.clone(),
        time_zone: input.time_zone.clone(),
    };
    match db(&state, move |conn| {
        members::update_profile(conn, &member, &update)
    })
    .await
    {
        Ok(updated) => Ok(see_other(&format!("/u/{}", updated.username))),
        Err(error) => {
            form_again(&state, error, async {
                Ok(settings_page(&state, &viewer, &input))
            })
            .await
        }
    }
}
