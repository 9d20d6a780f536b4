//! The moderation log: every moderator action writes one row here, in the action's own
//! transaction. Moderators read it whole; members read a public per-board log in which
//! moderators are "a facilitator" (unless the operator chose to show names), warnings are
//! absent, no post's words are repeated, and nothing at all (not even the reason) of a post
//! that raised a concern for someone's safety.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::members;
use crate::db::schema::{boards, moderation_log, posts, review_items, threads};
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{BoardId, LogEntryId, MemberId, PostId, ThreadId};
use crate::model::{AuthorRef, Board, Post, Thread};
use crate::moderation::review::{ItemKind, ReportReason};
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
        ChangeSiteRole = "change_site_role",
        Ban = "ban",
        Unban = "unban",
        AddFacilitator = "add_facilitator",
        RemoveFacilitator = "remove_facilitator",
        BoardSettings = "board_settings",
        WatchedWords = "watched_words",
        ApproveJoin = "approve_join",
        DeclineJoin = "decline_join",
        RemoveMember = "remove_member",
        ApproveProposal = "approve_proposal",
        DeclineProposal = "decline_proposal",
        HideMessage = "hide_message",
        RestoreMessage = "restore_message",
        ApproveMessage = "approve_message",
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
            LoggedAction::ChangeSiteRole => "changed a member's site role",
            LoggedAction::Ban => "banned a member from the group",
            LoggedAction::Unban => "lifted a ban from the group",
            LoggedAction::AddFacilitator => "added a facilitator",
            LoggedAction::RemoveFacilitator => "removed a facilitator",
            LoggedAction::BoardSettings => "changed the group's settings",
            LoggedAction::WatchedWords => "changed the watched words",
            LoggedAction::ApproveJoin => "welcomed a new member",
            LoggedAction::DeclineJoin => "declined a request to join",
            LoggedAction::RemoveMember => "ended a membership",
            LoggedAction::ApproveProposal => "opened a proposed group",
            LoggedAction::DeclineProposal => "declined a proposed group",
            LoggedAction::HideMessage => "hid a private message",
            LoggedAction::RestoreMessage => "restored a private message",
            LoggedAction::ApproveMessage => "approved a private message",
        }
    }

    /// The words around the member an entry is about, so a line reads actor first: "Fran
    /// *warned* mark_t", "Sam *made* Fran *a facilitator*", "A facilitator *hid a post by*
    /// mark_t". Used when the entry names a member; otherwise [`LoggedAction::describe`].
    pub fn around_member(self) -> (&'static str, &'static str) {
        match self {
            LoggedAction::Approve => ("approved a post by", ""),
            LoggedAction::Hide => ("hid a post by", ""),
            LoggedAction::Restore => ("restored a post by", ""),
            LoggedAction::Dismiss => ("dismissed reports on a post by", ""),
            LoggedAction::DismissReportsFrom => ("dismissed every open report from", ""),
            LoggedAction::CheckInHandled => ("checked in with", ""),
            LoggedAction::Lock => ("locked a thread by", ""),
            LoggedAction::Unlock => ("unlocked a thread by", ""),
            LoggedAction::Pin => ("pinned a thread by", ""),
            LoggedAction::Unpin => ("unpinned a thread by", ""),
            LoggedAction::Move => ("moved a thread by", ""),
            LoggedAction::SlowMode => ("changed the slow mode of a thread by", ""),
            LoggedAction::Warn => ("warned", ""),
            LoggedAction::Suspend => ("suspended", ""),
            LoggedAction::Unsuspend => ("lifted the suspension of", ""),
            LoggedAction::ChangeSiteRole => ("changed the site role of", ""),
            LoggedAction::Ban => ("stopped", "posting in the group"),
            LoggedAction::Unban => ("let", "post in the group again"),
            LoggedAction::AddFacilitator => ("made", "a facilitator"),
            LoggedAction::RemoveFacilitator => ("ended the facilitator role of", ""),
            LoggedAction::BoardSettings => ("changed the group's settings for", ""),
            LoggedAction::WatchedWords => ("changed the watched words for", ""),
            LoggedAction::ApproveJoin => ("welcomed", "to the group"),
            LoggedAction::DeclineJoin => ("declined the request to join from", ""),
            LoggedAction::RemoveMember => ("ended the membership of", ""),
            LoggedAction::ApproveProposal => ("opened the group proposed by", ""),
            LoggedAction::DeclineProposal => ("declined the group proposed by", ""),
            LoggedAction::HideMessage => ("hid a private message by", ""),
            LoggedAction::RestoreMessage => ("restored a private message by", ""),
            LoggedAction::ApproveMessage => ("approved a private message by", ""),
        }
    }

    /// Never in the public log: anything of a private conversation, messages to one member, check-ins with someone who may be at
    /// risk, who the facilitators are (the public log does not name them), who joined or was
    /// removed, the reviewers' answers to proposals (for the site's staff), and who sent
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
                | LoggedAction::RemoveMember
                | LoggedAction::ApproveProposal
                | LoggedAction::DeclineProposal
                | LoggedAction::HideMessage
                | LoggedAction::RestoreMessage
                | LoggedAction::ApproveMessage
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
    /// A short plain-text excerpt of `post`, made with [`excerpt_of`] before the transaction
    /// (it parses the post's markdown, which has no place under the write lock).
    pub excerpt: &'a str,
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
            excerpt: "",
            at_risk: false,
        }
    }
}

