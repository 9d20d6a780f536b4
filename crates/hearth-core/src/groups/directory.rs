//! The directory: every group's public face, found by words, category, format, language and
//! place.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Timestamp};
use serde::Serialize;

use std::collections::HashSet;
use std::str::FromStr;

use celes::{Country, LookupTable};

use crate::clock;
use crate::db::schema::{boards as boards_table, categories};
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::BoardId;
use crate::model::{Board, MeetingFormat, Visibility};
use crate::policy::{self, Action, Actor};
use crate::search::text;

/// Groups on one page of the directory.
pub const GROUPS_PER_PAGE: i64 = 20;

/// A group as the directory shows it: its public face only, whoever is looking.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCard {
    pub id: BoardId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub language: String,
    pub meeting_format: MeetingFormat,
    pub format_label: &'static str,
    pub city: String,
    pub country: String,
    pub visibility: Visibility,
    /// "12 members"; for a private group's outsiders a band ("fewer than 10 members"), see
    /// [`members_label`].
    pub members_label: String,
    /// Only for groups the reader may read: a private group's meetings are its members' business.
    pub next_meeting: Option<crate::meetings::Upcoming>,
}

/// What the directory was asked for.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Words looked for in the name, tags, place and description: stemmed, folded, stop words
    /// dropped; a group with more of them ranks higher, and one is enough.
    pub words: String,
    /// A category's slug.
    pub category: String,
    pub meeting_format: String,
    pub language: String,
    /// A city, region or country.
    pub place: String,
    /// With a place: online groups count as near.
    pub or_online: bool,
    /// 1-based.
    pub page: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryPage {
    pub groups: Vec<GroupCard>,
    pub page: i64,
    pub has_more: bool,
}

/// What the directory searches: name, description and tags, lowercased here so that both
/// backends fold case the same way (SQLite's `lower` knows only ASCII).
pub(crate) fn search_text(name: &str, description: &str, tags: &str) -> String {
    format!("{name} {description} {tags}").to_lowercase()
}

/// Where a group meets, lowercased the same way, for the directory's place filter.
pub(crate) fn place_text(city: &str, country: &str) -> String {
    format!("{city} {country}").to_lowercase()
}

/// How many members a group has, in words, as `actor` may know it: the exact number for those
/// who may read the group, and for anyone else (of a private group) a band that does not move
/// as one person joins or leaves.
pub fn members_label(actor: &Actor, board: &Board) -> String {
    let n = board.member_count;
    if board.visibility != Visibility::Private || policy::allows(actor, Action::ReadBoard(board)) {
        return format!("{n} member{}", if n == 1 { "" } else { "s" });
    }
    match n {
        ..=9 => "fewer than 10 members",
        10..=49 => "10 to 49 members",
        50..=99 => "50 to 99 members",
        100..=499 => "100 to 499 members",
        _ => "500 members or more",
    }
    .to_owned()
}

/// The directory: every group's public face, filtered and searched, best matches first and
/// then most recently active. Private groups are listed (people must be able to find and ask to
/// join them) but only with what a non-member may see. The boards table is small, so a search
/// reads it whole and ranks in Rust (`rank`), the same on both backends.
pub fn directory(
    conn: &mut DbConn,
    actor: &Actor,
    query: &DirectoryQuery,
) -> Result<DirectoryPage> {
    // Clamped so that the offset cannot overflow (a huge `?page=` is just an empty page).
    let page = query.page.clamp(1, i64::MAX / GROUPS_PER_PAGE);
    let mut rows = boards_table::table
        .left_join(categories::table)
        .select((Board::as_select(), categories::name.nullable()))
        // Private groups have no place in the order by activity: where one stands would
        // tell anyone that its members just posted. They come after the active groups, by name.
        .order((
            sql::<Bool>(
                "(boards.visibility = 'private' OR boards.last_activity_at IS NULL)",
            ),
            sql::<Nullable<Timestamp>>(
                "CASE WHEN boards.visibility = 'private' THEN NULL ELSE boards.last_activity_at END",
            )
            .desc(),
            boards_table::name.asc(),
        ))
        .into_boxed();
    if !query.category.is_empty() {
        rows = rows.filter(categories::slug.eq(query.category.clone()));
    }
    if let Some(format) = MeetingFormat::parse(&query.meeting_format) {
        rows = rows.filter(boards_table::meeting_format.eq(format.as_str()));
    }
    if !query.language.trim().is_empty() {
        rows = rows.filter(boards_table::language.eq(query.language.trim().to_lowercase()));
    }
    let all: Vec<(Board, Option<String>)> = rows.load(conn)?;
    let ranked = rank(all, &query.words, &query.place, query.or_online);
    let skip = usize::try_from((page - 1) * GROUPS_PER_PAGE).unwrap_or(usize::MAX);
    let mut found: Vec<(Board, Option<String>)> = ranked
        .into_iter()
        .skip(skip)
        .take(GROUPS_PER_PAGE as usize + 1)
        .collect();
    let has_more = found.len() as i64 > GROUPS_PER_PAGE;
    found.truncate(GROUPS_PER_PAGE as usize);
    let now = clock::now();
    let mut groups = Vec::with_capacity(found.len());
    for (board, category) in found {
        if !policy::allows(actor, Action::ViewGroup(&board)) {
            continue;
        }
        let next_meeting = if policy::allows(actor, Action::ReadBoard(&board)) {
            crate::meetings::next_occurrence(conn, board.id, now)?
        } else {
            None
        };
        let members_label = members_label(actor, &board);
        groups.push(GroupCard {
            id: board.id,
            slug: board.slug,
            name: board.name,
            description: board.description,
            category,
            tags: board.tags.split_whitespace().map(str::to_owned).collect(),
            language: board.language,
            meeting_format: board.meeting_format,
            format_label: board.meeting_format.label(),
            city: board.city,
            country: board.country,
            visibility: board.visibility,
            members_label,
            next_meeting,
        });
    }
    Ok(DirectoryPage {
        groups,
        page,
        has_more,
    })
}

