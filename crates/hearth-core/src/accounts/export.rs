//! "Export my data": everything a member put into Hearth, as one document (`Export`, written
//! as JSON by the web front end; the format is described in `docs/export.md`).
//!
//! Nothing of another member is in it beyond what the member may read now: their own posts
//! (named with their thread and group only while they may read that thread), and the
//! conversations they take part in, each message decided by the same loader as the
//! conversation's page (`conversations::page_for`); from a conversation they may no longer
//! read, only their own messages. The reactions they gave are theirs too (the post and, while
//! they may read it, its thread); who reacted to their posts is nobody's to export, as it is
//! nobody's to see.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{
    board_subscriptions, boards, conversation_messages, conversations, data_exports,
    email_addresses, meeting_rsvps, meetings, memberships, post_revisions, posts, reactions,
    thread_subscriptions, threads,
};
use crate::db::{lock_name, write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::{BoardId, ConversationId, MeetingId, MemberId, MessageId, PostId, ThreadId};
use crate::model::{Board, Message, Post, Thread};
use crate::policy::{self, Action, MemberActor};

use super::credentials::Confirmation;
use super::leaving::LeavingRules;

/// The value of [`Export::format`]; a change that removes or renames a field makes it `/2`.
pub const FORMAT: &str = "hearth-export/1";

/// One member's data.
#[derive(Debug, Serialize)]
pub struct Export {
    pub format: &'static str,
    pub exported_at: NaiveDateTime,
    pub profile: Profile,
    pub email: Option<Email>,
    pub preferences: Preferences,
    pub memberships: Vec<MembershipEntry>,
    pub rsvps: Vec<RsvpEntry>,
    pub posts: Vec<PostEntry>,
    /// The reactions they gave to posts ("I hear you", …) and did not take back, oldest first.
    pub reactions: Vec<ReactionEntry>,
    pub conversations: Vec<ConversationEntry>,
}

#[derive(Debug, Serialize)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub pronouns: String,
    /// Markdown, as written.
    pub bio: String,
    pub time_zone: String,
    pub site_role: &'static str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize)]
pub struct Email {
    pub address: String,
    pub verified_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize)]
pub struct Preferences {
    /// The level of threads they start, and of those they reply to.
    pub started_level: &'static str,
    pub replied_level: &'static str,
    /// `never`, `minutes15`, `hour` or `day` before a meeting they are going to.
    pub meeting_reminder: crate::notifications::ReminderLead,
    pub thread_levels: Vec<ThreadLevel>,
    pub group_levels: Vec<GroupLevel>,
}

#[derive(Debug, Serialize)]
pub struct ThreadLevel {
    pub thread_id: ThreadId,
    /// `None` when they may no longer read the thread.
    pub thread_title: Option<String>,
    pub level: String,
}

#[derive(Debug, Serialize)]
pub struct GroupLevel {
    pub group: String,
    pub level: String,
}

#[derive(Debug, Serialize)]
pub struct MembershipEntry {
    /// The group's address (`/b/{group}`) and name: its public face, which anyone may see.
    pub group: String,
    pub group_name: String,
    /// `member`, or `requested` while a facilitator has not answered.
    pub state: String,
    pub requested_at: NaiveDateTime,
    pub joined_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize)]
pub struct RsvpEntry {
    pub meeting_id: MeetingId,
    pub group: String,
    /// `None` when they may no longer read the group.
    pub meeting_title: Option<String>,
    /// The date's local start, in the meeting's time zone.
    pub occurrence: NaiveDateTime,
    pub response: String,
    pub responded_at: NaiveDateTime,
}

#[derive(Debug, Serialize)]
pub struct PostEntry {
    pub id: PostId,
    pub thread_id: ThreadId,
    /// The thread's title and group, while they may read the thread; `None` otherwise.
    pub thread_title: Option<String>,
    pub group: Option<String>,
    pub group_name: Option<String>,
    pub position: i32,
    /// `published` or `deleted`.
    pub state: &'static str,
    /// `visible`, `awaiting` or `hidden`.
    pub moderation: &'static str,
    /// Markdown, as written (empty once a deleted post's text was purged).
    pub source: String,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    /// The earlier texts kept, oldest first.
    pub revisions: Vec<RevisionEntry>,
}

