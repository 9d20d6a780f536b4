//! Rewriting pulldown-cmark events before they are turned into HTML.
//!
//! Policy is applied here, on the parsed document, rather than on the HTML
//! afterwards: at this level "an image", "raw HTML" or "text inside a link"
//! are unambiguous facts instead of patterns to be recognised in markup.

use pulldown_cmark::{Alignment, CowStr, Event, HeadingLevel, LinkType, Tag, TagEnd};

use crate::linkify;
use crate::mentions::{self, KnownNames, References};
use crate::RenderLimits;

/// Text shown in place of a task-list checkbox. A real `<input>` would need
/// the sanitizer to allow form controls, which it must not.
const TASK_DONE: &str = "\u{2611} ";
const TASK_OPEN: &str = "\u{2610} ";

/// Applies Hearth's rendering policy to a stream of Markdown events:
///
/// - headings are demoted two levels (h1→h3 … h4–h6→h6);
/// - raw HTML becomes literal text;
/// - images become links to the image, labelled with the alt text;
/// - task-list markers become ballot-box characters;
/// - bare `http(s)://` URLs in ordinary text become links;
/// - block quotes and lists nested deeper than [`RenderLimits::max_block_depth`], and
///   emphasis, strong, strikethrough, superscript and subscript nested deeper than
///   [`RenderLimits::max_inline_depth`], lose their tags but keep their content, which joins
///   the deepest level kept (the items of a list too deep are separated by line breaks);
/// - table columns lose their alignment (the sanitizer would drop the `style` anyway);
/// - `@name` in ordinary text becomes a link to the member's profile when `known` has the
///   name (see [`mentions`]).
///
/// Returns the events and what the source refers to (its mentions and quoted posts).
pub(crate) fn rewrite<'a>(
    events: impl Iterator<Item = Event<'a>>,
    limits: &RenderLimits,
    known: &KnownNames,
) -> (Vec<Event<'a>>, References) {
    let mut rewriter = Rewriter {
        max_block_depth: limits.max_block_depth,
        max_inline_depth: limits.max_inline_depth,
        known,
        out: Vec::new(),
        text: String::new(),
        link_depth: 0,
        code_block_depth: 0,
        html_block_lines: None,
        image: None,
        blocks: Vec::new(),
        block_depth: 0,
        inlines: Vec::new(),
        inline_depth: 0,
        quote_depth: 0,
        references: References::default(),
    };
    for event in events {
        rewriter.push(event);
    }
    rewriter.finish()
}

/// An image whose alt text is still being collected.
struct PendingImage<'a> {
    dest_url: CowStr<'a>,
    alt: String,
    /// Images may nest inside an image's alt text; this counts how deep.
    depth: usize,
}

struct Rewriter<'a, 'k> {
    out: Vec<Event<'a>>,
    /// Consecutive text waiting to be scanned for URLs. pulldown-cmark may
    /// split one run of text into several events, so a URL can only be found
    /// once the pieces are joined.
    text: String,
    /// Open links. Nothing inside a link may become another link: nested
    /// anchors are invalid HTML that the browser would restructure.
    link_depth: usize,
    /// Open code blocks, whose text is shown verbatim and never linked.
    code_block_depth: usize,
    /// Lines of the current raw HTML block emitted so far; `None` outside
    /// such a block.
    html_block_lines: Option<usize>,
    image: Option<PendingImage<'a>>,
    /// One entry per open block quote, list and list item: whether its tags were kept.
    blocks: Vec<bool>,
    /// Block quotes and lists open and kept.
    block_depth: usize,
    max_block_depth: usize,
    /// One entry per open inline formatting tag: whether it was kept.
    inlines: Vec<bool>,
    /// Inline formatting tags open and kept.
    inline_depth: usize,
    max_inline_depth: usize,
    /// Open block quotes, kept or flattened: a `/p/{id}` link inside one is a quote's
    /// attribution, a mention inside one is someone else's words.
    quote_depth: usize,
    /// The names `@name` may link to.
    known: &'k KnownNames,
    references: References,
}

