//! Each test is named after the attack or the promise it holds the renderer
//! to. Structure is checked on the parsed output, the way a browser sees it,
//! not by searching the markup for substrings.

#[path = "../tests/support/corpus.rs"]
mod corpus;
mod limits;
mod mentions;

use scraper::{ElementRef, Html, Selector};

use crate::sanitize::{self, ALLOWED_TAGS, LINK_REL};
use crate::{plain_text_excerpt, render, SafeHtml, RENDERER_VERSION};

/// Parses rendered output as the body of a page would be parsed.
fn parse(html: &SafeHtml) -> Html {
    Html::parse_fragment(html.as_str())
}

/// The elements of `doc` matching a CSS selector.
fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).expect("test selectors are valid");
    doc.select(&selector).collect()
}

/// Names of every element in the output, in document order.
fn element_names(html: &SafeHtml) -> Vec<String> {
    let doc = parse(html);
    doc.root_element()
        .descendants()
        .skip(1) // the fragment parser's own <html> root
        .filter_map(ElementRef::wrap)
        .map(|el| el.value().name().to_owned())
        .collect()
}

fn text_of(el: ElementRef<'_>) -> String {
    el.text().collect()
}

/// The single link in `source`'s rendering.
fn only_link(source: &str) -> (Option<String>, String) {
    let out = render(source);
    let doc = parse(&out);
    let links = select(&doc, "a");
    assert_eq!(links.len(), 1, "expected one link in {out}");
    let link = links[0];
    assert_eq!(link.value().attr("rel"), Some(LINK_REL), "in {out}");
    (link.value().attr("href").map(str::to_owned), text_of(link))
}

fn assert_link_has_no_href(source: &str) {
    let (href, _) = only_link(source);
    assert_eq!(href, None, "{source:?} kept its href");
}

/// Asserts `render(source)` is a fixed point of the sanitizer.
fn assert_fixed_point(source: &str) {
    let out = render(source);
    assert_eq!(
        sanitize::clean(out.as_str()),
        out.as_str(),
        "sanitizing the output of {source:?} again changed it"
    );
}

const FIXED_POINT_SAMPLES: &[&str] = &[
    "",
    "plain text",
    "# Title\n\nSome *emphasis*, **strong**, ~~gone~~ and `code`.",
    "Setext\n======\n\nSub\n---",
    "> quoted\n> > nested\n\n- a\n- b\n  1. c\n  2. d",
    "3. three\n4. four",
    "```rust\nfn main() { println!(\"<hi>\"); }\n```",
    "    indented & code <b>",
    "| a | b | c |\n|:--|:-:|--:|\n| 1 | **2** | [3](https://x.org) |",
    "- [ ] open\n- [x] done",
    "line one  \nline two\\\nline three",
    "***\n\n---",
    "Visit https://example.org/path?q=1&r=2#frag, or <https://example.net>.",
    "<someone@example.org> and [mail](mailto:someone@example.org)",
    "![alt text](https://example.com/i.png \"title\") and ![](https://example.com/j.png)",
    "[![logo](https://example.com/logo.png)](https://example.com/)",
    "<div onclick=\"alert(1)\">raw *block*</div>\n\n<!-- comment -->",
    "Inline <span style=\"color:red\">html</span> &amp; &copy; &#x3C;script&#x3E;",
    "[ref link][r]\n\n[r]: https://example.org \"Title\"",
    "Non-breaking\u{a0}space and \u{0} nul",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1)) [y](/relative) [z](#frag)",
    "&lt;img src=x onerror=alert(1)&gt;",
    "* * *\n\n1) paren list\n\n> - [x] quoted task\n>   with **bold** http://a.org",
];

#[test]
fn strips_script_tags() {
    let out = render("<script>alert(1)</script>\n\nhi <script>alert(2)</script>");
    assert!(!element_names(&out).contains(&"script".to_owned()), "{out}");
    // The member sees what they typed rather than having it vanish.
    assert!(text_of(parse(&out).root_element()).contains("<script>alert(1)</script>"));

    // If script markup ever reached the sanitizer, it goes with its content.
    assert_eq!(
        sanitize::clean("<p>a<script>alert(1)</script>b<style>*{}</style></p>"),
        "<p>ab</p>"
    );
}

