//! Finding bare `http://` and `https://` URLs in plain text.
//!
//! pulldown-cmark only links `<https://…>` autolinks, but members paste bare
//! URLs and expect them to be clickable. The rules follow GitHub's extended
//! autolinks closely enough that ordinary prose punctuation around a URL is
//! left out of it. Safety does not rest on this module: whatever it links is
//! still checked by the sanitizer's scheme allow-list.

use std::ops::Range;

/// Schemes that start a bare link; matched case-insensitively.
const SCHEMES: [&str; 2] = ["https://", "http://"];

/// Characters that may sit directly before a bare URL. Requiring one of them
/// (or the start of the text) keeps `xhttp://…` and `foo:http://…` unlinked.
/// GitHub's set, plus quotes because members quote URLs.
const OPENERS: [char; 6] = ['*', '_', '~', '(', '"', '\''];

/// Punctuation that usually ends the sentence rather than the URL.
const TRAILING_PUNCTUATION: [char; 10] = ['?', '!', '.', ',', ':', '*', '_', '~', '\'', '"'];

/// Byte ranges of the bare URLs in `text`, in order and non-overlapping.
///
/// Linear in `text`: each candidate's host is checked before its end is looked for, so a
/// candidate that cannot become a link costs only the few characters up to the next `/`, and
/// trimming a URL's end touches each trimmed character once.
pub(crate) fn find_urls(text: &str) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    let mut pos = 0;
    while let Some(c) = text[pos..].chars().next() {
        if let Some(scheme_len) = scheme_len(&text[pos..]) {
            if may_start_url(&text[..pos]) && may_have_valid_host(&text[pos + scheme_len..]) {
                let end = url_end(text, pos);
                if host_is_valid(&text[pos + scheme_len..end]) {
                    urls.push(pos..end);
                    pos = end;
                    continue;
                }
            }
        }
        pos += c.len_utf8();
    }
    urls
}

/// Length of the scheme prefix if `rest` starts with one.
fn scheme_len(rest: &str) -> Option<usize> {
    SCHEMES
        .iter()
        .find(|scheme| {
            rest.as_bytes()
                .get(..scheme.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme.as_bytes()))
        })
        .map(|scheme| scheme.len())
}

/// Whether a URL may begin right after `before`.
fn may_start_url(before: &str) -> bool {
    before
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || OPENERS.contains(&c))
}

/// Whether the URL whose text after the scheme begins `after_scheme` can pass
/// [`host_is_valid`] once its end is found and trimmed, decided without looking for that end.
///
/// The host's characters are read up to the first that cannot be in a host. The candidate can
/// only succeed if that character ends the host (`/`, `?`, `#`, the end of the URL), or if
/// trimming could remove it with everything after it; the latter needs nothing but trimmable
/// characters up to the URL's end. This reads at most up to the next `/`, which no trimmable
/// character is, so candidates never read the same text twice.
fn may_have_valid_host(after_scheme: &str) -> bool {
    let mut chars = after_scheme.char_indices();
    if !chars.next().is_some_and(|(_, c)| c.is_alphanumeric()) {
        return false;
    }
    let host_end = chars
        .find(|&(_, c)| !is_host_char(c))
        .map_or(after_scheme.len(), |(i, _)| i);
    let rest = &after_scheme[host_end..];
    match rest.chars().next() {
        None => true,
        Some(c) if ends_url(c) || matches!(c, '/' | '?' | '#') => true,
        Some(_) => rest
            .chars()
            .take_while(|&c| !ends_url(c))
            .all(may_be_trimmed),
    }
}

fn is_host_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':')
}

/// Characters that end a bare URL outright.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || c.is_control() || c == '<'
}

/// Characters [`url_end`] can trim: punctuation, `)`, and the parts of an entity.
fn may_be_trimmed(c: char) -> bool {
    TRAILING_PUNCTUATION.contains(&c) || matches!(c, ')' | '&' | ';') || c.is_ascii_alphanumeric()
}

