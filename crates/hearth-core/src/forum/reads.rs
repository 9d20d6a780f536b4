//! Read markers: how far each member has read each thread, and what is new for them since.
//!
//! One row per member and thread (`thread_reads`): the highest post position they were shown,
//! and when. The thread page reads it with its page (one primary-key lookup, [`state_of`]) and
//! writes it afterwards only when the page moved it forward ([`record`]): re-reading a page
//! writes nothing. What is new counts what the reader can see: visible, published posts after
//! the marker, so a post the moderators hide no longer counts and an awaiting one never does.
//! A thread never opened is new as a whole.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::NaiveDateTime;
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Timestamp};
use serde::Serialize;

use crate::db::schema::{
    board_subscriptions, boards, notifications as notifications_table, posts, thread_reads,
    thread_subscriptions, threads,
};
use crate::db::{self, per_connection, write_tx_unseen, Cached, DbConn};
use crate::error::Result;
use crate::forum::threads::BoardCursor;
use crate::ids::{BoardId, MemberId, ThreadId};
use crate::meetings::{self, Upcoming};
use crate::model::{Board, Moderation, Publication, Thread};
use crate::notifications;
use crate::notifications::levels::Chosen;
use crate::policy::{self, Action, MemberActor};

/// Threads on one page of `/unread`.
pub const UNREAD_PER_PAGE: i64 = 25;
/// A group on the home page counts its threads with new posts up to this many ("50+").
pub const GROUP_COUNT_CAP: i64 = 50;
/// Next meetings on the home page.
const HOME_MEETINGS: usize = 5;

/// The visible, published posts of the thread in the outer query (`threads`) after the
/// reader's marker (`thread_reads`, joined by the outer query): a correlated subquery that
/// reads `posts_visible_position` only.
macro_rules! visible_after_marker {
    () => {
        $crate::db::schema::posts::table
            .filter($crate::db::schema::posts::thread_id.eq($crate::db::schema::threads::id))
            .filter(
                $crate::db::schema::posts::moderation
                    .eq($crate::model::Moderation::Visible.as_str()),
            )
            .filter(
                $crate::db::schema::posts::state.eq($crate::model::Publication::Published.as_str()),
            )
            .filter(
                $crate::db::schema::posts::position
                    .gt($crate::db::schema::thread_reads::last_read_position),
            )
    };
}
pub(crate) use visible_after_marker;

/// How many posts are new after the marker, and the position of the first of them: the two
/// correlated subqueries a listing selects beside each thread and its marker.
macro_rules! news_columns {
    () => {
        (
            $crate::db::schema::thread_reads::last_read_position.nullable(),
            $crate::forum::reads::visible_after_marker!()
                .count()
                .single_value(),
            $crate::forum::reads::visible_after_marker!()
                .select(diesel::dsl::min($crate::db::schema::posts::position))
                .single_value(),
        )
    };
}
pub(crate) use news_columns;

/// What [`news_columns`] loads: the marker, the number of new posts, the first new position.
pub(crate) type NewsColumns = (Option<i32>, Option<i64>, Option<i32>);

/// What is new in a thread for one member, as listings show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Unread {
    /// They opened it before; otherwise the whole thread is new to them.
    pub opened: bool,
    /// Visible posts they have not seen (every visible post of a thread never opened).
    pub n_new: i64,
    /// Where to start reading: the first of those posts.
    pub first_new_position: i32,
}

impl Unread {
    /// What is new, from a listing's [`NewsColumns`]; `None` when nothing is.
    pub(crate) fn of(thread: &Thread, (marker, n_new, first_new): NewsColumns) -> Option<Unread> {
        match marker {
            // Never opened: its counter holds its visible replies, and the listing shows
            // only threads whose opening post is visible.
            None => Some(Unread {
                opened: false,
                n_new: thread.reply_count + 1,
                first_new_position: 1,
            }),
            Some(_) => match (n_new.unwrap_or(0), first_new) {
                (n, Some(first)) if n > 0 => Some(Unread {
                    opened: true,
                    n_new: n,
                    first_new_position: first,
                }),
                _ => None,
            },
        }
    }
}

