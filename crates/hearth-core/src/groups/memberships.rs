//! Who belongs to a group. Joining a public or members-only group takes one click; a private
//! group takes a request that its facilitators approve or decline, with a message.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::members;
use crate::clock;
use crate::db::schema::{boards, memberships};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::{BoardId, MemberId};
use crate::model::{AuthorRef, Board, Visibility};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::policy::{self, Action, MemberActor};
use crate::text_enum::text_enum;

const MAX_MESSAGE_CHARS: usize = 1_000;

text_enum! {
    /// A stored membership: joined, or asked to join a private group.
    pub enum MembershipState ("membership state") {
        Member = "member",
        Requested = "requested",
    }
}

/// Where a member stands with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Standing {
    /// Not a member, no request waiting.
    Outside,
    /// Asked to join a private group; a facilitator will answer.
    Requested,
    Member,
}

/// The groups a member has joined (for the policy; loaded with the session).
pub fn groups_of(conn: &mut DbConn, member_id: MemberId) -> Result<Vec<BoardId>> {
    Ok(memberships::table
        .filter(memberships::member_id.eq(member_id))
        .filter(memberships::state.eq(MembershipState::Member.as_str()))
        .select(memberships::board_id)
        .load(conn)?)
}

pub fn standing(conn: &mut DbConn, board_id: BoardId, member_id: MemberId) -> Result<Standing> {
    let state: Option<String> = memberships::table
        .find((board_id, member_id))
        .select(memberships::state)
        .get_result(conn)
        .optional()?;
    Ok(match state.as_deref().map(MembershipState::parse) {
        Some(Some(MembershipState::Member)) => Standing::Member,
        Some(_) => Standing::Requested,
        None => Standing::Outside,
    })
}

pub fn is_member(conn: &mut DbConn, board_id: BoardId, member_id: MemberId) -> Result<bool> {
    Ok(standing(conn, board_id, member_id)? == Standing::Member)
}