/// The excerpt of a post the log keeps for moderators: compute it before the transaction.
pub(crate) fn excerpt_of(post: &Post) -> String {
    hearth_markdown::plain_text_excerpt(&post.source, EXCERPT_CHARS)
}

/// Writes one log row; call it inside the action's transaction.
pub(crate) fn write(
    conn: &mut DbConn,
    actor: &MemberActor,
    entry: Entry<'_>,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::board_id.eq(entry.board_id),
            moderation_log::actor_id.eq(actor.id),
            moderation_log::action.eq(entry.action.as_str()),
            moderation_log::post_id.eq(entry.post.map(|p| p.id)),
            moderation_log::thread_id.eq(entry.thread_id.or(entry.post.map(|p| p.thread_id))),
            moderation_log::member_id.eq(entry.member_id.or(entry.post.map(|p| p.author_id))),
            moderation_log::reason.eq(entry.reason),
            moderation_log::excerpt.eq(entry.excerpt),
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
    /// The words before and after the member's name when the line names one
    /// ([`LoggedAction::around_member`]).
    pub before_member: &'static str,
    pub after_member: &'static str,
    /// `None` when the reader sees "a facilitator".
    pub actor: Option<AuthorRef>,
    pub member: Option<AuthorRef>,
    /// The entry is about a member who has left since (`accounts::leaving`): "a former member".
    pub member_left: bool,
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
    let lines = load(conn, actor, Some(board.id), audience, before)?;
    Ok((audience, lines))
}

/// The whole site's log, for site moderators and admins.
pub fn site_log(
    conn: &mut DbConn,
    actor: &Actor,
    before: Option<LogEntryId>,
) -> Result<Vec<LogLine>> {
    policy::authorize(actor, Action::ModerateSite)?;
    load(conn, actor, None, Audience::Moderators, before)
}

