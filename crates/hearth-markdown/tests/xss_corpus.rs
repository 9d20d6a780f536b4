//! Every payload of the shared XSS corpus, rendered in several Markdown
//! contexts, must come out as harmless HTML.
//!
//! The output is parsed the way a browser would and checked element by
//! element against the policy written out below. The policy is restated here
//! on purpose rather than imported from the crate: a change to what posts may
//! contain should have to be made twice, and reviewed here.

#[path = "support/corpus.rs"]
mod corpus;

use std::collections::{HashMap, HashSet};

use ammonia::{Builder, UrlRelative};
use scraper::{ElementRef, Html};

const ALLOWED_TAGS: [&str; 26] = [
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

/// The only attributes allowed anywhere, and the element each belongs to.
const ALLOWED_ATTRIBUTES: [(&str, &str); 3] = [("a", "href"), ("a", "rel"), ("ol", "start")];

const LINK_REL: &str = "nofollow ugc noopener noreferrer";

const ALLOWED_SCHEMES: [&str; 3] = ["http:", "https:", "mailto:"];

fn keep_site_link(url: &str) -> Option<std::borrow::Cow<'_, str>> {
    is_site_link(url).then_some(std::borrow::Cow::Borrowed(url))
}

/// The only relative links allowed: a member's profile (a mention) and a post (a quote's
/// attribution), with nothing after the prefix that could leave that path.
fn is_site_link(href: &str) -> bool {
    if let Some(name) = href.strip_prefix("/u/") {
        return name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'%')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%_-.".contains(&b));
    }
    href.strip_prefix("/p/").is_some_and(|id| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0')
    })
}

/// Elements that can run script, load resources or take input. The
/// allow-list check already rules them out; they are also searched for in
/// the raw output so a parser disagreement cannot hide one.
const FORBIDDEN_MARKUP: [&str; 10] = [
    "<script", "<svg", "<math", "<iframe", "<object", "<embed", "<style", "<form", "<input", "<img",
];

/// How many failures to show; one run should reveal them all, but a
/// thousand-line panic message helps nobody.
const FAILURES_SHOWN: usize = 20;

#[test]
fn every_corpus_payload_renders_harmless_html() {
    let Some(payloads) = corpus::load_payloads() else {
        return;
    };
    assert!(
        payloads.len() > 2000,
        "expected the full corpus (over 2000 payloads) at {}, found {}",
        corpus::corpus_path().display(),
        payloads.len()
    );

    let reference = reference_sanitizer();
    // Every payload also next to mentions of known members, which become links.
    let mut known = hearth_markdown::KnownNames::new();
    known.insert("ana");
    known.insert("Zoë.b");
    let mut failures = Vec::new();
    let mut renders = 0;
    for payload in &payloads {
        let contexts = corpus::in_contexts(payload)
            .into_iter()
            .flat_map(|(context, source)| {
                let mentioning = format!("@ana {source} @zoë.b");
                [(context, source, false), (context, mentioning, true)]
            });
        for (context, source, mentions) in contexts {
            let html = if mentions {
                hearth_markdown::render_post(&source, &known).into_string()
            } else {
                hearth_markdown::render(&source).into_string()
            };
            renders += 1;
            let mut problems = policy_violations(&html);
            if reference.clean(&html).to_string() != html {
                problems.push("output changes when sanitized again".to_owned());
            }
            for problem in problems {
                failures.push(format!(
                    "[{context}] {source:?}\n    -> {html:?}\n    {problem}"
                ));
            }
        }
    }

    eprintln!(
        "xss corpus: {} payloads checked ({renders} renders) from {}",
        payloads.len(),
        corpus::corpus_path().display()
    );
    assert!(
        failures.is_empty(),
        "{} problems; the first {}:\n{}",
        failures.len(),
        FAILURES_SHOWN.min(failures.len()),
        failures[..FAILURES_SHOWN.min(failures.len())].join("\n")
    );
}

