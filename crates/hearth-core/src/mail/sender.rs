//! The SMTP side: a [`Sender`] built from `[email]` turns one outbox row into a
//! multipart/alternative message (text and HTML) with `From`, `To`, `Date`, a `Message-ID` made
//! from the row's token (the same on every attempt), and, for mail a member may stop, RFC 8058's
//! `List-Unsubscribe` and `List-Unsubscribe-Post`. lettre speaks SMTP, TLS through rustls.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

use super::settings::{EmailSettings, TlsMode};

/// How long one SMTP conversation may take before it counts as a failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What the sender needs of a mail: the outbox row without its bookkeeping.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub unsubscribe_url: Option<String>,
    /// The row's `message_token`: the left part of its `Message-ID`.
    pub message_token: String,
}

/// Why a mail was not sent, in words an operator can act on. It may quote the SMTP server's
/// answer, so it is stored with the row and printed by `hearth admin test-email`, never logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError(pub String);

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An SMTP connection's settings, ready to send.
#[derive(Clone)]
pub struct Sender {
    transport: SmtpTransport,
    from: Mailbox,
    /// The right part of every `Message-ID`: the host of `public_url`.
    message_id_host: String,
}

impl Sender {
    /// The sender `[email]` describes, or `None` when no SMTP host is set (e-mail is off).
    pub fn from_settings(
        settings: &EmailSettings,
        site_name: &str,
        public_url: &str,
    ) -> Result<Option<Sender>, String> {
        let Some(host) = settings
            .smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let builder = match settings.tls {
            TlsMode::None => SmtpTransport::builder_dangerous(host),
            TlsMode::Starttls => SmtpTransport::starttls_relay(host)
                .map_err(|e| format!("cannot use the SMTP host {host}: {e}"))?,
            TlsMode::Tls => SmtpTransport::relay(host)
                .map_err(|e| format!("cannot use the SMTP host {host}: {e}"))?,
        };
        let message_id_host = host_of(public_url);
        let mut builder = builder
            .port(settings.smtp_port)
            .timeout(Some(SMTP_TIMEOUT))
            .hello_name(ClientId::Domain(message_id_host.clone()));
        if let Some(user) = settings.user.as_deref().filter(|u| !u.is_empty()) {
            let password = settings.resolved_password()?.unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.to_owned(), password));
        }
        let name = if settings.from_name.trim().is_empty() {
            site_name.to_owned()
        } else {
            settings.from_name.trim().to_owned()
        };
        let address = settings.from_address.trim().parse().map_err(|e| {
            format!(
                "email.from_address {:?} is not an address: {e}",
                settings.from_address
            )
        })?;
        Ok(Some(Sender {
            transport: builder.build(),
            from: Mailbox::new(Some(name), address),
            message_id_host,
        }))
    }

    /// The message as it goes out.
    pub fn message(&self, mail: &Outgoing) -> Result<Message, SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| SendError("the recipient is not a valid address".to_owned()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .date_now()
            .message_id(Some(format!(
                "<{}@{}>",
                mail.message_token, self.message_id_host
            )));
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .raw_header(raw_header("List-Unsubscribe", format!("<{url}>"))?)
                .raw_header(raw_header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".to_owned(),
                )?);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| SendError(format!("the message could not be written: {e}")))
    }

    /// Sends one mail now.
    pub fn send(&self, mail: &Outgoing) -> Result<(), SendError> {
        let message = self.message(mail)?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| SendError(describe(&e)))
    }
}

fn raw_header(name: &'static str, value: String) -> Result<HeaderValue, SendError> {
    let name = HeaderName::new_from_ascii(name.to_owned())
        .map_err(|_| SendError(format!("bad header name {name}")))?;
    Ok(HeaderValue::new(name, value))
}

/// The host part of `https://forum.example.org:8443/path` → `forum.example.org`.
fn host_of(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        "localhost".to_owned()
    } else {
        host.to_owned()
    }
}

/// An SMTP error in plain words.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let kind = if error.is_transient() {
        "the SMTP server refused it for now"
    } else if error.is_permanent() {
        "the SMTP server refused it"
    } else {
        "the SMTP server could not be reached or spoken to"
    };
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    format!("{kind} ({detail})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_id_host_is_the_public_urls() {
        assert_eq!(host_of("https://forum.example.org/"), "forum.example.org");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of("http://[::1]:8080/x"), "::1");
    }
}
