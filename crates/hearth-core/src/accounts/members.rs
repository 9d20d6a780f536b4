//! Members: registration, sign-in, profiles.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{members, memberships, moderation_log, posts, threads};
use crate::db::{per_connection, write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards;
use crate::ids::{BoardId, MemberId};
use crate::model::{AuthorRef, Board, Member, MemberStatus, Moderation, Publication, SiteRole};
use crate::policy::{self, Action, Actor};
use crate::{accounts::mutes, accounts::passwords, clock};

pub const MIN_USERNAME_CHARS: usize = 3;
pub const MAX_USERNAME_CHARS: usize = 32;
const MAX_DISPLAY_NAME_CHARS: usize = 64;
const MAX_PRONOUNS_CHARS: usize = 32;
const MAX_BIO_CHARS: usize = 2_000;

/// What the registration form carries.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub time_zone: String,
}

#[derive(Insertable)]
#[diesel(table_name = members)]
struct NewMember<'a> {
    username: &'a str,
    username_lower: &'a str,
    display_name: &'a str,
    time_zone: &'a str,
    password_hash: &'a str,
    site_role: &'a str,
    created_at: NaiveDateTime,
}

/// Letters, digits, `_`, `-` and `.`; 3 to 32 characters; starts with a letter or digit.
pub fn check_username(username: &str, invalid: &mut Invalid) {
    let n_chars = username.chars().count();
    if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&n_chars) {
        invalid.add(
            "username",
            format!("a username has {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters"),
        );
    } else if !username
        .chars()
        .all(|c| c.is_alphanumeric() || "_-.".contains(c))
    {
        invalid.add(
            "username",
            "a username can use letters, digits, '_', '-' and '.' only",
        );
    } else if !username.chars().next().is_some_and(char::is_alphanumeric) {
        invalid.add("username", "a username starts with a letter or a digit");
    }
}

pub fn check_time_zone(time_zone: &str, invalid: &mut Invalid) {
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        invalid.add("time_zone", "choose a time zone from the list");
    }
}

fn normalize_username(username: &str) -> String {
    username.to_lowercase()
}

/// Checks a registration form completely, so every problem is reported at once.
fn check_registration(form: &Registration) -> Result<()> {
    let mut invalid = Invalid::default();
    check_username(&form.username, &mut invalid);
    check_display_name(&form.display_name, &mut invalid);
    passwords::check_new_password(&form.password, &form.username, &mut invalid);
    check_time_zone(&form.time_zone, &mut invalid);
    invalid.into_result()
}

fn check_display_name(display_name: &str, invalid: &mut Invalid) {
    let n_chars = display_name.trim().chars().count();
    if n_chars > MAX_DISPLAY_NAME_CHARS {
        invalid.add(
            "display_name",
            format!("a display name has at most {MAX_DISPLAY_NAME_CHARS} characters"),
        );
    }
}

/// Whether a username is someone's, or held for a member who left (`accounts::leaving`).
pub fn username_taken(conn: &mut DbConn, username: &str) -> Result<bool> {
    let lower = normalize_username(username);
    let n: i64 = members::table
        .filter(members::username_lower.eq(&lower))
        .count()
        .get_result(conn)?;
    Ok(n > 0 || crate::accounts::leaving::username_held(conn, &lower, clock::now())?)
}

/// Creates an account. The password is hashed before the write transaction starts, so the
/// database's write lock is never held for the length of an argon2 run.
pub fn register(conn: &mut DbConn, form: &Registration, role: SiteRole) -> Result<Member> {
    let password_hash = check_and_hash(conn, form)?;
    write_tx(conn, |conn| insert(conn, form, role, &password_hash))
}

/// A registration's checks and its password's hash: the slow part, done before any write.
pub(crate) fn check_and_hash(conn: &mut DbConn, form: &Registration) -> Result<String> {
    check_registration(form)?;
    if username_taken(conn, &form.username)? {
        return Err(username_taken_error());
    }
    passwords::hash(&form.password)
}

/// Inside a write transaction: stores a checked registration. A name taken meanwhile is the
/// same error as one taken before.
pub(crate) fn insert(
    conn: &mut DbConn,
    form: &Registration,
    role: SiteRole,
    password_hash: &str,
) -> Result<Member> {
    let display_name = match form.display_name.trim() {
        "" => form.username.as_str(),
        given => given,
    };
    let new_member = NewMember {
        username: &form.username,
        username_lower: &normalize_username(&form.username),
        display_name,
        time_zone: &form.time_zone,
        password_hash,
        site_role: role.as_str(),
        created_at: clock::now(),
    };
    let id: MemberId = diesel::insert_into(members::table)
        .values(&new_member)
        .returning(members::id)
        .get_result(conn)
        .map_err(|e| match Error::from(e) {
            e if e.is_unique_violation() => username_taken_error(),
            e => e,
        })?;
    by_id(conn, id)
}

fn username_taken_error() -> Error {
    Error::invalid(
        "username",
        "that username is already taken; please choose another",
    )
}

