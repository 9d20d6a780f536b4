//! Server-side sessions: a row per signed-in browser, so a session can be revoked at once.
//!
//! No page a visitor sees shows sessions, so their writes are [`write_tx_unseen`]: signing in
//! or out keeps the pages kept for visitors. A member sees their own on `/settings`
//! ([`list_for`]): a device hint given at sign-in, when it started and when it was last used
//! ([`touch`], at most once per a few minutes, never a write per request).

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::accounts::actors;
use crate::db::schema::{members as members_table, sessions};
use crate::db::{per_connection, write_tx_unseen, Cached, DbConn};
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
    /// When the session was last marked as used ([`touch`]), or when it started.
    pub last_seen_at: NaiveDateTime,
    /// A confirmation waiting for the next page this session opens ([`set_flash`]).
    pub flash: Option<String>,
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
    device_hint: &'a str,
    last_seen_at: NaiveDateTime,
}

/// Starts a session for `member` lasting `lifetime`, with no device hint (tests, tools).
pub fn start(conn: &mut DbConn, member: &Member, lifetime: TimeDelta) -> Result<NewSession> {
    start_on(conn, member, lifetime, "")
}

/// Starts a session for `member` lasting `lifetime` on the device `device_hint` describes
/// ([`crate::accounts::devices::hint_from_user_agent`]). A fresh token every time: signing in
/// never reuses an identifier a visitor already had (no session fixation).
pub fn start_on(
    conn: &mut DbConn,
    member: &Member,
    lifetime: TimeDelta,
    device_hint: &str,
) -> Result<NewSession> {
    let token = tokens::random_token();
    let csrf_token = tokens::random_token();
    let now = clock::now();
    let row = SessionRow {
        token_hash: &tokens::hash_token(&token),
        member_id: member.id,
        csrf_token: &csrf_token,
        created_at: now,
        expires_at: now + lifetime,
        device_hint,
        last_seen_at: now,
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
        last_seen_at: now,
        flash: None,
    };
    Ok(NewSession { token, session })
}

/// Looks a browser's token up; expired sessions and deleted members are not found.
pub fn resume(conn: &mut DbConn, token: &str) -> Result<Session> {
    // The session and its member in one query: every signed-in request runs this.
    type Found = (
        SessionId,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<String>,
        Member,
    );
    let (hash, now) = (tokens::hash_token(token), clock::now());
    // Sent to the inner connection (see `db::per_connection`); written inside the macro so
    // each backend's statement selects the member for that backend.
    let found: Option<Found> = per_connection!(conn, |c| sessions::table
        .inner_join(members_table::table)
        .filter(sessions::token_hash.eq(&hash))
        .filter(sessions::expires_at.gt(now))
        .select((
            sessions::id,
            sessions::csrf_token,
            sessions::expires_at,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::flash,
            Member::as_select(),
        ))
        .get_result(c))
    .optional()?;
    let (id, csrf_token, expires_at, created_at, last_seen_at, flash, member) =
        found.ok_or(Error::NotFound)?;
    if member.status == model::MemberStatus::Deleted {
        return Err(Error::NotFound);
    }
    let member = actors::actor_for(conn, member)?;
    Ok(Session {
        id,
        member,
        csrf_token,
        expires_at,
        last_seen_at: last_seen_at.unwrap_or(created_at),
        flash,
    })
}

/// The longest confirmation kept (they are a few words: "Your reply is posted").
pub const MAX_FLASH_CHARS: usize = 200;

/// Leaves `message` for the next page session `id` opens (replacing one not yet shown). It is
/// kept in the session row, so it survives a chain of redirects and never travels in a URL.
pub fn set_flash(conn: &mut DbConn, id: SessionId, message: &str) -> Result<()> {
    let message: String = message.chars().take(MAX_FLASH_CHARS).collect();
    write_tx_unseen(conn, |conn| {
        let set = Cached(
            diesel::update(sessions::table.find(id))
                .set(sessions::flash.eq(Some(message.as_str()))),
        );
        per_connection!(conn, |c| set.run(c))?;
        Ok(())
    })
}

