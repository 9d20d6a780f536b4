//! Boards: the support groups, each a place for threads.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::clock;
use crate::db::schema::{boards, threads};
use crate::db::{per_connection, write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::groups::{self, CheckedProfile, GroupProfile};
use crate::ids::{BoardId, ThreadId};
use crate::model::{Board, Moderation, Publication, Visibility};
use crate::policy::{self, Action, Actor, MemberActor};

const MAX_NAME_CHARS: usize = 80;
const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_RULES_CHARS: usize = 10_000;

/// A board on the home page, with the title of its most recently active thread.
#[derive(Debug, Clone, Serialize)]
pub struct BoardSummary {
    pub board: Board,
    pub last_thread: Option<(ThreadId, String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct NewBoardForm {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub ground_rules: String,
    pub visibility: String,
    /// Category, tags, language, how and where it meets.
    pub profile: GroupProfile,
}

#[derive(Insertable)]
#[diesel(table_name = boards)]
struct NewBoardRow<'a> {
    slug: &'a str,
    name: &'a str,
    description: &'a str,
    ground_rules: &'a str,
    ground_rules_html: &'a str,
    visibility: &'a str,
    created_by: crate::ids::MemberId,
    created_at: NaiveDateTime,
    category_id: Option<i64>,
    tags: &'a str,
    language: &'a str,
    meeting_format: &'a str,
    city: &'a str,
    country: &'a str,
    time_zone: &'a str,
    search_text: &'a str,
    place_text: &'a str,
}

pub(crate) fn check_new_board(
    conn: &mut DbConn,
    form: &NewBoardForm,
) -> Result<(Visibility, Option<CheckedProfile>)> {
    let mut invalid = Invalid::default();
    let profile = groups::check_profile(conn, &form.profile, &mut invalid)?;
    let slug_ok = (2..=40).contains(&form.slug.len())
        && form
            .slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !form.slug.starts_with('-')
        && !form.slug.ends_with('-');
    if !slug_ok {
        invalid.add(
            "slug",
            "the address needs 2 to 40 lower-case letters, digits or '-', like pet-loss",
        );
    }
    let n_name = form.name.trim().chars().count();
    if n_name == 0 || n_name > MAX_NAME_CHARS {
        invalid.add(
            "name",
            format!("a group needs a name of 1 to {MAX_NAME_CHARS} characters"),
        );
    }
    if form.description.chars().count() > MAX_DESCRIPTION_CHARS {
        invalid.add(
            "description",
            format!("the description has at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    if form.ground_rules.chars().count() > MAX_RULES_CHARS {
        invalid.add(
            "ground_rules",
            format!("the ground rules have at most {MAX_RULES_CHARS} characters"),
        );
    }
    let visibility = Visibility::try_from(form.visibility.clone());
    if visibility.is_err() {
        invalid.add("visibility", "choose who can read the board");
    }
    invalid.into_result()?;
    Ok((visibility.map_err(Error::Internal)?, profile))
}

/// Whether a group already lives at this address.
pub(crate) fn slug_taken(conn: &mut DbConn, slug: &str) -> Result<bool> {
    let n: i64 = boards::table
        .filter(boards::slug.eq(slug))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Creates a board (administrators only).
pub fn create(conn: &mut DbConn, actor: &MemberActor, form: &NewBoardForm) -> Result<Board> {
    policy::authorize(&actor.actor(), Action::CreateBoard)?;
    let checked = check_new_board(conn, form)?;
    write_tx(conn, |conn| insert(conn, actor.id, form, &checked))
}

/// Inserts a checked board, with version 1 of its ground rules; inside the caller's transaction.
pub(crate) fn insert(
    conn: &mut DbConn,
    creator: crate::ids::MemberId,
    form: &NewBoardForm,
    (visibility, profile): &(Visibility, Option<CheckedProfile>),
) -> Result<Board> {
    let profile = profile
        .clone()
        .ok_or_else(|| Error::Internal("unchecked profile".to_owned()))?;
    let rules_html = hearth_markdown::render(&form.ground_rules);
    let now = clock::now();
    let row = NewBoardRow {
        slug: &form.slug,
        name: form.name.trim(),
        description: form.description.trim(),
        ground_rules: &form.ground_rules,
        ground_rules_html: rules_html.as_str(),
        visibility: visibility.as_str(),
        created_by: creator,
        created_at: now,
        category_id: profile.category_id,
        tags: &profile.tags,
        language: &profile.language,
        meeting_format: profile.meeting_format.as_str(),
        city: &profile.city,
        country: &profile.country,
        time_zone: &profile.time_zone,
        search_text: &groups::search_text(form.name.trim(), form.description.trim(), &profile.tags),
        place_text: &groups::place_text(&profile.city, &profile.country),
    };
    let created = diesel::insert_into(boards::table)
        .values(&row)
        .returning(boards::id)
        .get_result(conn)
        .map_err(Error::from)
        .and_then(|id: BoardId| {
            groups::record_rules_version(
                conn,
                id,
                1,
                &form.ground_rules,
                &rules_html,
                creator,
                now,
            )?;
            by_id(conn, id)
        });
    created.map_err(|e| {
        if e.is_unique_violation() {
            Error::invalid("slug", "another group already uses that address")
        } else {
            e
        }
    })
}

pub(crate) fn by_id(conn: &mut DbConn, id: BoardId) -> Result<Board> {
    // Read on almost every request: sent to the inner connection (`per_connection!`).
    per_connection!(conn, |c| boards::table
        .find(id)
        .select(Board::as_select())
        .get_result(c)
        .optional())?
    .ok_or(Error::NotFound)
}

/// The board with `id`, if the actor may see it.
pub fn by_id_for(conn: &mut DbConn, actor: &Actor, id: BoardId) -> Result<Board> {
    let board = by_id(conn, id)?;
    policy::authorize(actor, Action::ReadBoard(&board))?;
    Ok(board)
}

/// The board at `slug`, if the actor may read it.
pub fn by_slug_for(conn: &mut DbConn, actor: &Actor, slug: &str) -> Result<Board> {
    let board = group_by_slug(conn, actor, slug)?;
    policy::authorize(actor, Action::ReadBoard(&board))?;
    Ok(board)
}

/// The group at `slug`, for its public face only (name, description, ground rules, how it
/// meets): callers must still ask the policy before showing anything inside it.
pub fn group_by_slug(conn: &mut DbConn, actor: &Actor, slug: &str) -> Result<Board> {
    let board: Board = boards::table
        .filter(boards::slug.eq(slug))
        .select(Board::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    policy::authorize(actor, Action::ViewGroup(&board))?;
    Ok(board)
}

/// Every board the actor may read, in the operator's order, with its latest thread.
pub fn list_for(conn: &mut DbConn, actor: &Actor) -> Result<Vec<BoardSummary>> {
    let belongs: Vec<BoardId> = actor.member_actor().map_or_else(Vec::new, |m| {
        m.facilitates.iter().chain(&m.member_of).copied().collect()
    });
    let boards: Vec<Board> = boards::table
        .filter(
            boards::visibility
                .eq_any(policy::readable_visibilities(actor))
                .or(boards::id.eq_any(&belongs)),
        )
        .order((boards::position.asc(), boards::name.asc()))
        .select(Board::as_select())
        .load::<Board>(conn)?
        .into_iter()
        // The query narrows, the policy decides (a member banned from a private group they
        // facilitate or joined reads nothing there).
        .filter(|b| policy::allows(actor, Action::ReadBoard(b)))
        .collect();
    let last_ids: Vec<ThreadId> = boards.iter().filter_map(|b| b.last_thread_id).collect();
    let titles: Vec<(ThreadId, String, String)> = threads::table
        .filter(threads::id.eq_any(&last_ids))
        .filter(threads::state.eq(Publication::Published.as_str()))
        .filter(threads::moderation.eq(Moderation::Visible.as_str()))
        .select((threads::id, threads::title, threads::slug))
        .load(conn)?;
    Ok(boards
        .into_iter()
        .map(|board| {
            let last_thread = titles
                .iter()
                .find(|t| Some(t.0) == board.last_thread_id)
                .cloned();
            BoardSummary { board, last_thread }
        })
        .collect())
}

/// A group's page as one reader sees it: its public face for everyone, its threads for those
/// who may read it, and what the reader may do there, decided by the policy ([`page_for`]).
#[derive(Debug)]
pub struct BoardView {
    pub board: Board,
    pub category: Option<String>,
    pub standing: groups::memberships::Standing,
    pub can_join: bool,
    /// "12 members", or a band for a private group's outsiders ([`groups::members_label`]).
    pub members_label: String,
    /// `None` outside a group the reader may not read: they see its public face only.
    pub inside: Option<BoardInside>,
}

/// What a reader of a group sees inside it.
#[derive(Debug)]
pub struct BoardInside {
    pub threads: crate::forum::threads::BoardPage,
    pub next_meeting: Option<crate::meetings::Upcoming>,
    pub can_start_thread: bool,
    pub can_moderate: bool,
    /// "Mark all read": any member who reads the group.
    pub can_mark_read: bool,
    /// How closely a signed-in reader follows the group (normal unless they chose), for the
    /// level control; `None` for visitors.
    pub level: Option<crate::notifications::Level>,
}

/// The group at `slug` as `actor` sees it, its threads from just after `after`.
pub fn page_for(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    after: Option<crate::forum::threads::BoardCursor>,
) -> Result<BoardView> {
    let board = group_by_slug(conn, actor, slug)?;
    let standing = match actor.member() {
        Some(me) => groups::memberships::standing(conn, board.id, me.id)?,
        None => groups::memberships::Standing::Outside,
    };
    let category = groups::categories(conn)?
        .into_iter()
        .find(|c| Some(c.id) == board.category_id)
        .map(|c| c.name);
    let inside = if policy::allows(actor, Action::ReadBoard(&board)) {
        Some(BoardInside {
            threads: crate::forum::threads::board_page(
                conn,
                &board,
                actor.member().map(|me| me.id),
                after,
            )?,
            next_meeting: crate::meetings::next_occurrence(conn, board.id, clock::now())?,
            can_start_thread: policy::allows(actor, Action::StartThread(&board)),
            can_moderate: policy::allows(actor, Action::Moderate(&board)),
            can_mark_read: actor.member().is_some(),
            level: match actor.member() {
                Some(me) => Some(
                    crate::notifications::levels::on_board(conn, me.id, board.id)?
                        .unwrap_or(crate::notifications::Level::Normal),
                ),
                None => None,
            },
        })
    } else {
        None
    };
    let members_label = groups::members_label(actor, &board);
    let mut board = board;
    if inside.is_none() {
        // Outsiders see the public face only: no counters that move with what happens inside.
        board.member_count = 0;
        board.thread_count = 0;
        board.post_count = 0;
        board.last_activity_at = None;
        board.last_thread_id = None;
    }
    Ok(BoardView {
        can_join: policy::allows(actor, Action::JoinGroup(&board)),
        members_label,
        board,
        category,
        standing,
        inside,
    })
}

/// The administrator's overview: every board they may read, and the categories.
pub fn overview(
    conn: &mut DbConn,
    member: &MemberActor,
) -> Result<(Vec<BoardSummary>, Vec<groups::Category>)> {
    let categories = for_new_board(conn, member)?;
    Ok((list_for(conn, &member.actor())?, categories))
}

/// What the new-board form offers (the categories), if `member` may create a board (see
/// [`create`]).
pub fn for_new_board(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<groups::Category>> {
    policy::authorize(&member.actor(), Action::CreateBoard)?;
    groups::categories(conn)
}
