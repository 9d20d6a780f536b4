//! A group's ground rules: versioned, and accepted by each member (per version) inside the
//! transaction of their next post or join.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{ground_rules_versions, rules_acceptances};
use crate::db::{per_connection, DbConn};
use crate::error::{Error, Result};
use crate::ids::{BoardId, MemberId};
use crate::model::Board;
use crate::policy::MemberActor;

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

/// Whether a member must accept the group's ground rules before posting: the group has rules,
/// the member does not moderate it, and has not accepted the current version.
pub fn must_accept_rules(conn: &mut DbConn, member: &MemberActor, board: &Board) -> Result<bool> {
    if board.ground_rules.trim().is_empty() || member.moderates(board.id) {
        return Ok(false);
    }
    let query = rules_acceptances::table
        .filter(rules_acceptances::board_id.eq(board.id))
        .filter(rules_acceptances::member_id.eq(member.id))
        .filter(rules_acceptances::version.eq(board.ground_rules_version))
        .count();
    // Every signed-in thread page: sent to the inner connection (see `db::per_connection`).
    let accepted: i64 = per_connection!(conn, |c| query.get_result(c))?;
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
