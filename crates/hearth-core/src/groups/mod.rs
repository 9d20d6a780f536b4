//! Boards as peer support groups: their public face (category, tags, language, how and where
//! they meet) and its edits here; versioned ground rules with each member's acceptance
//! (`rules.rs`); the directory that finds them by interest and place (`directory.rs`);
//! joining and leaving ([`memberships`]); members proposing new groups ([`proposals`]).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::db::schema::{boards as boards_table, categories};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards;
use crate::model::{Board, MeetingFormat};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::policy::{self, Action, MemberActor};

mod directory;
pub mod memberships;
pub mod proposals;
mod rules;

pub use directory::{
    directory, members_label, DirectoryPage, DirectoryQuery, GroupCard, GROUPS_PER_PAGE,
};
pub(crate) use directory::{place_text, search_text};
pub use rules::must_accept_rules;
pub(crate) use rules::record_rules_version;
pub(crate) use rules::require_rules;

const MAX_TAGS: usize = 10;
const MAX_TAG_CHARS: usize = 30;
const MAX_PLACE_CHARS: usize = 80;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = categories)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub position: i32,
}

/// The categories, in the admins' order.
pub fn categories(conn: &mut DbConn) -> Result<Vec<Category>> {
    Ok(categories::table
        .order((categories::position.asc(), categories::name.asc()))
        .select(Category::as_select())
        .load(conn)?)
}

