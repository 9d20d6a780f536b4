//! Muting: a member hides another member's posts from their own view (they collapse, and can
//! still be opened). Nobody else is affected, and the muted member is not told.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::clock;
use crate::db::schema::mutes;
use crate::db::{per_connection, write_tx, DbConn};
use crate::error::Result;
use crate::ids::MemberId;
use crate::model::Member;
use crate::policy::{self, Action, MemberActor};

/// Mutes `target` for `member`. Muting twice is the same as muting once.
pub fn mute(conn: &mut DbConn, member: &MemberActor, target: &Member) -> Result<()> {
    policy::authorize(&member.actor(), Action::Mute(target))?;
    if is_muted(conn, member.id, target.id)? {
        return Ok(());
    }
    let inserted = write_tx(conn, |conn| {
        diesel::insert_into(mutes::table)
            .values((
                mutes::member_id.eq(member.id),
                mutes::muted_id.eq(target.id),
                mutes::created_at.eq(clock::now()),
            ))
            .execute(conn)?;
        Ok(())
    });
    match inserted {
        // Two clicks at once: the other one already muted.
        Err(e) if e.is_unique_violation() => Ok(()),
        other => other,
    }
}

pub fn unmute(conn: &mut DbConn, member: &MemberActor, target: &Member) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::delete(mutes::table.find((member.id, target.id))).execute(conn)?;
        Ok(())
    })
}

pub fn is_muted(conn: &mut DbConn, member_id: MemberId, target_id: MemberId) -> Result<bool> {
    let found: Option<MemberId> = mutes::table
        .find((member_id, target_id))
        .select(mutes::muted_id)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Everyone `member_id` has muted, for collapsing their posts on a page.
pub fn muted_by(conn: &mut DbConn, member_id: MemberId) -> Result<HashSet<MemberId>> {
    let query = mutes::table
        .filter(mutes::member_id.eq(member_id))
        .select(mutes::muted_id);
    // Every signed-in thread page: sent to the inner connection (see `db::per_connection`).
    let ids: Vec<MemberId> = per_connection!(conn, |c| query.load(c))?;
    Ok(ids.into_iter().collect())
}
