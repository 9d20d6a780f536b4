//! Sources that once made a Markdown renderer slow or its output huge: Hearth's own findings
//! (a bare URL followed by `)`s, deep quotes and lists) and the classic ones from other
//! renderers' advisories (runs of `[`, `*`, `_`, backticks or `<`, many reference
//! definitions, tables with short rows, huge lines, many entities).
//!
//! Included (via `#[path]`) by the crate's unit tests, which render each one within a time
//! budget, and by the fuzz target, which mixes them with its own input.

/// A source made of `piece` repeated `times` times between `before` and `after`.
pub struct Pathological {
    pub name: &'static str,
    pub before: &'static str,
    pub piece: &'static str,
    pub times: usize,
    pub after: &'static str,
}

impl Pathological {
    /// The source, with `piece` repeated `times` times.
    pub fn source_with(&self, times: usize) -> String {
        let mut source =
            String::with_capacity(self.before.len() + self.piece.len() * times + self.after.len());
        source.push_str(self.before);
        for _ in 0..times {
            source.push_str(self.piece);
        }
        source.push_str(self.after);
        source
    }

    /// The full-size source, about 50 to 100 KB.
    pub fn source(&self) -> String {
        self.source_with(self.times)
    }
}

const fn p(
    name: &'static str,
    before: &'static str,
    piece: &'static str,
    times: usize,
    after: &'static str,
) -> Pathological {
    Pathological {
        name,
        before,
        piece,
        times,
        after,
    }
}

/// About 50 KB each, unless the name says otherwise.
pub const PATHOLOGICAL: &[Pathological] = &[
    // Bare URLs: trimming their end, and candidates that fail.
    p("url then closing parens", "see http://a.org/", ")", 50_000, ""),
    p("url then dots and parens", "http://a.org/", ".)", 25_000, ""),
    p("url then semicolons and parens", "http://a.org/x", ";)", 25_000, ""),
    p("url then entities", "http://a.org/", "&a;", 16_000, ""),
    p("url then one long entity name", "http://a.org/&", "a", 50_000, ";"),
    p("schemes without hosts", "", "(http://", 6_000, ""),
    p("hosts that fail late", "", "_http://a!x", 4_500, ""),
    p("hosts that fail at the end", "", "_http://a!", 5_000, "x"),
    p("many bare urls", "", "http://a ", 5_500, ""),
    p("one url of 50 KB", "http://", "x", 50_000, ""),
    // Depth.
    p("49,000 nested quotes", "", ">", 49_000, " deep"),
    p("nested quotes with spaces", "", "> ", 25_000, "deep"),
    p("paragraphs 100 quotes deep", "", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>> x\n\n", 480, ""),
    p("nested bullet lists", "", "- ", 25_000, "deep"),
    p("nested ordered lists", "", "1. ", 16_000, "deep"),
    p("quotes and lists alternating", "", "> - ", 12_500, "deep"),
    p("empty quotes", "", ">\n\n", 16_000, ""),
    p("nested emphasis", "", "*_", 25_000, "deep"),
    p("nested strong", "", "**a ", 12_500, ""),
    // Delimiter runs.
    p("open brackets", "", "[", 50_000, ""),
    p("brackets then one closer", "", "[", 50_000, "](x)"),
    p("bracketed words", "", "[a ", 16_000, ""),
    p("link openings", "", "[a](", 12_500, ""),
    p("empty links", "", "[](", 16_000, ""),
    p("image openings", "", "![", 25_000, ""),
    p("link destination parens", "[a](", "(", 50_000, ""),
    p("stars", "", "*", 50_000, ""),
    p("star words", "", "*a ", 16_000, ""),
    p("underscores", "", "_", 50_000, ""),
    p("underscore words", "", "_a ", 16_000, ""),
    p("tildes", "", "~~a ", 12_500, ""),
    p("backticks", "", "`", 50_000, ""),
    p("backtick runs of growing length", "", "` a ``", 8_000, ""),
    p("angle brackets", "", "<", 50_000, ""),
    p("unclosed tags", "", "<a ", 16_000, ""),
    p("email autolinks", "", "<a@b>", 10_000, ""),
    p("html block", "<div>\n", "x\n", 25_000, ""),
    // Definitions, tables, lines, entities.
    p("reference definitions", "", "[r]: /u\n", 6_000, "[r]"),
    p("one long reference used often", "[a]: http://xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\n", "[a] ", 12_500, ""),
    p("table rows shorter than the header", "|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|\n|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|\n", "a\n", 25_000, ""),
    p("aligned table of empty cells", "|a|a|\n|:-:|:-:|\n", "|||||||\n", 6_000, ""),
    p("a 100 KB line without spaces", "", "x", 100_000, ""),
    p("ampersands", "", "&", 50_000, ""),
    p("entities", "", "&amp;", 10_000, ""),
    p("numeric entity openings", "", "&#1", 16_000, ""),
];
