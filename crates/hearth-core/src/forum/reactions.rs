//! Support without karma: a few reactions under a post ("I hear you", "Sending strength", "Me
//! too", "Thank you"), one of each per member and post, taken back by sending the same form
//! again. There are no downvotes and no score: a page shows how many of each its posts have,
//! and nobody's total is kept or shown anywhere.
//!
//! Who reacted is not shown (a visitor sees counts only, and so does a member: in a support
//! group, "who said me too" is nobody's business but theirs). The author hears of reactions
//! to a post as one notification that grows while unread ("4 people reacted to your post").

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{actors, members};
use crate::db::schema::{posts, reactions};
use crate::db::{counters, write_tx, DbConn};
use crate::error::Result;
use crate::forum::posts::by_id_for;
use crate::ids::{MemberId, PostId, ThreadId};
use crate::model::{Board, Post, Thread};
use crate::notifications::{self, Kind, NewNotification, Subject};
use crate::policy::{self, Action, MemberActor};
use crate::text_enum::text_enum;

text_enum! {
    /// What a reaction says.
    #[derive(Serialize, Hash)]
    #[serde(rename_all = "snake_case")]
    pub enum ReactionKind ("reaction") {
        HearYou = "hear_you",
        Strength = "strength",
        MeToo = "me_too",
        ThankYou = "thank_you",
    }
}

impl ReactionKind {
    /// The words on its button and beside its count.
    pub fn label(self) -> &'static str {
        match self {
            ReactionKind::HearYou => "I hear you",
            ReactionKind::Strength => "Sending strength",
            ReactionKind::MeToo => "Me too",
            ReactionKind::ThankYou => "Thank you",
        }
    }
}

/// One kind of reaction under a post, as its reader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReactionCount {
    pub kind: ReactionKind,
    pub count: i64,
    /// The reader gave this one (their button shows it pressed and takes it back).
    pub mine: bool,
}

/// What a toggle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggled {
    Added,
    Removed,
}

/// Where the reacting member is sent back to: the post on its thread page.
#[derive(Debug, Clone)]
pub struct Reacted {
    pub toggled: Toggled,
    pub thread: Thread,
    pub position: i32,
}

/// Adds `kind` to the post from `member`, or takes it back if they gave it already. Refused
/// (as the policy's `React` says) for a post they may not read (not found), their own, one
/// hidden or awaiting approval, in a locked thread; and past `per_hour` gives in the hour
/// (0: no limit), counted in `action_counts` — taking back is never refused, and giving one
/// again counts again, so toggling is bounded too. The post's author is told once per member
/// and post, ever (a reaction taken back keeps its row, and giving it again tells nobody), in
/// one notification per post that grows while unread: never by a member they muted
/// (`notifications::notify`), and only while they may still read the post.
pub fn toggle(
    conn: &mut DbConn,
    member: &MemberActor,
    post_id: PostId,
    kind: ReactionKind,
    per_hour: u32,
    now: NaiveDateTime,
) -> Result<Reacted> {
    let outcome = write_tx(conn, |conn| {
        let (board, thread, post) = check(conn, member, post_id)?;
        let reacted = |toggled| Reacted {
            toggled,
            thread: thread.clone(),
            position: post.position,
        };
        let this_one = reactions::table
            .filter(reactions::post_id.eq(post.id))
            .filter(reactions::member_id.eq(member.id))
            .filter(reactions::kind.eq(kind.as_str()));
        let taken_back = diesel::update(this_one.filter(reactions::taken_back_at.is_null()))
            .set(reactions::taken_back_at.eq(Some(now)))
            .execute(conn)?;
        if taken_back > 0 {
            return Ok(reacted(Toggled::Removed));
        }
        within_limit(conn, member.id, per_hour, now)?;
        let given_again = diesel::update(this_one)
            .set(reactions::taken_back_at.eq(None::<NaiveDateTime>))
            .execute(conn)?;
        if given_again > 0 {
            return Ok(reacted(Toggled::Added));
        }
        // A second kind from the same member is not a second person reacting.
        let already_reacted = given_by(conn, post.id, member.id)? > 0;
        diesel::insert_into(reactions::table)
            .values((
                reactions::post_id.eq(post.id),
                reactions::member_id.eq(member.id),
                reactions::kind.eq(kind.as_str()),
                reactions::created_at.eq(now),
            ))
            .execute(conn)?;
        if !already_reacted {
            tell_author(conn, member, &board, &thread, &post, now)?;
        }
        Ok(reacted(Toggled::Added))
    });
    match outcome {
        // The same reaction sent twice at once: the other request stored it (and told the
        // author); this one's transaction changed nothing.
        Err(error) if error.is_unique_violation() => {
            let (_, thread, post) = check(conn, member, post_id)?;
            Ok(Reacted {
                toggled: Toggled::Added,
                thread,
                position: post.position,
            })
        }
        other => other,
    }
}

