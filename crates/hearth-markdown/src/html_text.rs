//! The visible text of HTML this crate rendered and sanitized (a stored post's `html`), for
//! search snippets: one linear pass instead of parsing and rewriting the Markdown again.
//!
//! The input is ammonia's serialization, so the only character references in it are the
//! serializer's (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&nbsp;`); numeric ones are decoded too,
//! anything else is kept as written. The output is plain text for a template to escape: it is
//! never markup, whatever the input was.

/// Elements after whose start or end the rendered post breaks a line or starts a block, so
/// the words on either side stay apart.
const BREAKS: &[&str] = &[
    "p",
    "br",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "div",
    "dl",
    "dt",
    "dd",
];

/// The text of `html` with its tags left out, character references decoded and whitespace
/// collapsed to single spaces.
pub fn text_of_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            let (name, after) = tag(rest);
            if BREAKS.contains(&name) {
                out.push(' ');
            }
            rest = after;
        } else {
            let (decoded, after) = reference(rest);
            match decoded {
                Some(c) => out.push(c),
                None => out.push('&'),
            }
            rest = after;
        }
    }
    out.push_str(rest);
    collapse(&out)
}

/// A tag at the start of `s` (which starts with `<`): its lower-case name (empty for a
/// comment or anything odd) and what follows its `>`. A `>` inside a quoted attribute value
/// does not end it.
fn tag(s: &str) -> (&'static str, &str) {
    let body = &s[1..];
    let name = body.trim_start_matches('/');
    let name = &name[..name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len())];
    let mut quote = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return (known(name), &body[i + 1..]),
            _ => {}
        }
    }
    // Never closed: the rest is inside the tag.
    (known(name), "")
}

/// `name` as one of [`BREAKS`] (compared without case), or "".
fn known(name: &str) -> &'static str {
    BREAKS
        .iter()
        .find(|b| b.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or("")
}

/// A character reference at the start of `s` (which starts with `&`): the character, or
/// `None` when it is not one (the `&` is then text), and what follows.
fn reference(s: &str) -> (Option<char>, &str) {
    let Some(end) = s[1..].find(';').map(|n| n + 1).filter(|&n| n <= 10) else {
        return (None, &s[1..]);
    };
    let name = &s[1..end];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .map(|hex| u32::from_str_radix(hex, 16))
            .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
            .and_then(Result::ok)
            .and_then(char::from_u32),
    };
    match c {
        Some(c) => (Some(c), &s[end + 1..]),
        None => (None, &s[1..]),
    }
}

fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::text_of_html;
    use crate::render;

    #[test]
    fn blocks_stay_apart_and_inline_markup_goes() {
        assert_eq!(
            text_of_html(
                "<p>One <strong>bold</strong> word.</p><p>Two</p><ul><li>a</li><li>b</li></ul>"
            ),
            "One bold word. Two a b"
        );
        assert_eq!(text_of_html("line<br>next"), "line next");
        assert_eq!(text_of_html("<P>Upper</P><P>case</P>"), "Upper case");
    }

    #[test]
    fn references_are_decoded_once_and_stray_ampersands_kept() {
        assert_eq!(
            text_of_html("<p>&lt;script&gt; &amp;amp; &quot;q&quot; &#39;s &#x263A; a&nbsp;b</p>"),
            // A no-break space is whitespace too, collapsed as the excerpts collapse it.
            "<script> &amp; \"q\" 's \u{263a} a b"
        );
        assert_eq!(
            text_of_html("fish & chips &bogus; &"),
            "fish & chips &bogus; &"
        );
    }

    #[test]
    fn a_greater_than_sign_in_a_quoted_attribute_does_not_end_its_tag() {
        assert_eq!(
            text_of_html(r#"<a href="/x" title="a > b">link</a> after"#),
            "link after"
        );
        assert_eq!(text_of_html("<p>never closed <a href=\"x"), "never closed");
    }

    /// The same words as the Markdown's own plain text, for what members write.
    #[test]
    fn agrees_with_the_plain_text_of_the_source() {
        for source in [
            "Hello **there**, _friend_.\n\nSecond paragraph with `code` & <b>tags</b>.",
            "> quoted line\n\n- one\n- two\n\n| a | b |\n|---|---|\n| c | d |",
            "A [link](https://example.org) and @someone and 3 < 4 > 2.",
            "# Title\n\n```\nfn main() {}\n```\n\nend",
        ] {
            let html = render(source);
            assert_eq!(
                text_of_html(html.as_str()),
                crate::plain_text_excerpt(source, usize::MAX),
                "{source}"
            );
        }
    }
}