#[test]
fn escapes_raw_html_as_text() {
    assert_eq!(
        render("a <b>bold</b> move").as_str(),
        "<p>a &lt;b&gt;bold&lt;/b&gt; move</p>\n"
    );

    let out = render("<div class=\"x\" onclick=\"alert(1)\">\n*not emphasis*\n</div>");
    assert_eq!(element_names(&out), ["p"], "{out}");
    let text = text_of(parse(&out).root_element());
    assert!(
        text.contains("<div class=\"x\" onclick=\"alert(1)\">"),
        "{text}"
    );

    let comment = render("<!-- hidden? -->");
    assert!(text_of(parse(&comment).root_element()).contains("<!-- hidden? -->"));
}

#[test]
fn strips_javascript_links() {
    assert_link_has_no_href("[x](javascript:alert(1))");
    assert_link_has_no_href("[x](javascript://%0aalert(1))");
    assert_link_has_no_href("[x][r]\n\n[r]: javascript:alert(1)");
    assert_eq!(
        sanitize::clean("<a href=\"javascript:alert(1)\">x</a>"),
        format!("<a rel=\"{LINK_REL}\">x</a>")
    );
}

#[test]
fn strips_data_urls() {
    assert_link_has_no_href("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)");
    assert_link_has_no_href("![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)");
    assert_link_has_no_href("<data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==>");
}

#[test]
fn strips_vbscript_links() {
    assert_link_has_no_href("[x](vbscript:msgbox(1))");
    assert_link_has_no_href("[x](VBScript:msgbox(1))");
}

#[test]
fn drops_onerror_attributes() {
    for source in [
        "<img src=x onerror=alert(1)>",
        "![x\" onerror=\"alert(1)](https://example.com/i.png)",
        "[x](https://example.com/\"onmouseover=\"alert(1))",
        "[x](https://example.com/ \"title\" onmouseover=alert(1))",
    ] {
        let out = render(source);
        let doc = parse(&out);
        for el in doc
            .root_element()
            .descendants()
            .filter_map(ElementRef::wrap)
        {
            for (name, _) in el.value().attrs() {
                assert!(!name.starts_with("on"), "{name} survived in {out}");
            }
        }
    }
    assert_eq!(
        sanitize::clean(
            "<p onclick=\"alert(1)\"><a href=\"https://x.org\" onerror=\"alert(1)\">x</a></p>"
        ),
        format!("<p><a href=\"https://x.org\" rel=\"{LINK_REL}\">x</a></p>")
    );
}

#[test]
fn images_become_links_not_embeds() {
    let out = render("![a cat](https://example.com/cat.png \"Cat\")");
    assert_eq!(
        out.as_str(),
        format!("<p><a href=\"https://example.com/cat.png\" rel=\"{LINK_REL}\">a cat</a></p>\n")
    );

    // Without alt text, the address itself is the label.
    let (href, label) = only_link("![](https://example.com/x.png)");
    assert_eq!(href.as_deref(), Some("https://example.com/x.png"));
    assert_eq!(label, "https://example.com/x.png");

    // Markup in the alt text is flattened, as it would be in an alt attribute.
    let (_, label) = only_link("![a *b* [c](https://d.org) `e`](https://example.com/x.png)");
    assert_eq!(label, "a b c e");

    // A linked image cannot become a link inside a link; its label remains.
    let (href, label) = only_link("[![logo](https://example.com/logo.png)](https://example.com/)");
    assert_eq!(href.as_deref(), Some("https://example.com/"));
    assert_eq!(label, "logo");

    for source in [
        "![x](https://example.com/i.png)",
        "![x][i]\n\n[i]: https://example.com/i.png",
        "<img src=\"https://example.com/i.png\">",
    ] {
        let names = element_names(&render(source));
        assert!(!names.contains(&"img".to_owned()), "{source}: {names:?}");
    }
}

