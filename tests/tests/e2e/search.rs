//! `/search` over real HTTP: a member of a private group finds "vet bills" there, a visitor and
//! an outsider only public threads (not even a sign that the private one exists); snippets are
//! escaped plain text with the words marked; a refused query keeps its words; the header's
//! box and "search this group".

use hearth_tests::TestApp;
use scraper::Selector;

fn hit_titles(page: &hearth_tests::Page) -> Vec<String> {
    page.texts(".search-hit h3")
}

#[test]
fn a_member_of_a_private_group_finds_vet_bills_there_and_a_visitor_only_public_threads() {
    let app = TestApp::new();
    let circle = app
        .group("circle")
        .named("Quiet circle")
        .private()
        .facilitated_by("fay")
        .with_members(["ana"])
        .build();
    let pets = app
        .group("pets")
        .named("Pet loss")
        .facilitated_by("paul")
        .with_members(["olga"])
        .build();
    circle.start_thread(
        "fay",
        "Vet bills last year",
        "We found a payment plan with the practice.",
    );
    pets.start_thread("paul", "Vet bills and insurance", "Is insurance worth it?");

    let ana = circle.browser("ana");
    let found = ana.visit("/search?q=vet+bills");
    found.assert_status(200);
    let mut titles = hit_titles(&found);
    titles.sort();
    assert_eq!(
        titles,
        vec!["Vet bills and insurance", "Vet bills last year"]
    );

    for outsider in [app.browser(), pets.browser("olga")] {
        let page = outsider.visit("/search?q=vet+bills");
        page.assert_status(200);
        assert_eq!(hit_titles(&page), vec!["Vet bills and insurance"]);
        assert!(!page.body.contains("payment plan") && !page.body.contains("last year"));
        assert!(
            !page.body.contains("Quiet circle"),
            "the private group is not offered as a filter"
        );
        // Naming the private group finds exactly what naming no group at all would.
        let named = outsider.visit("/search?q=vet+bills&group=circle");
        let unknown = outsider.visit("/search?q=vet+bills&group=no-such-group");
        named.assert_status(200);
        assert_eq!(named.count(".search-hit"), 0);
        assert_eq!(
            named.body.replace("circle", "X"),
            unknown.body.replace("no-such-group", "X")
        );
    }
}

#[test]
fn snippets_are_escaped_plain_text_with_the_words_marked() {
    let app = TestApp::new();
    let pets = app.group("pets").facilitated_by("paul").build();
    pets.start_thread(
        "paul",
        "After the vet <i>visit</i> & the bill",
        "**Tired** <script>alert('x')</script> & the vet said <b>rest</b>",
    );
    let page = app.browser().visit("/search?q=vet");
    let html = page.html();
    // The title too: whole, escaped, its matching words marked.
    let title = html
        .select(&Selector::parse("main h3 a").unwrap())
        .next()
        .unwrap();
    assert_eq!(title.select(&Selector::parse("i").unwrap()).count(), 0);
    let marked: Vec<String> = title
        .select(&Selector::parse("mark").unwrap())
        .map(|m| m.text().collect())
        .collect();
    assert_eq!(marked, vec!["vet"]);
    assert_eq!(
        title.text().collect::<String>(),
        "After the vet <i>visit</i> & the bill"
    );
    let snippet = html
        .select(&Selector::parse(".snippet").unwrap())
        .next()
        .unwrap();
    assert_eq!(
        snippet
            .select(&Selector::parse("script, b, strong").unwrap())
            .count(),
        0
    );
    let marked: Vec<String> = snippet
        .select(&Selector::parse("mark").unwrap())
        .map(|m| m.text().collect())
        .collect();
    assert_eq!(marked, vec!["vet"]);
    let text: String = snippet.text().collect();
    assert_eq!(
        text,
        "Tired <script>alert('x')</script> & the vet said <b>rest</b>"
    );
    assert!(page
        .body
        .contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt; &amp; the"));
}

#[test]
fn a_refused_query_keeps_its_words_and_says_what_to_change() {
    let app = TestApp::new();
    let typed = "one two three four five six seven eight nine";
    let page = app
        .browser()
        .get(&format!("/search?q={}", typed.replace(' ', "+")));
    page.assert_status(422);
    assert_eq!(page.attrs("#q", "value"), vec![typed]);
    assert_eq!(
        page.texts("#q-error"),
        vec!["A search can have at most 8 words"]
    );
}

#[test]
fn the_header_has_a_search_box_and_a_group_page_searches_that_group() {
    let app = TestApp::new();
    let pets = app.group("pets").facilitated_by("paul").build();
    let home = app.browser().visit("/");
    assert_eq!(
        home.attrs("header form[role=search]", "action"),
        vec!["/search"]
    );
    assert_eq!(home.attrs("label[for=header-q]", "for").len(), 1);
    let group = pets.browser("paul").visit("/b/pets");
    assert_eq!(
        group.attrs(
            "form[aria-label='Search this group'] input[name=group]",
            "value"
        ),
        vec!["pets"]
    );
}
