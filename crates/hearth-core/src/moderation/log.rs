//! The moderation log: every moderator action writes one row here, in the action's own
//! transaction. Moderators read it whole; members read a public per-board log in which
//! moderators are "a facilitator" (unless the operator chose to show names), warnings are
//! absent, no post's words are repeated, and nothing at all (not even the reason) of a post
//! that raised a concern for someone's safety.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::members;
use crate::db::schema::{boards, moderation_log, threads};
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{BoardId, LogEntryId, MemberId, PostId, ThreadId};
use crate::model::{AuthorRef, Board, Moderation, Post, Publication};
use crate::policy::{self, Action, Actor, MemberActor};
use crate::text_enum::text_enum;

/// Entries on one page of a log.
pub const ENTRIES_PER_PAGE: i64 = 50;
const EXCERPT_CHARS: usize = 140;

text_enum! {
    /// Every kind of logged action, with the words the log shows for it.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum LoggedAction ("logged action") {
        Approve = "approve",
        Hide = "hide",
        Restore = "restore",
        Dismiss = "dismiss",
        DismissReportsFrom = "dismiss_reports_from",
        CheckInHandled = "check_in_handled",
        Lock = "lock",
        Unlock = "unlock",
        Pin = "pin",
        Unpin = "unpin",
        Move = "move",
        SlowMode = "slow_mode",
        Warn = "warn",
        Suspend = "suspend",
        Unsuspend = "unsuspend",
        Ban = "ban",
        Unban = "unban",
        AddFacilitator = "add_facilitator",
        RemoveFacilitator = "remove_facilitator",
        BoardSettings = "board_settings",
        WatchedWords = "watched_words",
        ApproveJoin = "approve_join",
        DeclineJoin = "decline_join",
    }
}

impl LoggedAction {
    /// What the log says was done ("hid a post").
    pub fn describe(self) -> &'static str {
        match self {
            LoggedAction::Approve => "approved a post",
            LoggedAction::Hide => "hid a post",
            LoggedAction::Restore => "restored a post",
            LoggedAction::Dismiss => "dismissed reports on a post",
            LoggedAction::DismissReportsFrom => "dismissed every open report from a member",
            LoggedAction::CheckInHandled => "checked in with a member",
            LoggedAction::Lock => "locked a thread",
            LoggedAction::Unlock => "unlocked a thread",
            LoggedAction::Pin => "pinned a thread",
            LoggedAction::Unpin => "unpinned a thread",
            LoggedAction::Move => "moved a thread",
            LoggedAction::SlowMode => "changed a thread's slow mode",
            LoggedAction::Warn => "warned a member",
            LoggedAction::Suspend => "suspended a member",
            LoggedAction::Unsuspend => "lifted a suspension",
            LoggedAction::Ban => "banned a member from the group",
            LoggedAction::Unban => "lifted a ban from the group",
            LoggedAction::AddFacilitator => "added a facilitator",
            LoggedAction::RemoveFacilitator => "removed a facilitator",
            LoggedAction::BoardSettings => "changed the group's settings",
            LoggedAction::WatchedWords => "changed the watched words",
            LoggedAction::ApproveJoin => "welcomed a new member",
            LoggedAction::DeclineJoin => "declined a request to join",
        }
    }

    /// Never in the public log: messages to one member, check-ins with someone who may be at
    /// risk, who the facilitators are (the public log does not name them), and who sent
    /// reports.
    fn is_private(self) -> bool {
        matches!(
            self,
            LoggedAction::Warn
                | LoggedAction::DismissReportsFrom
                | LoggedAction::CheckInHandled
                | LoggedAction::AddFacilitator
                | LoggedAction::RemoveFacilitator
                | LoggedAction::ApproveJoin
                | LoggedAction::DeclineJoin
        )
    }
}

/// One action about to be logged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub action: LoggedAction,
    pub board_id: Option<BoardId>,
    pub post: Option<&'a Post>,
    pub thread_id: Option<ThreadId>,
    pub member_id: Option<MemberId>,
    pub reason: &'a str,
    /// The post concerned was reported or flagged as someone possibly at risk.
    pub at_risk: bool,
}

impl<'a> Entry<'a> {
    pub fn new(action: LoggedAction, board_id: Option<BoardId>) -> Entry<'a> {
        Entry {
            action,
            board_id,
            post: None,
            thread_id: None,
            member_id: None,
            reason: "",
            at_risk: false,
        }
    }
}

/// Writes one log row; call it inside the action's transaction.
pub(crate) fn write(
    conn: &mut DbConn,
    actor: &MemberActor,
    entry: Entry<'_>,
    now: NaiveDateTime,
) -> Result<()> {
    let excerpt = entry
        .post
        .map(|p| hearth_markdown::plain_text_excerpt(&p.source, EXCERPT_CHARS))
        .unwrap_or_default();
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::board_id.eq(entry.board_id),
            moderation_log::actor_id.eq(actor.id),
            moderation_log::action.eq(entry.action.as_str()),
            moderation_log::post_id.eq(entry.post.map(|p| p.id)),
            moderation_log::thread_id.eq(entry.thread_id.or(entry.post.map(|p| p.thread_id))),
            moderation_log::member_id.eq(entry.member_id.or(entry.post.map(|p| p.author_id))),
            moderation_log::reason.eq(entry.reason),
            moderation_log::excerpt.eq(excerpt),
            moderation_log::at_risk.eq(entry.at_risk),
            moderation_log::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One line of a log as a page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    pub id: LogEntryId,
    pub at: NaiveDateTime,
    pub action: LoggedAction,
    pub description: &'static str,
    /// `None` when the reader sees "a facilitator".
    pub actor: Option<AuthorRef>,
    pub member: Option<AuthorRef>,
    pub board: Option<(String, String)>,
    pub thread: Option<(ThreadId, String, String)>,
    pub post_id: Option<PostId>,
    pub reason: String,
    pub excerpt: String,
}

