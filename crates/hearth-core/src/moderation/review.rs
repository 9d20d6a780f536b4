//! The review queue: what needs a moderator's eye — reports from members, posts awaiting
//! approval, crisis check-ins and watched-word flags — and the decisions taken on it. Crisis
//! check-ins come first, then reports that someone may be at risk, then the oldest; the queue is
//! read a page at a time, so nothing in it is ever out of reach. Every decision is one
//! transaction that also writes the moderation log. Members' reports are limited per hour and
//! per day ([`ReportLimits`]), and a moderator can dismiss every open report of one member at
//! once ([`dismiss_reports_from`]).

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::{count, count_star, max, min, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer};
use serde::{Deserialize, Serialize};

use crate::accounts::members;
use crate::clock;
use crate::db::schema::{
    boards as boards_table, members as members_table, posts as posts_table, review_items, threads,
};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards;
use crate::forum::posts;
use crate::ids::{BoardId, ConversationId, MemberId, MessageId, PostId, ReviewItemId, ThreadId};
use crate::model::{AuthorRef, Board, Moderation, Post, Thread};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::policy::{self, Action, MemberActor};
use crate::safety::gate::PostingRules;
use crate::safety::limits;
use crate::text_enum::text_enum;

/// Posts on one page of a queue (each with every open item on it).
pub const ENTRIES_PER_PAGE: i64 = 25;
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
pub(crate) fn is_at_risk(kind: ItemKind, reason: &str) -> bool {
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

/// What a review item on a conversation is about: the conversation, and the message that
/// opened it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnMessage {
    pub board_id: BoardId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

/// Opens an item on a message of a conversation (a check-in, a watched word, a message held, a
/// report); call it inside the transaction that wrote the message or the report.
pub(crate) fn open_on_message(
    conn: &mut DbConn,
    on: OnMessage,
    kind: ItemKind,
    reason: &str,
    note: &str,
    reporter: Option<MemberId>,
    now: NaiveDateTime,
) -> Result<()> {
    let priority = if is_at_risk(kind, reason) { 0 } else { 1 };
    diesel::insert_into(review_items::table)
        .values((
            review_items::board_id.eq(on.board_id),
            review_items::conversation_id.eq(on.conversation_id),
            review_items::message_id.eq(on.message_id),
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

/// How many posts a member may report. A limit of 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ReportLimits {
    /// Reports per hour.
    pub per_hour: u32,
    /// Reports per 24 hours.
    pub per_day: u32,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits {
            per_hour: 10,
            per_day: 30,
        }
    }
}

impl ReportLimits {
    /// No limit at all (tests that report faster than people do).
    pub const NONE: ReportLimits = ReportLimits {
        per_hour: 0,
        per_day: 0,
    };
}

/// A report form's own checks, for a post or a private message (`what`): a reason from the
/// list, and a note of at most `MAX_NOTE_CHARS`.
pub(crate) fn check_report_form(reason: &str, note: &str, what: &str) -> Result<ReportReason> {
    let mut invalid = Invalid::default();
    let reason = ReportReason::parse(reason);
    if reason.is_none() {
        invalid.add("reason", format!("choose what is wrong with this {what}"));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        invalid.add(
            "note",
            format!("a note has at most {MAX_NOTE_CHARS} characters"),
        );
    }
    invalid.into_result()?;
    reason.ok_or_else(|| Error::Internal("report reason".to_owned()))
}

/// A member reports someone else's post. One open report per member per post: reporting again
/// is accepted and changes nothing (`Ok(false)`). A report over the member's [`ReportLimits`]
/// is refused with [`Error::RateLimited`], saying when they can report again; every report
/// they sent counts, dismissed ones included.
pub fn report(
    conn: &mut DbConn,
    limits: &ReportLimits,
    member: &MemberActor,
    post_id: PostId,
    reason: &str,
    note: &str,
) -> Result<bool> {
    let actor = member.actor();
    let (board, thread, post) = posts::by_id_for(conn, &actor, post_id)?;
    policy::authorize(&actor, Action::ReportPost(&board, &thread, &post))?;
    let reason = check_report_form(reason, note, "post")?;
    let inserted = write_tx(conn, |conn| {
        // The member's row first: their reports sent at once wait for each other here (on
        // PostgreSQL too), so each one counts those before it and none slips past the limit.
        diesel::update(members_table::table.find(member.id))
            .set(members_table::id.eq(members_table::id))
            .execute(conn)?;
        let already: i64 = review_items::table
            .filter(review_items::post_id.eq(post.id))
            .filter(review_items::reporter_id.eq(member.id))
            .filter(review_items::kind.eq(ItemKind::Report.as_str()))
            .filter(review_items::state.eq(ItemState::Open.as_str()))
            .count()
            .get_result(conn)?;
        if already > 0 {
            return Ok(false);
        }
        let now = clock::now();
        check_report_limits(conn, member.id, reason, limits, now)?;
        insert(
            conn,
            board.id,
            post.id,
            ItemKind::Report,
            reason.as_str(),
            note.trim(),
            Some(member.id),
            now,
        )?;
        Ok(true)
    });
    match inserted {
        Err(e) if e.is_unique_violation() => Ok(false),
        other => other,
    }
}

/// Refuses the member's next report when it would go over a limit, saying when they can
/// report again (the longest wait, when both limits are reached). Counted in the database, so
/// every server process sees the same count.
///
/// "Someone may be at risk" reports have an allowance of their own, the same size: a member
/// who reported a wave of spam can still tell the moderators that someone may be in danger
/// (the crisis phrases catch only what they list, so their report may be the only signal).
pub(crate) fn check_report_limits(
    conn: &mut DbConn,
    reporter: MemberId,
    reason: ReportReason,
    limits: &ReportLimits,
    now: NaiveDateTime,
) -> Result<()> {
    let fetch = limits.per_hour.max(limits.per_day);
    if fetch == 0 {
        return Ok(());
    }
    // The member's newest reports of the last day, at most as many as the larger limit: when a
    // limit `n` is reached, the `n`-th newest is the report whose age frees the next one.
    let at_risk = ReportReason::AtRisk.as_str();
    let mut recent = review_items::table
        .filter(review_items::reporter_id.eq(reporter))
        .filter(review_items::kind.eq(ItemKind::Report.as_str()))
        .filter(review_items::created_at.gt(now - TimeDelta::days(1)))
        .into_boxed();
    recent = if reason == ReportReason::AtRisk {
        recent.filter(review_items::reason.eq(at_risk))
    } else {
        recent.filter(review_items::reason.ne(at_risk))
    };
    let recent: Vec<NaiveDateTime> = recent
        .order(review_items::created_at.desc())
        .limit(i64::from(fetch))
        .select(review_items::created_at)
        .load(conn)?;
    let reached = [
        (limits.per_hour, TimeDelta::hours(1), "an hour"),
        (limits.per_day, TimeDelta::days(1), "a day"),
    ]
    .into_iter()
    .filter_map(|(limit, span, per)| {
        let index = usize::try_from(limit).ok()?.checked_sub(1)?;
        let oldest = recent.get(index).filter(|at| **at > now - span)?;
        let millis = (*oldest + span - now).num_milliseconds().max(0);
        Some((limit, per, ((millis + 999) / 1000).max(1)))
    })
    .max_by_key(|(_, _, wait)| *wait);
    match reached {
        None => Ok(()),
        Some((limit, per, wait_seconds)) => Err(Error::RateLimited {
            retry_after_seconds: wait_seconds,
            reason: format!(
                "you have reached this site's limit of {limit} report{} {per}; the moderators \
                 have the ones you sent, and you can report again {}",
                if limit == 1 { "" } else { "s" },
                limits::in_words(wait_seconds)
            ),
        }),
    }
}

/// One reason a post is in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub id: ReviewItemId,
    pub kind: ItemKind,
    pub reason: String,
    /// The report reason's words, for reports.
    pub reason_label: Option<&'static str>,
    pub note: String,
    /// Seen by moderators only; the queue is theirs.
    pub reporter: Option<AuthorRef>,
    /// For a report: every open report its reporter sent that this queue holds.
    pub from_reporter: Option<ReporterReports>,
    pub created_at: NaiveDateTime,
}

/// The open reports one member sent that a queue holds, for dismissing them all at once
/// ([`dismiss_reports_from`]).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReporterReports {
    /// How many there are.
    pub open: i64,
    /// How many of them say someone may be at risk.
    pub at_risk: i64,
    /// The newest of them: dismissing them all stops here, at what the moderator saw.
    pub up_to: ReviewItemId,
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
    /// Its author's recent posts and earlier warnings, in the groups this queue covers (empty
    /// for a former member).
    pub history: beside::MemberHistory,
}

