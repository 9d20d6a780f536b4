//! E-mail: members' optional addresses, and the outbox where mail waits until the worker in
//! `hearth serve` sends it. Mail is queued ([`outbox::enqueue`]) in the transaction of what
//! causes it, so it is sent if and only if that commits; nothing is sent inside a request.
//! [`delivery`] claims and sends it through a [`sender::Sender`] built from the `[email]`
//! settings ([`settings::EmailSettings`]).

pub mod addresses;
pub mod delivery;
pub mod links;
pub mod outbox;
pub mod reset;
pub mod sender;
pub mod settings;
pub mod verification;

pub use outbox::{enqueue, Mail, MailKind};
pub use settings::{EmailSettings, Secret, TlsMode};

/// What every e-mail feature says when no SMTP server is configured.
pub const EMAIL_OFF: &str = "This community does not send e-mail";

/// The site as its mail names it: its name and public address (no trailing slash).
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub url: String,
}

/// Text for the HTML part of a mail.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}
