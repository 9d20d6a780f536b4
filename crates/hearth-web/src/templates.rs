//! Tera templates: the embedded default theme, overridable file by file from the operator's
//! theme folder, plus the filters that show times in the reader's zone.
//!
//! Templates are `.html`, so tera escapes every value. The only values printed with `| safe`
//! are fields ending in `_html`, which hold `hearth-markdown` output (a test enforces this).

use std::collections::HashMap;
use std::path::Path;

use chrono::{Datelike, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use rust_embed::RustEmbed;
use serde_json::Value;
use tera::{Context, Tera};

use crate::errors::WebError;
use crate::state::AppState;
use crate::viewer::Viewer;

#[derive(RustEmbed)]
#[folder = "../../themes/default/"]
pub struct DefaultTheme;

/// Loads the default templates, then any same-named files from `theme_dir/templates`.
pub fn load(theme_dir: Option<&Path>) -> Result<Tera, String> {
    let mut templates: Vec<(String, String)> = Vec::new();
    for name in DefaultTheme::iter().filter(|n| n.starts_with("templates/")) {
        let file = DefaultTheme::get(&name).ok_or_else(|| format!("missing embedded {name}"))?;
        let text = String::from_utf8(file.data.into_owned()).map_err(|e| format!("{name}: {e}"))?;
        templates.push((name.trim_start_matches("templates/").to_owned(), text));
    }
    if let Some(dir) = theme_dir {
        templates.extend(read_overrides(&dir.join("templates"))?);
    }
    let mut tera = Tera::default();
    // Later entries replace earlier ones of the same name: the operator's files win.
    let mut by_name: HashMap<String, String> = HashMap::new();
    for (name, text) in templates {
        by_name.insert(name, text);
    }
    tera.add_raw_templates(by_name)
        .map_err(|e| format!("a theme template does not parse: {e:?}"))?;
    tera.autoescape_on(vec![".html"]);
    tera.register_filter("when", when_filter);
    tera.register_filter("iso", iso_filter);
    tera.register_filter("meeting_time", meeting_time_filter);
    tera.register_filter("moment", MomentFilter);
    tera.register_filter("zone_label", zone_label_filter);
    tera.register_filter("language_name", language_name_filter);
    tera.register_function("avatar", AvatarFunction);
    Ok(tera)
}

fn read_overrides(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "html") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            found.push((name, text));
        }
    }
    Ok(found)
}

fn parse_stored_time(value: &Value) -> tera::Result<NaiveDateTime> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("a time must be a string"))?;
    // serde writes `NaiveDateTime` as ISO 8601, which its `FromStr` reads without a format
    // string to interpret (this runs several times for every post on a page).
    text.parse::<NaiveDateTime>()
        .map_err(|e| tera::Error::msg(format!("not a stored time {text:?}: {e}")))
}

/// `{{ post.created_at | when(tz=tz) }}`: the stored UTC time in the reader's zone.
fn when_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(when(
        parse_stored_time(value)?,
        zone_arg(args, "tz"),
    )))
}

/// `when`'s format, parsed once rather than for every time on every page.
static WHEN_FORMAT: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
    std::sync::LazyLock::new(|| {
        chrono::format::StrftimeItems::new("%-d %b %Y, %H:%M")
            .parse_to_owned()
            .unwrap_or_default()
    });

fn zone_arg(args: &HashMap<String, Value>, name: &str) -> Tz {
    args.get(name).and_then(Value::as_str).map_or(Tz::UTC, zone)
}