/// A private conversation that needs attention (a crisis phrase in one of its messages, a
/// watched word, a message held or reported), with its open items. Only the group's moderators
/// read a queue, and they may read the conversation.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationEntry {
    pub conversation_id: ConversationId,
    pub subject: String,
    pub board_slug: String,
    pub board_name: String,
    /// The member the conversation is with.
    pub member: Option<AuthorRef>,
    pub check_in: bool,
    pub items: Vec<QueueItem>,
}

/// One page of a queue, and where it stands among the others.
#[derive(Debug, Clone, Serialize)]
pub struct QueuePage {
    /// Private conversations with open items, check-ins first (not paged: they are few, and
    /// each is one line).
    pub conversations: Vec<ConversationEntry>,
    pub entries: Vec<QueueEntry>,
    /// This page's number, between 1 and `n_pages` whatever was asked for.
    pub page: i64,
    /// At least 1, even when the queue is empty.
    pub n_pages: i64,
    /// How many posts need attention, on every page.
    pub n_posts: i64,
    /// How many open items (reports, check-ins, flags, approvals) they have.
    pub n_items: i64,
    /// How many of those posts someone may be at risk in (a crisis check-in or a report saying
    /// so), on every page: the first lane. They come first in the order, so page 1 starts
    /// with them.
    pub n_at_risk: i64,
    /// Private conversations with a check-in open (the first lane too).
    pub n_conversation_check_ins: i64,
    /// Join requests waiting in the queue's groups, by group.
    pub join_requests: Vec<beside::JoinRequestsWaiting>,
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

/// A review item's place in the queue: crisis check-ins (the system found words of crisis)
/// first, then reports that someone may be at risk (`priority` 0), then everything else. Members
/// choose a report's reason, so a flood of "at risk" reports can never push a check-in down.
const RANK: &str =
    "CASE WHEN review_items.kind = 'check_in' THEN 0 ELSE review_items.priority + 1 END";

/// The open items of a queue's boards (all boards when `scope` is `None`); grouped by a column
/// when one is given, with what is selected from each group.
macro_rules! open_items {
    ($scope:expr $(, group_by $group:expr, select $select:expr)?) => {{
        let mut query = review_items::table
            .filter(review_items::state.eq(ItemState::Open.as_str()))
            $(.group_by($group).select($select))?
            .into_boxed();
        if let Some(boards) = $scope {
            query = query.filter(review_items::board_id.eq_any(boards));
        }
        query
    }};
}

/// A queued post with its thread (id, slug, title) and board (slug, name).
type QueueRow = (Post, (ThreadId, String, String), (String, String));

type ItemRow = (
    ReviewItemId,
    PostId,
    String,
    String,
    String,
    Option<MemberId>,
    NaiveDateTime,
);

/// Page `page` of the open queue of one board, or of every board the member moderates. Posts
/// come in the order of their most urgent item (crisis check-ins, then reports of someone at
/// risk, then the rest), then of their oldest, then by id, so the order is stable and every
/// post is on exactly one page. A page number out of range is the nearest page there is.
pub fn queue(
    conn: &mut DbConn,
    member: &MemberActor,
    board: Option<&Board>,
    page: i64,
) -> Result<QueuePage> {
    let scope = boards_of(member, board)?;
    let scope = scope.as_ref();
    let n_posts: i64 = open_items!(scope)
        .select(count(review_items::post_id).aggregate_distinct())
        .get_result(conn)?;
    let n_items: i64 = open_items!(scope).select(count_star()).get_result(conn)?;
    let n_at_risk: i64 = open_items!(scope)
        .filter(
            review_items::kind
                .eq(ItemKind::CheckIn.as_str())
                .or(review_items::kind
                    .eq(ItemKind::Report.as_str())
                    .and(review_items::reason.eq(ReportReason::AtRisk.as_str()))),
        )
        .select(count(review_items::post_id).aggregate_distinct())
        .get_result(conn)?;
    let n_pages = ((n_posts + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE).max(1);
    let page = page.clamp(1, n_pages);
    let order: Vec<PostId> = open_items!(
        scope,
        group_by review_items::post_id,
        select review_items::post_id.assume_not_null()
    )
    // Posts only: a conversation's items are listed apart (`conversation_entries`).
    .filter(review_items::post_id.is_not_null())
    .order((
        // A post's place is that of its most urgent item.
        sql::<Integer>(&format!("MIN({RANK})")).asc(),
        min(review_items::created_at).asc(),
        review_items::post_id.asc(),
    ))
    .limit(ENTRIES_PER_PAGE)
    .offset((page - 1) * ENTRIES_PER_PAGE)
    .load(conn)?;
    let rows: Vec<ItemRow> = open_items!(scope)
        .filter(review_items::post_id.eq_any(&order))
        .order((
            sql::<Integer>(RANK).asc(),
            review_items::created_at.asc(),
            review_items::id.asc(),
        ))
        .select((
            review_items::id,
            review_items::post_id.assume_not_null(),
            review_items::kind,
            review_items::reason,
            review_items::note,
            review_items::reporter_id,
            review_items::created_at,
        ))
        .load(conn)?;
    let reporter_ids: Vec<MemberId> = rows.iter().filter_map(|r| r.5).collect();
    let reporters = members::authors_by_ids(conn, &reporter_ids)?;
    let reports_from = reports_by_reporter(conn, scope, &reporter_ids)?;
    let mut items: HashMap<PostId, Vec<QueueItem>> = HashMap::new();
    for (id, post_id, kind, reason, note, reporter, created_at) in rows {
        let Some(kind) = ItemKind::parse(&kind) else {
            continue;
        };
        let is_report = kind == ItemKind::Report;
        items.entry(post_id).or_default().push(QueueItem {
            id,
            kind,
            reason_label: is_report
                .then(|| ReportReason::parse(&reason).map(ReportReason::label))
                .flatten(),
            reason,
            note,
            reporter: reporter.and_then(|id| reporters.get(&id).cloned()),
            from_reporter: reporter
                .filter(|_| is_report)
                .and_then(|id| reports_from.get(&id).copied()),
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
    let author_ids: Vec<MemberId> = loaded.iter().map(|l| l.0.author_id).collect();
    let authors = members::authors_by_ids(conn, &author_ids)?;
    // Beside each post, its (present) author's history; the posts on this page are not
    // repeated in it.
    let present: Vec<MemberId> = author_ids
        .iter()
        .copied()
        .filter(|id| authors.contains_key(id))
        .collect();
    let histories = beside::histories(conn, scope, &present, &order)?;
    let mut by_post: HashMap<PostId, _> = loaded.into_iter().map(|l| (l.0.id, l)).collect();
    let entries = order
        .into_iter()
        .filter_map(|post_id| {
            let (post, (thread_id, thread_slug, thread_title), (board_slug, board_name)) =
                by_post.remove(&post_id)?;
            let items = items.remove(&post_id)?;
            Some(QueueEntry {
                history: histories.get(&post.author_id).cloned().unwrap_or_default(),
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
        .collect();
    let conversations = conversation_entries(conn, scope)?;
    let n_conversation_check_ins = conversations.iter().filter(|c| c.check_in).count() as i64;
    let join_requests = beside::join_requests(conn, scope)?;
    Ok(QueuePage {
        conversations,
        entries,
        page,
        n_pages,
        n_posts,
        n_items,
        n_at_risk,
        n_conversation_check_ins,
        join_requests,
    })
}

/// The private conversations of a queue's boards with open items, the most urgent first.
fn conversation_entries(
    conn: &mut DbConn,
    scope: Option<&Vec<BoardId>>,
) -> Result<Vec<ConversationEntry>> {
    type Row = (
        ReviewItemId,
        ConversationId,
        String,
        String,
        String,
        Option<MemberId>,
        NaiveDateTime,
    );
    let rows: Vec<Row> = open_items!(scope)
        .filter(review_items::conversation_id.is_not_null())
        .order((
            sql::<Integer>(RANK).asc(),
            review_items::created_at.asc(),
            review_items::id.asc(),
        ))
        .select((
            review_items::id,
            review_items::conversation_id.assume_not_null(),
            review_items::kind,
            review_items::reason,
            review_items::note,
            review_items::reporter_id,
            review_items::created_at,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut order: Vec<ConversationId> = Vec::new();
    for row in &rows {
        if !order.contains(&row.1) {
            order.push(row.1);
        }
    }
    let found: Vec<(ConversationId, String, MemberId, String, String)> =
        crate::db::schema::conversations::table
            .inner_join(boards_table::table)
            .filter(crate::db::schema::conversations::id.eq_any(&order))
            .select((
                crate::db::schema::conversations::id,
                crate::db::schema::conversations::subject,
                crate::db::schema::conversations::member_id,
                boards_table::slug,
                boards_table::name,
            ))
            .load(conn)?;
    let mut people: Vec<MemberId> = found.iter().map(|f| f.2).collect();
    people.extend(rows.iter().filter_map(|r| r.5));
    let people = members::authors_by_ids(conn, &people)?;
    let mut items: HashMap<ConversationId, Vec<QueueItem>> = HashMap::new();
    for (id, conversation_id, kind, reason, note, reporter, created_at) in rows {
        let Some(kind) = ItemKind::parse(&kind) else {
            continue;
        };
        items.entry(conversation_id).or_default().push(QueueItem {
            id,
            kind,
            reason_label: (kind == ItemKind::Report)
                .then(|| ReportReason::parse(&reason).map(ReportReason::label))
                .flatten(),
            reason,
            note,
            reporter: reporter.and_then(|id| people.get(&id).cloned()),
            from_reporter: None,
            created_at,
        });
    }
    Ok(order
        .into_iter()
        .filter_map(|id| {
            let (_, subject, member_id, board_slug, board_name) =
                found.iter().find(|f| f.0 == id)?.clone();
            let items = items.remove(&id)?;
            Some(ConversationEntry {
                conversation_id: id,
                subject,
                board_slug,
                board_name,
                member: people.get(&member_id).cloned(),
                check_in: items.iter().any(|i| i.kind == ItemKind::CheckIn),
                items,
            })
        })
        .collect())
}

/// How many open reports each of `reporters` sent that the queue of `scope` holds.
fn reports_by_reporter(
    conn: &mut DbConn,
    scope: Option<&Vec<BoardId>>,
    reporters: &[MemberId],
) -> Result<HashMap<MemberId, ReporterReports>> {
    if reporters.is_empty() {
        return Ok(HashMap::new());
    }
    let counted: Vec<(Option<MemberId>, i64, Option<ReviewItemId>)> = open_items!(
        scope,
        group_by review_items::reporter_id,
        select (review_items::reporter_id, count_star(), max(review_items::id))
    )
    .filter(review_items::kind.eq(ItemKind::Report.as_str()))
    .filter(review_items::reporter_id.eq_any(reporters))
    .load(conn)?;
    // Of those, the ones saying someone may be at risk: the button says how many it dismisses.
    let at_risk: HashMap<Option<MemberId>, i64> = open_items!(
        scope,
        group_by review_items::reporter_id,
        select (review_items::reporter_id, count_star())
    )
    .filter(review_items::kind.eq(ItemKind::Report.as_str()))
    .filter(review_items::reason.eq(ReportReason::AtRisk.as_str()))
    .filter(review_items::reporter_id.eq_any(reporters))
    .load::<(Option<MemberId>, i64)>(conn)?
    .into_iter()
    .collect();
    Ok(counted
        .into_iter()
        .filter_map(|(reporter, open, up_to)| {
            Some((
                reporter?,
                ReporterReports {
                    open,
                    at_risk: at_risk.get(&reporter).copied().unwrap_or(0),
                    up_to: up_to?,
                },
            ))
        })
        .collect())
}

/// Dismisses every open report `reporter` sent, up to `up_to` (the newest one in the queue
/// when the moderator opened it; its button said how many, and how many of them say someone
/// may be at risk), on the boards of this queue (`board`, or every board the member moderates) that
/// the policy lets the member moderate; the posts stay as they are. One log entry per board,
/// in the moderators' log only (who reported stays between the moderators). Reports outside
/// the member's reach are left alone and not mentioned; two moderators dismissing at once
/// dismiss each report once. Returns how many were dismissed.
pub fn dismiss_reports_from(
    conn: &mut DbConn,
    member: &MemberActor,
    reporter: MemberId,
    board: Option<&Board>,
    up_to: ReviewItemId,
) -> Result<usize> {
    let scope = boards_of(member, board)?;
    let actor = member.actor();
    write_tx(conn, |conn| {
        let now = clock::now();
        let reports = || {
            open_items!(scope.as_ref())
                .filter(review_items::kind.eq(ItemKind::Report.as_str()))
                .filter(review_items::reporter_id.eq(reporter))
                .filter(review_items::id.le(up_to))
        };
        let board_ids: Vec<BoardId> = reports()
            .select(review_items::board_id)
            .distinct()
            .load(conn)?;
        let boards: Vec<Board> = boards_table::table
            .filter(boards_table::id.eq_any(&board_ids))
            .select(Board::as_select())
            .load(conn)?;
        let mut dismissed = 0;
        for board in boards
            .iter()
            .filter(|board| policy::allows(&actor, Action::Moderate(board)))
        {
            let claimed: Vec<(ReviewItemId, i32)> = reports()
                .filter(review_items::board_id.eq(board.id))
                .select((review_items::id, review_items::priority))
                .load(conn)?;
            let ids: Vec<ReviewItemId> = claimed.iter().map(|(id, _)| *id).collect();
            let n = diesel::update(review_items::table)
                .filter(review_items::id.eq_any(&ids))
                .filter(review_items::state.eq(ItemState::Open.as_str()))
                .set((
                    review_items::state.eq(ItemState::Resolved.as_str()),
                    review_items::resolved_by.eq(member.id),
                    review_items::resolved_at.eq(now),
                    review_items::resolution.eq("dismissed"),
                ))
                .execute(conn)?;
            if n == 0 {
                continue;
            }
            let reason = if n == 1 {
                "1 report".to_owned()
            } else {
                format!("{n} reports")
            };
            let mut entry = Entry::new(LoggedAction::DismissReportsFrom, Some(board.id));
            entry.member_id = Some(reporter);
            entry.reason = &reason;
            entry.at_risk = claimed.iter().any(|(_, priority)| *priority == 0);
            log::write(conn, member, entry, now)?;
            dismissed += n;
        }
        Ok(dismissed)
    })
}

/// How many posts await a decision in the boards this member moderates (the header count).
pub fn open_count(conn: &mut DbConn, member: &MemberActor) -> Result<i64> {
    if !member.moderates_any() {
        return Ok(0);
    }
    // Reads only open items, through the (state, …) index; see `plan_tests::OPEN_ITEMS_ONLY`.
    let mut query = review_items::table
        .filter(sql::<Bool>("review_items.state = 'open'"))
        .select((review_items::post_id, review_items::conversation_id))
        .distinct()
        .into_boxed();
    if !member.is_staff() {
        query = query.filter(review_items::board_id.eq_any(&member.facilitates));
    }
    // A post or a conversation each (an item has one or the other).
    let waiting: Vec<(Option<PostId>, Option<ConversationId>)> = query.load(conn)?;
    // Join requests wait for an answer too (check-ins are review items, counted above).
    let scope = (!member.is_staff()).then_some(&member.facilitates);
    let requests = beside::join_requests_waiting(conn, scope)?;
    Ok(waiting.len() as i64 + requests)
}

/// Whether `post` opened a crisis check-in (open or handled since): the help page then speaks
/// to its author about it.
pub fn opened_check_in(conn: &mut DbConn, post: PostId) -> Result<bool> {
    let found: Option<ReviewItemId> = review_items::table
        .filter(review_items::post_id.eq(post))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .select(review_items::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
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
    rules: &PostingRules,
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
        if matches!(decision, Decision::Handled { .. }) {
            check_ins_settled(conn, board.id, now)?;
        }
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
                let max_mentions = rules.mentions_notified;
                let to = Moderation::Visible;
                posts::set_moderation(conn, &board, &thread, &post, to, "", max_mentions)?
            }
            Decision::Hide { .. } => {
                let to = Moderation::Hidden;
                posts::set_moderation(conn, &board, &thread, &post, to, text, 0)?;
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
    // An approved post's readers are told now (what one batch does not reach, the worker).
    crate::notifications::fanout::deliver_for(conn, post.id);
    let board = boards::by_id(conn, board.id)?;
    let (thread, post) = (
        crate::forum::threads::by_id(conn, thread.id)?,
        posts::by_id(conn, post.id)?,
    );
    Ok((board, thread, post))
}

/// When no check-in waits in the group any more, the facilitators' notifications of
/// check-ins are read. Inside the transaction that handled one.
pub(crate) fn check_ins_settled(
    conn: &mut DbConn,
    board_id: BoardId,
    now: NaiveDateTime,
) -> Result<()> {
    let waiting: i64 = review_items::table
        .filter(review_items::board_id.eq(board_id))
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .count()
        .get_result(conn)?;
    if waiting == 0 {
        crate::notifications::facilitators::settled(
            conn,
            board_id,
            crate::notifications::Kind::CheckIn,
            now,
        )?;
    }
    Ok(())
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

#[cfg(test)]
mod queue_tests;

pub mod beside;

#[cfg(test)]
mod cockpit_tests;
