//! `@name` mentions and quoted posts: what is found, what is linked, and what never is.

use super::{parse, select, text_of};
use crate::sanitize::LINK_REL;
use crate::{references, render, render_post, KnownNames, Mention, MAX_MENTIONS};

fn known(names: &[&str]) -> KnownNames {
    let mut known = KnownNames::new();
    for name in names {
        known.insert(name);
    }
    known
}

fn mentioned(source: &str) -> Vec<String> {
    references(source)
        .mentions
        .into_iter()
        .map(|m| m.name)
        .collect()
}

/// `(href, text)` of every link in `source` rendered with `names` known.
fn links(source: &str, names: &[&str]) -> Vec<(Option<String>, String)> {
    let out = render_post(source, &known(names));
    let doc = parse(&out);
    select(&doc, "a")
        .into_iter()
        .map(|a| {
            assert_eq!(a.value().attr("rel"), Some(LINK_REL), "{out}");
            (a.value().attr("href").map(str::to_owned), text_of(a))
        })
        .collect()
}

#[test]
fn a_known_name_links_to_the_profile_as_registered() {
    assert_eq!(
        links("thank you @Fran, really", &["fran"]),
        [(Some("/u/fran".to_owned()), "@Fran".to_owned())]
    );
    assert_eq!(mentioned("thank you @Fran, really"), ["fran"]);
}

#[test]
fn an_unknown_name_stays_text() {
    let out = render_post("hello @nobody here", &known(&["fran"]));
    assert!(select(&parse(&out), "a").is_empty(), "{out}");
    assert_eq!(
        text_of(parse(&out).root_element()).trim(),
        "hello @nobody here"
    );
    assert_eq!(mentioned("hello @nobody here"), ["nobody"]);
}

#[test]
fn plain_render_links_no_names() {
    let out = render("hi @fran");
    assert!(select(&parse(&out), "a").is_empty(), "{out}");
}

#[test]
fn mentions_in_code_and_links_are_ignored() {
    let source = "`@fran` and\n\n```\n@fran\n```\n\n    @fran indented\n\n[@fran](https://x.org) \
                  https://x.org/@fran ![@fran](https://x.org/i.png)";
    assert_eq!(mentioned(source), Vec::<String>::new());
    let hrefs: Vec<Option<String>> = links(source, &["fran"]).into_iter().map(|l| l.0).collect();
    assert!(!hrefs.contains(&Some("/u/fran".to_owned())), "{hrefs:?}");
}

#[test]
fn mentions_need_a_word_boundary_and_the_username_rules() {
    // E-mail addresses, paths, names too short or too long, a name starting with punctuation.
    for source in [
        "write to ana@example.org",
        "see x/@fran",
        "@fran@example.org",
        "@ab is too short",
        &format!("@{}", "a".repeat(33)),
        "@_fran",
        "@ fran",
    ] {
        assert_eq!(mentioned(source), Vec::<String>::new(), "{source:?}");
    }
    assert_eq!(
        mentioned("(@ana) \"@bo.b\" @fran. @x-y_z! @Zoë"),
        ["ana", "bo.b", "fran", "x-y_z", "zoë"]
    );
    assert_eq!(mentioned(&format!("@{}", "a".repeat(32))), ["a".repeat(32)]);
}

#[test]
fn a_sentence_ending_after_a_name_keeps_its_full_stop_outside_the_link() {
    let out = render_post("thanks @fran.", &known(&["fran"]));
    assert_eq!(
        out.as_str(),
        format!("<p>thanks <a href=\"/u/fran\" rel=\"{LINK_REL}\">@fran</a>.</p>\n")
    );
}

#[test]
fn a_name_split_by_the_parser_is_still_found() {
    // pulldown-cmark splits text at characters that might start syntax (`_`, `*`, `[`).
    assert_eq!(mentioned("hi @a_b_c and @x[y"), ["a_b_c"]);
    assert_eq!(
        links("hi @a_b_c", &["a_b_c"]),
        [(Some("/u/a_b_c".to_owned()), "@a_b_c".to_owned())]
    );
}