/// The words a directory search compares: folded, stemmed, stop words dropped, and each at
/// most once. A word typed in capitals ("US", "IT") is kept even if it is a stop word: it is
/// a country's code.
fn query_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = text::words_of(text)
        .iter()
        .filter_map(|word| {
            let folded = text::fold(word);
            let is_code =
                (2..=3).contains(&word.len()) && word.chars().all(|c| c.is_ascii_uppercase());
            (is_code || !text::is_stop_word(&folded)).then(|| text::stem(&folded))
        })
        .collect();
    terms.sort();
    terms.dedup();
    terms.truncate(MAX_TERMS);
    terms
}

/// At most this many words of a directory search count.
const MAX_TERMS: usize = 8;

fn stems_of(text: &str) -> HashSet<String> {
    text::words_of(text)
        .iter()
        .map(|w| text::stem(&text::fold(w)))
        .collect()
}

/// The country a group's country field names, by the ISO 3166 list (`celes`): its name,
/// common aliases and codes. "UK" is not an ISO code but is what people write (ISO 3166 keeps
/// it reserved for the United Kingdom), so it is read as GB.
fn country_of(text: &str) -> Option<Country> {
    let key: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    if key.is_empty() {
        return None;
    }
    if key.eq_ignore_ascii_case("uk") {
        return Some(Country::the_united_kingdom_of_great_britain_and_northern_ireland());
    }
    Country::from_str(&key).ok()
}

/// Every word a group's place is found by: its city and country as written, and for a country
/// the list knows, its official name, aliases ("UnitedStates" read as two words) and codes.
fn place_stems(city: &str, country: &str) -> HashSet<String> {
    let mut stems = stems_of(&format!("{city} {country}"));
    if let Some(found) = country_of(country) {
        let mut names = vec![
            found.long_name.to_owned(),
            found.alpha2.to_owned(),
            found.alpha3.to_owned(),
        ];
        if found.alpha2 == "GB" {
            names.push("UK".to_owned());
        }
        for alias in found.aliases.iter() {
            // "GreatBritain" → "Great Britain".
            let mut spaced = String::new();
            for c in alias.chars() {
                if c.is_uppercase() && !spaced.is_empty() {
                    spaced.push(' ');
                }
                spaced.push(c);
            }
            names.push(spaced);
        }
        for name in names {
            stems.extend(stems_of(&name));
        }
    }
    stems
}

/// A group with its category's name, as the directory lists it.
type Listed = (Board, Option<String>);

/// Weights: a word in the name or a tag counts most, then the place, then the description.
const NAME_OR_TAG: u32 = 3;
const PLACE: u32 = 2;
const DESCRIPTION: u32 = 1;

/// The groups that match, best first: by how many of the words they have (not all are
/// needed: "my cat died" finds a group tagged "cats"), then by where the words are, then in
/// the order given (activity). With a place, only groups there (or online, if asked).
fn rank(
    boards: Vec<(Board, Option<String>)>,
    words: &str,
    place: &str,
    or_online: bool,
) -> Vec<(Board, Option<String>)> {
    let terms = query_terms(words);
    let place_terms = query_terms(place);
    // (words matched, weight, order given, the group)
    let mut scored: Vec<(usize, u32, usize, Listed)> = Vec::new();
    for (i, row) in boards.into_iter().enumerate() {
        let board = &row.0;
        let places = place_stems(&board.city, &board.country);
        if !place_terms.is_empty() {
            let near = place_terms.iter().all(|t| places.contains(t));
            let online = or_online && board.meeting_format != MeetingFormat::InPerson;
            if !(near || online) {
                continue;
            }
        }
        if terms.is_empty() {
            scored.push((0, 0, i, row));
            continue;
        }
        let named = stems_of(&format!("{} {}", board.name, board.tags));
        let described = stems_of(&board.description);
        let (mut matched, mut score) = (0, 0);
        for term in &terms {
            let weight = if named.contains(term) {
                NAME_OR_TAG
            } else if places.contains(term) {
                PLACE
            } else if described.contains(term) {
                DESCRIPTION
            } else {
                continue;
            };
            matched += 1;
            score += weight;
        }
        if matched > 0 {
            scored.push((matched, score, i, row));
        }
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    scored.into_iter().map(|(_, _, _, row)| row).collect()
}

#[cfg(test)]
mod tests;
