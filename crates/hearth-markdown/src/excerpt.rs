//! Plain-text excerpts of a post, for previews and meta descriptions.

use pulldown_cmark::{Event, TagEnd};

/// Appended when the excerpt had to be cut.
const ELLIPSIS: char = '…';

/// The first `max_chars` characters of the visible text in `events`, with
/// whitespace collapsed and [`ELLIPSIS`] appended if anything was left out.
///
/// `events` are the rewritten ones, so the excerpt shows what a reader of the
/// rendered post sees: alt text instead of images, raw HTML as written.
pub(crate) fn excerpt(events: &[Event<'_>], max_chars: usize) -> String {
    let text = collapse_whitespace(&visible_text(events));
    truncate(&text, max_chars)
}

/// Concatenates the text of `events`, with a space wherever the rendered
/// output would break a line or start a new block, so that words from
/// neighbouring paragraphs or table cells do not run together.
fn visible_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            Event::End(end) if ends_a_block(end) => text.push(' '),
            _ => {}
        }
    }
    text
}

fn ends_a_block(end: &TagEnd) -> bool {
    !matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` to `max_chars` characters (not bytes), dropping any space
/// left dangling before the ellipsis.
fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut excerpt = text[..cut].trim_end().to_owned();
            excerpt.push(ELLIPSIS);
            excerpt
        }
    }
}