#[derive(Debug, Serialize)]
pub struct RevisionEntry {
    pub source: String,
    /// When this text was replaced by the next one.
    pub replaced_at: NaiveDateTime,
}

#[derive(Debug, Serialize)]
pub struct ReactionEntry {
    /// The post reacted to, at `/p/{id}`.
    pub post_id: PostId,
    pub thread_id: ThreadId,
    /// The thread's title, while they may read the thread; `None` otherwise.
    pub thread_title: Option<String>,
    /// `hear_you`, `strength`, `me_too` or `thank_you`.
    pub kind: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize)]
pub struct ConversationEntry {
    pub id: ConversationId,
    pub group: String,
    /// `None` when they may no longer read the conversation (only their own messages follow).
    pub subject: Option<String>,
    pub messages: Vec<MessageEntry>,
}

#[derive(Debug, Serialize)]
pub struct MessageEntry {
    pub id: crate::ids::MessageId,
    pub mine: bool,
    /// The author's username; `None` for a former member.
    pub author: Option<String>,
    /// Markdown, as written.
    pub source: String,
    pub created_at: NaiveDateTime,
}

/// The member's data, after their password (counted like a sign-in: see [`Confirmation`]);
/// at most `exports_per_day` a day (counted in the database, so every node shares the count).
pub fn for_member(
    conn: &mut DbConn,
    member: &MemberActor,
    password: Confirmation<'_>,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<Export> {
    password.check(conn, &member.member, "password")?;
    write_tx(conn, |conn| count_export(conn, member.id, rules, now))?;
    Ok(Export {
        format: FORMAT,
        exported_at: now,
        profile: profile(member),
        email: email(conn, member)?,
        preferences: preferences(conn, member)?,
        memberships: memberships_of(conn, member)?,
        rsvps: rsvps_of(conn, member)?,
        posts: posts_of(conn, member)?,
        reactions: reactions_of(conn, member)?,
        conversations: conversations_of(conn, member)?,
    })
}