/// What the thread page needs to know about its reader's marker, read with the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadState {
    /// The highest position they were shown; `None` if they never opened the thread.
    pub read_up_to: Option<i32>,
    /// They have unread notifications about posts of the thread up to what the page shows.
    pub notified: bool,
    /// Their levels on the thread and its group, for the level control.
    pub levels: Chosen,
}

impl ReadState {
    /// What to record after the reader was shown posts up to `shown_up_to`: when that moves
    /// the marker forward, or reads notifications about what was shown; `None` when nothing
    /// is to be written (a page read again).
    pub(crate) fn position_to_record(self, shown_up_to: i32) -> Option<MarkRead> {
        let advances = self.read_up_to.is_none_or(|read| read < shown_up_to);
        (advances || self.notified).then_some(MarkRead {
            up_to: shown_up_to,
            notified: self.notified,
        })
    }
}

/// What a thread page asks to record for its reader (`ThreadView::marks_read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkRead {
    /// The highest position the page showed.
    pub up_to: i32,
    /// Unread notifications about what the page showed wait: [`record`] the marker with them
    /// at once, so the bell on the next page agrees. Otherwise the marker alone may wait in
    /// [`PendingReads`].
    pub notified: bool,
}

/// Read markers waiting to be written, held by the web server and written together once a
/// second ([`record_pending`]) instead of in a write transaction per page view: a member
/// reading threads moves a marker on nearly every page, and that transaction was the largest
/// cost of a signed-in thread page (`docs/performance.md`, "Seventh session"). Only markers
/// wait here: what a page's reading does to notifications is written at once ([`MarkRead`]).
/// A listing that shows what is new first writes its reader's waiting markers
/// ([`PendingReads::take_for`]), so a thread just read is not listed as new; a process that
/// dies loses at most a second of markers, which the next reading writes again.
#[derive(Debug, Default)]
pub struct PendingReads {
    marks: Mutex<Waiting>,
}

/// The waiting markers, and how many there are (kept, not counted under the lock).
#[derive(Debug, Default)]
struct Waiting {
    by_member: HashMap<MemberId, ReadingsOf>,
    count: usize,
}

/// One member's waiting markers: for each thread, the position and when it was read.
type ReadingsOf = HashMap<ThreadId, (i32, NaiveDateTime)>;

/// One waiting marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingMark {
    pub member: MemberId,
    pub thread: ThreadId,
    pub up_to: i32,
    pub read_at: NaiveDateTime,
}

/// Markers a process keeps waiting at most; past it, a reading is written at once.
const MAX_PENDING_READS: usize = 100_000;

impl PendingReads {
    fn marks(&self) -> MutexGuard<'_, Waiting> {
        // A panic while holding the lock left a map of plain values, still whole.
        self.marks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the member's marker in the thread to write later, the furthest of those kept.
    /// `false` when too many wait already: record it at once instead.
    pub fn add(&self, member: MemberId, thread: ThreadId, up_to: i32, now: NaiveDateTime) -> bool {
        let mut waiting = self.marks();
        let full = waiting.count >= MAX_PENDING_READS;
        let threads = waiting.by_member.entry(member).or_default();
        match threads.get_mut(&thread) {
            Some(kept) => {
                if kept.0 < up_to {
                    *kept = (up_to, now);
                }
                true
            }
            None if !full => {
                threads.insert(thread, (up_to, now));
                waiting.count += 1;
                true
            }
            None => {
                if threads.is_empty() {
                    waiting.by_member.remove(&member);
                }
                false
            }
        }
    }