/// Who reads a log, and so how much of it they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Moderators,
    /// Members and visitors; `show_names` is the operator's setting.
    Public {
        show_names: bool,
    },
}

type Row = (
    LogEntryId,
    NaiveDateTime,
    String,
    MemberId,
    Option<BoardId>,
    Option<ThreadId>,
    Option<PostId>,
    Option<MemberId>,
    String,
    String,
    bool,
);

/// A board's log, newest first, from before entry `before` when given.
pub fn board_log(
    conn: &mut DbConn,
    actor: &Actor,
    board: &Board,
    show_names: bool,
    before: Option<LogEntryId>,
) -> Result<(Audience, Vec<LogLine>)> {
    policy::authorize(actor, Action::ReadBoard(board))?;
    let audience = if policy::allows(actor, Action::Moderate(board)) {
        Audience::Moderators
    } else {
        Audience::Public { show_names }
    };
    let lines = load(conn, Some(board.id), audience, before)?;
    Ok((audience, lines))
}

/// The whole site's log, for site moderators and admins.
pub fn site_log(
    conn: &mut DbConn,
    actor: &Actor,
    before: Option<LogEntryId>,
) -> Result<Vec<LogLine>> {
    policy::authorize(actor, Action::ModerateSite)?;
    load(conn, None, Audience::Moderators, before)
}

fn load(
    conn: &mut DbConn,
    board: Option<BoardId>,
    audience: Audience,
    before: Option<LogEntryId>,
) -> Result<Vec<LogLine>> {
    let mut query = moderation_log::table
        .order(moderation_log::id.desc())
        .limit(ENTRIES_PER_PAGE)
        .select((
            moderation_log::id,
            moderation_log::created_at,
            moderation_log::action,
            moderation_log::actor_id,
            moderation_log::board_id,
            moderation_log::thread_id,
            moderation_log::post_id,
            moderation_log::member_id,
            moderation_log::reason,
            moderation_log::excerpt,
            moderation_log::at_risk,
        ))
        .into_boxed();
    if let Some(board) = board {
        query = query.filter(moderation_log::board_id.eq(board));
    }
    if let Some(before) = before {
        query = query.filter(moderation_log::id.lt(before));
    }
    if audience != Audience::Moderators {
        let private: Vec<&str> = LoggedAction::ALL
            .iter()
            .filter(|a| a.is_private())
            .map(|a| a.as_str())
            .collect();
        query = query.filter(moderation_log::action.ne_all(private));
    }
    let rows: Vec<Row> = query.load(conn)?;
    let people: Vec<MemberId> = rows
        .iter()
        .flat_map(|r| [Some(r.3), r.7])
        .flatten()
        .collect();
    let authors = members::authors_by_ids(conn, &people)?;
    let thread_ids: Vec<ThreadId> = rows.iter().filter_map(|r| r.5).collect();
    let mut titles = threads::table
        .filter(threads::id.eq_any(&thread_ids))
        .select((threads::id, threads::slug, threads::title))
        .into_boxed();
    if audience != Audience::Moderators {
        // A hidden or deleted thread's title is not repeated to the public.
        titles = titles
            .filter(threads::state.eq(Publication::Published.as_str()))
            .filter(threads::moderation.eq(Moderation::Visible.as_str()));
    }
    let thread_titles: Vec<(ThreadId, String, String)> = titles.load(conn)?;
    let board_ids: Vec<BoardId> = rows.iter().filter_map(|r| r.4).collect();
    let board_names: Vec<(BoardId, String, String)> = boards::table
        .filter(boards::id.eq_any(&board_ids))
        .select((boards::id, boards::slug, boards::name))
        .load(conn)?;
    let public = audience != Audience::Moderators;
    let show_names = matches!(audience, Audience::Public { show_names: true }) || !public;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let action = LoggedAction::parse(&r.2)?;
            let at_risk = r.10;
            Some(LogLine {
                id: r.0,
                at: r.1,
                action,
                description: action.describe(),
                actor: if show_names {
                    authors.get(&r.3).cloned()
                } else {
                    None
                },
                member: r.7.and_then(|id| authors.get(&id).cloned()),
                board: r.4.and_then(|id| {
                    board_names
                        .iter()
                        .find(|b| b.0 == id)
                        .map(|b| (b.1.clone(), b.2.clone()))
                }),
                thread: r
                    .5
                    .and_then(|id| thread_titles.iter().find(|t| t.0 == id).cloned()),
                post_id: r.6,
                reason: if public && at_risk {
                    String::new()
                } else {
                    r.8
                },
                // The public log never repeats what was hidden; moderators see an excerpt.
                excerpt: if public { String::new() } else { r.9 },
            })
        })
        .collect())
}
