//! Private conversations: a group's facilitators (and the site's staff) with one member — a
//! private check-in started from the review queue, a post or a profile, or a member's message
//! to the facilitators — and, where the operator allows it, two members who share a group.
//!
//! A conversation belongs to its group (`conversations.board_id`): every facilitator of the
//! group and the staff read and answer a facilitators' conversation, so nobody carries a crisis
//! alone; the member it is with reads and answers it; nobody else may know it exists
//! (`Action::ReadConversation`, a 404 for everyone else). Every message goes through the same
//! safety as a post (`gate::screen`: watched words, crisis phrases) and the message limits
//! ([`ConversationRules`]), is rendered by `hearth-markdown`, and is written with its review
//! items in one transaction (`writing`). Moderators hide, restore and approve messages and
//! close check-ins, logged like their decisions on posts (`moderating`).

mod moderating;
mod reading;
mod writing;

pub use moderating::{close_check_in, moderate_message, report_message, MessageDecision};
pub use reading::{
    for_start, list_for, mark_read, page_for, readable_by_id, ways_to_reach, ConversationLine,
    ConversationList, ConversationView, ListCursor, MessageLine, MessagesAt, StartView, LISTED,
    MESSAGES_PER_PAGE,
};
pub use writing::{reply, start, ReplyForm, Sent, StartForm};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Deserialize;

use crate::accounts::{actors, members, mutes};
use crate::db::schema::{conversation_messages, conversations};
use crate::db::DbConn;
use crate::error::{Denied, Error, Result};
use crate::forum::{boards, posts};
use crate::ids::{ConversationId, PostId};
use crate::model::{Board, Conversation, ConversationKind, Member};
use crate::policy::{self, Action, MemberActor};
use crate::safety::limits;

/// The operator's rules for private conversations (`[conversations]`). A limit of 0 is no
/// limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ConversationRules {
    /// Private messages between members who share a group. Off by default: most peer-support
    /// services keep them off for safety; the facilitators can always be reached.
    pub member_messages: bool,
    /// When they are on, both members' accounts must be at least this many days old.
    pub member_messages_min_account_days: u32,
    /// Messages one member may send per minute, over every conversation (the group's
    /// moderators are not limited).
    pub messages_per_minute: u32,
    /// Messages per 24 hours.
    pub messages_per_day: u32,
}

impl Default for ConversationRules {
    fn default() -> Self {
        ConversationRules {
            member_messages: false,
            member_messages_min_account_days: 30,
            messages_per_minute: 5,
            messages_per_day: 100,
        }
    }
}

/// A conversation's subject has at most this many characters.
pub const MAX_SUBJECT_CHARS: usize = 120;

/// Who a new conversation is with, as the start form's fields name it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StartQuery {
    /// The group's slug (the post's group when `post` is given).
    #[serde(default)]
    pub group: String,
    /// The member to write to; empty for "the group's facilitators".
    #[serde(default)]
    pub with: String,
    /// The post the conversation starts from (a check-in in the queue, a post).
    #[serde(default)]
    pub post: Option<PostId>,
}

/// A new conversation, resolved and authorized: its group, kind, the member it is with.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub board: Board,
    pub kind: ConversationKind,
    /// The member it is with.
    pub member: Member,
    pub post: Option<PostId>,
}

/// Works out who a conversation started by `starter` is with, and authorizes it: from a post
/// (its author, checked in with by one of the group's moderators), with a member (a check-in by
/// a moderator of the group, or a direct message where the site allows it), or with the group's
/// facilitators (a member of the group).
pub(crate) fn plan(
    conn: &mut DbConn,
    rules: &ConversationRules,
    starter: &MemberActor,
    query: &StartQuery,
) -> Result<Planned> {
    let actor = starter.actor();
    if let Some(post_id) = query.post {
        let (board, _, post) = posts::by_id_for(conn, &actor, post_id)?;
        let author = members::by_id(conn, post.author_id)?;
        policy::authorize(&actor, Action::CheckInWith(&board, &author))?;
        return Ok(Planned {
            board,
            kind: ConversationKind::Group,
            member: author,
            post: Some(post.id),
        });
    }
    let board = boards::by_slug_for(conn, &actor, query.group.trim())?;
    let with = query.with.trim();
    if with.is_empty() {
        policy::authorize(&actor, Action::MessageFacilitators(&board))?;
        return Ok(Planned {
            board,
            kind: ConversationKind::Group,
            member: starter.member.clone(),
            post: None,
        });
    }
    let target = members::by_username(conn, with)?;
    if starter.moderates(board.id) {
        policy::authorize(&actor, Action::CheckInWith(&board, &target))?;
        // A facilitator reaches the members of their group (or, from a post, its author); the
        // site's staff reach anyone. Otherwise a facilitator's check-in would be a way around
        // `member_messages = false` to every member of the site.
        let in_group = crate::groups::memberships::is_member(conn, board.id, target.id)?;
        if !starter.is_staff() && !in_group {
            return Err(Error::invalid(
                "with",
                "You can check in privately with members of your group, or from one of their \
                 posts in it.",
            ));
        }
        return Ok(Planned {
            board,
            kind: ConversationKind::Group,
            member: target,
            post: None,
        });
    }
    if !rules.member_messages {
        return Err(Error::Denied(Denied::MemberMessagesOff));
    }
    policy::authorize(&actor, Action::MessageMember(&board, &target))?;
    may_message_member(conn, rules, starter, &target, &board)?;
    Ok(Planned {
        board,
        kind: ConversationKind::Direct,
        member: target,
        post: None,
    })
}

