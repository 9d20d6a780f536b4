use super::*;

/// Every `| safe` in the default theme prints a field ending in `_html`: sanitized
/// `hearth-markdown` output, never a raw string.
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
            "Thu 12 Mar 2026, 19:00 (your time, Europe/London) · 20:00 in Europe/Berlin".to_owned()
        )
    );
    args.insert("zone".to_owned(), Value::String("Asia/Tokyo".to_owned()));
    assert_eq!(
        meeting_time_filter(&stored, &args).unwrap(),
        Value::String(
            "Thu 12 Mar 2026, 19:00 (your time, Europe/London) · Fri 13 Mar, 04:00 in Asia/Tokyo"
                .to_owned()
        )
    );
    args.insert("zone".to_owned(), Value::String("Europe/London".to_owned()));
    assert_eq!(
        meeting_time_filter(&stored, &args).unwrap(),
        Value::String("Thu 12 Mar 2026, 19:00 (Europe/London)".to_owned())
    );
}