    /// Takes the member's waiting markers, to write before a listing shows what is new.
    pub fn take_for(&self, member: MemberId) -> Vec<PendingMark> {
        let mut waiting = self.marks();
        let taken = waiting.by_member.remove(&member);
        waiting.count -= taken.as_ref().map_or(0, HashMap::len);
        drop(waiting);
        taken
            .into_iter()
            .flat_map(|threads| PendingReads::flatten(member, threads))
            .collect()
    }

    /// Takes every waiting marker, to write them.
    pub fn take_all(&self) -> Vec<PendingMark> {
        let taken = std::mem::take(&mut *self.marks());
        taken
            .by_member
            .into_iter()
            .flat_map(|(member, threads)| PendingReads::flatten(member, threads))
            .collect()
    }

    fn flatten(member: MemberId, threads: ReadingsOf) -> impl Iterator<Item = PendingMark> {
        threads
            .into_iter()
            .map(move |(thread, (up_to, read_at))| PendingMark {
                member,
                thread,
                up_to,
                read_at,
            })
    }
}

#[derive(Insertable)]
// SQLite's many-row INSERT has no DEFAULT keyword: every column is given.
#[diesel(table_name = thread_reads, treat_none_as_default_value = false)]
struct MarkerRow {
    member_id: MemberId,
    thread_id: ThreadId,
    last_read_position: i32,
    read_at: NaiveDateTime,
}

/// Writes waiting markers in one transaction: a many-row upsert per few hundred that only
/// moves markers forward, as [`record`] does. Notifications are left alone: what the pages
/// read of them was written at once, and one written since (an edit that mentions the
/// member in a post they had read) must still ring.
pub fn record_pending(conn: &mut DbConn, marks: &[PendingMark]) -> Result<()> {
    /// Four values a row: well inside SQLite's limit on bound values.
    const ROWS: usize = 500;
    if marks.is_empty() {
        return Ok(());
    }
    // In key order, as every writer of markers locks rows: two processes writing at once
    // wait for each other rather than deadlock (PostgreSQL), which would lose the batch.
    let mut marks = marks.to_vec();
    marks.sort_unstable_by_key(|mark| (mark.member, mark.thread));
    write_tx_unseen(conn, |conn| {
        // A member's own markers, written before a listing, are most often one: the
        // one-marker statement is kept prepared (a many-row one is a statement per row count).
        if let [mark] = marks.as_slice() {
            return write_marker(conn, mark.member, mark.thread, mark.up_to, mark.read_at);
        }
        for chunk in marks.chunks(ROWS) {
            let rows: Vec<MarkerRow> = chunk
                .iter()
                .map(|mark| MarkerRow {
                    member_id: mark.member,
                    thread_id: mark.thread,
                    last_read_position: mark.up_to,
                    read_at: mark.read_at,
                })
                .collect();
            let upsert = diesel::insert_into(thread_reads::table)
                .values(&rows)
                .on_conflict((thread_reads::member_id, thread_reads::thread_id))
                .do_update()
                // Only forward. A CASE rather than `DO UPDATE … WHERE`, which diesel does not
                // write for SQLite's many-row INSERT.
                .set((
                    thread_reads::last_read_position.eq(sql::<Integer>(
                        "CASE WHEN excluded.last_read_position > thread_reads.last_read_position \
                         THEN excluded.last_read_position ELSE thread_reads.last_read_position END",
                    )),
                    thread_reads::read_at.eq(sql::<Timestamp>(
                        "CASE WHEN excluded.last_read_position > thread_reads.last_read_position \
                         THEN excluded.read_at ELSE thread_reads.read_at END",
                    )),
                ));
            per_connection!(conn, |c| upsert.execute(c))?;
        }
        Ok(())
    })
}

