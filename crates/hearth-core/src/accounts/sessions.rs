//! Server-side sessions: a row per signed-in browser, so a session can be revoked at once.
//!
//! No page shows sessions, so their writes are [`write_tx_unseen`]: signing in or out keeps
//! the pages kept for visitors.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::accounts::actors;
use crate::db::schema::{members as members_table, sessions};
use crate::db::{write_tx_unseen, DbConn};
use crate::error::{Error, Result};
use crate::ids::{MemberId, SessionId};
use crate::model;
use crate::model::Member;
use crate::policy::MemberActor;
use crate::{accounts::tokens, clock};

/// A live session and the member it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    /// The member, with the boards they facilitate and are banned from.
    pub member: MemberActor,
    /// The synchronizer token every state-changing form of this session must carry.
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
}

/// What the browser is given: the only copy of the secret.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow<'a> {
    token_hash: &'a str,
    member_id: MemberId,
    csrf_token: &'a str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// Starts a session for `member` lasting `lifetime`. A fresh token every time: signing in
/// never reuses an identifier a visitor already had (no session fixation).
pub fn start(conn: &mut DbConn, member: &Member, lifetime: TimeDelta) -> Result<NewSession> {
    let token = tokens::random_token();
    let csrf_token = tokens::random_token();
    let now = clock::now();
    let row = SessionRow {
        token_hash: &tokens::hash_token(&token),
        member_id: member.id,
        csrf_token: &csrf_token,
        created_at: now,
        expires_at: now + lifetime,
    };
    let id = write_tx_unseen(conn, |conn| {
        Ok(diesel::insert_into(sessions::table)
            .values(&row)
            .returning(sessions::id)
            .get_result::<SessionId>(conn)?)
    })?;
    let expires_at = row.expires_at;
    let session = Session {
        id,
        member: actors::actor_for(conn, member.clone())?,
        csrf_token,
        expires_at,
    };
    Ok(NewSession { token, session })
}

/// Looks a browser's token up; expired sessions and deleted members are not found.
pub fn resume(conn: &mut DbConn, token: &str) -> Result<Session> {
    // The session and its member in one query: every signed-in request runs this.
    let found: Option<(SessionId, String, NaiveDateTime, Member)> = sessions::table
        .inner_join(members_table::table)
        .filter(sessions::token_hash.eq(tokens::hash_token(token)))
        .filter(sessions::expires_at.gt(clock::now()))
        .select((
            sessions::id,
            sessions::csrf_token,
            sessions::expires_at,
            Member::as_select(),
        ))
        .get_result(conn)
        .optional()?;
    let (id, csrf_token, expires_at, member) = found.ok_or(Error::NotFound)?;
    if member.status == model::MemberStatus::Deleted {
        return Err(Error::NotFound);
    }
    let member = actors::actor_for(conn, member)?;
    Ok(Session {
        id,
        member,
        csrf_token,
        expires_at,
    })
}

/// Ends one session (signing out).
pub fn end(conn: &mut DbConn, id: SessionId) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        diesel::delete(sessions::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Ends every session of a member ("sign out everywhere").
pub fn end_all(conn: &mut DbConn, member_id: MemberId) -> Result<usize> {
    write_tx_unseen(conn, |conn| end_all_in(conn, member_id))
}

/// [`end_all`] inside a transaction the caller holds: a suspension ends the member's sessions
/// in the transaction that suspends them.
pub(crate) fn end_all_in(conn: &mut DbConn, member_id: MemberId) -> Result<usize> {
    Ok(diesel::delete(sessions::table.filter(sessions::member_id.eq(member_id))).execute(conn)?)
}

/// Deletes expired rows: `hearth serve` runs it at start and every hour.
pub fn purge_expired(conn: &mut DbConn) -> Result<usize> {
    write_tx_unseen(conn, |conn| {
        Ok(
            diesel::delete(sessions::table.filter(sessions::expires_at.le(clock::now())))
                .execute(conn)?,
        )
    })
}

#[cfg(test)]
mod tests;
