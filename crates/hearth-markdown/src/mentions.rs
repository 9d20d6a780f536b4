//! `@username` mentions and quotes of posts, found while a post is rendered.
//!
//! This crate knows no members. It only *finds* what looks like a mention: `@` at a word's
//! start followed by a name that follows the username rules of Hearth's accounts (letters,
//! digits, `_`, `-` and `.`, 3 to 32 characters, a letter or digit first), in ordinary text —
//! never inside code, a link or an image's label. [`references`] lists the names a source
//! mentions and the posts it quotes; the caller looks the names up and hands the ones that
//! belong to a member back as [`KnownNames`] to [`render_post`](crate::render_post), which
//! links exactly those to `/u/{username}`. Every other `@name` stays the text it was. The
//! link is an ordinary Markdown link event, so it goes through the same HTML writer and the
//! same sanitizer as every other link: no markup is made outside the renderer.

use std::collections::HashMap;
use std::ops::Range;

/// At most this many distinct names of one source are looked up and linked; later ones stay
/// text. Part of [`RENDERER_VERSION`](crate::RENDERER_VERSION).
pub const MAX_MENTIONS: usize = 50;

/// At most this many distinct quoted posts of one source are reported.
pub const MAX_QUOTED_POSTS: usize = 10;

/// The username rules of `hearth_core::accounts::members` (restated: this crate is a leaf).
const MIN_NAME_CHARS: usize = 3;
const MAX_NAME_CHARS: usize = 32;

/// Characters that, directly before `@`, make it part of something else: an e-mail address
/// (`ana@example.org`), a path (`/@ana`), a name's own characters.
const NOT_BEFORE: [char; 10] = ['_', '-', '.', '@', '/', '\\', '+', '=', '&', '%'];

/// Characters a username may hold besides letters and digits.
const NAME_PUNCTUATION: [char; 3] = ['_', '-', '.'];

/// The members' names a post may link to: each name as written in lower case, to the member's
/// username as they registered it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownNames {
    by_lower: HashMap<String, String>,
}

impl KnownNames {
    /// No names: every `@name` stays text.
    pub fn new() -> KnownNames {
        KnownNames::default()
    }

    /// Adds a member's username. A name that breaks the username rules is ignored: no
    /// mention could have found it.
    pub fn insert(&mut self, username: &str) {
        if is_name(username) {
            self.by_lower
                .insert(username.to_lowercase(), username.to_owned());
        }
    }

    /// The username `written` (any case) belongs to, if it is known.
    pub fn username_for(&self, written: &str) -> Option<&str> {
        self.by_lower
            .get(&written.to_lowercase())
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_lower.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_lower.is_empty()
    }
}

/// A name a source mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The name in lower case (as `hearth_core` compares usernames).
    pub name: String,
    /// Every time the name appears it is inside a block quote: it is someone else's words
    /// quoted, not this post's author speaking to the member.
    pub only_quoted: bool,
}

/// What a source refers to, found by the same pass that renders it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Distinct names, in the order they first appear, at most [`MAX_MENTIONS`].
    pub mentions: Vec<Mention>,
    /// Posts linked as `/p/{id}` from inside a block quote (a quote's attribution), distinct,
    /// in order, at most [`MAX_QUOTED_POSTS`].
    pub quoted_posts: Vec<i64>,
}

impl References {
    /// Notes a name found at a place inside (`quoted`) or outside a block quote. Returns
    /// whether the name is one of the first [`MAX_MENTIONS`], which alone may be linked.
    pub(crate) fn note_mention(&mut self, written: &str, quoted: bool) -> bool {
        let name = written.to_lowercase();
        if let Some(known) = self.mentions.iter_mut().find(|m| m.name == name) {
            known.only_quoted &= quoted;
            return true;
        }
        if self.mentions.len() >= MAX_MENTIONS {
            return false;
        }
        self.mentions.push(Mention {
            name,
            only_quoted: quoted,
        });
        true
    }

    /// Notes a link target seen inside a block quote.
    pub(crate) fn note_quote_link(&mut self, dest_url: &str) {
        if let Some(id) = post_link(dest_url) {
            if !self.quoted_posts.contains(&id) && self.quoted_posts.len() < MAX_QUOTED_POSTS {
                self.quoted_posts.push(id);
            }
        }
    }
}

/// The post a site link `/p/{id}` points to.
pub fn post_link(dest_url: &str) -> Option<i64> {
    let digits = dest_url.strip_prefix("/p/")?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&id| id > 0)
}

/// The address of a member's profile.
pub(crate) fn profile_link(username: &str) -> String {
    format!("/u/{username}")
}

/// Byte ranges of the mentions in `text` (each `@` and its name), in order. Linear: each
/// character is looked at a bounded number of times.
pub(crate) fn find_mentions(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts_word = previous.is_none_or(|p| !p.is_alphanumeric() && !NOT_BEFORE.contains(&p));
        previous = Some(c);
        if c != '@' || !starts_word {
            continue;
        }
        let start = at + 1;
        let mut end = start;
        let mut last = c;
        while let Some(&(i, next)) = chars.peek() {
            if !is_name_char(next) {
                break;
            }
            end = i + next.len_utf8();
            last = next;
            chars.next();
        }
        previous = Some(last);
        // `@ana@example.org` is an address, not a mention.
        if chars.peek().is_some_and(|&(_, next)| next == '@') {
            continue;
        }
        // A sentence may end right after a name: "thanks @ana."
        let name = text[start..end].trim_end_matches('.');
        if is_name(name) {
            found.push(at..start + name.len());
        }
    }
    found
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || NAME_PUNCTUATION.contains(&c)
}

/// Whether `name` follows the username rules.
fn is_name(name: &str) -> bool {
    let n_chars = name.chars().count();
    (MIN_NAME_CHARS..=MAX_NAME_CHARS).contains(&n_chars)
        && name.chars().all(is_name_char)
        && name.chars().next().is_some_and(char::is_alphanumeric)
}
