//! Words as search compares them: a query read into terms and "phrases", words folded (case and
//! accents) and stemmed, and a hit's snippet cut from plain text with the matched words marked.
//! Shared by post search and the group directory.

use std::borrow::Cow;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;

/// Words too common to help find a group ("my cat died" is about a cat). English only, as
/// the stemmer is.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "get",
    "got", "had", "has", "have", "he", "her", "him", "his", "how", "i", "i'm", "if", "in", "into",
    "is", "it", "its", "just", "me", "my", "no", "not", "of", "on", "or", "our", "she", "so",
    "some", "than", "that", "the", "their", "them", "then", "there", "they", "this", "to", "too",
    "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your",
];

/// A query as a person typed it, read into words and phrases in quotes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    /// Single words, as typed (punctuation at their edges dropped).
    pub words: Vec<String>,
    /// Phrases in quotes, each as its words.
    pub phrases: Vec<Vec<String>>,
}

impl Terms {
    /// Reads `text`: `"…"` is a phrase (an unclosed quote runs to the end), anything else is
    /// words split at spaces. Words without a letter or digit are dropped.
    pub fn parse(text: &str) -> Terms {
        let mut terms = Terms::default();
        for (i, part) in text.split('"').enumerate() {
            let words = words_of(part);
            if i % 2 == 1 && words.len() > 1 {
                terms.phrases.push(words);
            } else {
                terms.words.extend(words);
            }
        }
        terms
    }

    /// How many terms a search engine must look up: each word and each word of a phrase.
    pub fn count(&self) -> usize {
        self.words.len() + self.phrases.iter().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Every word, those of phrases included, folded and stemmed: what a snippet marks.
    pub fn stems(&self) -> Vec<String> {
        let mut stems: Vec<String> = self
            .words
            .iter()
            .chain(self.phrases.iter().flatten())
            .map(|w| stem(&fold(w)))
            .collect();
        stems.sort();
        stems.dedup();
        stems
    }
}

/// The words of `text`: runs of letters, digits and inner apostrophes.
pub fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(|c: char| c == '\'' || c == '’'))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

/// Lower case without accents: "Café" and "cafe" are one word.
pub fn fold(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.is_ascii() {
        return lower;
    }
    deunicode::deunicode(&lower).to_lowercase()
}

/// The English stem of a folded word: "cats" and "cat", "died" and "die".
pub fn stem(folded: &str) -> String {
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    STEMMER.with(|s| match s.stem(folded) {
        Cow::Borrowed(b) => b.to_owned(),
        Cow::Owned(o) => o,
    })
}

pub fn is_stop_word(folded: &str) -> bool {
    STOP_WORDS.binary_search(&folded).is_ok()
}

/// One piece of a snippet: plain text, marked where it matched the query. Templates escape
/// each piece; nothing here is HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

/// About this many words of a post show in a hit.
const SNIPPET_WORDS: usize = 36;
/// Words shown before the first match.
const SNIPPET_LEAD: usize = 8;

/// A window of `plain` around its first word whose stem is one of `stems`, the matching words
/// marked; the text's start when nothing matches (a title match). "…" where it was cut.
pub fn snippet(plain: &str, stems: &[String]) -> Vec<Piece> {
    // Word boundaries, as byte ranges of `plain`.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in plain.char_indices() {
        let in_word = c.is_alphanumeric();
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, plain.len()));
    }
    let matches: Vec<bool> = spans
        .iter()
        .map(|&(s, e)| stems.binary_search(&stem(&fold(&plain[s..e]))).is_ok())
        .collect();
    let first = matches.iter().position(|&m| m).unwrap_or(0);
    let from = first.saturating_sub(SNIPPET_LEAD);
    let to = (from + SNIPPET_WORDS).min(spans.len());
    let mut pieces: Vec<Piece> = Vec::new();
    if spans.is_empty() {
        return pieces;
    }
    let mut push = |text: &str, marked: bool| match pieces.last_mut() {
        Some(last) if last.marked == marked => last.text.push_str(text),
        _ => pieces.push(Piece {
            text: text.to_owned(),
            marked,
        }),
    };
    if from > 0 {
        push("… ", false);
    }
    let mut at = spans[from].0;
    for (i, &(s, e)) in spans.iter().enumerate().take(to).skip(from) {
        push(&plain[at..s], false);
        push(&plain[s..e], matches[i]);
        at = e;
    }
    if to < spans.len() {
        push(" …", false);
    } else {
        push(&plain[at..], false);
    }
    pieces
}
