//! The words of a notification mail: a subject, a text body and a simple HTML body (inline
//! styles, no colours of its own but the links', so a client's dark mode reads it), built from
//! notifications already decided for their reader.
//!
//! What a mail may say: who did something and where, with a link. The thread's title and the
//! post's words only outside private groups, or where the member chose to have them; the
//! words of a private message never; a moderators' notice only that there is one (its text may
//! speak of a private group).

use super::super::listing::Decided;
use super::super::Kind;

/// Where the links of a mail point, and whose it is.
pub(crate) struct Frame<'a> {
    pub site_name: &'a str,
    /// The site's address without a trailing slash.
    pub public_url: &'a str,
    pub unsubscribe_url: &'a str,
    /// A digest ("Your daily digest") rather than news as it happens.
    pub digest: Option<&'a str>,
}

/// One notification, as a mail may tell it.
pub(crate) struct Told<'a> {
    pub decided: &'a Decided,
    /// The first post's words (a short plain-text excerpt), when the mail may carry them.
    pub excerpt: Option<String>,
    /// The mail may name the thread and quote it.
    pub words: bool,
}

/// A finished mail's subject and bodies.
pub(crate) struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn plural(count: i32, one: &str, many: &str) -> String {
    if count > 1 {
        format!("{count} {many}")
    } else {
        one.to_owned()
    }
}

/// The sentence that tells of one notification.
pub(crate) fn sentence(told: &Told<'_>) -> String {
    let item = &told.decided.item;
    let who = item.actor.as_deref().unwrap_or("Someone");
    let group = item.group_name.as_deref().unwrap_or("a group");
    let place = match (&item.thread_title, told.words) {
        (Some(title), true) => format!("“{title}”"),
        _ => format!("a thread in {group}"),
    };
    let count = item.count;
    let kind = Kind::parse(item.kind);
    match kind {
        Some(Kind::Reply) => {
            if count > 1 {
                format!("{count} new replies in {place}, the latest from {who}")
            } else {
                format!("{who} replied in {place}")
            }
        }
        Some(Kind::ReplyToYou) => format!("{who} replied to you in {place}"),
        Some(Kind::Mention) => format!("{who} mentioned you in {place}"),
        Some(Kind::WatchedPost) => format!(
            "{} in {place}, the latest from {who}",
            plural(count, "A new post", "new posts")
        ),
        Some(Kind::NewThread) => {
            if count > 1 {
                format!("{count} new threads in {group}")
            } else if told.words {
                format!("{who} started {place} in {group}")
            } else {
                format!("{who} started a thread in {group}")
            }
        }
        Some(Kind::Message) => {
            if count > 1 {
                format!("{count} new private messages, the latest from {who}")
            } else {
                format!("{who} sent you a private message")
            }
        }
        Some(Kind::Reaction) => {
            if count > 1 {
                format!("{count} people reacted to your post in {place}")
            } else {
                // Who reacted is shown to no one, the author included.
                format!("Someone reacted to your post in {place}")
            }
        }
        Some(Kind::Moderation) => "The moderators sent you a notice".to_owned(),
        Some(Kind::JoinRequest) => format!(
            "{} to join {group}",
            plural(count, "Someone asks", "people ask")
        ),
        Some(Kind::CheckIn) => format!(
            "{} waiting in {group}",
            plural(count, "A check-in is", "check-ins are")
        ),
        Some(Kind::MeetingChanged) => format!("A meeting you are going to in {group} changed"),
        Some(Kind::MeetingCancelled) => {
            format!("A meeting you are going to in {group} was cancelled")
        }
        Some(Kind::MeetingReminder) => format!("A meeting in {group} starts soon"),
        None => "Something new".to_owned(),
    }
}

/// Hearth's own words about a meeting, when the mail may carry them.
fn notice_words<'a>(told: &'a Told<'a>) -> Option<&'a str> {
    let kind = Kind::parse(told.decided.item.kind)?;
    let meeting = matches!(
        kind,
        Kind::MeetingChanged | Kind::MeetingCancelled | Kind::MeetingReminder
    );
    (meeting && told.words && !told.decided.item.body.is_empty())
        .then_some(told.decided.item.body.as_str())
}

/// Escapes text for HTML, attributes included.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The mail about `told` (one thread's news, or a digest of everything).
pub(crate) fn compose(frame: &Frame<'_>, told: &[Told<'_>]) -> Composed {
    let site = frame.site_name;
    let base = frame.public_url;
    let subject = match (frame.digest, told) {
        (Some(digest), _) => format!("{digest} from {site}"),
        (None, [one]) => format!("{} · {site}", sentence(one)),
        (None, _) => format!("{} new notifications · {site}", told.len()),
    };
    let link = |t: &Told<'_>| {
        let path = t.decided.item.link.as_deref().unwrap_or("/notifications");
        format!("{base}{path}")
    };
    let settings = format!("{base}/settings#mail");
    let all = format!("{base}/notifications");

    let mut text = String::new();
    text.push_str(match frame.digest {
        Some(_) => "Here is what happened while you were away:\n\n",
        None => "There is something new for you:\n\n",
    });
    for t in told {
        text.push_str(&format!("- {}\n  {}\n", sentence(t), link(t)));
        if let Some(words) = notice_words(t) {
            text.push_str(&format!("  {words}\n"));
        }
        if let Some(excerpt) = &t.excerpt {
            text.push_str(&format!("  “{excerpt}”\n"));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "All your notifications: {all}\n\n-- \nYou get this because you asked {site} to e-mail \
         your notifications. Change how often, or quiet hours: {settings}\nStop these e-mails: \
         {unsubscribe}\n",
        unsubscribe = frame.unsubscribe_url
    ));

    let mut items = String::new();
    for t in told {
        items.push_str(&format!(
            "<li style=\"margin:0 0 14px 0;\"><a href=\"{href}\">{sentence}</a>",
            href = escape(&link(t)),
            sentence = escape(&sentence(t)),
        ));
        if let Some(words) = notice_words(t) {
            items.push_str(&format!("<br>{}", escape(words)));
        }
        if let Some(excerpt) = &t.excerpt {
            items.push_str(&format!(
                "<br><span style=\"opacity:0.8;\">“{}”</span>",
                escape(excerpt)
            ));
        }
        items.push_str("</li>\n");
    }
    let opening = match frame.digest {
        Some(_) => "Here is what happened while you were away:",
        None => "There is something new for you:",
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"supported-color-schemes\" content=\"light dark\">\n\
         <title>{subject}</title>\n</head>\n\
         <body style=\"margin:0;padding:16px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;\">\n\
         <div style=\"max-width:36em;margin:0 auto;\">\n\
         <p style=\"margin:0 0 16px 0;\">{opening}</p>\n\
         <ul style=\"margin:0 0 16px 0;padding-left:20px;\">\n{items}</ul>\n\
         <p style=\"margin:0 0 24px 0;\"><a href=\"{all}\">All your notifications</a></p>\n\
         <hr style=\"border:0;border-top:1px solid currentColor;opacity:0.3;margin:0 0 12px 0;\">\n\
         <p style=\"margin:0;font-size:14px;opacity:0.8;\">You get this because you asked {site_html} to e-mail your notifications. \
         <a href=\"{settings}\">Change how often, or quiet hours</a> · <a href=\"{unsubscribe}\">Stop these e-mails</a></p>\n\
         </div>\n</body>\n</html>\n",
        subject = escape(&subject),
        all = escape(&all),
        settings = escape(&settings),
        unsubscribe = escape(frame.unsubscribe_url),
        site_html = escape(site),
    );
    Composed {
        subject,
        text,
        html,
    }
}