/// The member's marker in the thread, whether notifications about its posts up to
/// `shown_up_to` wait unread, and their levels on the thread and its group: one statement of
/// three primary-key lookups and an `EXISTS` on `notifications_thread`, selected from no
/// table, so a member who never opened the thread gets a row too.
pub(crate) fn state_of(
    conn: &mut DbConn,
    member_id: MemberId,
    thread: &Thread,
    shown_up_to: i32,
) -> Result<ReadState> {
    let (read_up_to, notified, thread_level, board_level): (
        Option<i32>,
        bool,
        Option<String>,
        Option<String>,
    ) = {
        let query = diesel::select((
            thread_reads::table
                .filter(thread_reads::member_id.eq(member_id))
                .filter(thread_reads::thread_id.eq(thread.id))
                .select(thread_reads::last_read_position)
                .single_value(),
            exists(
                notifications_table::table
                    .filter(notifications_table::thread_id.eq(thread.id))
                    .filter(notifications_table::member_id.eq(member_id))
                    .filter(notifications_table::read_at.is_null())
                    .filter(notifications_table::last_position.le(shown_up_to)),
            ),
            thread_subscriptions::table
                .filter(thread_subscriptions::thread_id.eq(thread.id))
                .filter(thread_subscriptions::member_id.eq(member_id))
                .select(thread_subscriptions::level)
                .single_value(),
            board_subscriptions::table
                .filter(board_subscriptions::board_id.eq(thread.board_id))
                .filter(board_subscriptions::member_id.eq(member_id))
                .select(board_subscriptions::level)
                .single_value(),
        ));
        // Sent to the inner connection: see `db::per_connection`.
        per_connection!(conn, |c| query.get_result(c))?
    };
    Ok(ReadState {
        read_up_to,
        notified,
        levels: Chosen::of_stored(thread_level, board_level),
    })
}

/// Which of `members` have read `thread` up to `position` or further.
pub(crate) fn read_past(
    conn: &mut DbConn,
    thread: ThreadId,
    members: &[MemberId],
    position: i32,
) -> Result<std::collections::HashSet<MemberId>> {
    Ok(thread_reads::table
        .filter(thread_reads::thread_id.eq(thread))
        .filter(thread_reads::member_id.eq_any(members))
        .filter(thread_reads::last_read_position.ge(position))
        .select(thread_reads::member_id)
        .load::<MemberId>(conn)?
        .into_iter()
        .collect())
}

/// Records that `member_id` has read the thread up to `up_to`: one upsert that only moves the
/// marker forward (two tabs, or page 1 read after page 3, never move it back), and their
/// notifications about posts there up to it read, in one transaction. Written as unseen: no
/// visitor's page shows a marker or a notification.
pub fn record(
    conn: &mut DbConn,
    member_id: MemberId,
    thread_id: ThreadId,
    up_to: i32,
    now: NaiveDateTime,
) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        write_marker(conn, member_id, thread_id, up_to, now)?;
        // What told them about posts there up to what they read is read too.
        notifications::read_thread_in(conn, member_id, thread_id, up_to, now)?;
        Ok(())
    })
}

/// Moves one member's marker in one thread forward to `up_to` (never back), inside the
/// caller's transaction.
fn write_marker(
    conn: &mut DbConn,
    member_id: MemberId,
    thread_id: ThreadId,
    up_to: i32,
    at: NaiveDateTime,
) -> Result<()> {
    let upsert = diesel::insert_into(thread_reads::table)
        .values((
            thread_reads::member_id.eq(member_id),
            thread_reads::thread_id.eq(thread_id),
            thread_reads::last_read_position.eq(up_to),
            thread_reads::read_at.eq(at),
        ))
        .on_conflict((thread_reads::member_id, thread_reads::thread_id))
        .do_update()
        .set((
            thread_reads::last_read_position.eq(up_to),
            thread_reads::read_at.eq(at),
        ));
    // Only forward (`ON CONFLICT … DO UPDATE … WHERE`).
    let upsert = Cached(diesel::query_dsl::methods::FilterDsl::filter(
        upsert,
        thread_reads::last_read_position.lt(up_to),
    ));
    // Sent per backend: `MultiConnection` has no ON CONFLICT.
    per_connection!(conn, |c| upsert.run(c))?;
    Ok(())
}