#[test]
fn names_only_quoted_are_marked() {
    let refs = references("> @fran said so\n\n@ana and > @bob\n\n> @ana too");
    assert_eq!(
        refs.mentions,
        [
            Mention {
                name: "fran".to_owned(),
                only_quoted: true
            },
            Mention {
                name: "ana".to_owned(),
                only_quoted: false
            },
            Mention {
                name: "bob".to_owned(),
                only_quoted: false
            },
        ]
    );
}

#[test]
fn at_most_so_many_names_are_found_and_linked() {
    let names: Vec<String> = (0..MAX_MENTIONS + 5).map(|i| format!("name{i}")).collect();
    let source: String = names.iter().map(|n| format!("@{n} ")).collect();
    let found = mentioned(&source);
    assert_eq!(found, names[..MAX_MENTIONS]);
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let linked = links(&source, &all);
    assert_eq!(linked.len(), MAX_MENTIONS);
    // Repeating a name does not use up the count.
    let repeated = "@fran ".repeat(MAX_MENTIONS * 2);
    assert_eq!(mentioned(&repeated), ["fran"]);
    assert_eq!(links(&repeated, &["fran"]).len(), MAX_MENTIONS * 2);
}

#[test]
fn quoted_posts_are_links_to_posts_inside_a_quote() {
    let source = "> **Fran** [wrote](/p/123):\n> I can't sleep\n\nsee [this](/p/7) too\n\n\
                  > > [deeper](/p/9) [again](/p/123) [other](/t/5) [bad](/p/1x)";
    assert_eq!(references(source).quoted_posts, [123, 9]);
}

#[test]
fn a_quote_attribution_keeps_its_link_to_the_post() {
    assert_eq!(
        links("> **Fran** [wrote](/p/123):\n> hello", &[]),
        [(Some("/p/123".to_owned()), "wrote".to_owned())]
    );
}

#[test]
fn only_profile_and_post_site_links_keep_their_href() {
    // A percent-escape stays inside its one path segment (`%2F` is not a `/` to a browser).
    for kept in ["/u/fran", "/u/Zo%C3%AB", "/u/%2F%2Fevil", "/p/42"] {
        let source = format!("[x]({kept})");
        assert_eq!(
            links(&source, &[]),
            [(Some(kept.to_owned()), "x".to_owned())]
        );
    }
    for dropped in [
        "/u/",
        "/u/../admin",
        "/u/fran/edit",
        "/u/fran?x=1",
        "/u//evil.example",
        "/p/",
        "/p/0",
        "/p/12/edit",
        "/p/1#x",
        "/p/-1",
        "/p//evil.example",
    ] {
        let source = format!("[x](<{dropped}>)");
        assert_eq!(links(&source, &[]), [(None, "x".to_owned())], "{dropped}");
    }
}

#[test]
fn the_sanitizer_drops_site_links_that_could_leave_their_path() {
    // The renderer percent-escapes a backslash; markup reaching the sanitizer some other way
    // with a raw one (`/u/\\host` is `//host` to a browser) loses its href.
    for href in ["/u/\\evil.example", "/p/\\evil.example", "/u/a\\..\\..\\x"] {
        assert_eq!(
            crate::sanitize::clean(&format!("<a href=\"{href}\">x</a>")),
            format!("<a rel=\"{LINK_REL}\">x</a>"),
            "{href}"
        );
    }
}

#[test]
fn a_hostile_known_name_cannot_break_out_of_the_link() {
    // A name outside the username rules is never known, so never written into an href.
    let mut hostile = KnownNames::new();
    hostile.insert("x\" onclick=\"alert(1)");
    hostile.insert("../admin");
    assert!(hostile.is_empty());
}
