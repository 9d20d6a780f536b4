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
//!
//! # Limits
//!
//! A post cannot make the renderer slow or its HTML large ([`RenderLimits::DEFAULT`]):
//!
//! - **Depth.** Block quotes and lists nest at most [`MAX_BLOCK_DEPTH`] levels, emphasis and
//!   the like [`MAX_INLINE_DEPTH`]. Deeper levels are flattened into the deepest one kept:
//!   their tags go, their text stays (the items of a list too deep are separated by line
//!   breaks). The HTML sanitizer's work per element grows with the depth, so this is also what
//!   keeps rendering linear.
//! - **Size.** The HTML is at most [`RenderLimits::max_output_bytes`] of the source: eight
//!   times its length plus 16 KiB, which ordinary posts, even ones full of links, stay far
//!   below. [`render_within`] refuses a source past it with [`TooComplex`], for the forms
//!   where a member can simplify their post; [`render`] shows such a source as plain text
//!   instead, which is never larger than five times the source.
//! - **Time.** Rendering is linear in the source: linkify reads each character a bounded
//!   number of times, and pulldown-cmark bounds what reference links and short table rows
//!   expand to. The unit tests render the classic pathological inputs within a budget.

use std::fmt;

use pulldown_cmark::{Options, Parser};

mod events;
mod excerpt;
mod html_text;
mod linkify;
mod mentions;
mod sanitize;

pub use mentions::{post_link, KnownNames, Mention, References, MAX_MENTIONS, MAX_QUOTED_POSTS};

#[cfg(test)]
mod tests;

/// Version of the Markdown-to-HTML pipeline.
///
/// Bump this whenever the HTML produced for the same source could change
/// (new syntax, a different allow-list, a pulldown-cmark or ammonia upgrade
/// that alters output). Posts store the version they were rendered with, and
/// `hearth rerender` re-renders every post whose stored version is older.
///
/// Version 2 bounds nesting depth and output size (see [Limits](crate#limits)). Version 3
/// links `@name` to the profiles of known members ([`render_post`]) and keeps links to the
/// site's own posts and profiles (`/p/{id}`, `/u/{name}`), which a quote's attribution uses.
pub const RENDERER_VERSION: i32 = 3;

/// Block quotes and lists nested deeper than this are flattened into the deepest level kept.
pub const MAX_BLOCK_DEPTH: usize = 10;

/// Emphasis, strong, strikethrough, superscript and subscript nested deeper than this lose
/// their tags; their text stays.
pub const MAX_INLINE_DEPTH: usize = 10;

/// How much work and markup one source may cost. The limits are part of what
/// [`RENDERER_VERSION`] versions: stored HTML must not depend on how a server is configured,
/// so these are constants rather than settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Block quotes and lists nested deeper than this are flattened.
    pub max_block_depth: usize,
    /// Inline formatting nested deeper than this is flattened.
    pub max_inline_depth: usize,
    /// The HTML may be this many bytes for each byte of source…
    pub output_bytes_per_source_byte: usize,
    /// …plus this many, so that a short post may still be a link or two.
    pub output_allowance_bytes: usize,
}

impl RenderLimits {
    /// The limits every post, bio, agenda and set of ground rules is rendered with.
    pub const DEFAULT: RenderLimits = RenderLimits {
        max_block_depth: MAX_BLOCK_DEPTH,
        max_inline_depth: MAX_INLINE_DEPTH,
        output_bytes_per_source_byte: 8,
        output_allowance_bytes: 16 * 1024,
    };

    /// The most HTML a source of `source_bytes` bytes may render to.
    pub fn max_output_bytes(&self, source_bytes: usize) -> usize {
        source_bytes
            .saturating_mul(self.output_bytes_per_source_byte)
            .saturating_add(self.output_allowance_bytes)
    }
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits::DEFAULT
    }
}

/// A source whose HTML would be larger than [`RenderLimits::max_output_bytes`] allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooComplex {
    /// The most HTML this source could have rendered to.
    pub max_output_bytes: usize,
}

impl fmt::Display for TooComplex {
    /// A sentence for the member who wrote the source: what to change, not how it is counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "this post is too complex to show; please simplify its quotes, lists, tables and links",
        )
    }
}

impl std::error::Error for TooComplex {}

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
///
/// Within [`RenderLimits::DEFAULT`]; a source whose HTML would be larger is shown as plain
/// text (its lines and paragraphs kept, nothing formatted), so the output is never larger
/// than [`RenderLimits::max_output_bytes`] either way. Where the author can still change the
/// source, use [`render_within`] and show them the error instead.
pub fn render(source: &str) -> SafeHtml {
    render_within(source, &RenderLimits::DEFAULT).unwrap_or_else(|_| plain_text(source))
}