/// "Mark all read" for one group: every thread of the group the member may read is read to
/// its newest post. One statement, however many threads; markers already there only move
/// forward. Returns how many markers were written.
pub fn mark_group_read(conn: &mut DbConn, member: &MemberActor, board: &Board) -> Result<usize> {
    policy::authorize(&member.actor(), Action::ReadBoard(board))?;
    let now = crate::clock::now();
    write_tx_unseen(conn, |conn| {
        let upsert = diesel::insert_into(thread_reads::table)
            .values(
                threads::table
                    .filter(threads::board_id.eq(board.id))
                    .filter(threads::state.eq(Publication::Published.as_str()))
                    .filter(threads::moderation.eq(Moderation::Visible.as_str()))
                    .select((
                        member.id.0.into_sql::<BigInt>(),
                        threads::id,
                        threads::last_position,
                        now.into_sql::<Timestamp>(),
                    )),
            )
            .into_columns((
                thread_reads::member_id,
                thread_reads::thread_id,
                thread_reads::last_read_position,
                thread_reads::read_at,
            ))
            .on_conflict((thread_reads::member_id, thread_reads::thread_id))
            .do_update()
            .set((
                thread_reads::last_read_position
                    .eq(diesel::upsert::excluded(thread_reads::last_read_position)),
                thread_reads::read_at.eq(diesel::upsert::excluded(thread_reads::read_at)),
            ));
        let upsert = diesel::query_dsl::methods::FilterDsl::filter(
            upsert,
            thread_reads::last_read_position
                .lt(diesel::upsert::excluded(thread_reads::last_read_position)),
        );
        let marked = per_connection!(conn, |c| upsert.execute(c))?;
        // What told them of posts in the group's threads is read with them.
        crate::notifications::read_board_in(conn, member.id, board.id, now)?;
        Ok(marked)
    })
}

