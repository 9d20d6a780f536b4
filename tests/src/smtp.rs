//! A real SMTP server for the end-to-end suite: [`SmtpSink::start`] listens on a free port of
//! 127.0.0.1, speaks plain SMTP (EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT) to
//! whatever connects, and records each message it accepts. Tests read the messages parsed by a
//! real MIME parser (`mail-parser`) through [`ReceivedMail`].
//!
//! It is test infrastructure, so it is small: no TLS, no AUTH, no pipelining, a thread per
//! connection. [`SmtpSink::refuse_next`] makes it answer the next messages' DATA with a
//! temporary failure (451), as a busy relay would.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use mail_parser::{Message, MessageParser, MimeHeaders};

/// One message the sink accepted: its envelope and the bytes after DATA (dot-unstuffed).
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without the angle brackets.
    pub envelope_from: String,
    /// The envelope recipients (`RCPT TO`), without the angle brackets.
    pub envelope_to: Vec<String>,
    /// The message as sent, headers and body.
    pub data: Vec<u8>,
}

impl ReceivedMail {
    /// The message parsed by `mail-parser`; panics if it is not a message at all.
    pub fn parsed(&self) -> Message<'static> {
        MessageParser::default()
            .parse(&self.data)
            .expect("the sink received a parsable message")
            .into_owned()
    }

    /// A header's raw value (unfolded and trimmed), the first if it repeats.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = self.parsed();
        parsed.header_raw(name).map(|value| {
            value
                .split(['\r', '\n'])
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The `Message-ID` without its angle brackets.
    pub fn message_id(&self) -> Option<String> {
        self.parsed().message_id().map(str::to_owned)
    }

    /// The only recipient of the envelope (panics if there are several or none).
    pub fn recipient(&self) -> &str {
        assert_eq!(
            self.envelope_to.len(),
            1,
            "one recipient: {:?}",
            self.envelope_to
        );
        &self.envelope_to[0]
    }

    /// The plain-text body (the `text/plain` part of a multipart/alternative message).
    pub fn text(&self) -> String {
        let parsed = self.parsed();
        let part = parsed.text_part(0).expect("the message has a text part");
        assert_eq!(part.content_type().map(|t| t.ctype()), Some("text"));
        assert_eq!(
            part.content_type().and_then(|t| t.subtype()),
            Some("plain"),
            "the first text body is text/plain"
        );
        part.text_contents().unwrap_or_default().to_owned()
    }

    /// The HTML body (the `text/html` part).
    pub fn html(&self) -> String {
        let parsed = self.parsed();
        let part = parsed.html_part(0).expect("the message has an HTML part");
        assert_eq!(
            part.content_type().and_then(|t| t.subtype()),
            Some("html"),
            "the HTML body is text/html"
        );
        part.text_contents().unwrap_or_default().to_owned()
    }

    /// Whether the message is `multipart/alternative` with exactly a text/plain and a
    /// text/html part.
    pub fn is_text_and_html_alternative(&self) -> bool {
        let parsed = self.parsed();
        let root = parsed.root_part();
        let Some(content_type) = root.content_type() else {
            return false;
        };
        if !content_type.ctype().eq_ignore_ascii_case("multipart")
            || !content_type
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("alternative"))
        {
            return false;
        }
        let mut kinds: Vec<String> = parsed
            .parts
            .iter()
            .skip(1)
            .filter_map(|part| part.content_type())
            .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()).to_lowercase())
            .collect();
        kinds.sort();
        kinds == ["text/html", "text/plain"]
    }

    /// The first `http(s)://` link of the text body whose path contains `needle`.
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        self.text()
            .split_whitespace()
            .map(|word| word.trim_matches(|c: char| "<>()\"'.,".contains(c)))
            .find(|word| {
                (word.starts_with("http://") || word.starts_with("https://"))
                    && word.contains(needle)
            })
            .map(str::to_owned)
    }
}

struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    arrived: Condvar,
    /// How many of the next messages get a 451 after their DATA.
    refusals: AtomicUsize,
    /// How many messages were refused so far.
    refused: AtomicUsize,
    /// How long the sink waits, after recording a message, before it answers 250.
    delay_millis: AtomicUsize,
    stopping: AtomicBool,
}

/// The SMTP server; stops listening when dropped.
pub struct SmtpSink {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Starts listening on a free port of 127.0.0.1.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the SMTP sink binds a port");
        let address = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            refusals: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            delay_millis: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let session = Arc::clone(&accepting);
                std::thread::spawn(move || {
                    let _ = serve(stream, &session);
                });
            }
        });
        SmtpSink { address, shared }
    }

    pub fn host(&self) -> String {
        self.address.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The `[email]` settings of a Hearth that sends here (plain SMTP, no TLS, no login),
    /// for the in-process server: `TestApp::with_email(&sink)`.
    pub fn email_settings(&self) -> hearth_core::mail::EmailSettings {
        hearth_core::mail::EmailSettings {
            smtp_host: Some(self.host()),
            smtp_port: self.port(),
            tls: hearth_core::mail::TlsMode::None,
            from_address: "hearth@example.org".to_owned(),
            from_name: "Hearth".to_owned(),
            ..hearth_core::mail::EmailSettings::default()
        }
    }

    /// The same settings as environment variables for the `hearth` binary
    /// (`Command::envs(sink.environment())`).
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("HEARTH_EMAIL__SMTP_HOST".to_owned(), self.host()),
            (
                "HEARTH_EMAIL__SMTP_PORT".to_owned(),
                self.port().to_string(),
            ),
            ("HEARTH_EMAIL__TLS".to_owned(), "none".to_owned()),
            (
                "HEARTH_EMAIL__FROM_ADDRESS".to_owned(),
                "hearth@example.org".to_owned(),
            ),
        ]
    }

    /// Answers the next `n` messages' DATA with `451` (a temporary failure): they are not
    /// recorded, and a sender should try them again later.
    pub fn refuse_next(&self, n: usize) {
        self.shared.refusals.store(n, Ordering::SeqCst);
    }

    /// Answers each message `delay` after recording it, as a slow server does: a sender killed
    /// meanwhile has sent the message without knowing it was taken.
    pub fn answer_slowly(&self, delay: Duration) {
        let millis = usize::try_from(delay.as_millis()).unwrap_or(usize::MAX);
        self.shared.delay_millis.store(millis, Ordering::SeqCst);
    }

    /// How many messages were refused by [`SmtpSink::refuse_next`] so far.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Every message accepted so far, in the order they arrived.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// The messages accepted so far that were sent to `address` (case-insensitively).
    pub fn messages_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m.envelope_to
                    .iter()
                    .any(|to| to.eq_ignore_ascii_case(address))
            })
            .collect()
    }

    /// Waits until at least `n` messages have arrived and returns them all; panics after
    /// `timeout` saying how many came.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        let mut messages = self.shared.messages.lock().unwrap();
        while messages.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited {timeout:?} for {n} messages; {} arrived",
                messages.len()
            );
            messages = self.shared.arrived.wait_timeout(messages, left).unwrap().0;
        }
        messages.clone()
    }

    /// Waits `quiet` and asserts that no more than `n` messages arrived (for "nothing else
    /// was sent").
    pub fn assert_no_more_than(&self, n: usize, quiet: Duration) -> Vec<ReceivedMail> {
        std::thread::sleep(quiet);
        let messages = self.messages();
        assert!(
            messages.len() <= n,
            "expected at most {n} messages, {} arrived: {:?}",
            messages.len(),
            messages
                .iter()
                .map(ReceivedMail::subject)
                .collect::<Vec<_>>()
        );
        messages
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accepting thread so it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// One SMTP session, RFC 5321's minimum.
fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 hearth-test-sink ESMTP ready\r\n")?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return Ok(());
        }
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                writer.write_all(b"250-hearth-test-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?
            }
            "HELO" => writer.write_all(b"250 hearth-test-sink\r\n")?,
            "MAIL" => {
                from = Some(angle_address(command));
                to.clear();
                writer.write_all(b"250 OK\r\n")?;
            }
            "RCPT" => {
                if from.is_none() {
                    writer.write_all(b"503 MAIL first\r\n")?;
                } else {
                    to.push(angle_address(command));
                    writer.write_all(b"250 OK\r\n")?;
                }
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    writer.write_all(b"503 MAIL and RCPT first\r\n")?;
                    continue;
                }
                writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let data = read_data(&mut reader)?;
                let refuse = shared
                    .refusals
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refuse {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    writer.write_all(b"451 4.3.0 try again later\r\n")?;
                } else {
                    let mail = ReceivedMail {
                        envelope_from: from.take().unwrap_or_default(),
                        envelope_to: std::mem::take(&mut to),
                        data,
                    };
                    shared.messages.lock().unwrap().push(mail);
                    shared.arrived.notify_all();
                    let delay = shared.delay_millis.load(Ordering::SeqCst);
                    if delay > 0 {
                        std::thread::sleep(Duration::from_millis(delay as u64));
                    }
                    writer.write_all(b"250 OK queued\r\n")?;
                }
                from = None;
                to.clear();
            }
            "RSET" => {
                from = None;
                to.clear();
                writer.write_all(b"250 OK\r\n")?;
            }
            "NOOP" => writer.write_all(b"250 OK\r\n")?,
            "QUIT" => {
                writer.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => writer.write_all(b"502 command not implemented\r\n")?,
        }
    }
}