/// Clears the confirmation a page just showed, if it is still `shown`: one a later action left
/// meanwhile (in another tab) waits for its own page.
pub fn clear_flash(conn: &mut DbConn, id: SessionId, shown: &str) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        let clear = Cached(
            diesel::update(sessions::table.find(id).filter(sessions::flash.eq(shown)))
                .set(sessions::flash.eq(None::<String>)),
        );
        per_connection!(conn, |c| clear.run(c))?;
        Ok(())
    })
}

/// Whether `session` should be marked as used now: it was last marked `every` or longer ago.
/// The session layer asks this of every signed-in request and calls [`touch`] only when it
/// says so, so a member reading many pages costs one write per `every`, not one per page.
pub fn needs_touch(session: &Session, now: NaiveDateTime, every: TimeDelta) -> bool {
    session.last_seen_at <= now - every
}

/// Marks a session as used at `now`, unless another request marked it less than `every` ago
/// (two requests at once write once). Returns whether it wrote.
pub fn touch(
    conn: &mut DbConn,
    id: SessionId,
    now: NaiveDateTime,
    every: TimeDelta,
) -> Result<bool> {
    write_tx_unseen(conn, |conn| {
        let changed = diesel::update(
            sessions::table.find(id).filter(
                sessions::last_seen_at
                    .is_null()
                    .or(sessions::last_seen_at.le(now - every)),
            ),
        )
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)?;
        Ok(changed > 0)
    })
}

/// One of a member's live sessions, as `/settings` lists them.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct ActiveSession {
    pub id: SessionId,
    /// "Firefox on Android"; empty for a session started without one.
    pub device_hint: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: Option<NaiveDateTime>,
}

impl ActiveSession {
    /// When it was last used (its start, if never marked since).
    pub fn last_seen(&self) -> NaiveDateTime {
        self.last_seen_at.unwrap_or(self.created_at)
    }
}

/// The member's live sessions, the most recently used first.
pub fn list_for(conn: &mut DbConn, member_id: MemberId) -> Result<Vec<ActiveSession>> {
    let mut found: Vec<ActiveSession> = sessions::table
        .filter(sessions::member_id.eq(member_id))
        .filter(sessions::expires_at.gt(clock::now()))
        .select((
            sessions::id,
            sessions::device_hint,
            sessions::created_at,
            sessions::last_seen_at,
        ))
        .load(conn)?;
    found.sort_by_key(|s| std::cmp::Reverse((s.last_seen(), s.id)));
    Ok(found)
}

/// Ends one of the member's own sessions; another member's (or one already ended) is not found.
pub fn end_own(conn: &mut DbConn, member_id: MemberId, id: SessionId) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        let ended = diesel::delete(
            sessions::table
                .find(id)
                .filter(sessions::member_id.eq(member_id)),
        )
        .execute(conn)?;
        if ended == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    })
}

/// Ends every session of a member but `keep` ("sign out everywhere else").
pub fn end_all_except(conn: &mut DbConn, member_id: MemberId, keep: SessionId) -> Result<usize> {
    write_tx_unseen(conn, |conn| end_others_in(conn, member_id, Some(keep)))
}

/// Inside a transaction the caller holds: ends every session of a member, but `keep` if given.
pub fn end_others_in(
    conn: &mut DbConn,
    member_id: MemberId,
    keep: Option<SessionId>,
) -> Result<usize> {
    let Some(keep) = keep else {
        return end_all_in(conn, member_id);
    };
    Ok(diesel::delete(
        sessions::table
            .filter(sessions::member_id.eq(member_id))
            .filter(sessions::id.ne(keep)),
    )
    .execute(conn)?)
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
pub fn end_all_in(conn: &mut DbConn, member_id: MemberId) -> Result<usize> {
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
