//! How people appear beside what they wrote: initials avatars drawn by Hearth (no image, no
//! request anywhere) and role badges from what Hearth knows of them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use hearth_core::ids::MemberId;
use hearth_core::model::{badges, AuthorRef};
use serde::Serialize;
use tera::Value;
use unicode_segmentation::UnicodeSegmentation;

/// The avatar palette's size: `.avatar.tone-0` … `.tone-7` in hearth.css, each dark enough
/// for white initials in both colour schemes.
pub const TONES: u64 = 8;

/// An initials avatar: one or two letters on a colour chosen by the member's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Avatar {
    pub initials: String,
    pub tone: u64,
}

impl Avatar {
    pub fn of(id: MemberId, display_name: &str) -> Avatar {
        Avatar {
            initials: initials(display_name),
            tone: tone(id),
        }
    }
}

/// The colour of a member's avatar: fixed by their id (a change of name keeps it), spread so
/// that members who joined one after another do not all look alike.
pub fn tone(id: MemberId) -> u64 {
    (id.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61 & (TONES - 1)
}

/// One or two initials of a display name: the first letter of its first word and of its last
/// word, by grapheme (so "Émile", "Ольга", "山田 太郎" and "🌻 Sunny" all work), upper-cased.
/// A word's first letter or digit is taken over any punctuation before it; a name of only
/// symbols shows its first one. An empty name shows "?".
pub fn initials(display_name: &str) -> String {
    let words: Vec<&str> = display_name.split_whitespace().collect();
    let first_of = |word: &str| -> Option<String> {
        let graphemes: Vec<&str> = word.graphemes(true).collect();
        let letter = graphemes
            .iter()
            .find(|g| g.chars().next().is_some_and(char::is_alphanumeric))
            .or(graphemes.first())?;
        Some(letter.to_uppercase())
    };
    let mut out = String::new();
    if let Some(first) = words.first().and_then(|w| first_of(w)) {
        out.push_str(&first);
    }
    if words.len() > 1 {
        if let Some(last) = words.last().and_then(|w| first_of(w)) {
            out.push_str(&last);
        }
    }
    if out.is_empty() {
        out.push('?');
    }
    out
}

/// A badge as templates show it: `slug` for its class, `label` for its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BadgeView {
    pub slug: &'static str,
    pub label: &'static str,
}

/// The badges beside `author` on something written at `written_at` in a group they
/// facilitate or not (see [`hearth_core::model::badges`]).
pub fn badges_of(
    author: &AuthorRef,
    facilitates_here: bool,
    written_at: Option<NaiveDateTime>,
) -> Vec<BadgeView> {
    badges(
        author.site_role,
        facilitates_here,
        author.created_at,
        written_at,
    )
    .into_iter()
    .map(|b| BadgeView {
        slug: b.slug(),
        label: b.label(),
    })
    .collect()
}

/// `{{ avatar(id=person.id, name=person.display_name) | safe }}`: an avatar's markup, for
/// pages that show few people (a thread page builds its avatars before rendering). The name
/// is escaped here: it is the member's own words.
pub fn avatar_function(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let id = args
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| tera::Error::msg("avatar needs an id"))?;
    let name = args.get("name").and_then(Value::as_str).unwrap_or_default();
    let size = match args.get("size").and_then(Value::as_str) {
        Some("large") => " avatar-large",
        Some("small") => " avatar-small",
        _ => "",
    };
    let avatar = Avatar::of(MemberId(id), name);
    Ok(Value::String(format!(
        "<span class=\"avatar{size} tone-{}\" aria-hidden=\"true\">{}</span>",
        avatar.tone,
        tera::escape_html(&avatar.initials)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_grapheme_of_the_first_and_last_words() {
        assert_eq!(initials("Mia"), "M");
        assert_eq!(initials("fran de la cruz"), "FC");
        assert_eq!(initials("  émile   zola "), "ÉZ");
        assert_eq!(initials("Ольга Петрова"), "ОП");
        assert_eq!(initials("山田 太郎"), "山太");
        assert_eq!(initials("(sam)"), "S");
        // An emoji of several code points is one grapheme, kept whole.
        assert_eq!(initials("👩‍👧 Mum"), "👩‍👧M");
        assert_eq!(initials("🌻"), "🌻");
        assert_eq!(initials("e\u{301}lise"), "E\u{301}");
        assert_eq!(initials(""), "?");
    }

    #[test]
    fn the_tone_is_fixed_by_the_id_and_uses_the_whole_palette() {
        assert_eq!(tone(MemberId(7)), tone(MemberId(7)));
        let used: std::collections::HashSet<u64> = (1..200).map(|i| tone(MemberId(i))).collect();
        assert_eq!(used.len() as u64, TONES);
        assert!(used.iter().all(|t| *t < TONES));
    }

    #[test]
    fn the_avatar_function_escapes_the_name() {
        let mut args = HashMap::new();
        args.insert("id".to_owned(), Value::from(3));
        args.insert("name".to_owned(), Value::from("<>"));
        let html = avatar_function(&args).unwrap();
        let html = html.as_str().unwrap();
        assert!(html.contains("&lt;"), "{html}");
        assert!(html.contains("aria-hidden=\"true\""), "{html}");
    }
}
