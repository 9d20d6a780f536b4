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
///
/// Only words that can match are folded and stemmed, and none after the window: a long post
/// has thousands of words, and stemming each of them was most of a search's CPU. The English
/// stemmer keeps a word's first letter, so a word whose first letter starts no stem cannot
/// match.
pub fn snippet(plain: &str, stems: &[String]) -> Vec<Piece> {
    let spans = word_spans(plain);
    if spans.is_empty() {
        return Vec::new();
    }
    let matches = |&(s, e): &(usize, usize)| -> bool {
        let word = &plain[s..e];
        let folded = fold(word);
        let Some(initial) = folded.chars().next() else {
            return false;
        };
        stems.iter().any(|stem| stem.starts_with(initial))
            && stems.binary_search(&stem(&folded)).is_ok()
    };
    let first = spans.iter().position(matches).unwrap_or(0);
    let from = first.saturating_sub(SNIPPET_LEAD);
    let to = (from + SNIPPET_WORDS).min(spans.len());
    let mut pieces: Vec<Piece> = Vec::new();
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
    for span in &spans[from..to] {
        push(&plain[at..span.0], false);
        push(&plain[span.0..span.1], matches(span));
        at = span.1;
    }
    if to < spans.len() {
        push(" …", false);
    } else {
        push(&plain[at..], false);
    }
    pieces
}

/// Where each word of `plain` starts and ends: runs of letters and digits.
fn word_spans(plain: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in plain.char_indices() {
        match (c.is_alphanumeric(), start) {
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
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `snippet` skips words whose first letter starts no stem: that is only right while the
    /// stemmer never changes a word's first letter, including its special cases.
    #[test]
    fn the_stemmer_keeps_a_words_first_letter() {
        let words = "dying lying tying skies skis news gently ugly early only singly idly \
            yelling yes you're 'tis cries happy happiness generously communities atlantic \
            sky andes howe proceed exceed succeed inning outing canning herring earring \
            ÉTÉ über naïve 42nd 1990s";
        for word in words_of(words) {
            let folded = fold(&word);
            let stemmed = stem(&folded);
            assert_eq!(
                stemmed.chars().next(),
                folded.chars().next(),
                "{word} stems to {stemmed}"
            );
        }
    }

    #[test]
    fn a_snippet_marks_every_form_of_a_word_in_its_window_and_cuts_the_rest() {
        let lead = "word ".repeat(20);
        let text = format!(
            "{lead}Our cat died. The cats, and a Cat's bed; category is not one. {}",
            "tail ".repeat(60)
        );
        let stems = Terms::parse("cat").stems();
        let pieces = snippet(&text, &stems);
        let marked: Vec<&str> = pieces
            .iter()
            .filter(|p| p.marked)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["cat", "cats", "Cat"]);
        assert!(pieces[0].text.starts_with("… "), "{pieces:?}");
        assert!(pieces.last().unwrap().text.ends_with(" …"));
        let whole: String = pieces.iter().map(|p| p.text.as_str()).collect();
        // The window: SNIPPET_LEAD words before the first match ("Our" and seven of "word"),
        // SNIPPET_WORDS in all: 13 from "cat" to "one" ("Cat's" is two words, "Cat" and "s").
        assert_eq!(whole.matches("word").count(), SNIPPET_LEAD - 1, "{whole}");
        assert_eq!(
            whole.matches("tail").count(),
            SNIPPET_WORDS - SNIPPET_LEAD - 13,
            "{whole}"
        );
    }

    #[test]
    fn with_no_match_a_snippet_is_the_texts_start() {
        let pieces = snippet(
            "A title match only. Nothing here.",
            &Terms::parse("zebra").stems(),
        );
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].text, "A title match only. Nothing here.");
        assert!(!pieces[0].marked);
    }
}
