use super::*;

fn list(phrases: &[&str]) -> PhraseList {
    PhraseList::new(phrases).unwrap()
}

#[test]
fn any_case_matches() {
    let phrases = list(&["kill myself"]);
    assert!(phrases.is_match("I want to KILL MYSELF"));
    assert!(phrases.is_match("Kill Myself"));
    assert_eq!(phrases.matches("kIlL mYsElF"), ["kill myself"]);
}

#[test]
fn unicode_case_matches() {
    let phrases = list(&["ÉTÉ"]);
    assert!(phrases.is_match("cet été-là"));
    let greek = list(&["σοφία"]);
    assert!(greek.is_match("ΣΟΦΊΑ"));
}

#[test]
fn punctuation_around_words_does_not_hide_a_phrase() {
    let phrases = list(&["want to die"]);
    for text in [
        "I want to die.",
        "\"want to die\"",
        "(want to die)",
        "i just...want to die!!",
        "want to die, honestly",
        "—want to die—",
    ] {
        assert!(phrases.is_match(text), "{text}");
    }
}

#[test]
fn only_whole_words_match() {
    let phrases = list(&["kill"]);
    assert!(!phrases.is_match("what a skill"));
    assert!(!phrases.is_match("killer app"));
    assert!(!phrases.is_match("roadkill"));
    assert!(!phrases.is_match("kill_switch"));
    assert!(phrases.is_match("kill"));
    assert!(phrases.is_match("don't kill it"));
}

#[test]
fn a_word_boundary_is_unicode_aware() {
    let phrases = list(&["die"]);
    // "é" is a letter: "dieé" is one word, not "die" followed by punctuation.
    assert!(!phrases.is_match("dieé"));
    assert!(!phrases.is_match("ädie"));
    assert!(phrases.is_match("«die»"));
}

#[test]
fn any_whitespace_between_words_matches_even_a_line_break() {
    let phrases = list(&["end my life"]);
    assert!(phrases.is_match("I might end\nmy life"));
    assert!(phrases.is_match("end  \r\n\t my   life"));
    assert!(phrases.is_match("end\u{a0}my life"), "a no-break space");
    assert!(!phrases.is_match("endmy life"));
    assert_eq!(phrases.mask("end\nmy life soon"), format!("{MASK} soon"));
}

#[test]
fn whitespace_inside_a_listed_phrase_is_normalized() {
    let phrases = list(&["  no   reason\tto live  "]);
    assert_eq!(phrases.phrases(), ["no reason to live"]);
    assert!(phrases.is_match("There is no reason to live."));
}

#[test]
fn straight_and_curly_apostrophes_match_each_other() {
    let phrases = list(&["don't want to live"]);
    assert!(phrases.is_match("I don’t want to live"));
    assert!(phrases.is_match("I don't want to live"));
    let curly = list(&["can’t go on living"]);
    assert!(curly.is_match("i can't go on living"));
}

#[test]
fn phrases_that_begin_or_end_with_punctuation_still_match() {
    let phrases = list(&["#kms", ":(", "c++", "done."]);
    assert!(phrases.is_match("tonight #kms"));
    assert!(phrases.is_match("sad :("));
    assert!(phrases.is_match("I write C++ daily"));
    assert!(phrases.is_match("I am done."));
    assert!(!phrases.is_match("I am done"));
    // The word end of a phrase is still a whole word.
    assert!(!phrases.is_match("#kmsx"));
}

#[test]
fn regex_metacharacters_are_plain_text() {
    let phrases = list(&["a.b", "(x)", "1+1", "[y]", "^z$", r"back\slash", "a|b"]);
    assert!(!phrases.is_match("axb"));
    assert!(phrases.is_match("see a.b here"));
    assert!(phrases.is_match("call (x) now"));
    assert!(phrases.is_match("1+1 is two"));
    assert!(!phrases.is_match("11 is eleven"));
    assert!(phrases.is_match("[y]"));
    assert!(phrases.is_match("^z$"));
    assert!(phrases.is_match(r"back\slash"));
    assert!(!phrases.is_match("a"));
    assert!(!phrases.is_match("b"));
    assert!(phrases.is_match("a|b"));
}

#[test]
fn matches_names_each_matched_phrase_once_in_list_order() {
    let phrases = list(&["hurt myself", "kill myself", "suicidal"]);
    let found = phrases.matches("I feel suicidal. I want to kill myself, kill myself.");
    assert_eq!(found, ["kill myself", "suicidal"]);
    assert!(phrases.matches("a quiet evening").is_empty());
}

#[test]
fn mask_replaces_every_occurrence_and_prefers_the_longer_phrase() {
    let phrases = list(&["kill myself", "kill myself tonight", "hurt"]);
    assert_eq!(
        phrases.mask("I will Kill myself tonight. hurt, HURT."),
        format!("I will {MASK}. {MASK}, {MASK}.")
    );
    assert_eq!(phrases.mask("nothing to see"), "nothing to see");
}

#[test]
fn duplicates_and_blank_entries_are_dropped() {
    let phrases = list(&["Suicidal", "", "   ", "suicidal"]);
    assert_eq!(phrases.phrases(), ["Suicidal"]);
    assert_eq!(phrases.len(), 1);
}

#[test]
fn an_empty_list_matches_nothing() {
    for phrases in [
        PhraseList::empty(),
        list(&[]),
        PhraseList::parse("# only\n\n").unwrap(),
    ] {
        assert!(phrases.is_empty());
        assert!(!phrases.is_match(""));
        assert!(!phrases.is_match("anything at all"));
        assert!(phrases.matches("anything").is_empty());
        assert_eq!(phrases.mask("anything"), "anything");
    }
}

#[test]
fn a_phrase_file_has_one_phrase_a_line_and_comments() {
    let phrases = PhraseList::parse(
        "# A comment\n\
         want to die\n\
         \n\
         \t# an indented comment\n\
         \x20 hurt myself \r\n",
    )
    .unwrap();
    assert_eq!(phrases.phrases(), ["want to die", "hurt myself"]);
}

#[test]
fn debug_output_shows_no_phrase() {
    let phrases = list(&["kill myself"]);
    assert_eq!(format!("{phrases:?}"), "PhraseList(1 phrases)");
}

#[test]
fn a_long_list_compiles_and_matches_quickly_enough() {
    let words: Vec<String> = (0..2_000).map(|n| format!("watched word {n}")).collect();
    let phrases = PhraseList::new(&words).unwrap();
    let text = "ordinary text ".repeat(3_000) + "watched word 1999";
    assert!(phrases.is_match(&text));
    assert_eq!(phrases.matches(&text), ["watched word 1999"]);
}
