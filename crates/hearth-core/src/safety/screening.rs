//! Finding listed phrases in what members write: whole words, in any case, with any spacing.
//!
//! A [`PhraseList`] is compiled once (one `regex` set) and then asked about many texts. It knows
//! nothing about why the phrases are listed: the crisis phrases ([`crate::safety::crisis`]) use it, and
//! so can a list of watched words.

use std::fmt;
use std::sync::Arc;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::error::{Error, Result};

/// What [`PhraseList::mask`] puts in place of each matched phrase.
pub const MASK: &str = "■■■";

/// How much memory one compiled list may take; a list this large is a mistake, not a policy.
const COMPILED_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// A list of phrases, each matched as whole words, case-insensitively (Unicode), with any run
/// of whitespace (line breaks included) between its words. Straight and curly apostrophes match
/// each other. Phrases that begin or end with a non-word character (`:(`, `#kms`) still match.
///
/// A clone shares the compiled matchers, and with them the lazily built automata a search
/// grows in its caches: a fresh clone of a `Regex` starts with empty caches, and building
/// their states again for every post cost more than matching (the crisis phrases are cloned
/// with the posting rules for each request).
#[derive(Clone)]
pub struct PhraseList {
    /// The phrases as listed (trimmed, inner whitespace collapsed, duplicates dropped).
    phrases: Vec<String>,
    matchers: Arc<Matchers>,
}

struct Matchers {
    /// One pattern per phrase, for telling which phrases matched.
    set: RegexSet,
    /// Every phrase in one alternation, longest first, for finding and masking matches.
    any: Option<Regex>,
}

impl PhraseList {
    /// Compiles the given phrases. Blank entries are skipped; everything else is literal text
    /// (regex metacharacters have no special meaning).
    pub fn new<I, S>(phrases: I) -> Result<PhraseList>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut listed: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for phrase in phrases {
            let normalized = phrase
                .as_ref()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !normalized.is_empty() && seen.insert(normalized.to_lowercase()) {
                listed.push(normalized);
            }
        }
        let patterns: Vec<String> = listed.iter().map(|p| pattern_of(p)).collect();
        let set = RegexSetBuilder::new(&patterns)
            .case_insensitive(true)
            .size_limit(COMPILED_SIZE_LIMIT)
            .build()
            .map_err(too_large)?;
        let any = if patterns.is_empty() {
            None
        } else {
            // Leftmost-first alternation: at one starting point the longest phrase wins, so
            // "kill myself tonight" is masked whole rather than as "kill myself" + " tonight".
            let mut by_length: Vec<&String> = patterns.iter().collect();
            by_length.sort_by_key(|p| std::cmp::Reverse(p.len()));
            let alternation = by_length
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|");
            Some(
                RegexBuilder::new(&alternation)
                    .case_insensitive(true)
                    .size_limit(COMPILED_SIZE_LIMIT)
                    .build()
                    .map_err(too_large)?,
            )
        };
        Ok(PhraseList {
            phrases: listed,
            matchers: Arc::new(Matchers { set, any }),
        })
    }

    /// Reads a phrase file: one phrase per line; blank lines and lines starting with `#` are
    /// ignored.
    pub fn parse(text: &str) -> Result<PhraseList> {
        PhraseList::new(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#')),
        )
    }

    /// A list that matches nothing.
    pub fn empty() -> PhraseList {
        PhraseList {
            phrases: Vec::new(),
            matchers: Arc::new(Matchers {
                set: RegexSet::empty(),
                any: None,
            }),
        }
    }

    /// The phrases, as listed.
    pub fn phrases(&self) -> &[String] {
        &self.phrases
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// Whether any phrase occurs in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.matchers
            .any
            .as_ref()
            .is_some_and(|any| any.is_match(text))
    }

    /// The phrases that occur in `text`, each once, in list order.
    pub fn matches(&self, text: &str) -> Vec<String> {
        self.matchers
            .set
            .matches(text)
            .into_iter()
            .map(|index| self.phrases[index].clone())
            .collect()
    }

    /// `text` with every occurrence of a phrase replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        match &self.matchers.any {
            Some(any) => any.replace_all(text, MASK).into_owned(),
            None => text.to_owned(),
        }
    }
}

impl Default for PhraseList {
    fn default() -> Self {
        PhraseList::empty()
    }
}

/// Only the size: a phrase list can hold words one would rather not print in a debug dump.
impl fmt::Debug for PhraseList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhraseList({} phrases)", self.phrases.len())
    }
}

fn too_large(error: regex::Error) -> Error {
    Error::invalid(
        "phrases",
        format!("the list of phrases is too large to use ({error}); shorten it"),
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The pattern of one phrase: its words escaped, any whitespace between them, and word
/// boundaries at the ends that are word characters.
fn pattern_of(phrase: &str) -> String {
    let words: Vec<String> = phrase
        .split_whitespace()
        .map(|word| regex::escape(word).replace(['\'', '’'], "['’]"))
        .collect();
    let mut pattern = words.join(r"\s+");
    if phrase.chars().next().is_some_and(is_word_char) {
        pattern.insert_str(0, r"\b");
    }
    if phrase.chars().last().is_some_and(is_word_char) {
        pattern.push_str(r"\b");
    }
    pattern
}

#[cfg(test)]
mod tests;
