//! The operator's settings: built-in defaults, then the config file, then `HEARTH_…`
//! environment variables, then command-line flags — each overriding the one before.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use hearth_core::accounts::leaving::LeavingRules;
use hearth_core::accounts::throttle::{RegistrationLimits, ThrottlePolicy};
use hearth_core::conversations::ConversationRules;
use hearth_core::mail::EmailSettings;
use hearth_core::maintenance::backup::DailyBackups;
use hearth_core::moderation::review::ReportLimits;
use hearth_core::notifications::mailing::MailLimits;
use hearth_core::safety::crisis::CrisisResources;
use hearth_core::safety::limits::{EditLimits, PostingLimits};
use hearth_core::search::SearchLimits;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub site_name: String,
    pub site_description: String,
    pub search_engines: hearth_web::robots::SearchEngines,
    pub listen: String,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub pool_size: u32,
    /// SQLite: the page cache of each connection that serves page loads (one per worker).
    pub read_cache_mb: u32,
    pub workers: usize,
    pub theme_dir: Option<PathBuf>,
    pub default_time_zone: String,
    pub session_days: i64,
    pub log: String,
    /// `text` (today's lines) or `json` (one object per line, on stderr).
    pub log_format: LogFormat,
    pub new_account_premod_posts: i32,
    pub same_reply_minutes: u32,
    /// Reactions a member may add to posts in an hour (counted in the database); 0: no limit.
    pub reactions_per_hour: u32,
    /// Previews of a post a member may ask for in an hour (counted in the database); 0: no
    /// limit.
    pub previews_per_hour: u32,
    /// Read notifications are deleted this many days after they were read; 0 keeps them.
    pub notifications_kept_days: u32,
    /// At most this many members mentioned by one post are notified.
    pub mentions_notified_per_post: usize,
    /// A post's text has at most this many bytes (and at most 50,000 characters).
    pub max_post_bytes: usize,
    pub public_log_shows_names: bool,
    /// A phrase file replacing the built-in crisis phrases (`config/crisis-phrases.txt`).
    pub crisis_phrases_file: Option<PathBuf>,
    /// Take the client's address from the right-most `X-Forwarded-For` entry (only behind a
    /// reverse proxy that sets it, with Hearth unreachable except through it).
    pub trust_x_forwarded_for: bool,
    /// Keep rendered pages for visitors until the next write (SQLite only).
    pub cache_visitor_pages: bool,
    /// What the kept visitors' pages may take in all, in megabytes.
    pub cache_visitor_pages_mb: u32,
    /// The largest visitors' page that is kept, in kilobytes.
    pub cache_visitor_page_max_kb: u32,
    pub sign_in_throttle: ThrottlePolicy,
    pub registration_limits: RegistrationLimits,
    /// Failed uses of recovery codes, counted like failed sign-ins but apart from them.
    pub recovery_throttle: ThrottlePolicy,
    /// A session's "last seen" is written at most once per this many minutes (not per request).
    pub session_last_seen_minutes: u32,
    pub posting_limits: PostingLimits,
    pub edit_limits: EditLimits,
    pub report_limits: ReportLimits,
    /// Private conversations: member-to-member messages, and message limits.
    pub conversations: ConversationRules,
    /// Deleting or anonymising one's account, the retention of deleted text, exports.
    pub leaving: LeavingRules,
    /// Searching posts: searches per minute, the size of a query, what one search may cost.
    pub search: SearchLimits,
    pub crisis_resources: CrisisResources,
    /// `[email]`: the SMTP server (none: no e-mail) and the limits on mail people can cause.
    pub email: EmailSettings,
    /// `[notification_mail]`: how notifications are batched and limited by e-mail.
    pub notification_mail: MailLimits,
    /// Daily backups by `hearth serve` (SQLite only).
    pub backups: DailyBackups,
    /// `[metrics]`: Prometheus metrics at `/metrics`, behind a bearer token; off by default.
    pub metrics: hearth_web::config::MetricsSettings,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text per event, on stdout.
    Text,
    /// One JSON object per event (`timestamp`, `level`, `message` and the event's fields), on
    /// stderr, so that stdout keeps only what Hearth prints for the operator.
    Json,
}

