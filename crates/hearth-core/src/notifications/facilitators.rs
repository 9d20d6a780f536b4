//! What waits for a group's facilitators: a request to join their private group, a check-in
//! opened by a post that matched a crisis phrase. Each kind is one notification per
//! facilitator and group while unread ("3 people ask to join …"), written in the transaction
//! that opens the request or the check-in, only for facilitators the policy lets moderate the
//! group now. It stays until read, or until nothing of its kind waits in the group any more
//! ([`settled`]): then it is read for every facilitator, whoever answered.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{notify, Kind, NewNotification, Subject};
use crate::accounts::actors;
use crate::db::schema::{board_facilitators, notifications};
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{BoardId, MemberId};
use crate::model::Board;
use crate::policy::{self, Action, Actor};

/// Tells the group's facilitators that something of `kind` waits for them. `actor` is who
/// caused it, if they should be named (and not heard by facilitators who muted them); a
/// check-in names nobody and reaches every facilitator, muted or not. `except` is never
/// told (the author of a post that opened a check-in). Inside the caller's transaction.
pub(crate) fn tell(
    conn: &mut DbConn,
    board: &Board,
    kind: Kind,
    actor: Option<MemberId>,
    except: Option<MemberId>,
    now: NaiveDateTime,
) -> Result<usize> {
    let ids: Vec<MemberId> = board_facilitators::table
        .filter(board_facilitators::board_id.eq(board.id))
        .select(board_facilitators::member_id)
        .load(conn)?;
    let ids: Vec<MemberId> = ids.into_iter().filter(|id| Some(*id) != except).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    // Only those who may moderate the group now (not suspended, not banned from it).
    let recipients: Vec<MemberId> = actors::actors_on_board(conn, &ids, board.id)?
        .into_iter()
        .filter(|actor| {
            policy::allows(
                &Actor::Member(Box::new(actor.clone())),
                Action::Moderate(board),
            )
        })
        .map(|actor| actor.id)
        .collect();
    let new = NewNotification {
        kind,
        group: Some(board.id.0),
        subject: Subject {
            board: Some(board.id),
            ..Subject::default()
        },
        actor,
        body: "",
    };
    notify(conn, &recipients, &new, now)
}

/// Nothing of `kind` waits in the group any more: every facilitator's unread notification of
/// it is read. Inside the transaction that answered the last request or handled the last
/// check-in.
pub(crate) fn settled(
    conn: &mut DbConn,
    board: BoardId,
    kind: Kind,
    now: NaiveDateTime,
) -> Result<usize> {
    // The group's facilitators, through the index of each member's open notifications (one
    // since removed no longer sees theirs: the list decides each item for its reader).
    let told: Vec<MemberId> = board_facilitators::table
        .filter(board_facilitators::board_id.eq(board))
        .select(board_facilitators::member_id)
        .load(conn)?;
    if told.is_empty() {
        return Ok(0);
    }
    super::in_lock_order!(
        conn,
        notifications::table
            .filter(notifications::member_id.eq_any(&told))
            .filter(notifications::kind.eq(kind.as_str()))
            .filter(notifications::open_key.eq(board.0))
            .filter(notifications::board_id.eq(board))
            .filter(notifications::read_at.is_null()),
        |rows| super::marked_read!(conn, rows, now)
    )
}

#[cfg(test)]
mod tests;
