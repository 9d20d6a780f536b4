//! The directory: every group's public face, found by words, category, format, language and
//! place.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Timestamp};
use serde::Serialize;

use crate::clock;
use crate::db::schema::{boards as boards_table, categories};
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::BoardId;
use crate::model::{Board, MeetingFormat, Visibility};
use crate::policy::{self, Action, Actor};

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

/// The directory: every group's public face, filtered and searched, most recently active first.
/// Private groups are listed (people must be able to find and ask to join them) but only with
/// what a non-member may see. The boards table is small, so a search reads it whole.
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