/// `{{ occurrence.starts_at | meeting_time(tz=tz, zone=meeting.time_zone) }}`: a meeting's
/// start in the reader's zone, with the organiser's zone beside it when it differs —
/// "Thu 12 Mar 2026, 19:00 (your time, London time) · 20:00 Berlin time".
fn meeting_time_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let utc = parse_stored_time(value)?;
    let reader = zone_arg(args, "tz");
    let organiser = zone_arg(args, "zone");
    let mine = reader.from_utc_datetime(&utc);
    let theirs = organiser.from_utc_datetime(&utc);
    let text = if reader == organiser {
        format!(
            "{} ({})",
            mine.format("%a %-d %b %Y, %H:%M"),
            zone_label(reader.name())
        )
    } else if mine.date_naive() == theirs.date_naive() {
        format!(
            "{} (your time, {}) · {} {}",
            mine.format("%a %-d %b %Y, %H:%M"),
            zone_label(reader.name()),
            theirs.format("%H:%M"),
            zone_label(organiser.name())
        )
    } else {
        format!(
            "{} (your time, {}) · {} {}",
            mine.format("%a %-d %b %Y, %H:%M"),
            zone_label(reader.name()),
            theirs.format("%a %-d %b, %H:%M"),
            zone_label(organiser.name())
        )
    };
    Ok(Value::String(text))
}

/// A time as people say it, for a page shown now: "just now", "2 hours ago", "yesterday at
/// 14:05", "Monday at 09:30", "3 March", "3 March 2025" (a time to come: "3 March at 14:05"),
/// with the exact time in the reader's zone for the `title` and the UTC instant for
/// `datetime`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moment {
    pub iso: String,
    pub text: String,
    pub title: String,
}

/// Formats of [`moment`], parsed once.
static FORMATS: std::sync::LazyLock<[Vec<chrono::format::Item<'static>>; 5]> =
    std::sync::LazyLock::new(|| {
        ["%H:%M", "%A", "%-d %B", "%-d %B %Y", "%A %-d %B %Y, %H:%M"].map(|f| {
            chrono::format::StrftimeItems::new(f)
                .parse_to_owned()
                .unwrap_or_default()
        })
    });

pub fn moment(utc: NaiveDateTime, now: NaiveDateTime, tz: Tz) -> Moment {
    let [clock, weekday, day_month, day_month_year, exact] = &*FORMATS;
    let local = tz.from_utc_datetime(&utc);
    let today = tz.from_utc_datetime(&now).date_naive();
    let at = |items: &Vec<chrono::format::Item<'static>>| {
        local.format_with_items(items.iter()).to_string()
    };
    let ago = now - utc;
    let days_back = (today - local.date_naive()).num_days();
    let plural = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one} ago")
        } else {
            format!("{n} {one}s ago")
        }
    };
    let text = if ago < chrono::TimeDelta::seconds(-60) {
        // Ahead: a leaving date, a retry time.
        if local.year() == today.year() {
            format!("{} at {}", at(day_month), at(clock))
        } else {
            format!("{} at {}", at(day_month_year), at(clock))
        }
    } else if ago < chrono::TimeDelta::minutes(1) {
        "just now".to_owned()
    } else if ago < chrono::TimeDelta::hours(1) {
        plural(ago.num_minutes(), "minute")
    } else if ago < chrono::TimeDelta::hours(6) {
        plural(ago.num_hours(), "hour")
    } else if days_back == 0 {
        format!("today at {}", at(clock))
    } else if days_back == 1 {
        format!("yesterday at {}", at(clock))
    } else if days_back < 7 {
        format!("{} at {}", at(weekday), at(clock))
    } else if local.year() == today.year() {
        at(day_month)
    } else {
        at(day_month_year)
    };
    Moment {
        iso: iso(utc),
        text,
        title: format!("{}, {}", at(exact), zone_label(tz.name())),
    }
}

/// A zone as people say it: "London time" for `Europe/London`, "Buenos Aires time" for
/// `America/Argentina/Buenos_Aires`, "UTC" for UTC (and `Etc/…` zones as they are).
pub fn zone_label(name: &str) -> String {
    match name {
        "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Zulu" => "UTC".to_owned(),
        _ if name.starts_with("Etc/") => name.to_owned(),
        _ => {
            let city = name.rsplit('/').next().unwrap_or(name);
            format!("{} time", city.replace('_', " "))
        }
    }
}

/// `{{ tz | zone_label }}`.
fn zone_label_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let name = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("a zone must be a string"))?;
    Ok(Value::String(zone_label(name)))
}

