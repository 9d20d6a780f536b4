//! The review queue: what needs a moderator's eye — reports from members, posts awaiting
//! approval, crisis check-ins and watched-word flags — and the decisions taken on it. Someone
//! possibly at risk comes first, then the oldest. Every decision is one transaction that also
//! writes the moderation log.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Serialize;

use crate::accounts::members;
use crate::clock;
use crate::db::schema::{boards as boards_table, posts as posts_table, review_items, threads};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards;
use crate::forum::posts;
use crate::ids::{BoardId, MemberId, PostId, ThreadId};
use crate::model::{AuthorRef, Board, Moderation, Post, Thread};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::policy::{self, Action, MemberActor};
use crate::text_enum::text_enum;

/// Items on one page of a queue.
pub const QUEUE_LIMIT: i64 = 100;
const MAX_NOTE_CHARS: usize = 1_000;
const MAX_REASON_CHARS: usize = 500;

text_enum! {
    /// Why something is in the queue.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ItemKind ("review item kind") {
        Report = "report",
        Awaiting = "awaiting",
        CheckIn = "check_in",
        WatchedWord = "watched_word",
    }
}

text_enum! {
    /// Whether an item still waits in the queue (its `resolution` says how it was resolved).
    pub enum ItemState ("review item state") {
        Open = "open",
        Resolved = "resolved",
    }
}

text_enum! {
    /// The reasons a member can give when reporting a post.
    #[derive(Serialize)]
    pub enum ReportReason ("report reason") {
        AtRisk = "at_risk",
        Harassment = "harassment",
        Spam = "spam",
        OffTopic = "off_topic",
        Other = "other",
    }
}

impl ReportReason {
    pub fn label(self) -> &'static str {
        match self {
            ReportReason::AtRisk => "Someone may be at risk",
            ReportReason::Harassment => "Harassment or unkindness",
            ReportReason::Spam => "Spam or advertising",
            ReportReason::OffTopic => "Off-topic for this group",
            ReportReason::Other => "Something else",
        }
    }
}

/// Someone may be at risk: such items come first and their content is never repeated publicly
/// (the public log's query in `moderation::log` says the same in SQL).
fn is_at_risk(kind: ItemKind, reason: &str) -> bool {
    kind == ItemKind::CheckIn
        || (kind == ItemKind::Report && reason == ReportReason::AtRisk.as_str())
}