/// Renames a category or adds one (admins).
pub fn save_category(
    conn: &mut DbConn,
    member: &MemberActor,
    slug: &str,
    name: &str,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::CreateBoard)?;
    let (slug, name) = (slug.trim(), name.trim());
    let mut invalid = Invalid::default();
    if !(2..=40).contains(&slug.len())
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        invalid.add("slug", "2 to 40 lower-case letters, digits or '-'");
    }
    if name.is_empty() || name.chars().count() > 60 {
        invalid.add("name", "a name of 1 to 60 characters");
    }
    invalid.into_result()?;
    write_tx(conn, |conn| {
        let renamed = diesel::update(categories::table.filter(categories::slug.eq(slug)))
            .set(categories::name.eq(name))
            .execute(conn)?;
        if renamed == 0 {
            let last: Option<i32> = categories::table
                .select(diesel::dsl::max(categories::position))
                .get_result(conn)?;
            diesel::insert_into(categories::table)
                .values((
                    categories::slug.eq(slug),
                    categories::name.eq(name),
                    categories::position.eq(last.unwrap_or(0) + 1),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// What a group says about itself beyond its name and description, as typed in a form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupProfile {
    /// A category's slug, or empty.
    pub category: String,
    /// Words separated by commas or spaces.
    pub tags: String,
    pub language: String,
    pub meeting_format: String,
    pub city: String,
    pub country: String,
    pub time_zone: String,
}

impl Default for GroupProfile {
    fn default() -> Self {
        GroupProfile {
            category: String::new(),
            tags: String::new(),
            language: "en".to_owned(),
            meeting_format: MeetingFormat::Online.as_str().to_owned(),
            city: String::new(),
            country: String::new(),
            time_zone: "UTC".to_owned(),
        }
    }
}

impl GroupProfile {
    /// The profile a board has now, for its edit form.
    pub fn of(board: &Board, categories: &[Category]) -> GroupProfile {
        GroupProfile {
            category: categories
                .iter()
                .find(|c| Some(c.id) == board.category_id)
                .map(|c| c.slug.clone())
                .unwrap_or_default(),
            tags: board.tags.clone(),
            language: board.language.clone(),
            meeting_format: board.meeting_format.as_str().to_owned(),
            city: board.city.clone(),
            country: board.country.clone(),
            time_zone: board.time_zone.clone(),
        }
    }
}

/// A profile that passed its checks, normalized for storage.
#[derive(Debug, Clone)]
pub struct CheckedProfile {
    pub category_id: Option<i64>,
    pub tags: String,
    pub language: String,
    pub meeting_format: MeetingFormat,
    pub city: String,
    pub country: String,
    pub time_zone: String,
}

/// Tags as stored: lowercase words, deduplicated, separated by single spaces.
fn normalize_tags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in text.split(|c: char| c == ',' || c.is_whitespace()) {
        let tag = tag.trim_matches('#').to_lowercase();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// Checks a profile, adding what is wrong to `invalid`; `None` when something was.
pub(crate) fn check_profile(
    conn: &mut DbConn,
    profile: &GroupProfile,
    invalid: &mut Invalid,
) -> Result<Option<CheckedProfile>> {
    let before = invalid.0.len();
    let category_id = match profile.category.trim() {
        "" => None,
        slug => {
            let found: Option<i64> = categories::table
                .filter(categories::slug.eq(slug))
                .select(categories::id)
                .get_result(conn)
                .optional()?;
            if found.is_none() {
                invalid.add("category", "choose a category from the list");
            }
            found
        }
    };
    let tags = normalize_tags(&profile.tags);
    if tags.len() > MAX_TAGS || tags.iter().any(|t| t.chars().count() > MAX_TAG_CHARS) {
        invalid.add(
            "tags",
            format!("at most {MAX_TAGS} tags of up to {MAX_TAG_CHARS} characters each"),
        );
    }
    let language = profile.language.trim().to_lowercase();
    let language_ok = (2..=12).contains(&language.len())
        && language
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !language_ok {
        invalid.add("language", "a language code such as en, de or pt-br");
    }
    let meeting_format = MeetingFormat::parse(&profile.meeting_format);
    if meeting_format.is_none() {
        invalid.add("meeting_format", "choose how the group meets");
    }
    let (city, country) = (profile.city.trim(), profile.country.trim());
    if city.chars().count() > MAX_PLACE_CHARS || country.chars().count() > MAX_PLACE_CHARS {
        invalid.add(
            "city",
            format!("a city or region and a country of up to {MAX_PLACE_CHARS} characters each; never an exact address"),
        );
    }
    let time_zone = profile.time_zone.trim();
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        invalid.add("time_zone", "choose a time zone from the list");
    }
    if invalid.0.len() > before {
        return Ok(None);
    }
    Ok(meeting_format.map(|meeting_format| CheckedProfile {
        category_id,
        tags: tags.join(" "),
        language,
        meeting_format,
        city: city.to_owned(),
        country: country.to_owned(),
        time_zone: time_zone.to_owned(),
    }))
}

/// A facilitator's edit of their group's public face and ground rules.
#[derive(Debug, Clone, Default)]
pub struct GroupEdit {
    pub description: String,
    pub ground_rules: String,
    pub profile: GroupProfile,
}

/// Saves a group's description, profile and ground rules (its moderators). Changed rules become
/// a new version, which every member accepts again before their next post.
pub fn edit(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    form: &GroupEdit,
) -> Result<Board> {
    policy::authorize(&member.actor(), Action::Moderate(board))?;
    let mut invalid = Invalid::default();
    let profile = check_profile(conn, &form.profile, &mut invalid)?;
    if form.description.chars().count() > 500 {
        invalid.add("description", "the description has at most 500 characters");
    }
    if form.ground_rules.chars().count() > 10_000 {
        invalid.add(
            "ground_rules",
            "the ground rules have at most 10000 characters",
        );
    }
    invalid.into_result()?;
    let profile = profile.ok_or_else(|| Error::Internal("unchecked profile".to_owned()))?;
    let rules_changed = form.ground_rules.trim() != board.ground_rules.trim();
    let rules_html = hearth_markdown::render(&form.ground_rules);
    write_tx(conn, |conn| {
        let now = clock::now();
        // As stored now, not as the form's page saw it: another edit may have changed it since.
        let language_before: String = boards_table::table
            .find(board.id)
            .select(boards_table::language)
            .first(conn)?;
        let version = if rules_changed {
            board.ground_rules_version + 1
        } else {
            board.ground_rules_version
        };
        // Against the version the editor saw: two edits at once, the second is told to look
        // again rather than both claiming the same new version.
        let updated = diesel::update(
            boards_table::table
                .find(board.id)
                .filter(boards_table::ground_rules_version.eq(board.ground_rules_version)),
        )
        .set((
            boards_table::description.eq(form.description.trim()),
            boards_table::search_text.eq(search_text(
                &board.name,
                form.description.trim(),
                &profile.tags,
            )),
            boards_table::place_text.eq(place_text(&profile.city, &profile.country)),
            boards_table::category_id.eq(profile.category_id),
            boards_table::tags.eq(&profile.tags),
            boards_table::language.eq(&profile.language),
            boards_table::meeting_format.eq(profile.meeting_format.as_str()),
            boards_table::city.eq(&profile.city),
            boards_table::country.eq(&profile.country),
            boards_table::time_zone.eq(&profile.time_zone),
            boards_table::ground_rules.eq(&form.ground_rules),
            boards_table::ground_rules_html.eq(rules_html.as_str()),
            boards_table::ground_rules_version.eq(version),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(Error::invalid(
                "ground_rules",
                "someone else changed the group's rules meanwhile; open the page again to see them",
            ));
        }
        // Its posts searched with the new language's text configuration (PostgreSQL's), as
        // after a move to a group of another language.
        if crate::search::config_for(&language_before)
            != crate::search::config_for(&profile.language)
        {
            crate::search::sync_board(conn, board.id)?;
        }
        let reason = if rules_changed {
            record_rules_version(
                conn,
                board.id,
                version,
                &form.ground_rules,
                &rules_html,
                member.id,
                now,
            )?;
            format!("new ground rules (version {version})")
        } else {
            "updated the group's description".to_owned()
        };
        let mut entry = Entry::new(LoggedAction::BoardSettings, Some(board.id));
        entry.reason = &reason;
        log::write(conn, member, entry, now)?;
        boards::by_id(conn, board.id)
    })
}

/// The group at `slug` for its edit form, with the categories it offers, if `member` may edit
/// it (see [`edit`]).
pub fn for_edit(
    conn: &mut DbConn,
    member: &MemberActor,
    slug: &str,
) -> Result<(Board, Vec<Category>)> {
    let actor = member.actor();
    let board = boards::by_slug_for(conn, &actor, slug)?;
    policy::authorize(&actor, Action::Moderate(&board))?;
    Ok((board, categories(conn)?))
}