/// The defaults, as TOML, so they read exactly like `config/hearth.example.toml`.
const DEFAULTS: &str = r#"
site_name = "Hearth"
site_description = "Peer support groups that talk things through between meetings, at any hour."
search_engines = "directory"
listen = "127.0.0.1:8080"
data_dir = "./data"
pool_size = 8
read_cache_mb = 16
workers = 0
default_time_zone = "UTC"
session_days = 30
log = "info"
log_format = "text"
new_account_premod_posts = 0
same_reply_minutes = 10
reactions_per_hour = 60
previews_per_hour = 120
notifications_kept_days = 90
mentions_notified_per_post = 10
max_post_bytes = 100000
public_log_shows_names = false
trust_x_forwarded_for = false
cache_visitor_pages = true
cache_visitor_pages_mb = 32
cache_visitor_page_max_kb = 1024
session_last_seen_minutes = 5

[sign_in_throttle]
window_seconds = 900
slow_after = 5
account_limit = 10
account_ceiling = 100
ip_limit = 50

[registration_limits]
per_hour = 5
per_day = 20

[recovery_throttle]
window_seconds = 900
slow_after = 3
account_limit = 5
account_ceiling = 50
ip_limit = 20

[posting_limits]
per_minute = 5
per_day = 100
new_account_per_minute = 2
new_account_per_day = 20
new_account_hours = 24

[edit_limits]
per_minute = 5
per_day = 40
revisions_kept = 50

[report_limits]
per_hour = 10
per_day = 30

[conversations]
member_messages = false
member_messages_min_account_days = 30
messages_per_minute = 5
messages_per_day = 100

[email]
smtp_port = 587
tls = "starttls"
from_address = ""
from_name = ""
verification_mails_per_hour = 3
verification_mails_per_day = 10
reset_requests_per_hour = 5
verification_link_hours = 24
reset_link_minutes = 30
retry_seconds = [60, 300, 1800, 7200, 21600, 86400]
claim_seconds = 600
sent_kept_days = 7

[notification_mail]
batch_minutes = 15
per_day = 12
per_run = 500

[leaving]
cooling_off_days = 7
deleted_text_days = 30
username_hold_days = 365
exports_per_day = 3

[search]
per_minute = 30
visitor_per_minute = 10
max_query_chars = 200
max_terms = 8
ranked_matches = 2000
max_pages = 50

[backups]
daily = false
keep = 7
hour = 3

[metrics]
enabled = false
token = ""
token_file = ""

[crisis_resources]
introduction = "If you are in immediate danger or might act on thoughts of ending your life, call your local emergency number now (911 in the US and Canada, 999 in the UK, 112 in the EU, 000 in Australia). You can also talk to someone at one of these free, confidential services."

[[crisis_resources.helplines]]
country = "United States"
name = "988 Suicide & Crisis Lifeline"
phone = "988"
text = "988"
url = "https://988lifeline.org"
time_zones = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "America/Adak", "America/Juneau", "America/Boise", "America/Detroit", "America/Indiana/", "America/Kentucky/", "America/North_Dakota/", "Pacific/Honolulu", "US/"]
hours = "24 hours, every day"

[[crisis_resources.helplines]]
country = "Canada"
name = "9-8-8 Suicide Crisis Helpline"
phone = "988"
text = "988"
url = "https://988.ca"
time_zones = ["America/Toronto", "America/Vancouver", "America/Edmonton", "America/Winnipeg", "America/Regina", "America/Halifax", "America/Moncton", "America/St_Johns", "America/Whitehorse", "America/Yellowknife", "America/Iqaluit", "Canada/"]
hours = "24 hours, every day"