/// The post, found and authorized for reacting: not found unless the member may read it.
fn check(conn: &mut DbConn, member: &MemberActor, id: PostId) -> Result<(Board, Thread, Post)> {
    let actor = member.actor();
    let (board, thread, post) = by_id_for(conn, &actor, id)?;
    policy::authorize(&actor, Action::React(&board, &thread, &post))?;
    Ok((board, thread, post))
}

fn within_limit(
    conn: &mut DbConn,
    member: MemberId,
    per_hour: u32,
    now: NaiveDateTime,
) -> Result<()> {
    counters::within_hour(conn, &format!("react:m{}", member.0), per_hour, now, || {
        format!(
            "you can react at most {per_hour} times an hour; please try again in a little while"
        )
    })
}

/// Every reaction the member ever gave the post, standing or taken back.
fn given_by(conn: &mut DbConn, post: PostId, member: MemberId) -> Result<i64> {
    Ok(reactions::table
        .filter(reactions::post_id.eq(post))
        .filter(reactions::member_id.eq(member))
        .count()
        .get_result(conn)?)
}

/// One notification per post for its author, while they may still read it (a post moved into
/// a group they left is not theirs to hear of).
fn tell_author(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    thread: &Thread,
    post: &Post,
    now: NaiveDateTime,
) -> Result<()> {
    let author = members::by_id(conn, post.author_id)?;
    let author = actors::actor_for(conn, author)?;
    if !policy::allows(&author.actor(), Action::ReadPost(board, thread, post)) {
        return Ok(());
    }
    let new = NewNotification {
        kind: Kind::Reaction,
        group: Some(post.id.0),
        subject: Subject {
            board: Some(board.id),
            thread: Some(thread.id),
            post: Some(post.id),
            position: Some(post.position),
            ..Subject::default()
        },
        actor: Some(member.id),
        body: "",
    };
    notifications::notify(conn, &[author.id], &new, now)?;
    Ok(())
}

/// The reactions under the posts at positions `first..=last` of a thread, for `reader`: one
/// statement of fixed shape (the page's range, not a list of ids, so it is prepared once per
/// connection), counted here. Reactions are few per post, and a count in SQL with the
/// reader's own beside it would need a literal diesel cannot cache.
pub fn for_page(
    conn: &mut DbConn,
    thread: ThreadId,
    first: i32,
    last: i32,
    reader: Option<MemberId>,
) -> Result<HashMap<PostId, Vec<ReactionCount>>> {
    let rows: Vec<(PostId, String, MemberId)> = reactions::table
        .inner_join(posts::table)
        .filter(posts::thread_id.eq(thread))
        .filter(posts::position.between(first, last))
        .filter(reactions::taken_back_at.is_null())
        .select((reactions::post_id, reactions::kind, reactions::member_id))
        .load(conn)?;
    let mut counts: HashMap<PostId, Vec<ReactionCount>> = HashMap::new();
    for (post, kind, member) in rows {
        let Some(kind) = ReactionKind::parse(&kind) else {
            continue;
        };
        let under = counts.entry(post).or_default();
        let mine = Some(member) == reader;
        match under.iter_mut().find(|c| c.kind == kind) {
            Some(count) => {
                count.count += 1;
                count.mine |= mine;
            }
            None => under.push(ReactionCount {
                kind,
                count: 1,
                mine,
            }),
        }
    }
    for under in counts.values_mut() {
        under.sort_by_key(|c| ReactionKind::ALL.iter().position(|k| *k == c.kind));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests;