/// Renders like [`render`], or refuses a source whose HTML would be larger than
/// `limits` allow. The work done before refusing is bounded by that size too: the HTML is
/// written into a buffer that stops taking more once it is full.
pub fn render_within(source: &str, limits: &RenderLimits) -> Result<SafeHtml, TooComplex> {
    render_post_within(source, limits, &KnownNames::new())
}

/// Renders a post like [`render`], linking each `@name` that `known` holds to that member's
/// profile (`/u/{username}`); every other `@name` stays text. `known` comes from looking up
/// the names [`references`] found in the same source.
pub fn render_post(source: &str, known: &KnownNames) -> SafeHtml {
    render_post_within(source, &RenderLimits::DEFAULT, known).unwrap_or_else(|_| plain_text(source))
}

/// [`render_post`] within `limits`, refusing like [`render_within`].
pub fn render_post_within(
    source: &str,
    limits: &RenderLimits,
    known: &KnownNames,
) -> Result<SafeHtml, TooComplex> {
    let max_output_bytes = limits.max_output_bytes(source.len());
    let too_complex = TooComplex { max_output_bytes };
    let (events, _) = events::rewrite(Parser::new_ext(source, parser_options()), limits, known);
    let mut html = BoundedHtml {
        html: String::with_capacity(source.len() + source.len() / 2),
        max_bytes: max_output_bytes,
    };
    pulldown_cmark::html::write_html_fmt(&mut html, events.into_iter())
        .map_err(|_| too_complex.clone())?;
    let clean = sanitize::clean(&html.html);
    if clean.len() > max_output_bytes {
        return Err(too_complex);
    }
    Ok(SafeHtml(clean))
}

/// Markup being written that refuses to grow past `max_bytes`, so that a source that would
/// render too large stops being rendered as soon as that is known.
struct BoundedHtml {
    html: String,
    max_bytes: usize,
}

impl fmt::Write for BoundedHtml {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.html.len() + s.len() > self.max_bytes {
            return Err(fmt::Error);
        }
        self.html.push_str(s);
        Ok(())
    }
}

/// `source` as escaped text: a paragraph for each run of non-blank lines, its lines joined by
/// line breaks. At most five bytes of markup for each byte of source (`&` becomes `&amp;`, a
/// newline `<br>\n`), plus the first paragraph's tags.
fn plain_text(source: &str) -> SafeHtml {
    let mut html = String::with_capacity(source.len() + source.len() / 4 + 8);
    let mut in_paragraph = false;
    for line in source.lines() {
        if line.trim().is_empty() {
            if in_paragraph {
                html.push_str("</p>\n");
                in_paragraph = false;
            }
            continue;
        }
        html.push_str(if in_paragraph { "<br>\n" } else { "<p>" });
        in_paragraph = true;
        for c in line.chars() {
            match c {
                '&' => html.push_str("&amp;"),
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                c => html.push(c),
            }
        }
    }
    if in_paragraph {
        html.push_str("</p>\n");
    }
    SafeHtml(sanitize::clean(&html))
}

/// Runs `html` through the allow-list once more. For tests and the fuzz target, which check
/// that [`render`]'s output is a fixed point of the sanitizer. It returns a plain `String`, so
/// it is no way around [`render`] for making a [`SafeHtml`].
#[doc(hidden)]
pub fn sanitize_again(html: &str) -> String {
    sanitize::clean(html)
}

pub use html_text::text_of_html;

/// The first `max_chars` characters of a post's visible text, for previews
/// and meta descriptions.
///
/// Markdown syntax is dropped, whitespace is collapsed to single spaces, and
/// `…` is appended when the text was cut. The result is plain text, not
/// HTML: the caller must escape it like any other text.
pub fn plain_text_excerpt(source: &str, max_chars: usize) -> String {
    let (events, _) = events::rewrite(
        Parser::new_ext(source, parser_options()),
        &RenderLimits::DEFAULT,
        &KnownNames::new(),
    );
    excerpt::excerpt(&events, max_chars)
}

/// The names `source` mentions (`@name` in ordinary text, not in code or links) and the posts
/// it quotes (a `/p/{id}` link inside a block quote), found exactly as [`render_post`] finds
/// them. Bounded by [`MAX_MENTIONS`] and [`MAX_QUOTED_POSTS`].
pub fn references(source: &str) -> References {
    let (_, references) = events::rewrite(
        Parser::new_ext(source, parser_options()),
        &RenderLimits::DEFAULT,
        &KnownNames::new(),
    );
    references
}

/// The Markdown dialect Hearth accepts.
///
/// Footnotes, heading attributes, math, metadata blocks and the like are left
/// off: each would add syntax members do not expect and markup the
/// allow-list would have to admit.
fn parser_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}
