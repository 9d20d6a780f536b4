//! What the web front end needs to know from the operator's configuration.

use std::path::PathBuf;

use hearth_core::accounts::leaving::LeavingRules;
use hearth_core::accounts::throttle::{RegistrationLimits, ThrottlePolicy};
use hearth_core::conversations::ConversationRules;
use hearth_core::mail::Secret;
use hearth_core::moderation::review::ReportLimits;
use hearth_core::safety::crisis::CrisisResources;
use hearth_core::safety::gate::PostingRules;
use hearth_core::search::SearchLimits;
use serde::Deserialize;

use crate::robots::SearchEngines;
use crate::visitor_pages::Budget;

/// What `site_description` says until the operator writes their own.
pub const DEFAULT_DESCRIPTION: &str =
    "Peer support groups that talk things through between meetings, at any hour.";

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The site's name, shown in every page title.
    pub site_name: String,
    /// One sentence about the community, for `<meta name="description">` and link previews.
    pub site_description: String,
    /// Which pages search engines may index (`robots.txt`, `<meta name="robots">`).
    pub search_engines: SearchEngines,
    /// The address members use, e.g. `https://forum.example.org`; decides `Secure` cookies.
    pub public_url: String,
    /// An operator's theme folder (`templates/`, `static/`) overriding the embedded default.
    pub theme_dir: Option<PathBuf>,
    /// Time zone for visitors and for members who have not chosen one.
    pub default_time_zone: String,
    /// How long a sign-in lasts.
    pub session_days: i64,
    /// How many password hashes may be computed at once (each takes about 19 MiB); at most
    /// half the database threads, which run them.
    pub password_hash_concurrency: usize,
    /// Site-wide rules applied to every new post: pre-moderation of new accounts, posting
    /// limits, crisis phrases.
    pub posting: PostingRules,
    /// How many posts a member may report in an hour and in a day.
    pub report_limits: ReportLimits,
    /// Private conversations: member-to-member messages, message limits.
    pub conversations: ConversationRules,
    /// Leaving: the cooling-off period, and how many exports a day.
    pub leaving: LeavingRules,
    /// Whether the public moderation log names moderators (otherwise "a facilitator").
    pub public_log_shows_names: bool,
    /// Failed sign-ins tolerated per account and per address before slowing and refusing.
    pub sign_in_throttle: ThrottlePolicy,
    /// How many accounts one address may make per hour and per day.
    pub registration_limits: RegistrationLimits,
    /// Failed uses of recovery codes tolerated per account and per address (counted apart from
    /// sign-ins) before slowing and refusing.
    pub recovery_throttle: ThrottlePolicy,
    /// A session's "last seen" on `/settings` is written at most once per this many minutes.
    pub session_last_seen_minutes: u32,
    /// Take the client's address from the right-most `X-Forwarded-For` entry instead of the
    /// connection (only behind a reverse proxy that appends it).
    pub trust_x_forwarded_for: bool,
    /// What the `/help` page lists.
    pub crisis_resources: CrisisResources,
    /// Search: searches per minute, the size of a query, how much one search may cost.
    pub search: SearchLimits,
    /// Keep rendered pages for visitors between writes (SQLite only; see `visitor_pages`).
    pub cache_visitor_pages: bool,
    /// How many bytes the kept pages may take, in all and each.
    pub visitor_pages_budget: Budget,
    /// `[email]`: whether this community sends e-mail (an SMTP host is set), and the limits on
    /// the mail a person can make it send.
    pub email: hearth_core::mail::EmailSettings,
    /// `/metrics`: the bearer token it asks for; `None` (the default) turns it off (404).
    pub metrics_token: Option<hearth_core::mail::Secret>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            site_name: "Hearth".to_owned(),
            site_description: DEFAULT_DESCRIPTION.to_owned(),
            search_engines: SearchEngines::default(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            theme_dir: None,
            default_time_zone: "UTC".to_owned(),
            session_days: 30,
            password_hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            posting: PostingRules::default(),
            report_limits: ReportLimits::default(),
            conversations: ConversationRules::default(),
            leaving: LeavingRules::default(),
            public_log_shows_names: false,
            sign_in_throttle: ThrottlePolicy::default(),
            registration_limits: RegistrationLimits::default(),
            recovery_throttle: ThrottlePolicy::RECOVERY,
            session_last_seen_minutes: 5,
            trust_x_forwarded_for: false,
            crisis_resources: CrisisResources::default(),
            search: SearchLimits::default(),
            cache_visitor_pages: true,
            visitor_pages_budget: Budget::default(),
            email: hearth_core::mail::EmailSettings::default(),
            metrics_token: None,
        }
    }
}

/// The shortest token `/metrics` accepts.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// `[metrics]`: Prometheus metrics at `/metrics`, off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// The bearer token a scraper sends (`Authorization: Bearer …`).
    pub token: Secret,
    /// A file whose first line is the token; it wins over `token`. Empty: none.
    pub token_file: String,
}

impl MetricsSettings {
    /// The token `/metrics` asks for when metrics are on, `None` when they are off; an error
    /// an operator can act on when they are on without a usable token.
    pub fn resolved_token(&self) -> Result<Option<Secret>, String> {
        if !self.enabled {
            return Ok(None);
        }
        let token = if self.token_file.is_empty() {
            self.token.0.trim().to_owned()
        } else {
            let text = std::fs::read_to_string(&self.token_file).map_err(|e| {
                format!(
                    "cannot read the metrics token file {}: {e}",
                    self.token_file
                )
            })?;
            text.lines().next().unwrap_or_default().trim().to_owned()
        };
        if token.is_empty() {
            return Err(
                "metrics.enabled is true but no token is set: set metrics.token_file (or \
                 metrics.token) to a long random string, for example the output of \
                 `head -c 32 /dev/urandom | base64`, and give Prometheus the same one"
                    .to_owned(),
            );
        }
        if token.chars().count() < MIN_METRICS_TOKEN_CHARS {
            return Err(format!(
                "the metrics token is too short: use at least {MIN_METRICS_TOKEN_CHARS} \
                 random characters"
            ));
        }
        Ok(Some(Secret(token)))
    }
}

impl WebConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