/// Inside a write transaction: one more export for the member, unless they had
/// `exports_per_day` in the last day. Under a lock of the member's own (on PostgreSQL; SQLite
/// has its one writer), so requests sent at once cannot all count the same number and pass.
fn count_export(
    conn: &mut DbConn,
    member_id: MemberId,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<()> {
    lock_name(conn, &format!("export:{member_id}"))?;
    let since = now - TimeDelta::days(1);
    let recent: i64 = data_exports::table
        .filter(data_exports::member_id.eq(member_id))
        .filter(data_exports::created_at.gt(since))
        .count()
        .get_result(conn)?;
    if recent >= i64::from(rules.exports_per_day) {
        let oldest: Option<NaiveDateTime> = data_exports::table
            .filter(data_exports::member_id.eq(member_id))
            .filter(data_exports::created_at.gt(since))
            .select(diesel::dsl::min(data_exports::created_at))
            .get_result(conn)?;
        let wait = oldest.map_or(3600, |at| (at + TimeDelta::days(1) - now).num_seconds());
        return Err(Error::RateLimited {
            retry_after_seconds: wait.max(1),
            reason: format!(
                "you can download your data {} time{} a day; you can do it again {}",
                rules.exports_per_day,
                if rules.exports_per_day == 1 { "" } else { "s" },
                crate::safety::limits::in_words(wait.max(1))
            ),
        });
    }
    diesel::insert_into(data_exports::table)
        .values((
            data_exports::member_id.eq(member_id),
            data_exports::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

fn profile(member: &MemberActor) -> Profile {
    let m = &member.member;
    Profile {
        username: m.username.clone(),
        display_name: m.display_name.clone(),
        pronouns: m.pronouns.clone(),
        bio: m.bio.clone(),
        time_zone: m.time_zone.clone(),
        site_role: m.site_role.as_str(),
        created_at: m.created_at,
    }
}

fn email(conn: &mut DbConn, member: &MemberActor) -> Result<Option<Email>> {
    let found: Option<(String, Option<NaiveDateTime>)> = email_addresses::table
        .find(member.id)
        .select((email_addresses::address, email_addresses::verified_at))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(address, verified_at)| Email {
        address,
        verified_at,
    }))
}

/// Boards by id, as many as `ids` name.
fn boards_by_id(conn: &mut DbConn, ids: &[BoardId]) -> Result<HashMap<BoardId, Board>> {
    let found: Vec<Board> = boards::table
        .filter(boards::id.eq_any(ids))
        .select(Board::as_select())
        .load(conn)?;
    Ok(found.into_iter().map(|b| (b.id, b)).collect())
}

/// Threads by id with their boards, a statement per 500 (a long-standing member's posts and
/// reactions name more threads than one statement may bind on SQLite).
fn threads_by_id(
    conn: &mut DbConn,
    ids: &[ThreadId],
) -> Result<HashMap<ThreadId, (Thread, Board)>> {
    let mut by_id = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let found: Vec<(Thread, Board)> = threads::table
            .inner_join(boards::table)
            .filter(threads::id.eq_any(chunk))
            .select((Thread::as_select(), Board::as_select()))
            .load(conn)?;
        by_id.extend(found.into_iter().map(|(t, b)| (t.id, (t, b))));
    }
    Ok(by_id)
}

fn preferences(conn: &mut DbConn, member: &MemberActor) -> Result<Preferences> {
    let chosen = crate::notifications::preferences(conn, member.id)?;
    let thread_rows: Vec<(ThreadId, String)> = thread_subscriptions::table
        .filter(thread_subscriptions::member_id.eq(member.id))
        .order(thread_subscriptions::thread_id.asc())
        .select((thread_subscriptions::thread_id, thread_subscriptions::level))
        .load(conn)?;
    let ids: Vec<ThreadId> = thread_rows.iter().map(|r| r.0).collect();
    let found = threads_by_id(conn, &ids)?;
    let actor = member.actor();
    let thread_levels = thread_rows
        .into_iter()
        .map(|(thread_id, level)| ThreadLevel {
            thread_id,
            thread_title: found
                .get(&thread_id)
                .filter(|(t, b)| policy::allows(&actor, Action::ReadThread(b, t)))
                .map(|(t, _)| t.title.clone()),
            level,
        })
        .collect();
    let group_levels: Vec<(String, String)> = board_subscriptions::table
        .inner_join(boards::table.on(boards::id.eq(board_subscriptions::board_id)))
        .filter(board_subscriptions::member_id.eq(member.id))
        .order(boards::slug.asc())
        .select((boards::slug, board_subscriptions::level))
        .load(conn)?;
    Ok(Preferences {
        started_level: chosen.defaults.started.as_str(),
        replied_level: chosen.defaults.replied.as_str(),
        meeting_reminder: chosen.reminder,
        thread_levels,
        group_levels: group_levels
            .into_iter()
            .map(|(group, level)| GroupLevel { group, level })
            .collect(),
    })
}

fn memberships_of(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<MembershipEntry>> {
    type Row = (String, String, String, NaiveDateTime, Option<NaiveDateTime>);
    let rows: Vec<Row> = memberships::table
        .inner_join(boards::table.on(boards::id.eq(memberships::board_id)))
        .filter(memberships::member_id.eq(member.id))
        .order(boards::slug.asc())
        .select((
            boards::slug,
            boards::name,
            memberships::state,
            memberships::created_at,
            memberships::joined_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(group, group_name, state, requested_at, joined_at)| MembershipEntry {
                group,
                group_name,
                state,
                requested_at,
                joined_at,
            },
        )
        .collect())
}

fn rsvps_of(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<RsvpEntry>> {
    type Row = (
        MeetingId,
        String,
        BoardId,
        NaiveDateTime,
        String,
        NaiveDateTime,
    );
    let rows: Vec<Row> = meeting_rsvps::table
        .inner_join(meetings::table.on(meetings::id.eq(meeting_rsvps::meeting_id)))
        .filter(meeting_rsvps::member_id.eq(member.id))
        .order((
            meeting_rsvps::occurrence_local.asc(),
            meeting_rsvps::meeting_id.asc(),
        ))
        .select((
            meeting_rsvps::meeting_id,
            meetings::title,
            meetings::board_id,
            meeting_rsvps::occurrence_local,
            meeting_rsvps::response,
            meeting_rsvps::responded_at,
        ))
        .load(conn)?;
    let ids: Vec<BoardId> = rows.iter().map(|r| r.2).collect();
    let found = boards_by_id(conn, &ids)?;
    let actor = member.actor();
    Ok(rows
        .into_iter()
        .filter_map(
            |(meeting_id, title, board_id, occurrence, response, responded_at)| {
                let board = found.get(&board_id)?;
                Some(RsvpEntry {
                    meeting_id,
                    group: board.slug.clone(),
                    meeting_title: policy::allows(&actor, Action::ReadBoard(board))
                        .then_some(title),
                    occurrence,
                    response,
                    responded_at,
                })
            },
        )
        .collect())
}

fn posts_of(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<PostEntry>> {
    let theirs: Vec<Post> = posts::table
        .filter(posts::author_id.eq(member.id))
        .order(posts::id.asc())
        .select(Post::as_select())
        .load(conn)?;
    let ids: Vec<PostId> = theirs.iter().map(|p| p.id).collect();
    let mut revisions: HashMap<PostId, Vec<RevisionEntry>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(PostId, String, NaiveDateTime)> = post_revisions::table
            .filter(post_revisions::post_id.eq_any(chunk))
            .order((post_revisions::post_id.asc(), post_revisions::id.asc()))
            .select((
                post_revisions::post_id,
                post_revisions::source,
                post_revisions::replaced_at,
            ))
            .load(conn)?;
        for (post_id, source, replaced_at) in rows {
            revisions.entry(post_id).or_default().push(RevisionEntry {
                source,
                replaced_at,
            });
        }
    }
    let thread_ids: Vec<ThreadId> = theirs.iter().map(|p| p.thread_id).collect();
    let mut thread_ids = thread_ids;
    thread_ids.sort_unstable();
    thread_ids.dedup();
    let found = threads_by_id(conn, &thread_ids)?;
    let actor = member.actor();
    Ok(theirs
        .into_iter()
        .map(|post| {
            let place = found
                .get(&post.thread_id)
                .filter(|(t, b)| policy::allows(&actor, Action::ReadThread(b, t)));
            PostEntry {
                id: post.id,
                thread_id: post.thread_id,
                thread_title: place.map(|(t, _)| t.title.clone()),
                group: place.map(|(_, b)| b.slug.clone()),
                group_name: place.map(|(_, b)| b.name.clone()),
                position: post.position,
                state: post.state.as_str(),
                moderation: post.moderation.as_str(),
                source: post.source,
                created_at: post.created_at,
                edited_at: post.edited_at,
                deleted_at: post.deleted_at,
                revisions: revisions.remove(&post.id).unwrap_or_default(),
            }
        })
        .collect())
}

/// The reactions the member gave and did not take back, each with its post's thread (named only
/// while they may read it). Only their own rows: never who else reacted, to their posts or any
/// other. A reaction taken back keeps its row (so giving it again tells nobody twice), but it
/// is no longer given: it is not exported.
fn reactions_of(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<ReactionEntry>> {
    let given: Vec<(PostId, ThreadId, String, NaiveDateTime)> = reactions::table
        .inner_join(posts::table)
        .filter(reactions::member_id.eq(member.id))
        .filter(reactions::taken_back_at.is_null())
        .order((reactions::created_at.asc(), reactions::post_id.asc()))
        .select((
            reactions::post_id,
            posts::thread_id,
            reactions::kind,
            reactions::created_at,
        ))
        .load(conn)?;
    let mut thread_ids: Vec<ThreadId> = given.iter().map(|r| r.1).collect();
    thread_ids.sort_unstable();
    thread_ids.dedup();
    let found = threads_by_id(conn, &thread_ids)?;
    let actor = member.actor();
    Ok(given
        .into_iter()
        .map(|(post_id, thread_id, kind, created_at)| ReactionEntry {
            post_id,
            thread_id,
            thread_title: found
                .get(&thread_id)
                .filter(|(t, b)| policy::allows(&actor, Action::ReadThread(b, t)))
                .map(|(t, _)| t.title.clone()),
            kind,
            created_at,
        })
        .collect())
}

/// The conversations the member takes part in (they are its member, started it, or wrote in
/// it): a facilitator's export does not carry every conversation of their group.
fn conversations_of(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<ConversationEntry>> {
    let me = member.id;
    let written_in = conversation_messages::table
        .filter(conversation_messages::author_id.eq(me))
        .select(conversation_messages::conversation_id);
    let ids: Vec<(ConversationId, String)> = conversations::table
        .inner_join(boards::table)
        .filter(
            conversations::member_id
                .eq(me)
                .or(conversations::started_by.eq(me))
                .or(conversations::id.eq_any(written_in)),
        )
        .order(conversations::id.asc())
        .select((conversations::id, boards::slug))
        .load(conn)?;
    let mut entries = Vec::with_capacity(ids.len());
    for (id, group) in ids {
        match readable_messages(conn, member, id) {
            Ok((subject, messages)) => entries.push(ConversationEntry {
                id,
                group,
                subject: Some(subject),
                messages,
            }),
            Err(Error::NotFound | Error::Denied(_)) => {
                let own: Vec<Message> = conversation_messages::table
                    .filter(conversation_messages::conversation_id.eq(id))
                    .filter(conversation_messages::author_id.eq(me))
                    .order(conversation_messages::id.asc())
                    .select(Message::as_select())
                    .load(conn)?;
                entries.push(ConversationEntry {
                    id,
                    group,
                    subject: None,
                    messages: own
                        .into_iter()
                        .map(|message| MessageEntry {
                            id: message.id,
                            mine: true,
                            author: Some(member.member.username.clone()),
                            source: message.source,
                            created_at: message.created_at,
                        })
                        .collect(),
                });
            }
            Err(other) => return Err(other),
        }
    }
    Ok(entries)
}

/// Every message of a conversation the member may read, as its pages show them to them (page
/// after page, oldest first), with its subject.
fn readable_messages(
    conn: &mut DbConn,
    member: &MemberActor,
    id: ConversationId,
) -> Result<(String, Vec<MessageEntry>)> {
    use crate::conversations::{page_for, MessagesAt};
    let mut view = page_for(conn, member, id, MessagesAt::After(MessageId(0)))?;
    let subject = view.conversation.subject.clone();
    let mut messages = Vec::new();
    loop {
        let later = view.later;
        messages.extend(
            view.messages
                .into_iter()
                .filter(|line| line.shown)
                .map(|line| MessageEntry {
                    id: line.message.id,
                    mine: line.is_own,
                    author: line.author.map(|a| a.username),
                    source: line.message.source,
                    created_at: line.message.created_at,
                }),
        );
        let Some(after) = later else { break };
        view = page_for(conn, member, id, MessagesAt::After(after))?;
        // Pages only move forward (a page past the end would be the newest again).
        if view
            .messages
            .first()
            .is_none_or(|line| line.message.id <= after)
        {
            break;
        }
    }
    Ok((subject, messages))
}

#[cfg(test)]
mod tests;
