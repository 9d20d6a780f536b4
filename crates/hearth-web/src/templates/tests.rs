use super::*;

/// Every `| safe` in the default theme prints a field ending in `_html`: sanitized
/// `hearth-markdown` output, or markup a handler wrote with every value escaped (a post's
/// header and links, `handlers/threads.rs`), never a raw string.
#[test]
fn templates_mark_only_rendered_markdown_as_safe() {
    let mut checked = 0;
    for name in DefaultTheme::iter().filter(|n| n.ends_with(".html")) {
        let text = String::from_utf8(DefaultTheme::get(&name).unwrap().data.into_owned()).unwrap();
        for (index, _) in text.match_indices("| safe") {
            let before = text[..index].trim_end();
            let expression = before.rsplit("{{").next().unwrap().trim();
            assert!(
                expression.ends_with("_html") || expression.ends_with(".html"),
                "{name}: `{expression} | safe` prints something that is not rendered markdown"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "the theme prints post bodies, bios and ground rules"
    );
}

#[test]
fn the_default_theme_loads_and_renders_every_page_template() {
    let tera = load(None).unwrap();
    for page in [
        "home.html",
        "board.html",
        "thread.html",
        "register.html",
        "signin.html",
        "error.html",
        "help.html",
    ] {
        assert!(
            tera.get_template_names().any(|n| n == page),
            "{page} is missing"
        );
    }
}

#[test]
fn times_are_shown_in_the_readers_zone() {
    let stored = Value::String("2026-07-01T12:00:00".to_owned());
    let mut args = HashMap::new();
    args.insert(
        "tz".to_owned(),
        Value::String("America/New_York".to_owned()),
    );
    assert_eq!(
        when_filter(&stored, &args).unwrap(),
        Value::String("1 Jul 2026, 08:00".to_owned())
    );
    args.insert("tz".to_owned(), Value::String("Europe/Berlin".to_owned()));
    assert_eq!(
        when_filter(&stored, &args).unwrap(),
        Value::String("1 Jul 2026, 14:00".to_owned())
    );
    assert_eq!(
        iso_filter(&stored, &HashMap::new()).unwrap(),
        Value::String("2026-07-01T12:00:00Z".to_owned())
    );
}

#[test]
fn meeting_times_show_the_readers_zone_and_the_organisers() {
    let stored = Value::String("2026-03-12T19:00:00".to_owned());
    let mut args = HashMap::new();
    args.insert("tz".to_owned(), Value::String("Europe/London".to_owned()));
    args.insert("zone".to_owned(), Value::String("Europe/Berlin".to_owned()));
    assert_eq!(
        meeting_time_filter(&stored, &args).unwrap(),
        Value::String(
            "Thu 12 Mar 2026, 19:00 (your time, London time) · 20:00 Berlin time".to_owned()
        )
    );
    args.insert("zone".to_owned(), Value::String("Asia/Tokyo".to_owned()));
    assert_eq!(
        meeting_time_filter(&stored, &args).unwrap(),
        Value::String(
            "Thu 12 Mar 2026, 19:00 (your time, London time) · Fri 13 Mar, 04:00 Tokyo time"
                .to_owned()
        )
    );
    args.insert("zone".to_owned(), Value::String("Europe/London".to_owned()));
    assert_eq!(
        meeting_time_filter(&stored, &args).unwrap(),
        Value::String("Thu 12 Mar 2026, 19:00 (London time)".to_owned())
    );
}

fn at(text: &str) -> NaiveDateTime {
    text.parse().unwrap()
}

#[test]
fn moments_read_as_people_say_them_in_the_readers_zone() {
    let london: Tz = "Europe/London".parse().unwrap();
    let toronto: Tz = "America/Toronto".parse().unwrap();
    // Tuesday 3 March 2026, 18:00 UTC (18:00 in London, 13:00 in Toronto).
    let now = at("2026-03-03T18:00:00");
    let text = |utc: &str, tz: Tz| moment(at(utc), now, tz).text;
    assert_eq!(text("2026-03-03T17:59:40", london), "just now");
    assert_eq!(text("2026-03-03T17:59:00", london), "1 minute ago");
    assert_eq!(text("2026-03-03T17:15:00", london), "45 minutes ago");
    assert_eq!(text("2026-03-03T16:00:00", london), "2 hours ago");
    assert_eq!(text("2026-03-03T09:05:00", london), "today at 09:05");
    assert_eq!(text("2026-03-02T14:05:00", london), "yesterday at 14:05");
    // The same instant is "today" in Toronto, where it was 09:05.
    assert_eq!(text("2026-03-03T03:05:00", london), "today at 03:05");
    assert_eq!(text("2026-03-03T03:05:00", toronto), "yesterday at 22:05");
    assert_eq!(text("2026-02-28T10:00:00", london), "Saturday at 10:00");
    assert_eq!(text("2026-01-20T10:00:00", london), "20 January");
    assert_eq!(text("2025-12-24T10:00:00", london), "24 December 2025");
    assert_eq!(text("2026-03-10T10:00:00", london), "10 March at 10:00");
    let shown = moment(at("2026-03-02T14:05:00"), now, toronto);
    assert_eq!(shown.iso, "2026-03-02T14:05:00Z");
    assert_eq!(shown.title, "Monday 2 March 2026, 09:05, Toronto time");
    assert_eq!(
        time_element(&shown),
        "<time datetime=\"2026-03-02T14:05:00Z\" title=\"Monday 2 March 2026, 09:05, Toronto time\">yesterday at 09:05</time>"
    );
}

#[test]
fn zones_read_by_their_city() {
    assert_eq!(zone_label("Europe/London"), "London time");
    assert_eq!(zone_label("America/New_York"), "New York time");
    assert_eq!(
        zone_label("America/Argentina/Buenos_Aires"),
        "Buenos Aires time"
    );
    assert_eq!(zone_label("UTC"), "UTC");
    assert_eq!(zone_label("Etc/GMT+5"), "Etc/GMT+5");
}

#[test]
fn languages_are_named_as_people_say_them() {
    assert_eq!(language_name("en"), "English");
    assert_eq!(language_name("DE"), "German");
    assert_eq!(language_name("pt-br"), "Portuguese (pt-br)");
    assert_eq!(language_name("fil"), "Filipino");
    // Unknown codes are shown as they were written, not guessed.
    assert_eq!(language_name("xx"), "xx");
    assert_eq!(language_name("klingon"), "klingon");
}