fn check_message(message: &str) -> Result<&str> {
    let message = message.trim();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::invalid(
            "message",
            format!("a message has at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(message)
}

/// Joins a group, or asks to join a private one (its moderators join at once). Joining twice
/// changes nothing.
pub fn join(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    message: &str,
) -> Result<Standing> {
    policy::authorize(&member.actor(), Action::JoinGroup(board))?;
    let message = check_message(message)?;
    let current = standing(conn, board.id, member.id)?;
    if current != Standing::Outside {
        return Ok(current);
    }
    let needs_approval = board.visibility == Visibility::Private && !member.moderates(board.id);
    let joined = write_tx(conn, |conn| {
        let now = clock::now();
        diesel::insert_into(memberships::table)
            .values((
                memberships::board_id.eq(board.id),
                memberships::member_id.eq(member.id),
                memberships::state.eq(if needs_approval {
                    MembershipState::Requested.as_str()
                } else {
                    MembershipState::Member.as_str()
                }),
                memberships::message.eq(message),
                memberships::created_at.eq(now),
                memberships::joined_at.eq((!needs_approval).then_some(now)),
            ))
            .execute(conn)?;
        if !needs_approval {
            count_member(conn, board.id, 1)?;
        }
        Ok(())
    });
    match joined {
        Ok(())
        | Err(Error::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => standing(conn, board.id, member.id),
        Err(e) => Err(e),
    }
}

/// Makes someone a member at once (a new group's proposer); inside the caller's transaction.
pub(crate) fn add_member(
    conn: &mut DbConn,
    board_id: BoardId,
    member_id: MemberId,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::board_id.eq(board_id),
            memberships::member_id.eq(member_id),
            memberships::state.eq(MembershipState::Member.as_str()),
            memberships::created_at.eq(now),
            memberships::joined_at.eq(now),
        ))
        .execute(conn)?;
    count_member(conn, board_id, 1)
}

fn count_member(conn: &mut DbConn, board_id: BoardId, delta: i64) -> Result<()> {
    diesel::update(boards::table.find(board_id))
        .set(boards::member_count.eq(boards::member_count + delta))
        .execute(conn)?;
    Ok(())
}

/// Leaves a group (or withdraws a request).
pub fn leave(conn: &mut DbConn, member: &MemberActor, board: &Board) -> Result<()> {
    write_tx(conn, |conn| {
        end_membership(conn, board.id, member.id, clock::now())?;
        Ok(())
    })
}

/// Inside the caller's transaction: the member's membership of (or request to join) the group
/// ends, with their answers for its coming meetings and their unread notifications of it.
/// Returns where they stood before.
pub(crate) fn end_membership(
    conn: &mut DbConn,
    board_id: BoardId,
    member_id: MemberId,
    now: NaiveDateTime,
) -> Result<Standing> {
    let was = standing(conn, board_id, member_id)?;
    // Counted only if this deleted the row: two removals at once count it once.
    let deleted = diesel::delete(memberships::table.find((board_id, member_id))).execute(conn)?;
    if deleted > 0 && was == Standing::Member {
        count_member(conn, board_id, -1)?;
    }
    crate::meetings::withdraw_from_group(conn, board_id, member_id, now)?;
    crate::notifications::forget_board(conn, member_id, board_id)?;
    Ok(was)
}

/// A facilitator (or the staff) ends someone's membership of the group: they read nothing
/// more of a private group, their answers for its meetings go, and they are told (with the
/// reason, when given). Logged for the moderators. A facilitator stays one until an admin
/// removes them as facilitator.
pub fn remove(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    username: &str,
    reason: &str,
) -> Result<()> {
    let reason = check_message(reason).map_err(|_| {
        Error::invalid(
            "reason",
            format!("a reason has at most {MAX_MESSAGE_CHARS} characters"),
        )
    })?;
    let target = members::by_username(conn, username.trim()).map_err(|e| match e {
        Error::NotFound => Error::invalid("username", "there is no member with that username"),
        other => other,
    })?;
    policy::authorize(&member.actor(), Action::RemoveMember(board, &target))?;
    if crate::moderation::actions::facilitates(conn, board.id, target.id)? {
        return Err(Error::invalid(
            "username",
            "a facilitator stays a member; an administrator can first stop them facilitating",
        ));
    }
    let not_a_member = || Error::invalid("username", "they are not a member of this group");
    write_tx(conn, |conn| {
        let now = clock::now();
        // Claimed here: of two facilitators removing them at once, the second finds nothing.
        if end_membership(conn, board.id, target.id, now)? != Standing::Member {
            return Err(not_a_member());
        }
        let said = if reason.is_empty() {
            String::new()
        } else {
            format!(" Their reason: {reason}")
        };
        notices::send(
            conn,
            target.id,
            &format!(
                "The facilitators of {} ended your membership of the group.{said}",
                board.name
            ),
            now,
        )?;
        let mut entry = Entry::new(LoggedAction::RemoveMember, Some(board.id));
        entry.member_id = Some(target.id);
        entry.reason = reason;
        log::write(conn, member, entry, now)
    })
}

/// A request to join, as the facilitators see it.
#[derive(Debug, Clone, Serialize)]
pub struct JoinRequest {
    pub member: AuthorRef,
    pub message: String,
    pub created_at: NaiveDateTime,
}

/// A group's members and waiting requests, for its facilitators.
#[derive(Debug, Clone, Serialize)]
pub struct Roster {
    pub members: Vec<AuthorRef>,
    pub requests: Vec<JoinRequest>,
}

pub fn roster(conn: &mut DbConn, member: &MemberActor, board: &Board) -> Result<Roster> {
    policy::authorize(&member.actor(), Action::ManageMembers(board))?;
    let rows: Vec<(MemberId, String, String, NaiveDateTime)> = memberships::table
        .filter(memberships::board_id.eq(board.id))
        .order(memberships::created_at.asc())
        .select((
            memberships::member_id,
            memberships::state,
            memberships::message,
            memberships::created_at,
        ))
        .load(conn)?;
    let ids: Vec<MemberId> = rows.iter().map(|r| r.0).collect();
    let people = members::authors_by_ids(conn, &ids)?;
    let mut roster = Roster {
        members: Vec::new(),
        requests: Vec::new(),
    };
    for (id, state, message, created_at) in rows {
        let Some(person) = people.get(&id).cloned() else {
            continue;
        };
        if state == "member" {
            roster.members.push(person);
        } else {
            roster.requests.push(JoinRequest {
                member: person,
                message,
                created_at,
            });
        }
    }
    roster.members.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(roster)
}

/// Approves or declines a request to join, telling the member (with the facilitator's message).
pub fn answer_request(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    username: &str,
    approve: bool,
    message: &str,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::ManageMembers(board))?;
    let message = check_message(message)?;
    let target = members::by_username(conn, username)?;
    if standing(conn, board.id, target.id)? != Standing::Requested {
        return Err(Error::invalid(
            "username",
            "that request has already been answered",
        ));
    }
    write_tx(conn, |conn| {
        let now = clock::now();
        // Only a request still waiting: two facilitators answering at once, the second finds
        // nothing to answer (the row lock orders them on PostgreSQL).
        let row = memberships::table
            .find((board.id, target.id))
            .filter(memberships::state.eq(MembershipState::Requested.as_str()));
        let already_answered =
            || Error::invalid("username", "that request has already been answered");
        let said = if message.is_empty() {
            String::new()
        } else {
            format!(" Their message: {message}")
        };
        let (body, logged) = if approve {
            let answered = diesel::update(row)
                .set((
                    memberships::state.eq(MembershipState::Member.as_str()),
                    memberships::joined_at.eq(now),
                ))
                .execute(conn)?;
            if answered == 0 {
                return Err(already_answered());
            }
            count_member(conn, board.id, 1)?;
            (
                format!("Welcome: you are now a member of {}.{said}", board.name),
                LoggedAction::ApproveJoin,
            )
        } else {
            if diesel::delete(row).execute(conn)? == 0 {
                return Err(already_answered());
            }
            (
                format!(
                    "The facilitators of {} did not accept your request to join.{said}",
                    board.name
                ),
                LoggedAction::DeclineJoin,
            )
        };
        notices::send(conn, target.id, &body, now)?;
        let mut entry = Entry::new(logged, Some(board.id));
        entry.member_id = Some(target.id);
        entry.reason = message;
        log::write(conn, member, entry, now)
    })
}
