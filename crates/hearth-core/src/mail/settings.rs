//! The operator's `[email]` settings: how Hearth reaches its SMTP server, and the limits on
//! the mail a person can make it send. No SMTP host means no e-mail at all.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (only for a server on the same machine or a private network).
    None,
    /// Plain at first, then TLS through `STARTTLS` before anything is sent (usually port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// A secret setting: never shown by `Debug`, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// `[email]`. A limit of 0 is no limit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    /// The SMTP server; unset or empty turns e-mail off.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub tls: TlsMode,
    /// The login at the SMTP server, if it wants one.
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// A file whose first line is the password; it wins over `password`.
    pub password_file: Option<PathBuf>,
    /// The address mail comes from, e.g. `forum@example.org`.
    pub from_address: String,
    /// The name shown beside it; empty means the site's name.
    pub from_name: String,
    /// Verification mails one member can have sent, per hour and per day (also per address).
    pub verification_mails_per_hour: u32,
    pub verification_mails_per_day: u32,
    /// Password-reset requests per hour, from one network address and for one address or name.
    pub reset_requests_per_hour: u32,
    /// How long a verification link works, in hours.
    pub verification_link_hours: u32,
    /// How long a password-reset link works, in minutes.
    pub reset_link_minutes: u32,
    /// The waits between attempts to send a mail the server did not take, in seconds; after
    /// the last one it is given up (kept until the purge, its id logged).
    pub retry_seconds: Vec<u32>,
    /// How long a sender holds a mail it claimed before another may send it (a process killed
    /// mid-send lets it go when this runs out), in seconds.
    pub claim_seconds: u32,
    /// Sent mail (and mail given up) is deleted after this many days.
    pub sent_kept_days: u32,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            smtp_host: None,
            smtp_port: 587,
            tls: TlsMode::Starttls,
            user: None,
            password: None,
            password_file: None,
            from_address: String::new(),
            from_name: String::new(),
            verification_mails_per_hour: 3,
            verification_mails_per_day: 10,
            reset_requests_per_hour: 5,
            verification_link_hours: 24,
            reset_link_minutes: 30,
            retry_seconds: vec![60, 300, 1800, 7200, 21600, 86400],
            claim_seconds: 600,
            sent_kept_days: 7,
        }
    }
}

impl EmailSettings {
    /// Whether this community sends e-mail at all.
    pub fn enabled(&self) -> bool {
        self.smtp_host
            .as_deref()
            .is_some_and(|host| !host.trim().is_empty())
    }

    /// A mail is given up after this many attempts.
    pub fn max_attempts(&self) -> i32 {
        i32::try_from(self.retry_seconds.len())
            .unwrap_or(i32::MAX - 1)
            .saturating_add(1)
    }

    /// The wait after a mail's `attempts`-th failed attempt, if it is tried again.
    pub fn retry_after(&self, attempts: i32) -> Option<chrono::TimeDelta> {
        let index = usize::try_from(attempts.saturating_sub(1)).ok()?;
        self.retry_seconds
            .get(index)
            .map(|&seconds| chrono::TimeDelta::seconds(i64::from(seconds)))
    }

    /// The SMTP password: the file's first line when `password_file` is set, else `password`.
    pub fn resolved_password(&self) -> Result<Option<String>, String> {
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read the e-mail password file {}: {e}",
                    path.display()
                )
            })?;
            return Ok(Some(text.lines().next().unwrap_or_default().to_owned()));
        }
        Ok(self.password.as_ref().map(|secret| secret.0.clone()))
    }

    /// Checks what can be checked without connecting.
    pub fn check(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        if !self.from_address.contains('@') {
            return Err(
                "email.from_address must be an address such as forum@example.org when \
                 email.smtp_host is set"
                    .to_owned(),
            );
        }
        if self.claim_seconds < 5 {
            return Err("email.claim_seconds must be at least 5".to_owned());
        }
        self.resolved_password().map(|_| ())
    }
}
