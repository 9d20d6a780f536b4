//! Any input at all: the renderer's output is a fixed point of its sanitizer and holds nothing
//! that can run script — only allow-listed elements, only `href`/`rel`/`start` attributes, and
//! only http, https and mailto links.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scraper::Html;

const ALLOWED_TAGS: &[&str] = &[
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol",
    "li", "a", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
];

fn scheme_is_safe(href: &str) -> bool {
    let compact: String = href.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let lowered = compact.to_ascii_lowercase();
    ["http://", "https://", "mailto:"].iter().any(|scheme| lowered.starts_with(scheme))
}

fuzz_target!(|source: &str| {
    let html = hearth_markdown::render(source);
    assert_eq!(hearth_markdown::sanitize_again(html.as_str()), html.as_str(), "output is not a fixed point");
    let fragment = Html::parse_fragment(html.as_str());
    for element in fragment.root_element().descendants().filter_map(scraper::ElementRef::wrap) {
        let name = element.value().name();
        if name == "html" {
            continue;
        }
        assert!(ALLOWED_TAGS.contains(&name), "element <{name}> in {html}");
        for (attribute, value) in element.value().attrs() {
            match (name, attribute) {
                ("a", "href") => assert!(scheme_is_safe(value), "unsafe link {value:?}"),
                ("a", "rel") | ("ol", "start") => {}
                _ => panic!("attribute {attribute} on <{name}> in {html}"),
            }
        }
    }
});