/// A group's language as people say it: "English" for `en`, "Portuguese (pt-br)" for a
/// regional code, the code itself when ISO 639 does not know it.
pub fn language_name(code: &str) -> String {
    let code = code.trim();
    let (base, region) = match code.split_once(['-', '_']) {
        Some((base, region)) => (base, Some(region)),
        None => (code, None),
    };
    let lower = base.to_ascii_lowercase();
    let known = match lower.len() {
        2 => isolang::Language::from_639_1(&lower),
        3 => isolang::Language::from_639_3(&lower),
        _ => None,
    };
    match (known, region) {
        (Some(language), None) => language.to_name().to_owned(),
        (Some(language), Some(_)) => format!("{} ({code})", language.to_name()),
        (None, _) => code.to_owned(),
    }
}

/// `{{ board.language | language_name }}`.
fn language_name_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let code = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("a language must be a string"))?;
    Ok(Value::String(language_name(code)))
}

/// `{{ post.created_at | moment(tz=tz) }}`: the whole `<time>` element of a [`moment`]. Its
/// output is markup made only of digits, month and day names and a zone's name (a zone the
/// server knows), so the filter is marked safe rather than printed with `| safe`.
struct MomentFilter;

impl tera::Filter for MomentFilter {
    fn filter(&self, value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
        let shown = moment(
            parse_stored_time(value)?,
            hearth_core::clock::now(),
            zone_arg(args, "tz"),
        );
        Ok(Value::String(time_element(&shown)))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// A [`Moment`] as a `<time>` element.
pub fn time_element(shown: &Moment) -> String {
    format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        shown.iso,
        tera::escape_html(&shown.title),
        tera::escape_html(&shown.text)
    )
}

/// `{{ avatar(id=…, name=…) }}`: see [`crate::people::avatar_function`]; it escapes the name.
struct AvatarFunction;

impl tera::Function for AvatarFunction {
    fn call(&self, args: &HashMap<String, Value>) -> tera::Result<Value> {
        crate::people::avatar_function(args)
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// `{{ post.created_at | iso }}`: for `<time datetime=…>`.
fn iso_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(iso(parse_stored_time(value)?)))
}

/// A stored UTC time for `<time datetime=…>`.
pub fn iso(utc: NaiveDateTime) -> String {
    utc.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A zone by its IANA name, UTC if unknown: parse it once for a page, then [`when`] each time.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// A stored UTC time as `when` shows it, in `tz`: for pages that format their many times
/// before rendering rather than through the filter.
pub fn when(utc: NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(&utc)
        .format_with_items(WHEN_FORMAT.iter())
        .to_string()
}

/// What every page needs: the site, who is reading, their zone and the form token.
pub fn base_context(state: &AppState, viewer: &Viewer) -> Context {
    let mut context = Context::new();
    context.insert("site_name", &state.config.site_name);
    context.insert("site_description", &state.config.site_description);
    // `Page::new` says what a page is; anything else (an error page) is never indexed.
    context.insert("robots", "noindex, nofollow");
    context.insert("viewer", &viewer.summary());
    // Visitors get a token (and its cookie) only on pages with a form: see `Page::with_csrf`.
    if viewer.member().is_some() {
        context.insert("csrf_token", viewer.csrf_token());
    }
    context.insert("tz", &viewer.time_zone(&state.config.default_time_zone));
    // A confirmation of the member's last action, shown once (see `Viewer::flash`).
    context.insert("flash", &viewer.flash_for_page());
    // Whether this community sends e-mail: pages with an e-mail feature say so when it does not.
    context.insert("email_enabled", &state.config.email.enabled());
    context
}

/// Room for a whole page at once: a 20-post thread page is ~37 KB for a member, and Tera's own
/// `render` starts at 2 KB and grows by doubling (five copies of the page on the way).
const PAGE_CAPACITY: usize = 48 * 1024;

pub fn render(state: &AppState, template: &str, context: &Context) -> Result<String, WebError> {
    let failed = |error: &dyn std::fmt::Debug| {
        tracing::error!(template, error = ?error, "template failed to render");
        WebError::Internal
    };
    let mut out = Vec::with_capacity(PAGE_CAPACITY);
    state
        .templates
        .render_to(template, context, &mut out)
        .map_err(|e| failed(&e))?;
    String::from_utf8(out).map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests;