impl<'a> Rewriter<'a, '_> {
    fn push(&mut self, event: Event<'a>) {
        if self.image.is_some() {
            self.push_in_image(event);
            return;
        }
        match event {
            Event::Text(text) if self.link_depth == 0 && self.code_block_depth == 0 => {
                self.text.push_str(&text);
            }
            other => {
                self.flush_text();
                self.push_structural(other);
            }
        }
    }

    fn finish(mut self) -> (Vec<Event<'a>>, References) {
        self.flush_text();
        (self.out, self.references)
    }

    fn push_structural(&mut self, event: Event<'a>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                // Heading ids, classes and attributes are dropped: the
                // extension that produces them is off, and ids could clash
                // with the page's own.
                self.out.push(Event::Start(Tag::Heading {
                    level: demote(level),
                    id: None,
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
            }
            Event::End(TagEnd::Heading(level)) => {
                self.out.push(Event::End(TagEnd::Heading(demote(level))));
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                self.image = Some(PendingImage {
                    dest_url,
                    alt: String::new(),
                    depth: 0,
                });
            }
            Event::Start(Tag::HtmlBlock) => {
                // The block's source is shown as a paragraph of text.
                self.html_block_lines = Some(0);
                self.out.push(Event::Start(Tag::Paragraph));
            }
            Event::End(TagEnd::HtmlBlock) => {
                self.html_block_lines = None;
                self.out.push(Event::End(TagEnd::Paragraph));
            }
            Event::Html(html) => self.push_html_line(html),
            Event::InlineHtml(html) => self.out.push(Event::Text(html)),
            Event::TaskListMarker(done) => {
                let marker = if done { TASK_DONE } else { TASK_OPEN };
                self.out.push(Event::Text(marker.into()));
            }
            Event::Start(Tag::Table(alignments)) => {
                // Alignment would become `style` attributes, many bytes per cell that the
                // sanitizer drops again; leaving them out keeps the output bound honest.
                let none = vec![Alignment::None; alignments.len()];
                self.out.push(Event::Start(Tag::Table(none)));
            }
            Event::Start(Tag::BlockQuote(_) | Tag::List(_)) => {
                if matches!(event, Event::Start(Tag::BlockQuote(_))) {
                    self.quote_depth += 1;
                }
                let keep = self.block_depth < self.max_block_depth;
                self.blocks.push(keep);
                if keep {
                    self.block_depth += 1;
                    self.out.push(event);
                }
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::List(_)) => {
                if matches!(event, Event::End(TagEnd::BlockQuote(_))) {
                    self.quote_depth = self.quote_depth.saturating_sub(1);
                }
                if self.blocks.pop().unwrap_or(true) {
                    self.block_depth = self.block_depth.saturating_sub(1);
                    self.out.push(event);
                }
            }
            Event::Start(Tag::Item) => {
                // An item is kept exactly when its list was.
                let keep = self.blocks.last().copied().unwrap_or(true);
                self.blocks.push(keep);
                if keep {
                    self.out.push(event);
                } else if self.out.last().is_some_and(is_inline) {
                    // The items of a flattened list would otherwise run together.
                    self.out.push(Event::HardBreak);
                }
            }
            Event::End(TagEnd::Item) => {
                if self.blocks.pop().unwrap_or(true) {
                    self.out.push(event);
                }
            }
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript,
            ) => {
                let keep = self.inline_depth < self.max_inline_depth;
                self.inlines.push(keep);
                if keep {
                    self.inline_depth += 1;
                    self.out.push(event);
                }
            }
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript,
            ) => {
                if self.inlines.pop().unwrap_or(true) {
                    self.inline_depth = self.inline_depth.saturating_sub(1);
                    self.out.push(event);
                }
            }
            other => {
                self.track_nesting(&other);
                self.out.push(other);
            }
        }
    }

    /// Keeps the link and code-block depths current.
    fn track_nesting(&mut self, event: &Event<'a>) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => {
                if self.quote_depth > 0 {
                    self.references.note_quote_link(dest_url);
                }
                self.link_depth += 1;
            }
            Event::End(TagEnd::Link) => self.link_depth = self.link_depth.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => self.code_block_depth += 1,
            Event::End(TagEnd::CodeBlock) => {
                self.code_block_depth = self.code_block_depth.saturating_sub(1);
            }
            _ => {}
        }
    }

    /// Emits one line of a raw HTML block as text. Lines arrive with their
    /// newline attached; they are joined with soft breaks so the block reads
    /// like any other paragraph.
    fn push_html_line(&mut self, html: CowStr<'a>) {
        let line = match html {
            CowStr::Borrowed(s) => CowStr::Borrowed(trim_newline(s)),
            other => CowStr::from(trim_newline(&other).to_owned()),
        };
        // Html events outside a block do not occur in practice; if they did,
        // plain text would still be the right rendering.
        if let Some(lines) = &mut self.html_block_lines {
            if *lines > 0 {
                self.out.push(Event::SoftBreak);
            }
            *lines += 1;
        }
        self.out.push(Event::Text(line));
    }

    /// Collects an image's alt text the way pulldown-cmark would for the
    /// `alt` attribute, until the image ends.
    fn push_in_image(&mut self, event: Event<'a>) {
        let Some(image) = &mut self.image else {
            return;
        };
        match event {
            Event::Start(_) => image.depth += 1,
            Event::End(_) if image.depth > 0 => image.depth -= 1,
            Event::End(_) => self.finish_image(),
            Event::Text(text) | Event::Code(text) | Event::InlineHtml(text) => {
                image.alt.push_str(&text);
            }
            Event::SoftBreak | Event::HardBreak => image.alt.push(' '),
            _ => {}
        }
    }

    /// Replaces the finished image with a link to it, so the reader chooses
    /// whether to contact the image's host. Inside another link there can be
    /// no second link, so only the label is kept.
    fn finish_image(&mut self) {
        let Some(image) = self.image.take() else {
            return;
        };
        let label: CowStr<'a> = if image.alt.trim().is_empty() {
            image.dest_url.clone()
        } else {
            image.alt.into()
        };
        if self.link_depth > 0 {
            self.out.push(Event::Text(label));
            return;
        }
        self.out.push(Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: image.dest_url,
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        self.out.push(Event::Text(label));
        self.out.push(Event::End(TagEnd::Link));
    }

    /// Emits the collected text, turning bare URLs into links and known `@name`s into links
    /// to their profiles.
    fn flush_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let mut last = 0;
        for url in linkify::find_urls(&text) {
            if last < url.start {
                self.push_words(&text[last..url.start]);
            }
            let url_text: CowStr<'a> = text[url.clone()].to_owned().into();
            self.push_link(LinkType::Autolink, url_text.clone(), url_text);
            last = url.end;
        }
        if last < text.len() {
            self.push_words(&text[last..]);
        }
    }

    /// Emits text that holds no URL, linking the mentions of known members. Every mention
    /// found is noted, known or not: the caller looks the names up from that list.
    fn push_words(&mut self, text: &str) {
        let mut last = 0;
        for mention in mentions::find_mentions(text) {
            let written = &text[mention.start + 1..mention.end];
            let first_ones = self.references.note_mention(written, self.quote_depth > 0);
            let Some(username) = self.known.username_for(written).filter(|_| first_ones) else {
                continue;
            };
            if last < mention.start {
                self.out
                    .push(Event::Text(text[last..mention.start].to_owned().into()));
            }
            let dest_url = mentions::profile_link(username).into();
            let label = text[mention.clone()].to_owned().into();
            self.push_link(LinkType::Inline, dest_url, label);
            last = mention.end;
        }
        if last < text.len() {
            self.out.push(Event::Text(text[last..].to_owned().into()));
        }
    }

    fn push_link(&mut self, link_type: LinkType, dest_url: CowStr<'a>, label: CowStr<'a>) {
        self.out.push(Event::Start(Tag::Link {
            link_type,
            dest_url,
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        self.out.push(Event::Text(label));
        self.out.push(Event::End(TagEnd::Link));
    }
}

/// Maps a post's heading level to the level it is shown at. The page owns
/// h1 and h2; a post's top-level heading starts at h3.
fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        HeadingLevel::H4 | HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

/// Whether `event` ends in the middle of a line of text.
fn is_inline(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::Text(_)
            | Event::Code(_)
            | Event::SoftBreak
            | Event::End(
                TagEnd::Emphasis
                    | TagEnd::Strong
                    | TagEnd::Strikethrough
                    | TagEnd::Superscript
                    | TagEnd::Subscript
                    | TagEnd::Link
            )
    )
}

fn trim_newline(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}