#[test]
fn no_svg_or_math() {
    for source in [
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "x <svg><a xlink:href=\"javascript:alert(1)\"><text>y</text></a></svg>",
    ] {
        let names = element_names(&render(source));
        assert!(
            !names
                .iter()
                .any(|n| ["svg", "math", "script", "img", "style"].contains(&n.as_str())),
            "{source}: {names:?}"
        );
    }
    assert_eq!(
        sanitize::clean("a<svg><circle/></svg>b<math><mi>x</mi></math>c"),
        "abc"
    );
}

#[test]
fn no_iframe_object_embed_form() {
    let forbidden = [
        "iframe", "object", "embed", "form", "input", "button", "textarea",
    ];
    for source in [
        "<iframe src=\"https://evil.example\"></iframe>",
        "<object data=\"https://evil.example/x.swf\"></object>",
        "<embed src=\"https://evil.example/x.swf\">",
        "<form action=\"https://evil.example\"><input name=p><button>go</button></form>",
        "x <textarea>y</textarea>",
    ] {
        let names = element_names(&render(source));
        assert!(
            !names.iter().any(|n| forbidden.contains(&n.as_str())),
            "{source}: {names:?}"
        );
    }
    assert_eq!(
        sanitize::clean("<form><input value=x><p>kept</p></form><iframe>gone</iframe>"),
        "<p>kept</p>"
    );
}

#[test]
fn links_get_rel_nofollow_ugc_noopener_noreferrer() {
    let out = render(
        "[inline](https://a.org) [ref][r] <https://b.org> https://c.org \
         <d@example.org> ![img](https://e.org/i.png) [bad](javascript:x)\n\n\
         [r]: https://f.org",
    );
    let doc = parse(&out);
    let links = select(&doc, "a");
    assert_eq!(links.len(), 7, "{out}");
    for link in links {
        assert_eq!(link.value().attr("rel"), Some(LINK_REL), "{out}");
    }
}

#[test]
fn headings_are_demoted() {
    let out = render(
        "# one\n## two\n### three\n#### four\n##### five\n###### six\n\nSet\n===\n\nSub\n---",
    );
    assert_eq!(
        element_names(&out),
        ["h3", "h4", "h5", "h6", "h6", "h6", "h3", "h4"],
        "{out}"
    );
    let doc = parse(&out);
    assert_eq!(text_of(select(&doc, "h3")[0]), "one");
    assert!(select(&doc, "h1, h2").is_empty());
}

#[test]
fn tables_strikethrough_tasklists_autolinks_render() {
    let out = render(
        "| Left | Centre |\n|:-----|:------:|\n| a | **b** |\n\n\
         ~~struck~~ and ~also~\n\n\
         - [ ] open\n- [x] done\n\n\
         See https://example.org/a_(b), and <https://example.net>.",
    );
    let doc = parse(&out);

    assert_eq!(select(&doc, "table > thead > tr > th").len(), 2, "{out}");
    assert_eq!(select(&doc, "table > tbody > tr > td").len(), 2, "{out}");
    assert_eq!(text_of(select(&doc, "td strong")[0]), "b");
    // Alignment arrives as a style attribute, which is not allowed.
    assert!(select(&doc, "[style]").is_empty(), "{out}");

    let struck: Vec<String> = select(&doc, "del").into_iter().map(text_of).collect();
    assert_eq!(struck, ["struck", "also"]);

    // Task items show a ballot box instead of a form control.
    let items: Vec<String> = select(&doc, "ul > li").into_iter().map(text_of).collect();
    assert_eq!(items, ["\u{2610} open", "\u{2611} done"]);
    assert!(select(&doc, "input").is_empty());

    let hrefs: Vec<&str> = select(&doc, "a")
        .into_iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(hrefs, ["https://example.org/a_(b)", "https://example.net"]);
}

#[test]
fn bare_urls_are_not_linked_in_code_or_inside_links() {
    let out = render(
        "`https://in.code.span`\n\n```\nhttps://in.code.block\n```\n\n    https://indented.code\n\n\
         [see https://inside.link](https://target.org)",
    );
    let doc = parse(&out);
    let hrefs: Vec<&str> = select(&doc, "a")
        .into_iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(hrefs, ["https://target.org"], "{out}");
    assert_eq!(select(&doc, "a a").len(), 0);
}

