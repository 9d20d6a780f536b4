//! Boards as peer support groups: their public face (category, tags, language, how and where
//! they meet), versioned ground rules with each member's acceptance, and the directory that
//! finds them by interest and place.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::{Deserialize, Serialize};

use crate::forum::boards;

use crate::clock;
use crate::db::schema::{
    boards as boards_table, categories, ground_rules_versions, rules_acceptances,
};
use crate::db::{per_connection, write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::ids::{BoardId, MemberId};
use crate::model::{Board, MeetingFormat, Visibility};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::policy::{self, Action, Actor, MemberActor};

pub mod memberships;
pub mod proposals;

const MAX_TAGS: usize = 10;
const MAX_TAG_CHARS: usize = 30;
const MAX_PLACE_CHARS: usize = 80;
/// Groups on one page of the directory.
pub const GROUPS_PER_PAGE: i64 = 20;

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

pub(crate) fn record_rules_version(
    conn: &mut DbConn,
    board_id: BoardId,
    version: i32,
    rules: &str,
    rules_html: &hearth_markdown::SafeHtml,
    author: MemberId,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(ground_rules_versions::table)
        .values((
            ground_rules_versions::board_id.eq(board_id),
            ground_rules_versions::version.eq(version),
            ground_rules_versions::rules.eq(rules),
            ground_rules_versions::rules_html.eq(rules_html.as_str()),
            ground_rules_versions::created_by.eq(author),
            ground_rules_versions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
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

/// Whether a member must accept the group's ground rules before posting: the group has rules,
/// the member does not moderate it, and has not accepted the current version.
pub fn must_accept_rules(conn: &mut DbConn, member: &MemberActor, board: &Board) -> Result<bool> {
    if board.ground_rules.trim().is_empty() || member.moderates(board.id) {
        return Ok(false);
    }
    let accepted: i64 = rules_acceptances::table
        .filter(rules_acceptances::board_id.eq(board.id))
        .filter(rules_acceptances::member_id.eq(member.id))
        .filter(rules_acceptances::version.eq(board.ground_rules_version))
        .count()
        .get_result(conn)?;
    Ok(accepted == 0)
}

/// Inside a posting or joining transaction: refuses unless the member accepts the current rules
/// (or needs not), and records the acceptance with its version.
pub(crate) fn require_rules(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    accepted_version: Option<i32>,
    now: NaiveDateTime,
) -> Result<()> {
    if !must_accept_rules(conn, member, board)? {
        return Ok(());
    }
    match accepted_version {
        Some(v) if v == board.ground_rules_version => {
            let insert = diesel::insert_into(rules_acceptances::table)
                .values((
                    rules_acceptances::board_id.eq(board.id),
                    rules_acceptances::member_id.eq(member.id),
                    rules_acceptances::version.eq(v),
                    rules_acceptances::accepted_at.eq(now),
                ))
                // The same member posting from two tabs at once: one acceptance is enough
                // (sent per backend: `MultiConnection` has no ON CONFLICT).
                .on_conflict_do_nothing();
            per_connection!(conn, |c| insert.execute(c))?;
            Ok(())
        }
        Some(_) => Err(Error::invalid(
            "accept_rules",
            "the group's ground rules changed while you were writing: please read the new version and accept it",
        )),
        None => Err(Error::invalid(
            "accept_rules",
            "please read the group's ground rules and tick the box to accept them before posting",
        )),
    }
}

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
    pub member_count: i64,
    /// Only for groups the reader may read: a private group's meetings are its members' business.
    pub next_meeting: Option<crate::meetings::Upcoming>,
}

/// What the directory was asked for.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Words, all of which must appear in the name, description or tags.
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

/// `%word%` for LIKE, with LIKE's own wildcards taken literally.
fn contains_pattern(word: &str) -> String {
    let escaped: String = word
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// The directory: every group's public face, filtered and searched, most recently active first.
/// Private groups are listed (people must be able to find and ask to join them) but only with
/// what a non-member may see. The boards table is small, so a search reads it whole.
pub fn directory(
    conn: &mut DbConn,
    actor: &Actor,
    query: &DirectoryQuery,
) -> Result<DirectoryPage> {
    let page = query.page.max(1);
    let mut rows = boards_table::table
        .left_join(categories::table)
        .select((Board::as_select(), categories::name.nullable()))
        .order((
            sql::<Bool>("boards.last_activity_at IS NULL"),
            boards_table::last_activity_at.desc(),
            boards_table::name.asc(),
        ))
        .limit(GROUPS_PER_PAGE + 1)
        .offset((page - 1) * GROUPS_PER_PAGE)
        .into_boxed();
    for word in query.words.split_whitespace().take(8) {
        let pattern = contains_pattern(word);
        rows = rows.filter(boards_table::search_text.like(pattern).escape('\\'));
    }
    if !query.category.is_empty() {
        rows = rows.filter(categories::slug.eq(query.category.clone()));
    }
    if let Some(format) = MeetingFormat::parse(&query.meeting_format) {
        rows = rows.filter(boards_table::meeting_format.eq(format.as_str()));
    }
    if !query.language.trim().is_empty() {
        rows = rows.filter(boards_table::language.eq(query.language.trim().to_lowercase()));
    }
    let place = query.place.trim();
    if !place.is_empty() {
        let pattern = contains_pattern(place);
        let near = boards_table::place_text.like(pattern).escape('\\');
        rows = if query.or_online {
            rows.filter(near.or(boards_table::meeting_format.ne(MeetingFormat::InPerson.as_str())))
        } else {
            rows.filter(near)
        };
    }
    let mut found: Vec<(Board, Option<String>)> = rows.load(conn)?;
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
            member_count: board.member_count,
            next_meeting,
        });
    }
    Ok(DirectoryPage {
        groups,
        page,
        has_more,
    })
}