/// Opens an item on a post; call it inside the transaction that made the post.
pub(crate) fn open(
    conn: &mut DbConn,
    board_id: BoardId,
    post_id: PostId,
    kind: ItemKind,
    reason: &str,
    now: NaiveDateTime,
) -> Result<()> {
    insert(conn, board_id, post_id, kind, reason, "", None, now)
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    board_id: BoardId,
    post_id: PostId,
    kind: ItemKind,
    reason: &str,
    note: &str,
    reporter: Option<MemberId>,
    now: NaiveDateTime,
) -> Result<()> {
    let priority = if is_at_risk(kind, reason) { 0 } else { 1 };
    diesel::insert_into(review_items::table)
        .values((
            review_items::board_id.eq(board_id),
            review_items::post_id.eq(post_id),
            review_items::kind.eq(kind.as_str()),
            review_items::reason.eq(reason),
            review_items::note.eq(note),
            review_items::reporter_id.eq(reporter),
            review_items::priority.eq(priority),
            review_items::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A member reports someone else's post. One open report per member per post: reporting again
/// is accepted and changes nothing (`Ok(false)`).
pub fn report(
    conn: &mut DbConn,
    member: &MemberActor,
    post_id: PostId,
    reason: &str,
    note: &str,
) -> Result<bool> {
    let actor = member.actor();
    let (board, thread, post) = posts::by_id_for(conn, &actor, post_id)?;
    policy::authorize(&actor, Action::ReportPost(&board, &thread, &post))?;
    let mut invalid = Invalid::default();
    let reason = ReportReason::parse(reason);
    if reason.is_none() {
        invalid.add("reason", "choose what is wrong with this post");
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        invalid.add(
            "note",
            format!("a note has at most {MAX_NOTE_CHARS} characters"),
        );
    }
    invalid.into_result()?;
    let reason = reason.ok_or_else(|| Error::Internal("report reason".to_owned()))?;
    let inserted = write_tx(conn, |conn| {
        insert(
            conn,
            board.id,
            post.id,
            ItemKind::Report,
            reason.as_str(),
            note.trim(),
            Some(member.id),
            clock::now(),
        )
    });
    match inserted {
        Ok(()) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// One reason a post is in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub kind: ItemKind,
    pub reason: String,
    /// The report reason's words, for reports.
    pub reason_label: Option<&'static str>,
    pub note: String,
    /// Seen by moderators only; the queue is theirs.
    pub reporter: Option<AuthorRef>,
    pub created_at: NaiveDateTime,
}

/// A post that needs attention, with every open item on it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    pub post: Post,
    pub author: Option<AuthorRef>,
    pub thread_id: ThreadId,
    pub thread_slug: String,
    pub thread_title: String,
    pub board_slug: String,
    pub board_name: String,
    pub at_risk: bool,
    pub check_in: bool,
    pub items: Vec<QueueItem>,
}

/// Which boards a queue covers.
fn boards_of(member: &MemberActor, board: Option<&Board>) -> Result<Option<Vec<BoardId>>> {
    match board {
        Some(board) => {
            policy::authorize(&member.actor(), Action::Moderate(board))?;
            Ok(Some(vec![board.id]))
        }
        None if member.is_staff() => Ok(None),
        None if member.moderates_any() => Ok(Some(member.facilitates.clone())),
        // A suspension removes the queue with every other power, and the page says why.
        None if member.has_moderator_role_anywhere() => {
            Err(Error::Denied(crate::error::Denied::Suspended))
        }
        None => Err(Error::Denied(crate::error::Denied::ModeratorsOnly)),
    }
}

/// A queued post with its thread (id, slug, title) and board (slug, name).
type QueueRow = (Post, (ThreadId, String, String), (String, String));

type ItemRow = (
    PostId,
    String,
    String,
    String,
    Option<MemberId>,
    NaiveDateTime,
);

/// The open queue of one board, or of every board the member moderates: at-risk first, then
/// oldest first.
pub fn queue(
    conn: &mut DbConn,
    member: &MemberActor,
    board: Option<&Board>,
) -> Result<Vec<QueueEntry>> {
    let scope = boards_of(member, board)?;
    let mut query = review_items::table
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .order((review_items::priority.asc(), review_items::created_at.asc()))
        .limit(QUEUE_LIMIT)
        .select((
            review_items::post_id,
            review_items::kind,
            review_items::reason,
            review_items::note,
            review_items::reporter_id,
            review_items::created_at,
        ))
        .into_boxed();
    if let Some(boards) = &scope {
        query = query.filter(review_items::board_id.eq_any(boards));
    }
    let rows: Vec<ItemRow> = query.load(conn)?;
    let mut order: Vec<PostId> = Vec::new();
    let mut items: HashMap<PostId, Vec<QueueItem>> = HashMap::new();
    let reporters: Vec<MemberId> = rows.iter().filter_map(|r| r.4).collect();
    let reporters = members::authors_by_ids(conn, &reporters)?;
    for (post_id, kind, reason, note, reporter, created_at) in rows {
        let Some(kind) = ItemKind::parse(&kind) else {
            continue;
        };
        if !items.contains_key(&post_id) {
            order.push(post_id);
        }
        items.entry(post_id).or_default().push(QueueItem {
            kind,
            reason_label: (kind == ItemKind::Report)
                .then(|| ReportReason::parse(&reason).map(ReportReason::label))
                .flatten(),
            reason,
            note,
            reporter: reporter.and_then(|id| reporters.get(&id).cloned()),
            created_at,
        });
    }
    let loaded: Vec<QueueRow> = posts_table::table
        .inner_join(threads::table.inner_join(boards_table::table))
        .filter(posts_table::id.eq_any(&order))
        .select((
            Post::as_select(),
            (threads::id, threads::slug, threads::title),
            (boards_table::slug, boards_table::name),
        ))
        .load(conn)?;
    let authors: Vec<MemberId> = loaded.iter().map(|l| l.0.author_id).collect();
    let authors = members::authors_by_ids(conn, &authors)?;
    let mut by_post: HashMap<PostId, _> = loaded.into_iter().map(|l| (l.0.id, l)).collect();
    Ok(order
        .into_iter()
        .filter_map(|post_id| {
            let (post, (thread_id, thread_slug, thread_title), (board_slug, board_name)) =
                by_post.remove(&post_id)?;
            let items = items.remove(&post_id)?;
            Some(QueueEntry {
                author: authors.get(&post.author_id).cloned(),
                at_risk: items.iter().any(|i| is_at_risk(i.kind, &i.reason)),
                check_in: items.iter().any(|i| i.kind == ItemKind::CheckIn),
                post,
                thread_id,
                thread_slug,
                thread_title,
                board_slug,
                board_name,
                items,
            })
        })
        .collect())
}

/// How many posts await a decision in the boards this member moderates (the header count).
pub fn open_count(conn: &mut DbConn, member: &MemberActor) -> Result<i64> {
    if !member.moderates_any() {
        return Ok(0);
    }
    // Reads only open items, through the (state, …) index; see `plan_tests::OPEN_ITEMS_ONLY`.
    let mut query = review_items::table
        .filter(sql::<Bool>("review_items.state = 'open'"))
        .select(review_items::post_id)
        .distinct()
        .into_boxed();
    if !member.is_staff() {
        query = query.filter(review_items::board_id.eq_any(&member.facilitates));
    }
    let posts: Vec<PostId> = query.load(conn)?;
    Ok(posts.len() as i64)
}

/// A moderator's decision on a post in the queue (or seen on its thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Publish a post that awaited approval; its open items are resolved.
    Approve,
    /// Take a post out of view; its author sees it with the reason.
    Hide { reason: String },
    /// Show a hidden post again.
    Restore,
    /// Nothing wrong: close the reports and flags, leave the post as it is.
    Dismiss,
    /// Someone checked in with the author of a post that raised concern; a private note.
    Handled { note: String },
}

impl Decision {
    fn logged(&self) -> LoggedAction {
        match self {
            Decision::Approve => LoggedAction::Approve,
            Decision::Hide { .. } => LoggedAction::Hide,
            Decision::Restore => LoggedAction::Restore,
            Decision::Dismiss => LoggedAction::Dismiss,
            Decision::Handled { .. } => LoggedAction::CheckInHandled,
        }
    }
}

/// Which text of a post a moderator saw when they took a decision: the time of its last edit
/// (none for a post never edited), carried by the decision's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub edited_at: Option<NaiveDateTime>,
}

impl Seen {
    /// What a decision's form says was seen: its `edited_at` field, the post's `edited_at` as
    /// the page printed it (empty for a post never edited).
    pub fn from_form(edited_at: &str) -> Result<Seen> {
        let edited_at = edited_at.trim();
        if edited_at.is_empty() {
            return Ok(Seen { edited_at: None });
        }
        edited_at
            .parse::<NaiveDateTime>()
            .map(|at| Seen {
                edited_at: Some(at),
            })
            .map_err(|_| {
                Error::invalid(
                    "decision",
                    "this form is out of date; please open the page again",
                )
            })
    }

    /// The text of `post` as loaded now.
    pub fn of(post: &Post) -> Seen {
        Seen {
            edited_at: post.edited_at,
        }
    }
}

const EDITED_SINCE: &str = "This post was edited after you opened it; please review the new text";

/// Takes a decision on a post: the change, the resolved items, a notice to the author when
/// their post is hidden, and the log row — one transaction. The decision applies only to the
/// text the moderator saw (`seen`): if the post was edited since, it is refused and nothing
/// changes.
pub fn decide(
    conn: &mut DbConn,
    member: &MemberActor,
    post_id: PostId,
    seen: Seen,
    decision: &Decision,
) -> Result<(Board, Thread, Post)> {
    let actor = member.actor();
    let (board, thread, post) = posts::by_id_for(conn, &actor, post_id)?;
    policy::authorize(&actor, Action::Moderate(&board))?;
    if Seen::of(&post) != seen {
        return Err(Error::invalid("decision", EDITED_SINCE));
    }
    let (text, field) = match decision {
        Decision::Hide { reason } => (reason.trim(), "reason"),
        Decision::Handled { note } => (note.trim(), "note"),
        _ => ("", ""),
    };
    if matches!(decision, Decision::Hide { .. }) && text.is_empty() {
        return Err(Error::invalid(
            field,
            "say why, in a sentence; the author will see it",
        ));
    }
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    let allowed_from: &[Moderation] = match decision {
        Decision::Approve => &[Moderation::Awaiting],
        Decision::Hide { .. } => &[Moderation::Visible, Moderation::Awaiting],
        Decision::Restore => &[Moderation::Hidden],
        Decision::Dismiss | Decision::Handled { .. } => &[
            Moderation::Visible,
            Moderation::Awaiting,
            Moderation::Hidden,
        ],
    };
    if !allowed_from.contains(&post.moderation) {
        return Err(Error::invalid(
            "decision",
            "someone else has already decided on this post; the queue shows what it is now",
        ));
    }
    let excerpt = log::excerpt_of(&post);
    write_tx(conn, |conn| {
        let now = clock::now();
        // An edit committed since the post was loaded: the moderator has not seen its text.
        if !posts::claim_text(conn, &post)? {
            return Err(Error::invalid("decision", EDITED_SINCE));
        }
        // At risk once is at risk for good: a check-in already handled still keeps the post's
        // words out of the public log, so every item counts, open or resolved.
        let items: Vec<(String, String)> = review_items::table
            .filter(review_items::post_id.eq(post.id))
            .select((review_items::kind, review_items::reason))
            .load(conn)?;
        let at_risk = items
            .iter()
            .any(|(k, r)| ItemKind::parse(k).is_some_and(|k| is_at_risk(k, r)));
        use ItemKind::{Awaiting, CheckIn, Report, WatchedWord};
        let (resolves, resolution): (&[ItemKind], &str) = match decision {
            Decision::Approve => (&[Awaiting, Report, WatchedWord], "approved"),
            Decision::Hide { .. } => (&[Awaiting, Report, WatchedWord], "hidden"),
            Decision::Restore => (&[], "restored"),
            Decision::Dismiss => (&[Report, WatchedWord], "dismissed"),
            Decision::Handled { .. } => (&[CheckIn, Report], "handled"),
        };
        let resolves: Vec<&str> = resolves.iter().map(|kind| kind.as_str()).collect();
        // "Handled" closes at-risk reports only; other reports stay for a moderator's decision.
        let mut resolve = diesel::update(review_items::table)
            .filter(review_items::post_id.eq(post.id))
            .filter(review_items::state.eq(ItemState::Open.as_str()))
            .filter(review_items::kind.eq_any(&resolves))
            .into_boxed();
        if matches!(decision, Decision::Handled { .. }) {
            resolve = resolve.filter(review_items::priority.eq(0));
        }
        resolve
            .set((
                review_items::state.eq(ItemState::Resolved.as_str()),
                review_items::resolved_by.eq(member.id),
                review_items::resolved_at.eq(now),
                review_items::resolution.eq(resolution),
                review_items::resolution_note.eq(text),
            ))
            .execute(conn)?;
        // Two moderators (or one double tap) deciding at once: only the first decision that
        // still finds the post as it was applies; the other is told, and changes nothing.
        if !matches!(decision, Decision::Dismiss | Decision::Handled { .. })
            && !posts::claim_moderation(conn, &post)?
        {
            return Err(Error::invalid(
                "decision",
                "someone else has already decided on this post; the queue shows what it is now",
            ));
        }
        match decision {
            Decision::Approve | Decision::Restore => {
                posts::set_moderation(conn, &board, &thread, &post, Moderation::Visible, "")?
            }
            Decision::Hide { .. } => {
                posts::set_moderation(conn, &board, &thread, &post, Moderation::Hidden, text)?;
                notices::send(
                    conn,
                    post.author_id,
                    &format!(
                        "The moderators hid your post in “{}”. Their reason: {text}",
                        thread.title
                    ),
                    now,
                )?;
            }
            Decision::Dismiss | Decision::Handled { .. } => {}
        }
        let mut entry = Entry::new(decision.logged(), Some(board.id));
        entry.post = Some(&post);
        entry.reason = text;
        entry.excerpt = &excerpt;
        entry.at_risk = at_risk;
        log::write(conn, member, entry, now)?;
        Ok(())
    })?;
    let board = boards::by_id(conn, board.id)?;
    let (thread, post) = (
        crate::forum::threads::by_id(conn, thread.id)?,
        posts::by_id(conn, post.id)?,
    );
    Ok((board, thread, post))
}

/// The post for its report form, if `member` may report it (see [`report`]).
pub fn for_report(
    conn: &mut DbConn,
    member: &MemberActor,
    id: PostId,
) -> Result<(Board, Thread, Post)> {
    posts::for_action(conn, member, id, |b, t, p| Action::ReportPost(b, t, p))
}

#[cfg(test)]
mod tests;