/// What a direct conversation needs beyond the policy, checked when it starts and at every
/// message: the other member shares the group, both accounts are old enough, and neither has
/// muted the other. Refused with one sentence that does not say which (a mute is not told).
pub(crate) fn may_message_member(
    conn: &mut DbConn,
    rules: &ConversationRules,
    sender: &MemberActor,
    other: &Member,
    board: &Board,
) -> Result<()> {
    if !rules.member_messages {
        return Err(Error::Denied(Denied::MemberMessagesOff));
    }
    let now = crate::clock::now();
    let days = rules.member_messages_min_account_days;
    let old_enough =
        |created_at: NaiveDateTime| now - created_at >= TimeDelta::days(i64::from(days));
    if !old_enough(sender.created_at) {
        return Err(Error::invalid(
            "body",
            format!(
                "private messages between members open once an account is {days} days old; \
                 until then you can message the group's facilitators"
            ),
        ));
    }
    let other_actor = actors::actor_for(conn, other.clone())?;
    let shares_group =
        other_actor.belongs_to(board.id) && !other_actor.banned_from.contains(&board.id);
    if !shares_group
        || !old_enough(other.created_at)
        || mutes::is_muted(conn, sender.id, other.id)?
        || mutes::is_muted(conn, other.id, sender.id)?
    {
        return Err(Error::invalid(
            "body",
            "you cannot send this member a private message; you can message the group's facilitators",
        ));
    }
    Ok(())
}

/// A conversation and its group, as stored now.
pub(crate) fn by_id(conn: &mut DbConn, id: ConversationId) -> Result<(Board, Conversation)> {
    let conversation: Conversation = conversations::table
        .find(id)
        .select(Conversation::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let board = boards::by_id(conn, conversation.board_id)?;
    Ok((board, conversation))
}

/// A conversation, if `actor` may read it (not found otherwise, exactly as one that does not
/// exist).
pub(crate) fn by_id_for(
    conn: &mut DbConn,
    actor: &policy::Actor,
    id: ConversationId,
) -> Result<(Board, Conversation)> {
    let (board, conversation) = by_id(conn, id)?;
    policy::authorize(actor, Action::ReadConversation(&board, &conversation))?;
    Ok((board, conversation))
}

/// The other member of a direct conversation, as `me` sees it.
pub(crate) fn other_party(
    conversation: &Conversation,
    me: crate::ids::MemberId,
) -> crate::ids::MemberId {
    if conversation.member_id == me {
        conversation.started_by
    } else {
        conversation.member_id
    }
}

/// Refuses a message over the member's message limits, counted in the database by the messages
/// they sent (so every server process sees the same count). The group's moderators are not
/// limited.
pub(crate) fn check_limits(
    conn: &mut DbConn,
    rules: &ConversationRules,
    member: &MemberActor,
    board: &Board,
    now: NaiveDateTime,
) -> Result<()> {
    let fetch = rules.messages_per_minute.max(rules.messages_per_day);
    if fetch == 0 || member.moderates(board.id) {
        return Ok(());
    }
    let recent: Vec<NaiveDateTime> = conversation_messages::table
        .filter(conversation_messages::author_id.eq(member.id))
        .filter(conversation_messages::created_at.gt(now - TimeDelta::days(1)))
        .order(conversation_messages::created_at.desc())
        .limit(i64::from(fetch))
        .select(conversation_messages::created_at)
        .load(conn)?;
    limits::worst(limits::counted(
        &recent,
        rules.messages_per_minute,
        rules.messages_per_day,
        "message",
        "",
        now,
    ))
}

#[cfg(test)]
mod tests;
