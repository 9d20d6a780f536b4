//! Markdown source in, sanitized HTML out.
//!
//! Hearth stores every post three ways: the member's Markdown source, the HTML
//! produced by [`render`], and the [`RENDERER_VERSION`] that produced it. This
//! crate is the only place that HTML is made, and [`SafeHtml`] is the proof:
//! nothing outside this crate can construct one, so a template that only
//! accepts `SafeHtml` cannot be handed unsanitized markup by mistake.
//!
//! Rendering is CommonMark plus tables, strikethrough, task lists and bare
//! `http(s)://` autolinks. Raw HTML is shown as text, images become plain
//! links (so a reader's IP address never leaks to a third-party host),
//! headings are demoted so a post cannot out-shout the page, and the result
//! is passed through a strict [`ammonia`] allow-list as defence in depth.

use std::fmt;

use pulldown_cmark::{Options, Parser};

mod events;
mod excerpt;
mod linkify;
mod sanitize;

#[cfg(test)]
mod tests;

/// Version of the Markdown-to-HTML pipeline.
///
/// Bump this whenever the HTML produced for the same source could change
/// (new syntax, a different allow-list, a pulldown-cmark or ammonia upgrade
/// that alters output). Posts store the version they were rendered with, and
/// `hearth rerender` re-renders every post whose stored version is older.
pub const RENDERER_VERSION: i32 = 1;

/// HTML that came out of this crate's sanitizer.
///
/// The field is private and there is deliberately no `From<String>`, no
/// `Deserialize` and no public constructor: the only way to obtain a
/// `SafeHtml` is [`render`]. Code that must emit member-written markup can
/// therefore demand this type and be sure it was sanitized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// The sanitized HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sanitized HTML as an owned string, for storing it.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SafeHtml {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for SafeHtml {
    /// Serializes as the plain HTML string, so templates and JSON see markup,
    /// not a wrapper object.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Renders a post's Markdown source to sanitized HTML.
///
/// This cannot fail: any input, however hostile, yields HTML that contains
/// only the allow-listed tags (`p`, `br`, `hr`, `h3`–`h6`, `strong`, `em`,
/// `del`, `s`, `code`, `pre`, `blockquote`, `ul`, `ol`, `li`, `a`, `table`,
/// `thead`, `tbody`, `tr`, `th`, `td`, `sup`, `sub`), only the attributes
/// `a[href]`, `a[rel]` and `ol[start]`, and only `http`, `https` and `mailto`
/// link targets. Every link carries `rel="nofollow ugc noopener noreferrer"`.
pub fn render(source: &str) -> SafeHtml {
    let events = events::rewrite(Parser::new_ext(source, parser_options()));
    // Markup is usually a little longer than its source; this avoids most
    // reallocations without guessing high.
    let mut html = String::with_capacity(source.len() + source.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    SafeHtml(sanitize::clean(&html))
}

/// Runs `html` through the allow-list once more. For tests and the fuzz target, which check
/// that [`render`]'s output is a fixed point of the sanitizer. It returns a plain `String`, so
/// it is no way around [`render`] for making a [`SafeHtml`].
#[doc(hidden)]
pub fn sanitize_again(html: &str) -> String {
    sanitize::clean(html)
}

/// The first `max_chars` characters of a post's visible text, for previews
/// and meta descriptions.
///
/// Markdown syntax is dropped, whitespace is collapsed to single spaces, and
/// `…` is appended when the text was cut. The result is plain text, not
/// HTML: the caller must escape it like any other text.
pub fn plain_text_excerpt(source: &str, max_chars: usize) -> String {
    let events = events::rewrite(Parser::new_ext(source, parser_options()));
    excerpt::excerpt(&events, max_chars)
}

/// The Markdown dialect Hearth accepts.
///
/// Footnotes, heading attributes, math, metadata blocks and the like are left
/// off: each would add syntax members do not expect and markup the
/// allow-list would have to admit.
fn parser_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}