#[test]
fn bare_urls_split_across_text_events_are_linked_whole() {
    // Escapes and entities make pulldown-cmark emit several text events.
    let (href, text) = only_link("go https://example.org/a\\_b&amp;c_d!");
    assert_eq!(href.as_deref(), Some("https://example.org/a_b&c_d"));
    assert_eq!(text, "https://example.org/a_b&c_d");
}

#[test]
fn output_is_a_fixed_point() {
    for source in FIXED_POINT_SAMPLES {
        assert_fixed_point(source);
    }
}

#[test]
fn corpus_output_is_a_fixed_point() {
    let Some(payloads) = corpus::load_payloads() else {
        return;
    };
    let mut failures = Vec::new();
    for payload in &payloads {
        for (context, source) in corpus::in_contexts(payload) {
            let out = render(&source);
            if sanitize::clean(out.as_str()) != out.as_str() {
                failures.push(format!("[{context}] {source:?} -> {out:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} outputs change when sanitized again, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn mailto_links_survive() {
    let (href, text) = only_link("<someone@example.org>");
    assert_eq!(href.as_deref(), Some("mailto:someone@example.org"));
    assert_eq!(text, "someone@example.org");

    let (href, _) = only_link("[write to me](mailto:someone@example.org?subject=Hi)");
    assert_eq!(
        href.as_deref(),
        Some("mailto:someone@example.org?subject=Hi")
    );
}

#[test]
fn entity_encoded_javascript_urls_are_stripped() {
    assert_link_has_no_href("[x](&#106;avascript:alert(1))");
    assert_link_has_no_href("[x](java&#x09;script:alert(1))");
    assert_link_has_no_href("[x](java&#10;script:alert(1))");
    assert_link_has_no_href(
        "[x](&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1))",
    );
    assert_link_has_no_href("[x](javascript&colon;alert(1))");
    assert_link_has_no_href("[x](%6a%61%76%61%73%63%72%69%70%74:alert(1))");
}

#[test]
fn markdown_link_with_spaces_and_case_tricks() {
    assert_link_has_no_href("[x]( JaVaScRiPt:alert(1))");
    assert_link_has_no_href("[x](<javascript:alert(1)>)");
    assert_link_has_no_href("[x](<  javascript:alert(1)>)");
    assert_link_has_no_href("[x](\\javascript:alert(1))");
    // Spaces inside the scheme stop it from being a link destination at all.
    let out = render("[x](j a v a s c r i p t:alert(1))");
    assert!(select(&parse(&out), "a[href]").is_empty(), "{out}");
}

#[test]
fn autolink_angle_brackets_javascript() {
    assert_link_has_no_href("<javascript:alert(1)>");
    assert_link_has_no_href("<JAVASCRIPT:alert(1)>");
    assert_link_has_no_href("<vbscript:msgbox(1)>");
}

#[test]
fn relative_and_fragment_links_lose_their_href() {
    // A relative link would resolve differently on every page that shows
    // the post, so it is not allowed to point anywhere.
    assert_link_has_no_href("[x](/admin/delete)");
    assert_link_has_no_href("[x](../up)");
    assert_link_has_no_href("[x](#top)");
    assert_link_has_no_href("[x]()");
    assert_link_has_no_href("[x](//evil.example/)");
}

#[test]
fn only_the_allowed_attributes_survive() {
    let out = render(
        "# Title\n\n5. five\n\n```js\ncode\n```\n\n[t](https://a.org \"title\")\n\n| a |\n|--:|\n| b |",
    );
    let doc = parse(&out);
    for el in doc
        .root_element()
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
    {
        let tag = el.value().name();
        assert!(ALLOWED_TAGS.contains(&tag), "<{tag}> in {out}");
        for (name, _) in el.value().attrs() {
            let allowed = matches!((tag, name), ("a", "href" | "rel") | ("ol", "start"));
            assert!(allowed, "{name} on <{tag}> in {out}");
        }
    }
    assert_eq!(select(&doc, "ol")[0].value().attr("start"), Some("5"));
}

#[test]
fn hostile_nesting_does_not_overflow() {
    // Members cannot crash the renderer with deep nesting; pulldown-cmark
    // and ammonia both avoid recursion on the document depth.
    for source in [
        "> ".repeat(5_000),
        "[".repeat(20_000),
        "*a ".repeat(10_000),
        "- ".repeat(2_000),
    ] {
        let out = render(&source);
        assert_eq!(sanitize::clean(out.as_str()), out.as_str());
    }
}

/// A tripwire for [`RENDERER_VERSION`]: if this output changes, stored posts
/// rendered by the old code differ from what a fresh render would give.
/// Bump the version (so `hearth rerender` refreshes them), then update both
/// expectations here.
#[test]
fn output_changes_require_a_renderer_version_bump() {
    let source = "# Title\n\nText with *em*, **strong**, ~~del~~, `code` and <b>html</b>.\n\n\
                  > quote\n\n3. three\n- [x] done\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n\
                  ![alt](https://example.com/i.png) https://example.org [js](javascript:x) [p](/p/5) [u](/u/ana) [no](/x)\n\n\
                  ```rust\nlet x = 1;\n```\n\n---";
    let expected = concat!(
        "<h3>Title</h3>\n",
        "<p>Text with <em>em</em>, <strong>strong</strong>, <del>del</del>, <code>code</code> and &lt;b&gt;html&lt;/b&gt;.</p>\n",
        "<blockquote>\n<p>quote</p>\n</blockquote>\n",
        "<ol start=\"3\">\n<li>three</li>\n</ol>\n",
        "<ul>\n<li>☑ done</li>\n</ul>\n",
        "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n<tr><td>1</td><td>2</td></tr>\n</tbody></table>\n",
        "<p><a href=\"https://example.com/i.png\" rel=\"nofollow ugc noopener noreferrer\">alt</a> ",
        "<a href=\"https://example.org\" rel=\"nofollow ugc noopener noreferrer\">https://example.org</a> ",
        "<a rel=\"nofollow ugc noopener noreferrer\">js</a> ",
        "<a href=\"/p/5\" rel=\"nofollow ugc noopener noreferrer\">p</a> ",
        "<a href=\"/u/ana\" rel=\"nofollow ugc noopener noreferrer\">u</a> ",
        "<a rel=\"nofollow ugc noopener noreferrer\">no</a></p>\n",
        "<pre><code>let x = 1;\n</code></pre>\n",
        "<hr>\n",
    );
    assert_eq!(RENDERER_VERSION, 3);
    assert_eq!(render(source).as_str(), expected);
}

#[test]
fn safe_html_exposes_its_string() {
    let out = render("*hi*");
    assert_eq!(out.as_str(), "<p><em>hi</em></p>\n");
    assert_eq!(out.to_string(), out.as_str());
    assert_eq!(AsRef::<str>::as_ref(&out), out.as_str());
    assert_eq!(out.clone().into_string(), out.as_str());
}

#[test]
fn excerpt_strips_markdown_and_collapses_whitespace() {
    let source = "# Hello\n\nSome *emphasis*,   `code` and [a link](https://x.org).\n\n\
                  - one\n- two\n\n![a cat](https://x.org/c.png)\n\n<b>raw</b>";
    assert_eq!(
        plain_text_excerpt(source, 200),
        "Hello Some emphasis, code and a link. one two a cat <b>raw</b>"
    );
}

#[test]
fn excerpt_cuts_characters_not_bytes_and_marks_the_cut() {
    assert_eq!(plain_text_excerpt("héllo wörld", 5), "héllo…");
    // A cut just after a word does not leave a space before the ellipsis.
    assert_eq!(plain_text_excerpt("héllo wörld", 6), "héllo…");
    assert_eq!(plain_text_excerpt("héllo wörld", 11), "héllo wörld");
    assert_eq!(plain_text_excerpt("", 10), "");
    assert_eq!(
        plain_text_excerpt("| a | b |\n|---|---|\n| c | d |", 100),
        "a b c d"
    );
}
