//! Words as search compares them: a query read into terms and "phrases", words folded (case and
//! accents) and stemmed, and a hit's snippet cut from plain text with the matched words marked.
//! Shared by post search and the group directory.

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
    with_stem(folded, str::to_owned)
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
    let mut matcher = Matcher::new(stems);
    let mut matches = |&(s, e): &(usize, usize)| matcher.matches(&plain[s..e]);
    // Only the words up to the first match are looked at, and only the last few of them
    // kept: a long post has thousands of words.
    let mut words = WordSpans::new(plain);
    let mut before: std::collections::VecDeque<(usize, usize)> =
        std::collections::VecDeque::with_capacity(SNIPPET_LEAD + 1);
    let mut skipped = false;
    let mut first: Option<(usize, usize)> = None;
    for span in words.by_ref() {
        if matches(&span) {
            first = Some(span);
            break;
        }
        before.push_back(span);
        if before.len() > SNIPPET_LEAD {
            before.pop_front();
            skipped = true;
        }
    }
    let mut window: Vec<(usize, usize)> = Vec::with_capacity(SNIPPET_WORDS);
    match first {
        Some(span) => {
            window.extend(before);
            window.push(span);
        }
        // Nothing matches (a title match): the text's start.
        None => {
            skipped = false;
            words = WordSpans::new(plain);
        }
    }
    let mut more = false;
    for span in words.by_ref() {
        if window.len() == SNIPPET_WORDS {
            more = true;
            break;
        }
        window.push(span);
    }
    let Some(&(from, _)) = window.first() else {
        return Vec::new();
    };
    let mut pieces: Vec<Piece> = Vec::new();
    let mut push = |text: &str, marked: bool| push_piece(&mut pieces, text, marked);
    if skipped {
        push("… ", false);
    }
    let mut at = from;
    for span in &window {
        push(&plain[at..span.0], false);
        push(&plain[span.0..span.1], matches(span));
        at = span.1;
    }
    if more {
        push(" …", false);
    } else {
        push(&plain[at..], false);
    }
    pieces
}

/// `text` whole (a thread's title), each word that is a form of one of `stems` marked.
pub fn marked(text: &str, stems: &[String]) -> Vec<Piece> {
    let mut matcher = Matcher::new(stems);
    let mut pieces = Vec::new();
    let mut at = 0;
    for (start, end) in WordSpans::new(text) {
        if matcher.matches(&text[start..end]) {
            push_piece(&mut pieces, &text[at..start], false);
            push_piece(&mut pieces, &text[start..end], true);
            at = end;
        }
    }
    push_piece(&mut pieces, &text[at..], false);
    pieces
}

/// Adds `text` to the last piece if it is marked alike, else as a piece of its own.
fn push_piece(pieces: &mut Vec<Piece>, text: &str, marked: bool) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(last) if last.marked == marked => last.text.push_str(text),
        _ => pieces.push(Piece {
            text: text.to_owned(),
            marked,
        }),
    }
}

/// Whether a word is a form of one of the query's stems, folding and stemming only the words
/// that can be.
struct Matcher<'a> {
    stems: &'a [String],
    /// A stem is never longer than its word, and an ASCII word folds to its own length: a
    /// shorter one ("a", "and", "as" for "advice") cannot match and is not stemmed.
    shortest: usize,
    /// Each word folded into this one buffer, not a string per word.
    folded: String,
}

impl<'a> Matcher<'a> {
    fn new(stems: &'a [String]) -> Matcher<'a> {
        Matcher {
            stems,
            shortest: stems.iter().map(String::len).min().unwrap_or(0),
            folded: String::new(),
        }
    }

    fn matches(&mut self, word: &str) -> bool {
        if word.len() < self.shortest && word.is_ascii() {
            return false;
        }
        self.folded.clear();
        if word.is_ascii() {
            self.folded
                .extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            self.folded.push_str(&fold(word));
        }
        let Some(initial) = self.folded.chars().next() else {
            return false;
        };
        let stems = self.stems;
        stems.iter().any(|stem| stem.starts_with(initial))
            && with_stem(&self.folded, |stemmed| stems.iter().any(|s| s == stemmed))
    }
}

/// Calls `f` with the English stem of a folded word, borrowed when the stemmer leaves it be.
fn with_stem<T>(folded: &str, f: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    STEMMER.with(|s| f(&s.stem(folded)))
}

/// Where each word of `plain` starts and ends, in order: runs of letters and digits.
struct WordSpans<'a> {
    chars: std::str::CharIndices<'a>,
    len: usize,
}

impl<'a> WordSpans<'a> {
    fn new(plain: &'a str) -> WordSpans<'a> {
        WordSpans {
            chars: plain.char_indices(),
            len: plain.len(),
        }
    }
}

impl Iterator for WordSpans<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let start = loop {
            let (i, c) = self.chars.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        for (i, c) in self.chars.by_ref() {
            if !c.is_alphanumeric() {
                return Some((start, i));
            }
        }
        Some((start, self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `snippet` skips words whose first letter starts no stem, and ASCII words shorter than
    /// every stem: that is only right while the stemmer never changes a word's first letter
    /// nor lengthens a word, including its special cases.
    #[test]
    fn the_stemmer_keeps_a_words_first_letter() {
        let words = "dying lying tying skies skis news gently ugly early only singly idly \
            yelling yes you're 'tis cries happy happiness generously communities atlantic \
            sky andes howe proceed exceed succeed inning outing canning herring earring \
            hoped hopping conflated agreed abilities sensibility relational feed bled \
            ÉTÉ über naïve 42nd 1990s";
        for word in words_of(words) {
            let folded = fold(&word);
            let stemmed = stem(&folded);
            // `snippet` skips ASCII words shorter than every stem, too.
            assert!(stemmed.len() <= folded.len(), "{word} stems to {stemmed}");
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
    fn a_title_is_whole_with_every_matching_word_marked() {
        let stems = Terms::parse("lonely evenings").stems();
        let title = "Lonely in a new city: long evenings, lonely weekends & <b>tags</b>";
        let pieces = marked(title, &stems);
        let whole: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(whole, title);
        let marked: Vec<&str> = pieces
            .iter()
            .filter(|p| p.marked)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["Lonely", "evenings", "lonely"]);
        assert_eq!(
            super::marked("Nothing to see", &stems),
            [Piece {
                text: "Nothing to see".to_owned(),
                marked: false
            }]
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