[[crisis_resources.helplines]]
country = "United Kingdom and Ireland"
name = "Samaritans"
phone = "116 123"
url = "https://www.samaritans.org"
time_zones = ["Europe/London", "Europe/Dublin", "Europe/Belfast", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey"]
hours = "24 hours, every day"

[[crisis_resources.helplines]]
country = "Australia"
name = "Lifeline"
phone = "13 11 14"
url = "https://www.lifeline.org.au"
time_zones = ["Australia/"]
hours = "24 hours, every day"

[[crisis_resources.helplines]]
country = "Other countries"
name = "Find A Helpline"
url = "https://findahelpline.com"
"#;

/// The settings as read, before their checks: what `hearth check-config` looks at.
pub struct Loaded {
    pub settings: Settings,
    /// Every setting as the sources gave it, merged (defaults, file, environment), as TOML
    /// (an error only `hearth check-config` reports: serving does not need it).
    pub effective: Result<toml::Table, String>,
    /// Settings no field of [`Settings`] took, as dotted paths (`email.smtp_hots`).
    pub ignored: Vec<String>,
}

/// `HEARTH_…` variables that are not settings, without the prefix: `HEARTH_CONFIG` names the
/// file itself (a flag's variable); the others are the repository's own tools' (the test
/// suites' PostgreSQL server, the browser checks' binary, browser, tabs, screenshots and XSS
/// corpus), which an operator who runs them beside a server has set in the same shell. Neither
/// reported as unknown nor shown as in effect.
const NOT_SETTINGS: &[&str] = &[
    "config",
    "test_postgres_url",
    "bin",
    "browser_tabs",
    "chromium",
    "screenshots",
    "xss_bypass_csp",
    "xss_corpus",
    "xss_settle_ms",
    "xss_payloads",
];

/// Whether `key` is one of [`NOT_SETTINGS`] and came from its `HEARTH_…` variable (the same
/// name in the config file is a setting Hearth does not know, and said to be one).
fn not_a_setting(key: &str) -> bool {
    NOT_SETTINGS.contains(&key)
        && std::env::var_os(format!("HEARTH_{}", key.to_uppercase())).is_some()
}

impl Settings {
    pub fn load(config_file: Option<&Path>) -> Result<Settings, String> {
        let loaded = Settings::read(config_file)?;
        match loaded.settings.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(loaded.settings),
        }
    }

    /// The defaults, then the file, then `HEARTH_…` variables (and `DATABASE_URL`), read
    /// and typed, without the checks of [`Settings::problems`].
    pub fn read(config_file: Option<&Path>) -> Result<Loaded, String> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = config_file {
            if !path.exists() {
                return Err(format!("the config file {} does not exist", path.display()));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        builder = builder.add_source(
            // `HEARTH_SITE_NAME`; a double underscore reaches into a table:
            // `HEARTH_POSTING_LIMITS__PER_MINUTE`.
            Environment::with_prefix("HEARTH")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        );
        let built = builder
            .build()
            .map_err(|e| format!("cannot read the configuration: {e}"))?;
        let effective = built
            .clone()
            .try_deserialize::<toml::Table>()
            .map(|mut table| {
                table.retain(|key, _| !not_a_setting(key));
                table
            })
            .map_err(|e| format!("the settings cannot be shown as TOML: {e}"));
        let mut ignored = Vec::new();
        let mut settings: Settings = serde_ignored::deserialize(built, |path| {
            ignored.push(path.to_string());
        })
        .map_err(|e| format!("a setting has the wrong form: {e}"))?;
        ignored.retain(|path| !not_a_setting(path));
        ignored.sort();
        // `DATABASE_URL` is the name most tools use; `HEARTH_DATABASE_URL` wins when both are set.
        if settings.database_url.is_none() {
            settings.database_url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
        }
        Ok(Loaded {
            settings,
            effective,
            ignored,
        })
    }

    /// What is wrong with settings that were read: each a sentence saying what to change.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=3650).contains(&self.session_days) {
            problems.push(format!(
                "session_days must be between 1 and 3650 (it is {})",
                self.session_days
            ));
        }
        if self.session_last_seen_minutes == 0 {
            problems.push(
                "session_last_seen_minutes must be at least 1 (it bounds the writes of \
                 signed-in requests)"
                    .to_owned(),
            );
        }
        for checked in [
            self.sign_in_throttle.check(),
            self.recovery_throttle.check_named("recovery_throttle"),
            self.crisis_resources.check(),
            self.edit_limits.check(),
            self.email.check(),
            self.backups.check(),
            self.metrics.resolved_token().map(|_| ()),
        ] {
            if let Err(problem) = checked {
                problems.push(problem);
            }
        }
        problems
    }

    /// The database to open: the configured URL, or `hearth.db` in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => self
                .data_dir
                .join("hearth.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// The configured public address, or the plain-http address the server is bound to.
    pub fn public_url(&self, bound_address: &str) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound_address}"),
        }
    }

    pub fn workers(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            self.workers
        }
    }
}

#[cfg(test)]
mod tests;
