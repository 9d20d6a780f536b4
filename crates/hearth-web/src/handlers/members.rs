//! Members' pages: a profile (with the mute and moderation forms its reader may use), and
//! the member's own settings.

use actix_web::{web, HttpResponse};
use hearth_core::accounts::members::{self, ProfileUpdate};
use hearth_core::{accounts::mutes, conversations};
use serde::{Deserialize, Serialize};

use super::auth::time_zone_names;
use hearth_core::notifications::levels::Defaults;
use hearth_core::notifications::{self, Level, Preferences, ReminderLead};

use super::mail_settings::{saved_mail_settings, with_mail_section, MailSettingsInput};
use super::{account, form_again, level_choices, see_other, Choice, Page};
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
        .with("ban_boards", &view.ban_boards)
        .with("badges", &view.badges)
        .with("groups_in_common", &view.groups_in_common)
        .with("warnings", &view.warnings))
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
    let done = if verb == "mute" {
        format!("{username} is muted: you no longer see their posts")
    } else {
        format!("{username} is no longer muted")
    };
    db(&state, move |conn| {
        let target = members::by_username(conn, &username)?;
        match verb.as_str() {
            "mute" => mutes::mute(conn, &me, &target),
            _ => mutes::unmute(conn, &me, &target),
        }
    })
    .await?;
    viewer.flash(done);
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

/// The notification settings' form, as the member last saved them or as they sent them.
#[derive(Deserialize, Serialize, Default)]
pub struct NotificationSettingsInput {
    #[serde(default)]
    started_level: String,
    #[serde(default)]
    replied_level: String,
    #[serde(default)]
    reminder: String,
}

impl NotificationSettingsInput {
    /// What the member chose, if every choice is one the form offers.
    fn chosen(&self) -> hearth_core::Result<Preferences> {
        Ok(Preferences {
            defaults: Defaults {
                started: Level::from_form(&self.started_level)?,
                replied: Level::from_form(&self.replied_level)?,
            },
            reminder: ReminderLead::from_form(&self.reminder)?,
        })
    }

    fn of(chosen: &Preferences) -> NotificationSettingsInput {
        NotificationSettingsInput {
            started_level: chosen.defaults.started.as_str().to_owned(),
            replied_level: chosen.defaults.replied.as_str().to_owned(),
            reminder: chosen.reminder.as_str().to_owned(),
        }
    }
}

fn settings_page(
    state: &State,
    viewer: &Viewer,
    input: &SettingsInput,
    notifying: &NotificationSettingsInput,
    account: &account::AccountSection,
    mailing: &MailSettingsInput,
) -> Page {
    let reminder_choices: Vec<Choice> = ReminderLead::ALL
        .iter()
        .map(|lead| Choice {
            value: lead.as_str(),
            label: lead.label(),
        })
        .collect();
    let page = Page::new(state, viewer, "settings.html")
        .with("form", input)
        .with("time_zones", &time_zone_names())
        .with("notifying", notifying)
        .with("level_choices", &level_choices())
        .with("reminder_choices", &reminder_choices)
        .with("account", account);
    with_mail_section(page, mailing, state.config.email.enabled())
}

/// `/settings` as saved, for a form of its own sections that comes back with errors (the
/// account section's forms hold only passwords, which are never shown again).
pub(super) async fn saved_settings_page(state: &State, viewer: &Viewer) -> Result<Page, WebError> {
    let input = profile_input(viewer.require_member()?.member);
    let notifying = saved_notification_settings(state, viewer).await?;
    let account = account::section(state, viewer).await?;
    let mailing = saved_mail_settings(state, viewer).await?;
    Ok(settings_page(
        state, viewer, &input, &notifying, &account, &mailing,
    ))
}

/// The settings page with the member's saved profile, notification levels and account, and
/// the mail section as `mailing` (the form they sent).
pub async fn settings_page_with_mail(
    state: &State,
    viewer: &Viewer,
    mailing: &MailSettingsInput,
) -> Result<Page, WebError> {
    let input = profile_input(viewer.require_member()?.member);
    let notifying = saved_notification_settings(state, viewer).await?;
    let account = account::section(state, viewer).await?;
    Ok(settings_page(
        state, viewer, &input, &notifying, &account, mailing,
    ))
}

async fn saved_notification_settings(
    state: &State,
    viewer: &Viewer,
) -> Result<NotificationSettingsInput, WebError> {
    let member = viewer.require_member()?;
    let chosen = read(state, move |conn| {
        notifications::preferences(conn, member.id)
    })
    .await?;
    Ok(NotificationSettingsInput::of(&chosen))
}

fn profile_input(member: hearth_core::model::Member) -> SettingsInput {
    SettingsInput {
        display_name: member.display_name,
        pronouns: member.pronouns,
        bio: member.bio,
        time_zone: member.time_zone,
    }
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    /// Which form was just saved (`password`, `session`, `others`, `recovered`), for a line
    /// saying so; unknown values say nothing.
    done: Option<String>,
}

/// `GET /settings`: the signed-in member's own profile form, notification settings, and their
/// account (password, devices, recovery codes).
pub async fn settings_form(
    state: State,
    viewer: Viewer,
    query: web::Query<SettingsQuery>,
) -> Result<HttpResponse, WebError> {
    const KNOWN: [&str; 4] = ["password", "session", "others", "recovered"];
    let done = query
        .done
        .as_deref()
        .filter(|done| KNOWN.contains(done))
        .unwrap_or_default();
    saved_settings_page(&state, &viewer)
        .await?
        .with("done", done)
        .render(&state)
}

/// `POST /settings/notifications`: the levels of threads the member starts and replies to, and
/// when they are reminded of meetings; back to `/settings`.
pub async fn save_notification_settings(
    state: State,
    viewer: Viewer,
    input: web::Form<NotificationSettingsInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let chosen = input.chosen();
    let saved = match chosen {
        Ok(chosen) => {
            db(&state, move |conn| {
                notifications::save_preferences(conn, member.id, &chosen)
            })
            .await
        }
        Err(error) => Err(error.into()),
    };
    match saved {
        Ok(()) => {
            viewer.flash("Notification settings saved");
            Ok(see_other("/settings#notifications"))
        }
        Err(error) => {
            form_again(&state, error, async {
                let profile = profile_input(viewer.require_member()?.member);
                let account = account::section(&state, &viewer).await?;
                let mailing = saved_mail_settings(&state, &viewer).await?;
                Ok(settings_page(
                    &state, &viewer, &profile, &input, &account, &mailing,
                ))
            })
            .await
        }
    }
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
        Ok(updated) => {
            viewer.flash("Settings saved");
            Ok(see_other(&format!("/u/{}", updated.username)))
        }
        Err(error) => {
            form_again(&state, error, async {
                let notifying = saved_notification_settings(&state, &viewer).await?;
                let account = account::section(&state, &viewer).await?;
                let mailing = saved_mail_settings(&state, &viewer).await?;
                Ok(settings_page(
                    &state, &viewer, &input, &notifying, &account, &mailing,
                ))
            })
            .await
        }
    }
}
