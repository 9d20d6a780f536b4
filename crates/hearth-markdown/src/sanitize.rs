//! The HTML allow-list every rendered post passes through.
//!
//! The event rewriting in `events` already keeps raw HTML and images out, so
//! in normal operation this only has to drop link targets with a forbidden
//! scheme and the attributes pulldown-cmark adds for styling. It is written
//! as if the markup were hostile anyway: if a future change lets markup
//! through upstream, this list is what still stands between a member's post
//! and every reader's session.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

/// Elements a rendered post may contain.
pub(crate) const ALLOWED_TAGS: [&str; 26] = [
    "p",
    "br",
    "hr",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
];

/// Elements removed together with everything inside them, rather than being
/// unwrapped to their text: their content is code or foreign markup, never
/// something a reader should see.
const DROPPED_WITH_CONTENT: [&str; 9] = [
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
];

/// Link schemes a reader can follow without running anything.
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// `rel` on every link: member-written links earn no search ranking
/// (`nofollow ugc`), and the target page gets no handle on ours and no
/// referrer (`noopener noreferrer`).
pub(crate) const LINK_REL: &str = "nofollow ugc noopener noreferrer";

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(builder);

/// Sanitizes rendered Markdown with the shared allow-list.
pub(crate) fn clean(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Keeps a relative link only when it is `/u/{name}` (a profile) or `/p/{id}` (a post), whose
/// characters cannot leave that path: no `/`, `\`, `?`, `#` or `:` after the prefix, so no
/// `//host`, no `..` to another directory, no query.
fn site_link(url: &str) -> Option<Cow<'_, str>> {
    let keep = if let Some(name) = url.strip_prefix("/u/") {
        name.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'%')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%_-.".contains(&b))
    } else {
        crate::post_link(url).is_some()
    };
    keep.then_some(Cow::Borrowed(url))
}

/// Builds the allow-list from nothing, so that no default of ammonia's (its
/// generic `title`/`lang` attributes, its long scheme list) slips in.
pub(crate) fn builder() -> Builder<'static> {
    let tag_attributes = HashMap::from([
        ("a", HashSet::from(["href"])),
        ("ol", HashSet::from(["start"])),
    ]);
    let mut builder = Builder::empty();
    builder
        .tags(HashSet::from(ALLOWED_TAGS))
        .clean_content_tags(HashSet::from(DROPPED_WITH_CONTENT))
        .tag_attributes(tag_attributes)
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::new())
        .generic_attributes(HashSet::new())
        .allowed_classes(HashMap::new())
        .url_schemes(HashSet::from(URL_SCHEMES))
        // A relative link in a post would resolve against whichever page
        // shows it (thread, search, profile); refusing them is simpler than
        // guessing what the member meant. Two site links are the exception:
        // a profile (a mention) and a post (a quote's attribution).
        .url_relative(UrlRelative::Custom(Box::new(site_link)))
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .id_prefix(None);
    builder
}