/// The groups a member belongs to (joined or facilitates) and may read, in the operator's
/// order: where a thread they never opened counts as new.
pub fn groups_of(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<Board>> {
    let ids: Vec<BoardId> = member
        .facilitates
        .iter()
        .chain(&member.member_of)
        .copied()
        .collect();
    let actor = member.actor();
    Ok(boards::table
        .filter(boards::id.eq_any(&ids))
        .order((boards::position.asc(), boards::name.asc()))
        .select(Board::as_select())
        .load::<Board>(conn)?
        .into_iter()
        // The query narrows, the policy decides (a ban ends a private membership).
        .filter(|b| policy::allows(&actor, Action::ReadBoard(b)))
        .collect())
}

/// A thread on `/unread`: the thread, its group, and what is new in it.
#[derive(Debug, Clone, Serialize)]
pub struct UnreadThread {
    pub thread: Thread,
    pub board: Board,
    pub unread: Unread,
}

#[derive(Debug, Clone)]
pub struct UnreadPage {
    pub threads: Vec<UnreadThread>,
    /// Present when there are more threads after this page.
    pub next: Option<BoardCursor>,
    /// The member's groups, each with its "mark all read" form.
    pub groups: Vec<Board>,
}

type UnreadRow = (Thread, Board, NewsColumns);

/// Later than the cursor in `/unread`'s order (newest activity first). A row-value
/// comparison, as board pages page on.
macro_rules! before_cursor {
    ($cursor:expr) => {
        sql::<Bool>("(threads.last_activity_at, threads.id) < (")
            .bind::<Timestamp, _>($cursor.last_activity_at)
            .sql(", ")
            .bind::<BigInt, _>($cursor.id.0)
            .sql(")")
    };
}

/// The threads with new posts in the member's groups (`groups`), newest activity first.
fn unread_in_groups(
    conn: &mut DbConn,
    member_id: MemberId,
    groups: &[BoardId],
    after: Option<BoardCursor>,
    n: i64,
) -> Result<Vec<UnreadRow>> {
    let listing = threads::table
        .inner_join(boards::table)
        .left_join(
            thread_reads::table.on(thread_reads::thread_id
                .eq(threads::id)
                .and(thread_reads::member_id.eq(member_id))),
        )
        .filter(threads::board_id.eq_any(groups))
        .filter(threads::state.eq(Publication::Published.as_str()))
        .filter(threads::moderation.eq(Moderation::Visible.as_str()))
        .filter(
            thread_reads::last_read_position
                .nullable()
                .is_null()
                .or(exists(visible_after_marker!().select(posts::position))),
        )
        .order((threads::last_activity_at.desc(), threads::id.desc()))
        .select((Thread::as_select(), Board::as_select(), news_columns!()));
    match after {
        None => db::first_rows(conn, listing, n),
        Some(c) => db::first_rows(conn, listing.filter(before_cursor!(c)), n),
    }
}

/// The threads with new posts elsewhere that the member opened before (a public group they
/// read without joining), newest activity first: found through their own markers.
fn unread_elsewhere(
    conn: &mut DbConn,
    member: &MemberActor,
    groups: &[BoardId],
    after: Option<BoardCursor>,
    n: i64,
) -> Result<Vec<UnreadRow>> {
    let actor = member.actor();
    let listing = thread_reads::table
        .inner_join(threads::table.inner_join(boards::table))
        .filter(thread_reads::member_id.eq(member.id))
        .filter(threads::board_id.ne_all(groups))
        .filter(boards::visibility.eq_any(policy::readable_visibilities(&actor)))
        .filter(threads::state.eq(Publication::Published.as_str()))
        .filter(threads::moderation.eq(Moderation::Visible.as_str()))
        .filter(exists(visible_after_marker!().select(posts::position)))
        .order((threads::last_activity_at.desc(), threads::id.desc()))
        .select((Thread::as_select(), Board::as_select(), news_columns!()));
    match after {
        None => db::first_rows(conn, listing, n),
        Some(c) => db::first_rows(conn, listing.filter(before_cursor!(c)), n),
    }
}

/// `/unread`: the threads with new posts across the member's groups (and the public groups
/// where they opened a thread before), newest activity first, a page at a time from just
/// after `after`. Nothing the member may not read: the queries narrow to their groups and
/// readable groups, and the policy decides each thread.
pub fn unread_for(
    conn: &mut DbConn,
    member: &MemberActor,
    after: Option<BoardCursor>,
) -> Result<UnreadPage> {
    let groups = groups_of(conn, member)?;
    let group_ids: Vec<BoardId> = groups.iter().map(|b| b.id).collect();
    let wanted = UNREAD_PER_PAGE + 1;
    let mut rows = unread_in_groups(conn, member.id, &group_ids, after, wanted)?;
    rows.extend(unread_elsewhere(conn, member, &group_ids, after, wanted)?);
    rows.sort_by_key(|row| std::cmp::Reverse((row.0.last_activity_at, row.0.id)));
    rows.truncate(usize::try_from(wanted).unwrap_or(0));
    let next = if rows.len() as i64 > UNREAD_PER_PAGE {
        rows.truncate(UNREAD_PER_PAGE as usize);
        rows.last().map(|r| BoardCursor {
            pinned: false,
            last_activity_at: r.0.last_activity_at,
            id: r.0.id,
        })
    } else {
        None
    };
    let actor = member.actor();
    let threads = rows
        .into_iter()
        .filter(|(thread, board, _)| policy::allows(&actor, Action::ReadThread(board, thread)))
        .filter_map(|(thread, board, news)| {
            let unread = Unread::of(&thread, news)?;
            Some(UnreadThread {
                thread,
                board,
                unread,
            })
        })
        .collect();
    Ok(UnreadPage {
        threads,
        next,
        groups,
    })
}

/// One of the member's groups on their home page.
#[derive(Debug, Clone, Serialize)]
pub struct GroupNews {
    pub board: Board,
    /// Threads with posts new to the member, counted up to [`GROUP_COUNT_CAP`].
    pub n_unread_threads: i64,
    /// There are more than [`GROUP_COUNT_CAP`].
    pub more: bool,
}

/// A signed-in member's home: their groups with what is new in each, replies to them, the
/// threads they watch, and their groups' next meetings (soonest first).
#[derive(Debug, Clone)]
pub struct Home {
    pub groups: Vec<GroupNews>,
    /// Their latest notifications of replies to them (in threads they started, or to their
    /// posts) and mentions, as the policy lets them read them now.
    pub replies: Vec<notifications::NotificationItem>,
    /// The threads they watch, newest activity first, each with what is new in it.
    pub watched: Vec<WatchedThread>,
    pub next_meetings: Vec<(Board, Upcoming)>,
}

/// A thread the member watches, on their home page.
#[derive(Debug, Clone, Serialize)]
pub struct WatchedThread {
    pub thread: Thread,
    pub board: Board,
    pub unread: Option<Unread>,
}

/// Replies and watched threads on the home page.
const HOME_REPLIES: usize = 5;
const HOME_WATCHED: i64 = 10;

/// The threads the member watches (level watching), newest activity first, that they may read.
fn watched_by(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<WatchedThread>> {
    let listing = thread_subscriptions::table
        .inner_join(threads::table.on(threads::id.eq(thread_subscriptions::thread_id)))
        .inner_join(boards::table.on(boards::id.eq(threads::board_id)))
        .left_join(
            thread_reads::table.on(thread_reads::thread_id
                .eq(threads::id)
                .and(thread_reads::member_id.eq(member.id))),
        )
        .filter(thread_subscriptions::member_id.eq(member.id))
        .filter(thread_subscriptions::level.eq(notifications::Level::Watching.as_str()))
        .filter(threads::state.eq(Publication::Published.as_str()))
        .filter(threads::moderation.eq(Moderation::Visible.as_str()))
        .order((threads::last_activity_at.desc(), threads::id.desc()))
        .select((Thread::as_select(), Board::as_select(), news_columns!()));
    let rows: Vec<UnreadRow> = db::first_rows(conn, listing, HOME_WATCHED)?;
    let actor = member.actor();
    Ok(rows
        .into_iter()
        .filter(|(thread, board, _)| policy::allows(&actor, Action::ReadThread(board, thread)))
        .map(|(thread, board, news)| WatchedThread {
            unread: Unread::of(&thread, news),
            thread,
            board,
        })
        .collect())
}

/// The member's home ([`Home`]).
pub fn home_for(conn: &mut DbConn, member: &MemberActor) -> Result<Home> {
    let boards = groups_of(conn, member)?;
    let now = crate::clock::now();
    let mut groups = Vec::with_capacity(boards.len());
    let mut next_meetings = Vec::new();
    for board in boards {
        let found = unread_in_groups(conn, member.id, &[board.id], None, GROUP_COUNT_CAP + 1)?;
        let n = found.len() as i64;
        if let Some(next) = meetings::next_occurrence(conn, board.id, now)? {
            next_meetings.push((board.clone(), next));
        }
        groups.push(GroupNews {
            board,
            n_unread_threads: n.min(GROUP_COUNT_CAP),
            more: n > GROUP_COUNT_CAP,
        });
    }
    next_meetings.sort_by_key(|(board, next)| (next.occurrence.starts_at, board.id));
    next_meetings.truncate(HOME_MEETINGS);
    let replies = notifications::list(conn, member, None)?
        .items
        .into_iter()
        .filter(|n| {
            [
                notifications::Kind::Reply,
                notifications::Kind::ReplyToYou,
                notifications::Kind::Mention,
            ]
            .iter()
            .any(|kind| n.kind == kind.as_str())
        })
        .take(HOME_REPLIES)
        .collect();
    Ok(Home {
        groups,
        replies,
        watched: watched_by(conn, member)?,
        next_meetings,
    })
}

#[cfg(test)]
mod tests;
