//! Any input at all: the renderer's output is a fixed point of its sanitizer and holds nothing
//! that can run script — only allow-listed elements, only `href`/`rel`/`start` attributes, and
//! only http, https and mailto links — and it stays within the renderer's limits: no more
//! markup than `RenderLimits::max_output_bytes` allows, quotes and lists nested no deeper than
//! `MAX_BLOCK_DEPTH`, formatting no deeper than `MAX_INLINE_DEPTH`.
//!
//! The input is either text as it is, or a short piece repeated many times around the
//! fuzzer's text: libFuzzer's inputs are a few KB, and the inputs that make a renderer slow or
//! its output huge are long runs of one thing. The pieces include the known pathological ones
//! (`tests/support/pathological.rs`). Run with `-timeout=2` so a slow input is reported too.
#![no_main]

// Only the pieces are used here; the unit tests use the full-size sources.
#[allow(dead_code)]
#[path = "../../tests/support/pathological.rs"]
mod pathological;

use hearth_markdown::{RenderLimits, MAX_BLOCK_DEPTH, MAX_INLINE_DEPTH};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use scraper::{ElementRef, Html};

/// The largest source built from a repeated piece: twice a post's largest size.
const MAX_SOURCE_BYTES: usize = 100_000;

const ALLOWED_TAGS: &[&str] = &[
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol",
    "li", "a", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
];

const BLOCKS: &[&str] = &["blockquote", "ul", "ol"];
const INLINES: &[&str] = &["em", "strong", "del", "sup", "sub"];

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// The text itself.
    Text(&'a str),
    /// `piece` repeated `times` times between `before` and `after`.
    Repeated {
        before: &'a str,
        piece: &'a str,
        times: u16,
        after: &'a str,
    },
    /// One of the known pathological inputs, `times` times, with the fuzzer's text around it.
    Known {
        which: u8,
        times: u16,
        before: &'a str,
        after: &'a str,
    },
}

impl Input<'_> {
    fn source(&self) -> String {
        match *self {
            Input::Text(text) => text.to_owned(),
            Input::Repeated { before, piece, times, after } => repeated(before, piece, times, after),
            Input::Known { which, times, before, after } => {
                let known = &pathological::PATHOLOGICAL[usize::from(which) % pathological::PATHOLOGICAL.len()];
                let inner = repeated(known.before, known.piece, times, known.after);
                format!("{before}{inner}{after}")
            }
        }
    }
}

/// `piece` repeated up to `times` times, so that the whole stays within [`MAX_SOURCE_BYTES`].
fn repeated(before: &str, piece: &str, times: u16, after: &str) -> String {
    let room = MAX_SOURCE_BYTES.saturating_sub(before.len() + after.len());
    let times = if piece.is_empty() { 0 } else { usize::from(times).min(room / piece.len()) };
    let mut source = String::with_capacity(before.len() + piece.len() * times + after.len());
    source.push_str(before);
    for _ in 0..times {
        source.push_str(piece);
    }
    source.push_str(after);
    source
}

fn scheme_is_safe(href: &str) -> bool {
    let compact: String = href.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let lowered = compact.to_ascii_lowercase();
    ["http://", "https://", "mailto:"].iter().any(|scheme| lowered.starts_with(scheme))
}

/// How many elements named in `names` `element` sits inside, itself included.
fn nesting(element: ElementRef<'_>, names: &[&str]) -> usize {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .filter(|e| names.contains(&e.value().name()))
        .count()
}

fuzz_target!(|input: Input<'_>| {
    let source = input.source();
    let html = hearth_markdown::render(&source);
    let max_bytes = RenderLimits::DEFAULT.max_output_bytes(source.len());
    assert!(html.as_str().len() <= max_bytes, "{} bytes of source made {} of HTML", source.len(), html.as_str().len());
    if let Ok(within) = hearth_markdown::render_within(&source, &RenderLimits::DEFAULT) {
        assert_eq!(within, html, "render differs from render_within within the limits");
    }
    assert_eq!(hearth_markdown::sanitize_again(html.as_str()), html.as_str(), "output is not a fixed point");
    let fragment = Html::parse_fragment(html.as_str());
    for element in fragment.root_element().descendants().filter_map(ElementRef::wrap) {
        let name = element.value().name();
        if name == "html" {
            continue;
        }
        assert!(ALLOWED_TAGS.contains(&name), "element <{name}>");
        assert!(nesting(element, BLOCKS) <= MAX_BLOCK_DEPTH, "quotes and lists too deep");
        assert!(nesting(element, INLINES) <= MAX_INLINE_DEPTH, "formatting too deep");
        for (attribute, value) in element.value().attrs() {
            match (name, attribute) {
                ("a", "href") => assert!(scheme_is_safe(value), "unsafe link {value:?}"),
                ("a", "rel") | ("ol", "start") => {}
                _ => panic!("attribute {attribute} on <{name}>"),
            }
        }
    }
});