/// Everything in `html` that breaks the policy, described for a human.
fn policy_violations(html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lowered = html.to_ascii_lowercase();
    for markup in FORBIDDEN_MARKUP {
        if lowered.contains(markup) {
            problems.push(format!("contains {markup}"));
        }
    }

    let fragment = Html::parse_fragment(html);
    // The fragment parser wraps everything in an <html> root of its own.
    let root = fragment.root_element();
    for element in root.descendants().skip(1).filter_map(ElementRef::wrap) {
        problems.extend(element_violations(element));
    }
    problems
}

fn element_violations(element: ElementRef<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    let tag = element.value().name();
    if !ALLOWED_TAGS.contains(&tag) {
        problems.push(format!("element <{tag}> is not allowed"));
    }
    for (name, value) in element.value().attrs() {
        if name.to_ascii_lowercase().starts_with("on") {
            problems.push(format!("event handler {name} on <{tag}>"));
        }
        if !ALLOWED_ATTRIBUTES.contains(&(tag, name)) {
            problems.push(format!("attribute {name} on <{tag}> is not allowed"));
        }
        if name == "rel" && value != LINK_REL {
            problems.push(format!("rel is {value:?}, not {LINK_REL:?}"));
        }
        if name == "href" && !has_allowed_scheme(value) && !is_site_link(value) {
            problems.push(format!("href {value:?} has a forbidden scheme"));
        }
    }
    if tag == "a" && element.value().attr("rel") != Some(LINK_REL) {
        problems.push("link without the required rel".to_owned());
    }
    problems
}

/// Whether `href` uses an allowed scheme, judged the way a browser reads it:
/// ignoring case and the whitespace and control characters browsers skip.
fn has_allowed_scheme(href: &str) -> bool {
    let normalized: String = href
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ALLOWED_SCHEMES
        .iter()
        .any(|scheme| normalized.starts_with(scheme))
}

/// An ammonia configuration written from the policy above. Output that
/// passes through it unchanged contains nothing outside the policy, and
/// proves the crate's output is a fixed point of such a sanitizer.
fn reference_sanitizer() -> Builder<'static> {
    let mut tag_attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (tag, attribute) in ALLOWED_ATTRIBUTES {
        if attribute != "rel" {
            tag_attributes.entry(tag).or_default().insert(attribute);
        }
    }
    let mut builder = Builder::empty();
    builder
        .tags(HashSet::from(ALLOWED_TAGS))
        .clean_content_tags(HashSet::from(["script", "style"]))
        .tag_attributes(tag_attributes)
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::new())
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Custom(Box::new(keep_site_link)))
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    builder
}

/// The checks above must not be vacuous: each kind of violation they look
/// for is caught when planted in otherwise harmless markup.
#[test]
fn policy_check_catches_planted_violations() {
    let rel = format!("rel=\"{LINK_REL}\"");
    for planted in [
        "<p>x<script>alert(1)</script></p>".to_owned(),
        "<p><img src=\"https://x.org/i.png\"></p>".to_owned(),
        "<svg></svg>".to_owned(),
        "<p onclick=\"alert(1)\">x</p>".to_owned(),
        "<p title=\"x\">x</p>".to_owned(),
        "<ol start=\"2\" type=\"a\"><li>x</li></ol>".to_owned(),
        format!("<a href=\"java\tscript:alert(1)\" {rel}>x</a>"),
        format!("<a href=\" JAVASCRIPT:alert(1)\" {rel}>x</a>"),
        format!("<a href=\"/relative\" {rel}>x</a>"),
        format!("<a href=\"/u//evil.example\" {rel}>x</a>"),
        format!("<a href=\"/u/\\evil.example\" {rel}>x</a>"),
        format!("<a href=\"/p/1?x\" {rel}>x</a>"),
        "<a href=\"https://x.org\">no rel</a>".to_owned(),
        "<a href=\"https://x.org\" rel=\"opener\">weak rel</a>".to_owned(),
    ] {
        assert!(
            !policy_violations(&planted).is_empty(),
            "not caught: {planted}"
        );
    }
    let good = format!(
        "<p><a href=\"https://x.org\" {rel}>x</a> <a href=\"/u/ana\" {rel}>@ana</a> \
         <a href=\"/p/12\" {rel}>wrote</a></p><ol start=\"3\"><li>y</li></ol>"
    );
    assert_eq!(policy_violations(&good), Vec::<String>::new());
}
