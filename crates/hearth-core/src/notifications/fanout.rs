//! Who hears about a new post, decided inside the posting transaction.
//!
//! The author follows the thread from now on ([`levels::follow_on_posting`]). Everyone with a
//! level on the thread or its group, and everyone the post addresses (mentions, the authors of
//! posts it quotes or answers), is a candidate; each gets at most one notification for it, of
//! the strongest kind that applies to them: a mention; a reply to their post (when they follow
//! the thread); a reply in the thread they started, a new thread or a new post (when they watch
//! it). A quote is a reply to the quoted post: its author hears of it when they follow the
//! thread, or when they chose no level there at all (a quote from another thread, a thread from
//! before notifications); a member who chose "normal: mentions only" or muted is not told. An
//! edit tells only those it newly names or quotes ([`post_edited`]). Candidates are then
//! authorized together with the policy on this board
//! (`actors_on_board`: a few queries for any number of them), so nobody is told of a post they
//! may not read. The cost grows with the candidates, not with the thread: a handful of
//! queries, then one insert per 500 members told (see `docs/performance.md`, "Fan-out").

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::levels::{self, Chosen, Level};
use super::{notify, Kind, NewNotification, Subject};
use crate::accounts::actors;
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::MemberId;
use crate::model::{Board, Moderation, Post, Thread};
use crate::policy::{self, Action, Actor};

/// The members a post speaks to by name: whom it mentions, and the authors of the posts it
/// quotes or answers. Found by the caller from the post's text.
#[derive(Debug, Clone, Default)]
pub struct Addressed {
    pub mentions: Vec<MemberId>,
    pub replies_to: Vec<MemberId>,
}

/// A visible post was published (or approved): tell whoever should hear of it. Inside the
/// transaction that makes it visible. `started` is true for a thread's opening post.
pub(crate) fn post_published(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    addressed: &Addressed,
    now: NaiveDateTime,
) -> Result<usize> {
    let started = post.position == 1;
    levels::follow_on_posting(conn, post.author_id, thread, started, now)?;
    if post.moderation != Moderation::Visible {
        return Ok(0);
    }
    let mut candidates: HashMap<MemberId, Chosen> = levels::audience(conn, thread.id, board.id)?
        .into_iter()
        .collect();
    for id in addressed.mentions.iter().chain(&addressed.replies_to) {
        candidates.entry(*id).or_insert(Chosen {
            thread: None,
            board: None,
        });
    }
    tell(conn, board, thread, post, candidates, addressed, now)
}

/// A visible post was edited: tell only those its new text names or quotes for the first time
/// (`addressed` holds just them), as a new post would. Nobody else hears of an edit.
pub(crate) fn post_edited(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    addressed: &Addressed,
    now: NaiveDateTime,
) -> Result<usize> {
    if post.moderation != Moderation::Visible {
        return Ok(0);
    }
    let ids: Vec<MemberId> = addressed
        .mentions
        .iter()
        .chain(&addressed.replies_to)
        .copied()
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let candidates = levels::of_members(conn, thread.id, board.id, &ids)?;
    tell(conn, board, thread, post, candidates, addressed, now)
}

/// Decides each candidate's kind, keeps those who may read the post, and notifies them.
fn tell(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    mut candidates: HashMap<MemberId, Chosen>,
    addressed: &Addressed,
    now: NaiveDateTime,
) -> Result<usize> {
    candidates.remove(&post.author_id);
    let mut by_kind: HashMap<Kind, Vec<MemberId>> = HashMap::new();
    for (&member, &chosen) in &candidates {
        if let Some(kind) = kind_for(member, chosen, thread, post, addressed) {
            by_kind.entry(kind).or_default().push(member);
        }
    }
    if by_kind.is_empty() {
        return Ok(0);
    }
    // Only those who may read the post where it is now.
    let ids: Vec<MemberId> = by_kind.values().flatten().copied().collect();
    let readers: std::collections::HashSet<MemberId> =
        actors::actors_on_board(conn, &ids, board.id)?
            .into_iter()
            .filter(|actor| {
                policy::allows(
                    &Actor::Member(Box::new(actor.clone())),
                    Action::ReadPost(board, thread, post),
                )
            })
            .map(|actor| actor.id)
            .collect();
    let subject = Subject {
        board: Some(board.id),
        thread: Some(thread.id),
        post: Some(post.id),
        position: Some(post.position),
        ..Subject::default()
    };
    let mut told = 0;
    for (kind, mut members) in by_kind {
        members.retain(|id| readers.contains(id));
        let group = match kind {
            Kind::NewThread => board.id.0,
            _ => thread.id.0,
        };
        let new = NewNotification {
            kind,
            group: Some(group),
            subject,
            actor: Some(post.author_id),
            body: "",
        };
        told += notify(conn, &members, &new, now)?;
    }
    Ok(told)
}

/// The one notification a member gets for a post, if any: the strongest that applies.
fn kind_for(
    member: MemberId,
    chosen: Chosen,
    thread: &Thread,
    post: &Post,
    addressed: &Addressed,
) -> Option<Kind> {
    let level = chosen.effective();
    if level == Level::Muted {
        return None;
    }
    if addressed.mentions.contains(&member) {
        return Some(Kind::Mention);
    }
    let chose_nothing = chosen.thread.is_none() && chosen.board.is_none();
    if (level >= Level::Following || chose_nothing) && addressed.replies_to.contains(&member) {
        return Some(Kind::ReplyToYou);
    }
    if level < Level::Watching {
        return None;
    }
    Some(if post.position == 1 {
        Kind::NewThread
    } else if thread.author_id == member {
        Kind::Reply
    } else {
        Kind::WatchedPost
    })
}
