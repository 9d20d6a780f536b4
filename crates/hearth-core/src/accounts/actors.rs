//! Who a signed-in member is to the policy: their account plus the boards they facilitate,
//! are banned from and belong to, loaded once per request with the session.

use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::clock;
use crate::db::schema::{board_bans, board_facilitators, memberships};
use crate::db::{per_connection, DbConn};
use crate::error::Result;
use crate::groups::memberships::MembershipState;
use crate::ids::BoardId;
use crate::model::Member;
use crate::policy::MemberActor;

/// A member as the policy sees them: their account, the boards they facilitate and the boards
/// they are banned from now. Loaded once per request with the session.
pub fn actor_for(conn: &mut DbConn, member: Member) -> Result<MemberActor> {
    // One round trip: every signed-in request runs this. The kinds are bound values, not SQL
    // literals: diesel does not cache a statement holding a literal, and SQLite then compiles
    // it on every request.
    const FACILITATES: i32 = 1;
    const BANNED: i32 = 2;
    const MEMBER: i32 = 3;
    let facilitated = board_facilitators::table
        .filter(board_facilitators::member_id.eq(member.id))
        .select((
            board_facilitators::board_id,
            FACILITATES.into_sql::<Integer>(),
        ));
    let banned = board_bans::table
        .filter(board_bans::member_id.eq(member.id))
        .filter(
            board_bans::until
                .is_null()
                .or(board_bans::until.gt(clock::now())),
        )
        .select((board_bans::board_id, BANNED.into_sql::<Integer>()));
    let joined = memberships::table
        .filter(memberships::member_id.eq(member.id))
        .filter(memberships::state.eq(MembershipState::Member.as_str()))
        .select((memberships::board_id, MEMBER.into_sql::<Integer>()));
    // `MultiConnection` cannot send a UNION; each inner connection can (same SQL on both).
    let all = facilitated.union_all(banned).union_all(joined);
    let rows: Vec<(BoardId, i32)> = per_connection!(conn, |c| all.load(c))?;
    let of_kind = |kind: i32| -> Vec<BoardId> {
        rows.iter()
            .filter(|(_, k)| *k == kind)
            .map(|(board, _)| *board)
            .collect()
    };
    Ok(MemberActor {
        facilitates: of_kind(FACILITATES),
        banned_from: of_kind(BANNED),
        member_of: of_kind(MEMBER),
        member,
    })
}

/// Many members as the policy sees them *on one board*: their accounts, and whether each
/// facilitates, is banned from or belongs to that board. Good only for questions about
/// `board` (who may read a post there): every other board is missing from their lists.
/// A few queries for any number of members, so a post's watchers are authorized at once.
pub fn actors_on_board(
    conn: &mut DbConn,
    ids: &[crate::ids::MemberId],
    board: BoardId,
) -> Result<Vec<MemberActor>> {
    use crate::db::schema::members;
    use crate::model::MemberStatus;
    use std::collections::HashSet;
    let mut actors = Vec::with_capacity(ids.len());
    // Bounded lists of bound values: SQLite allows 32,766 per statement, PostgreSQL 65,535.
    for chunk in ids.chunks(500) {
        let accounts: Vec<Member> = members::table
            .filter(members::id.eq_any(chunk))
            .filter(members::status.ne(MemberStatus::Deleted.as_str()))
            .select(Member::as_select())
            .load(conn)?;
        // The member's standing on the board, in one statement as in `actor_for` (each
        // `IN (…)` list is compiled anew: one statement is one compilation, not three).
        const FACILITATES: i32 = 1;
        const BANNED: i32 = 2;
        const MEMBER: i32 = 3;
        let facilitated = board_facilitators::table
            .filter(board_facilitators::board_id.eq(board))
            .filter(board_facilitators::member_id.eq_any(chunk))
            .select((
                board_facilitators::member_id,
                FACILITATES.into_sql::<Integer>(),
            ));
        let banned_now = board_bans::table
            .filter(board_bans::board_id.eq(board))
            .filter(board_bans::member_id.eq_any(chunk))
            .filter(
                board_bans::until
                    .is_null()
                    .or(board_bans::until.gt(clock::now())),
            )
            .select((board_bans::member_id, BANNED.into_sql::<Integer>()));
        let belongs = memberships::table
            .filter(memberships::board_id.eq(board))
            .filter(memberships::member_id.eq_any(chunk))
            .filter(memberships::state.eq(MembershipState::Member.as_str()))
            .select((memberships::member_id, MEMBER.into_sql::<Integer>()));
        let standing = facilitated.union_all(banned_now).union_all(belongs);
        let rows: Vec<(crate::ids::MemberId, i32)> = per_connection!(conn, |c| standing.load(c))?;
        let of_kind = |kind: i32| -> HashSet<crate::ids::MemberId> {
            rows.iter()
                .filter(|(_, k)| *k == kind)
                .map(|(member, _)| *member)
                .collect()
        };
        let facilitating = of_kind(FACILITATES);
        let banned = of_kind(BANNED);
        let joined = of_kind(MEMBER);
        let on = |set: &HashSet<crate::ids::MemberId>, id| {
            if set.contains(&id) {
                vec![board]
            } else {
                Vec::new()
            }
        };
        actors.extend(accounts.into_iter().map(|member| MemberActor {
            facilitates: on(&facilitating, member.id),
            banned_from: on(&banned, member.id),
            member_of: on(&joined, member.id),
            member,
        }));
    }
    Ok(actors)
}