/// Signs a member in by name and password. An unknown name and a wrong password give the same
/// error after the same amount of work.
pub fn authenticate(conn: &mut DbConn, username: &str, password: &str) -> Result<Member> {
    let found: Option<(MemberId, String)> = members::table
        .filter(members::username_lower.eq(normalize_username(username.trim())))
        .filter(members::status.ne(MemberStatus::Deleted.as_str()))
        .select((members::id, members::password_hash))
        .get_result(conn)
        .optional()?;
    let Some((id, stored_hash)) = found else {
        passwords::verify_against_nothing(password);
        return Err(Error::BadCredentials);
    };
    if !passwords::verify(password, &stored_hash) {
        return Err(Error::BadCredentials);
    }
    by_id(conn, id)
}

pub fn by_id(conn: &mut DbConn, id: MemberId) -> Result<Member> {
    // Read on almost every request: sent to the inner connection (`per_connection!`).
    per_connection!(conn, |c| members::table
        .find(id)
        .select(Member::as_select())
        .get_result(c)
        .optional())?
    .ok_or(Error::NotFound)
}

pub fn by_username(conn: &mut DbConn, username: &str) -> Result<Member> {
    members::table
        .filter(members::username_lower.eq(normalize_username(username)))
        .filter(members::status.ne(MemberStatus::Deleted.as_str()))
        .select(Member::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

pub fn any_admin_exists(conn: &mut DbConn) -> Result<bool> {
    let n: i64 = members::table
        .filter(members::site_role.eq(SiteRole::Admin.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The profile fields a member edits about themselves.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: String,
    pub pronouns: String,
    pub bio: String,
    pub time_zone: String,
}

pub fn update_profile(
    conn: &mut DbConn,
    member: &Member,
    update: &ProfileUpdate,
) -> Result<Member> {
    let mut invalid = Invalid::default();
    check_display_name(&update.display_name, &mut invalid);
    check_time_zone(&update.time_zone, &mut invalid);
    if update.pronouns.chars().count() > MAX_PRONOUNS_CHARS {
        invalid.add(
            "pronouns",
            format!("pronouns have at most {MAX_PRONOUNS_CHARS} characters"),
        );
    }
    if update.bio.chars().count() > MAX_BIO_CHARS {
        invalid.add(
            "bio",
            format!("a bio has at most {MAX_BIO_CHARS} characters"),
        );
    }
    invalid.into_result()?;
    let display_name = match update.display_name.trim() {
        "" => member.username.as_str(),
        given => given,
    };
    let bio_html = hearth_markdown::render(&update.bio);
    write_tx(conn, |conn| {
        diesel::update(members::table.find(member.id))
            .set((
                members::display_name.eq(display_name),
                members::pronouns.eq(update.pronouns.trim()),
                members::bio.eq(&update.bio),
                members::bio_html.eq(bio_html.as_str()),
                members::time_zone.eq(&update.time_zone),
            ))
            .execute(conn)?;
        by_id(conn, member.id)
    })
}

/// Loads the authors of a page of threads or posts in one query.
pub fn authors_by_ids(conn: &mut DbConn, ids: &[MemberId]) -> Result<HashMap<MemberId, AuthorRef>> {
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.is_empty() {
        return Ok(HashMap::new());
    }
    // A former member is no author to name: they are shown as "a former member".
    let found: Vec<AuthorRef> = members::table
        .filter(members::id.eq_any(&unique))
        .filter(members::status.ne(MemberStatus::Deleted.as_str()))
        .select(AuthorRef::as_select())
        .load(conn)?;
    Ok(found.into_iter().map(|a| (a.id, a)).collect())
}

/// A member's profile as one reader sees it, with the forms the policy lets them use there.
#[derive(Debug)]
pub struct ProfileView {
    pub member: Member,
    pub is_self: bool,
    /// The reader has muted this member.
    pub muted: bool,
    pub can_mute: bool,
    /// The boards on which the reader may warn this member, and ban them from: (slug, name).
    pub warn_boards: Vec<(String, String)>,
    pub ban_boards: Vec<(String, String)>,
    pub can_warn_site: bool,
    pub can_suspend: bool,
    /// Beside their name: the site's roles only (a facilitator's badge belongs to a group).
    pub badges: Vec<crate::model::Badge>,
    /// The groups both the reader and this member belong to: (slug, name).
    pub groups_in_common: Vec<(String, String)>,
    /// For a reader who may warn them: the earlier warnings on the boards the reader
    /// moderates (site-wide ones for the staff), newest first.
    pub warnings: Vec<EarlierWarning>,
}

/// A warning a member was sent before, as their profile shows it to the moderators.
#[derive(Debug, Clone, Serialize)]
pub struct EarlierWarning {
    pub at: NaiveDateTime,
    /// The group it was about (its name), or `None` for the whole site.
    pub group: Option<String>,
    pub message: String,
}

/// The profile of `username` as `actor` sees it.
pub fn profile_for(conn: &mut DbConn, actor: &Actor, username: &str) -> Result<ProfileView> {
    let member = by_username(conn, username)?;
    let muted = match actor.member() {
        Some(me) => mutes::is_muted(conn, me.id, member.id)?,
        None => false,
    };
    // The boards on which the reader could warn or ban this member.
    let boards: Vec<Board> = if actor.member_actor().is_some_and(|m| m.moderates_any()) {
        boards::list_for(conn, actor)?
            .into_iter()
            .map(|s| s.board)
            .collect()
    } else {
        Vec::new()
    };
    let mut member = member;
    // The count on the page is of the posts this reader may read: a count of everything would
    // tell a visitor that someone posts in a private group.
    member.post_count = readable_post_count(conn, actor, member.id)?;
    let pick = |allowed: &dyn Fn(&Board) -> bool| -> Vec<(String, String)> {
        boards
            .iter()
            .filter(|b| allowed(b))
            .map(|b| (b.slug.clone(), b.name.clone()))
            .collect()
    };
    let groups_in_common = groups_in_common(conn, actor, &member)?;
    let warn_boards = pick(&|b| policy::allows(actor, Action::Warn(Some(b), &member)));
    let can_warn_site = policy::allows(actor, Action::Warn(None, &member));
    let warnings = if warn_boards.is_empty() && !can_warn_site {
        Vec::new()
    } else {
        let may_see: Vec<BoardId> = boards
            .iter()
            .filter(|b| policy::allows(actor, Action::Warn(Some(b), &member)))
            .map(|b| b.id)
            .collect();
        earlier_warnings(conn, &member, &may_see, can_warn_site, &boards)?
    };
    Ok(ProfileView {
        badges: crate::model::badges(member.site_role, false, member.created_at, None),
        groups_in_common,
        warnings,
        is_self: actor.member().is_some_and(|m| m.id == member.id),
        muted,
        can_mute: policy::allows(actor, Action::Mute(&member)),
        warn_boards,
        ban_boards: pick(&|b| policy::allows(actor, Action::BanFromBoard(b, &member))),
        can_warn_site,
        can_suspend: policy::allows(actor, Action::Suspend(&member)),
        member,
    })
}

/// The groups the reader and `member` have both joined, among those whose members the reader
/// may see (`Action::ManageMembers`: a group's roster is its facilitators' and the staff's), so
/// a profile never tells an ordinary member who else belongs to a group.
fn groups_in_common(
    conn: &mut DbConn,
    actor: &Actor,
    member: &Member,
) -> Result<Vec<(String, String)>> {
    let Some(me) = actor.member_actor() else {
        return Ok(Vec::new());
    };
    if me.id == member.id || me.member_of.is_empty() {
        return Ok(Vec::new());
    }
    let theirs: Vec<BoardId> = memberships::table
        .filter(memberships::member_id.eq(member.id))
        .filter(memberships::state.eq(crate::groups::memberships::MembershipState::Member.as_str()))
        .select(memberships::board_id)
        .load(conn)?;
    Ok(boards::list_for(conn, actor)?
        .into_iter()
        .map(|s| s.board)
        .filter(|b| me.member_of.contains(&b.id) && theirs.contains(&b.id))
        .filter(|b| policy::allows(actor, Action::ManageMembers(b)))
        .map(|b| (b.slug, b.name))
        .collect())
}

/// The warnings `member` was sent on `boards` (and site-wide ones when `site` is set).
fn earlier_warnings(
    conn: &mut DbConn,
    member: &Member,
    on_boards: &[BoardId],
    site: bool,
    known: &[Board],
) -> Result<Vec<EarlierWarning>> {
    let rows: Vec<(NaiveDateTime, Option<BoardId>, String)> = moderation_log::table
        .filter(moderation_log::member_id.eq(member.id))
        .filter(moderation_log::action.eq(crate::moderation::log::LoggedAction::Warn.as_str()))
        .order(moderation_log::id.desc())
        .limit(20)
        .select((
            moderation_log::created_at,
            moderation_log::board_id,
            moderation_log::reason,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, board, _)| match board {
            Some(id) => on_boards.contains(id),
            None => site,
        })
        .map(|(at, board, message)| EarlierWarning {
            at,
            group: board.and_then(|id| known.iter().find(|b| b.id == id).map(|b| b.name.clone())),
            message,
        })
        .collect())
}

/// How many of the member's posts `actor` may read: published and visible, in a published,
/// visible thread, on a board the policy lets them read.
fn readable_post_count(conn: &mut DbConn, actor: &Actor, author: MemberId) -> Result<i64> {
    let readable: Vec<BoardId> = boards::list_for(conn, actor)?
        .into_iter()
        .map(|s| s.board.id)
        .collect();
    Ok(posts::table
        .inner_join(threads::table)
        .filter(posts::author_id.eq(author))
        .filter(posts::state.eq(Publication::Published.as_str()))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()))
        .filter(threads::state.eq(Publication::Published.as_str()))
        .filter(threads::moderation.eq(Moderation::Visible.as_str()))
        .filter(threads::board_id.eq_any(&readable))
        .count()
        .get_result(conn)?)
}

#[cfg(test)]
mod tests;
