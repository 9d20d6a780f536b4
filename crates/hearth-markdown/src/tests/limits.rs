//! The renderer's limits: time linear in the source, bounded depth, bounded output, and no
//! text lost to flattening. Depth is counted on the parsed output, as a browser builds it.

#[path = "../../tests/support/pathological.rs"]
mod pathological;

use std::time::{Duration, Instant};

use scraper::{ElementRef, Html};

use super::{parse, text_of};
use crate::sanitize;
use crate::{
    plain_text_excerpt, render, render_within, RenderLimits, SafeHtml, MAX_BLOCK_DEPTH,
    MAX_INLINE_DEPTH,
};
use pathological::PATHOLOGICAL;

/// Generous for a debug build on a busy machine; before the limits, the slowest of these
/// inputs took 2.5 to 47 seconds.
const BUDGET: Duration = Duration::from_secs(1);

const BLOCKS: [&str; 3] = ["blockquote", "ul", "ol"];
const INLINES: [&str; 5] = ["em", "strong", "del", "sup", "sub"];

/// The most elements named in `names` that any element of `doc` sits inside (itself included).
fn max_nesting(doc: &Html, names: &[&str]) -> usize {
    doc.root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .map(|el| {
            std::iter::once(el)
                .chain(el.ancestors().filter_map(ElementRef::wrap))
                .filter(|e| names.contains(&e.value().name()))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The words a reader sees, in order.
fn words(html: &SafeHtml) -> Vec<String> {
    text_of(parse(html).root_element())
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn assert_within_limits(name: &str, source: &str, out: &SafeHtml) {
    let max = RenderLimits::DEFAULT.max_output_bytes(source.len());
    assert!(
        out.as_str().len() <= max,
        "{name}: {} bytes of source made {} bytes of HTML, over {max}",
        source.len(),
        out.as_str().len()
    );
    let doc = parse(out);
    let blocks = max_nesting(&doc, &BLOCKS);
    assert!(
        blocks <= MAX_BLOCK_DEPTH,
        "{name}: quotes and lists {blocks} deep"
    );
    let inlines = max_nesting(&doc, &INLINES);
    assert!(
        inlines <= MAX_INLINE_DEPTH,
        "{name}: formatting {inlines} deep"
    );
    assert_eq!(
        sanitize::clean(out.as_str()),
        out.as_str(),
        "{name}: not a fixed point"
    );
}

#[test]
fn pathological_inputs_render_quickly_within_the_limits() {
    let mut slow = Vec::new();
    for case in PATHOLOGICAL {
        let source = case.source();
        assert!(
            (45_000..=110_000).contains(&source.len()),
            "{}: {} bytes",
            case.name,
            source.len()
        );
        let started = Instant::now();
        let out = render(&source);
        let excerpt = plain_text_excerpt(&source, 200);
        let took = started.elapsed();
        if took > BUDGET {
            slow.push(format!("{}: {took:?}", case.name));
        }
        assert!(excerpt.chars().count() <= 201, "{}", case.name);
        assert_within_limits(case.name, &source, &out);
    }
    assert!(slow.is_empty(), "over {BUDGET:?}: {slow:?}");
}

#[test]
fn deep_quotes_are_flattened_into_the_deepest_level_without_losing_text() {
    // A paragraph at every depth from 1 to 30, each closed by a blank line.
    let source: String = (1..=30)
        .map(|depth| format!("{} level{depth}\n\n", ">".repeat(depth)))
        .collect();
    let out = render(&source);
    let expected: Vec<String> = (1..=30).map(|depth| format!("level{depth}")).collect();
    assert_eq!(words(&out), expected, "{out}");
    let doc = parse(&out);
    assert_eq!(max_nesting(&doc, &["blockquote"]), MAX_BLOCK_DEPTH, "{out}");
    // Everything past the limit sits in a quote of the deepest level kept.
    let deepest = super::select(&doc, &["blockquote"; MAX_BLOCK_DEPTH].join(" > "));
    let deepest_text: Vec<String> = deepest
        .iter()
        .map(|q| text_of(*q).trim().to_owned())
        .collect();
    let past_the_limit: Vec<String> = (MAX_BLOCK_DEPTH..=30)
        .map(|depth| format!("level{depth}"))
        .collect();
    assert_eq!(deepest_text, past_the_limit, "{out}");
    assert_within_limits("deep quotes", &source, &out);
}

#[test]
fn deep_lists_are_flattened_without_running_items_together() {
    // Two items at every level, 30 levels deep, tight and then loose.
    for blank in ["", "\n"] {
        let source: String = (0..30)
            .flat_map(|level| {
                let indent = "  ".repeat(level);
                [
                    format!("{indent}- first{level}\n{blank}"),
                    format!("{indent}- second{level}\n{blank}"),
                ]
            })
            .collect();
        let out = render(&source);
        // Each level's list sits in the previous level's second item, so the source's order
        // is the reading order; flattening keeps it and keeps every word apart.
        let expected: Vec<String> = (0..30)
            .flat_map(|level| [format!("first{level}"), format!("second{level}")])
            .collect();
        assert_eq!(words(&out), expected, "{out}");
        let doc = parse(&out);
        assert_eq!(max_nesting(&doc, &["ul"]), MAX_BLOCK_DEPTH, "{out}");
        assert_eq!(max_nesting(&doc, &["li"]), MAX_BLOCK_DEPTH, "{out}");
        assert_within_limits("deep lists", &source, &out);
    }
}

#[test]
fn deep_emphasis_is_flattened_without_losing_text() {
    let source = format!("{}deep{}", "*a _b ".repeat(20), " b_ a*".repeat(20));
    let out = render(&source);
    assert_eq!(
        words(&out),
        source
            .replace(['*', '_'], "")
            .split_whitespace()
            .collect::<Vec<_>>(),
        "{out}"
    );
    assert_eq!(
        max_nesting(&parse(&out), &INLINES),
        MAX_INLINE_DEPTH,
        "{out}"
    );
}

#[test]
fn output_too_large_for_its_source_is_refused_with_a_message() {
    // A header of 100 columns, then rows of one cell each: every row is padded to 100 cells.
    let table = format!(
        "{}|\n{}|\n{}",
        "|a".repeat(100),
        "|-".repeat(100),
        "a\n".repeat(1_000)
    );
    let error = render_within(&table, &RenderLimits::DEFAULT).expect_err("a huge table");
    assert_eq!(
        error.max_output_bytes,
        RenderLimits::DEFAULT.max_output_bytes(table.len())
    );
    assert!(error.to_string().contains("please simplify"), "{error}");

    // Where nobody can simplify it, the source is shown as text, within the same bound.
    let out = render(&table);
    assert_within_limits("huge table", &table, &out);
    let doc = parse(&out);
    assert!(super::select(&doc, "table").is_empty(), "{out}");
    assert_eq!(words(&out), table.split_whitespace().collect::<Vec<_>>());
}

#[test]
fn plain_text_fallback_keeps_lines_and_escapes_markup() {
    let source = format!(
        "<a@b> & <b>x</b>\nsecond line\n\n\nnext paragraph\n{}",
        "<a@b>".repeat(5_000)
    );
    assert!(render_within(&source, &RenderLimits::DEFAULT).is_err());
    let out = render(&source);
    let doc = parse(&out);
    let paragraphs: Vec<String> = super::select(&doc, "p").into_iter().map(text_of).collect();
    assert_eq!(paragraphs.len(), 2);
    assert_eq!(paragraphs[0], "<a@b> & <b>x</b>\nsecond line");
    assert!(paragraphs[1].starts_with("next paragraph\n<a@b><a@b>"));
    assert_eq!(super::select(&doc, "p > br").len(), 2);
    assert!(super::select(&doc, "a, b").is_empty());
    assert_within_limits("fallback", &source, &out);
}

#[test]
fn ordinary_posts_full_of_links_are_not_refused() {
    let links: String = (0..500)
        .map(|i| format!("- https://example.org/page/{i} and <someone{i}@example.org>\n"))
        .collect();
    let quotes = format!(
        "{}\n\n{}",
        "> > > > quoted text\n".repeat(200),
        "| a | b |\n|:-:|--:|\n| 1 | 2 |\n".repeat(100)
    );
    for source in [links, quotes] {
        let out = render_within(&source, &RenderLimits::DEFAULT).expect("within the limits");
        assert_eq!(out, render(&source));
        assert!(
            out.as_str().len() > source.len(),
            "rendered as markup: {out}"
        );
    }
}
