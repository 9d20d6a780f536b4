//! The notification e-mail section of `/settings` (`POST /settings/mail`), and the one-click
//! unsubscribe page of the mail (`/unsubscribe/{token}`, no sign-in: the token is the proof).

use actix_web::{web, HttpResponse};
use hearth_core::notifications::email::{self, EmailMode, MailPreferences};
use hearth_core::notifications::unsubscribe;
use serde::{Deserialize, Serialize};

use super::{form_again, see_other, Choice, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

/// The section's form, as the member last saved it or as they sent it.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct MailSettingsInput {
    #[serde(default)]
    email_mode: String,
    #[serde(default)]
    digest_hour: String,
    #[serde(default)]
    digest_weekday: String,
    #[serde(default)]
    quiet_from: String,
    #[serde(default)]
    quiet_to: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    private_words: Option<String>,
}

impl MailSettingsInput {
    fn chosen(&self) -> hearth_core::Result<MailPreferences> {
        MailPreferences::from_form(
            &self.email_mode,
            &self.digest_hour,
            &self.digest_weekday,
            &self.quiet_from,
            &self.quiet_to,
            self.private_words.is_some(),
        )
    }

    fn of(chosen: &MailPreferences) -> MailSettingsInput {
        let quiet = |f: fn(&email::QuietHours) -> chrono::NaiveTime| {
            chosen
                .quiet
                .as_ref()
                .map(|q| f(q).format("%H:%M").to_string())
                .unwrap_or_default()
        };
        MailSettingsInput {
            email_mode: chosen.mode.as_str().to_owned(),
            digest_hour: chosen.digest_hour.to_string(),
            digest_weekday: chosen.digest_weekday.num_days_from_monday().to_string(),
            quiet_from: quiet(|q| q.from),
            quiet_to: quiet(|q| q.to),
            private_words: chosen.private_words.then(|| "on".to_owned()),
        }
    }
}

/// An hour of the day as the form offers it.
#[derive(Serialize)]
struct HourChoice {
    value: String,
    label: String,
}

/// Adds the section's choices and the member's input to the settings page; `enabled`: the
/// site sends mail at all (an SMTP server is configured).
pub fn with_mail_section(page: Page, input: &MailSettingsInput, enabled: bool) -> Page {
    let modes: Vec<Choice> = EmailMode::ALL
        .iter()
        .map(|mode| Choice {
            value: mode.as_str(),
            label: mode.label(),
        })
        .collect();
    let hours: Vec<HourChoice> = (0..24)
        .map(|h| HourChoice {
            value: h.to_string(),
            label: format!("{h:02}:00"),
        })
        .collect();
    let days: Vec<Choice> = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    .iter()
    .zip(["0", "1", "2", "3", "4", "5", "6"])
    .map(|(label, value)| Choice { value, label })
    .collect();
    page.with("mailing", input)
        .with("mail_enabled", &enabled)
        .with("mail_modes", &modes)
        .with("digest_hours", &hours)
        .with("digest_days", &days)
}

/// The member's saved choices, as the form shows them.
pub async fn saved_mail_settings(
    state: &State,
    viewer: &Viewer,
) -> Result<MailSettingsInput, WebError> {
    let member = viewer.require_member()?;
    let chosen = read(state, move |conn| email::mail_preferences(conn, member.id)).await?;
    Ok(MailSettingsInput::of(&chosen))
}

/// `POST /settings/mail`: when notifications are mailed; back to `/settings#mail`.
pub async fn save(
    state: State,
    viewer: Viewer,
    input: web::Form<MailSettingsInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let saved = match input.chosen() {
        Ok(chosen) => {
            db(&state, move |conn| {
                email::save_mail_preferences(conn, member.id, &chosen)
            })
            .await
        }
        Err(error) => Err(error.into()),
    };
    match saved {
        Ok(()) => {
            viewer.flash("E-mail settings saved");
            Ok(see_other("/settings#mail"))
        }
        Err(error) => {
            form_again(&state, error, async {
                super::members::settings_page_with_mail(&state, &viewer, &input).await
            })
            .await
        }
    }
}

/// `GET /unsubscribe/{token}`: one button that stops notification e-mail, for whoever holds
/// the mail (no sign-in). A token that is not one of ours is not found.
pub async fn unsubscribe_form(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let check = token.clone();
    db(&state, move |conn| unsubscribe::member_of(conn, &check)).await?;
    Page::new(&state, &viewer, "unsubscribe.html")
        .with("token", &token)
        .with("done", &false)
        .render(&state)
}

/// `POST /unsubscribe/{token}`: the button, or a mail client's one-click request (RFC 8058,
/// `List-Unsubscribe=One-Click`). The only form without a CSRF token: the signed token in
/// its address authenticates it, and all it can do is switch that member's mail off.
pub async fn unsubscribe(
    state: State,
    viewer: Viewer,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let now = hearth_core::clock::now();
    let spent = token.clone();
    db(&state, move |conn| {
        unsubscribe::unsubscribe(conn, &spent, now)
    })
    .await?;
    Page::new(&state, &viewer, "unsubscribe.html")
        .with("token", &token)
        .with("done", &true)
        .render(&state)
}