/// `MAIL FROM:<a@b> SIZE=…` → `a@b`.
fn angle_address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

/// The lines after DATA up to the lone `.`, with the transparency dots removed.
fn read_data(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the client left inside DATA",
            ));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let content = if line.starts_with(b".") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(content);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Speaks to the sink as a client would, byte by byte, and reads the message back.
    #[test]
    fn the_sink_speaks_smtp_and_records_what_it_accepts() {
        let sink = SmtpSink::start();
        let stream = TcpStream::connect(("127.0.0.1", sink.port())).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let answer = |reader: &mut BufReader<TcpStream>| {
            let mut all = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                all.push_str(&line);
                if line.as_bytes().get(3) == Some(&b' ') {
                    return all;
                }
            }
        };
        assert!(answer(&mut reader).starts_with("220"));
        let mut say = |text: &str, reader: &mut BufReader<TcpStream>| {
            writer.write_all(text.as_bytes()).unwrap();
            answer(reader)
        };
        assert!(say("EHLO client\r\n", &mut reader).starts_with("250"));
        assert!(say("MAIL FROM:<a@example.org>\r\n", &mut reader).starts_with("250"));
        assert!(say("RCPT TO:<b@example.org>\r\n", &mut reader).starts_with("250"));
        assert!(say("DATA\r\n", &mut reader).starts_with("354"));
        let message = "From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n\
             Message-ID: <t1@example.org>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n..a dotted line\r\n\
             --b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>\r\n--b--\r\n.\r\n";
        sink.refuse_next(1);
        assert!(say(message, &mut reader).starts_with("451"));
        assert_eq!(sink.refused(), 1);
        assert!(sink.messages().is_empty());
        assert!(say("MAIL FROM:<a@example.org>\r\n", &mut reader).starts_with("250"));
        assert!(say("RCPT TO:<b@example.org>\r\n", &mut reader).starts_with("250"));
        assert!(say("DATA\r\n", &mut reader).starts_with("354"));
        assert!(say(message, &mut reader).starts_with("250"));
        assert!(say("QUIT\r\n", &mut reader).starts_with("221"));
        let got = sink.wait_for(1, Duration::from_secs(5));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].envelope_from, "a@example.org");
        assert_eq!(got[0].recipient(), "b@example.org");
        assert_eq!(got[0].subject(), "Hi");
        assert_eq!(got[0].message_id().as_deref(), Some("t1@example.org"));
        assert!(got[0].is_text_and_html_alternative());
        assert_eq!(got[0].text().trim_end(), ".a dotted line");
        assert_eq!(got[0].html().trim_end(), "<p>hi</p>");
    }
}