/// Byte offset in `text` where the URL starting at `start` ends.
fn url_end(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    let mut end = rest.find(ends_url).unwrap_or(rest.len());
    // Counted once; trimming a `)` is the only step that changes the balance.
    let mut unbalanced_closing = {
        let url = &rest[..end];
        url.matches(')').count() as isize - url.matches('(').count() as isize
    };
    // Trimming one thing can expose another (`(see http://x.org/a).`), so
    // keep going until nothing changes.
    loop {
        let url = &rest[..end];
        let Some(last) = url.chars().next_back() else {
            break;
        };
        if TRAILING_PUNCTUATION.contains(&last) {
            end -= last.len_utf8();
        } else if last == ')' && unbalanced_closing > 0 {
            // An unbalanced closing parenthesis belongs to the prose around
            // the URL; balanced ones are common in wiki links and stay.
            end -= 1;
            unbalanced_closing -= 1;
        } else if let Some(amp) = trailing_entity_start(url) {
            // Something like `&hellip;` at the end is almost certainly text
            // that was meant to follow the URL.
            end = amp;
        } else {
            break;
        }
    }
    start + end
}

/// Start of a trailing `&name;` in `url`, if it ends with one. Reads back only over the name,
/// so looking costs no more than what a match trims.
fn trailing_entity_start(url: &str) -> Option<usize> {
    let body = url.strip_suffix(';')?;
    let name_len = body
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    let amp = body.len().checked_sub(name_len + 1)?;
    (name_len > 0 && body.as_bytes()[amp] == b'&').then_some(amp)
}

/// Whether the text after the scheme begins with something host-like.
///
/// This rejects `http://` on its own, `http://@evil` style user-info tricks
/// and similar oddities, so they stay as text instead of becoming links the
/// sanitizer would then have to strip.
fn host_is_valid(after_scheme: &str) -> bool {
    let host = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let mut chars = host.chars();
    chars.next().is_some_and(char::is_alphanumeric) && chars.all(is_host_char)
}

#[cfg(test)]
mod tests {
    use super::find_urls;

    fn urls(text: &str) -> Vec<&str> {
        find_urls(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn finds_plain_urls() {
        assert_eq!(
            urls("see https://example.org/a?b=c#d now"),
            ["https://example.org/a?b=c#d"]
        );
        assert_eq!(urls("HTTP://EXAMPLE.ORG"), ["HTTP://EXAMPLE.ORG"]);
        assert_eq!(
            urls("a http://a.org b https://b.org"),
            ["http://a.org", "https://b.org"]
        );
    }

    #[test]
    fn leaves_out_sentence_punctuation() {
        assert_eq!(urls("Go to https://example.org."), ["https://example.org"]);
        assert_eq!(
            urls("(see https://example.org/x)"),
            ["https://example.org/x"]
        );
        assert_eq!(
            urls("https://en.wikipedia.org/wiki/Foo_(bar)"),
            ["https://en.wikipedia.org/wiki/Foo_(bar)"]
        );
        assert_eq!(urls("\"https://example.org\","), ["https://example.org"]);
        assert_eq!(
            urls("https://example.org/a&amp;"),
            ["https://example.org/a"]
        );
    }

    #[test]
    fn needs_a_boundary_and_a_host() {
        assert!(urls("xhttp://example.org").is_empty());
        assert!(urls("foo:http://example.org").is_empty());
        assert!(urls("http://").is_empty());
        assert!(urls("http://@evil.example").is_empty());
        assert!(urls("http://.").is_empty());
        assert!(urls("javascript:alert(1) http:/x").is_empty());
    }

    #[test]
    fn stops_at_angle_brackets_and_whitespace() {
        assert_eq!(urls("http://a.org<b>"), ["http://a.org"]);
        assert_eq!(urls("é http://ü.example/ö\tx"), ["http://ü.example/ö"]);
    }
}