fn load(
    conn: &mut DbConn,
    actor: &Actor,
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
    let public = audience != Audience::Moderators;
    if public {
        let private: Vec<&str> = LoggedAction::ALL
            .iter()
            .filter(|a| a.is_private())
            .map(|a| a.as_str())
            .collect();
        query = query.filter(moderation_log::action.ne_all(private));
        // Nothing at all about a post that raised a concern for someone's safety, nor about
        // its thread (a lock or a move names the thread and its author): not when the entry
        // was written (`at_risk`), and not when the concern came later (a check-in opened by
        // an edit, an "at risk" report after a decision). Left out in SQL, so that a page of
        // the public log is still a page.
        // Items on posts only: a conversation's items have no post (and a NULL in a `NOT IN`
        // list would hide every entry).
        let at_risk_items = || {
            review_items::table
                .filter(review_items::post_id.is_not_null())
                .filter(
                    review_items::kind
                        .eq(ItemKind::CheckIn.as_str())
                        .or(review_items::kind
                            .eq(ItemKind::Report.as_str())
                            .and(review_items::reason.eq(ReportReason::AtRisk.as_str()))),
                )
        };
        let at_risk_posts = at_risk_items().select(review_items::post_id);
        let at_risk_threads = posts::table
            .filter(
                posts::id
                    .nullable()
                    .eq_any(at_risk_items().select(review_items::post_id)),
            )
            .select(posts::thread_id.nullable());
        query = query
            .filter(moderation_log::at_risk.eq(false))
            .filter(moderation_log::post_id.is_null().or(diesel::dsl::not(
                moderation_log::post_id.eq_any(at_risk_posts),
            )))
            .filter(moderation_log::thread_id.is_null().or(diesel::dsl::not(
                moderation_log::thread_id.eq_any(at_risk_threads),
            )));
    }
    let rows: Vec<Row> = query.load(conn)?;
    let people: Vec<MemberId> = rows
        .iter()
        .flat_map(|r| [Some(r.3), r.7])
        .flatten()
        .collect();
    let authors = members::authors_by_ids(conn, &people)?;
    // Each entry's thread as it is now, on the board it is on now: the reader sees its title
    // and author only if the policy lets them read it there (a thread moved into a private
    // group, hidden or deleted is not named to those who may not read it).
    let thread_ids: Vec<ThreadId> = rows.iter().filter_map(|r| r.5).collect();
    let found_threads: Vec<Thread> = threads::table
        .filter(threads::id.eq_any(&thread_ids))
        .select(Thread::as_select())
        .load(conn)?;
    let mut board_ids: Vec<BoardId> = rows.iter().filter_map(|r| r.4).collect();
    board_ids.extend(found_threads.iter().map(|t| t.board_id));
    let found_boards: Vec<Board> = boards::table
        .filter(boards::id.eq_any(&board_ids))
        .select(Board::as_select())
        .load(conn)?;
    let readable_threads: Vec<&Thread> = found_threads
        .iter()
        .filter(|t| {
            found_boards
                .iter()
                .find(|b| b.id == t.board_id)
                .is_some_and(|b| policy::allows(actor, Action::ReadThread(b, t)))
        })
        .collect();
    let show_names = matches!(audience, Audience::Public { show_names: true }) || !public;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let action = LoggedAction::parse(&r.2)?;
            let at_risk = r.10;
            let thread =
                r.5.and_then(|id| readable_threads.iter().find(|t| t.id == id).copied());
            // An entry about a thread the reader may not read keeps only what was done.
            let withheld = r.5.is_some() && thread.is_none();
            Some(LogLine {
                id: r.0,
                at: r.1,
                action,
                description: action.describe(),
                before_member: action.around_member().0,
                after_member: action.around_member().1,
                actor: if show_names {
                    authors.get(&r.3).cloned()
                } else {
                    None
                },
                member: if withheld {
                    None
                } else {
                    r.7.and_then(|id| authors.get(&id).cloned())
                },
                member_left: !withheld && r.7.is_some_and(|id| !authors.contains_key(&id)),
                board: r.4.and_then(|id| {
                    found_boards
                        .iter()
                        .find(|b| b.id == id)
                        .map(|b| (b.slug.clone(), b.name.clone()))
                }),
                thread: thread.map(|t| (t.id, t.slug.clone(), t.title.clone())),
                post_id: if withheld { None } else { r.6 },
                // A move's reason names where the thread went.
                reason: if withheld || (public && at_risk) {
                    String::new()
                } else {
                    r.8
                },
                // The public log never repeats what was hidden; moderators see an excerpt.
                excerpt: if public || withheld {
                    String::new()
                } else {
                    r.9
                },
            })
        })
        .collect())
}
