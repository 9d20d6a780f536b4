//! Private messages from the moderators to one member: warnings, suspensions, hidden posts.
//! The member sees them on their notices page, with a count in the header until read.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::clock;
use crate::db::schema::notices;
use crate::db::{write_tx, DbConn};
use crate::error::Result;
use crate::ids::MemberId;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = notices)]
pub struct Notice {
    pub id: i64,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// Sends a notice; call it inside the transaction of the action it tells about.
pub(crate) fn send(
    conn: &mut DbConn,
    member_id: MemberId,
    body: &str,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(notices::table)
        .values((
            notices::member_id.eq(member_id),
            notices::body.eq(body),
            notices::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn unread_count(conn: &mut DbConn, member_id: MemberId) -> Result<i64> {
    Ok(notices::table
        .filter(notices::member_id.eq(member_id))
        .filter(notices::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// A member's notices, newest first (the latest 100).
pub fn list(conn: &mut DbConn, member_id: MemberId) -> Result<Vec<Notice>> {
    Ok(notices::table
        .filter(notices::member_id.eq(member_id))
        .order(notices::id.desc())
        .limit(100)
        .select(Notice::as_select())
        .load(conn)?)
}

/// Marks every notice of the member read.
pub fn mark_read(conn: &mut DbConn, member_id: MemberId) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(notices::table)
            .filter(notices::member_id.eq(member_id))
            .filter(notices::read_at.is_null())
            .set(notices::read_at.eq(clock::now()))
            .execute(conn)?;
        Ok(())
    })
}
