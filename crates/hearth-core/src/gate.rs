//! What happens to a new post before it is stored: pre-moderation of members new to a board or
//! to the site, and the review items a post opens. Runs inside the posting transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::boards::Board;
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{BoardId, PostId};
use crate::policy::MemberActor;
use crate::posts::Moderation;
use crate::review::{self, ItemKind};
use crate::schema::{posts, threads};

/// The operator's site-wide posting rules.
#[derive(Debug, Clone, Default)]
pub struct PostingRules {
    /// The first this-many posts of a new account, anywhere, await approval (0: none do).
    pub new_account_premod_posts: i32,
}

/// What the gate decided for one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub moderation: Moderation,
    /// Why it awaits approval, for the review queue.
    pub hold_reason: Option<String>,
}

/// Decides whether a post by `member` on `board` is published at once or awaits approval.
/// Moderators of the board are never held.
pub(crate) fn judge(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    board: &Board,
) -> Result<Verdict> {
    let mut hold_reason = None;
    if !member.moderates(board.id) {
        let site_wide = i64::from(rules.new_account_premod_posts);
        let on_board = i64::from(board.premod_first_posts);
        if site_wide > 0 && approved_posts(conn, member, None, site_wide)? < site_wide {
            hold_reason = Some(format!(
                "one of the first {site_wide} posts of a new account"
            ));
        } else if on_board > 0 && approved_posts(conn, member, Some(board.id), on_board)? < on_board
        {
            hold_reason = Some(format!(
                "one of the first {on_board} posts of a member new to this group"
            ));
        }
    }
    Ok(Verdict {
        moderation: if hold_reason.is_some() {
            Moderation::Awaiting
        } else {
            Moderation::Visible
        },
        hold_reason,
    })
}

/// Opens the review items the verdict calls for, in the posting transaction.
pub(crate) fn record(
    conn: &mut DbConn,
    verdict: &Verdict,
    board_id: BoardId,
    post_id: PostId,
    now: NaiveDateTime,
) -> Result<()> {
    if let Some(reason) = &verdict.hold_reason {
        review::open(conn, board_id, post_id, ItemKind::Awaiting, reason, now)?;
    }
    Ok(())
}

/// How many of the member's posts were published (on one board, or anywhere), counting no
/// further than `enough`: a long-standing member's thousands of posts are not all read.
fn approved_posts(
    conn: &mut DbConn,
    member: &MemberActor,
    board: Option<BoardId>,
    enough: i64,
) -> Result<i64> {
    let mut query = posts::table
        .inner_join(threads::table)
        .filter(posts::author_id.eq(member.id))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()))
        .select(posts::id)
        .limit(enough)
        .into_boxed();
    if let Some(board) = board {
        query = query.filter(threads::board_id.eq(board));
    }
    let ids: Vec<PostId> = query.load(conn)?;
    Ok(ids.len() as i64)
}
