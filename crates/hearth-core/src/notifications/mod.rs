//! Notifications in the app: a member is told when someone answers them, mentions them, posts
//! where they watch, writes to them privately, or when the moderators or a meeting they go to
//! have news.
//!
//! Every notification is written in the transaction of the event that causes it ([`notify`]),
//! only for members the caller's policy check let read what it points to, never to the one who
//! acted and never to someone who muted them. A post's readers are many, so the post's
//! transaction writes one job for them, delivered in batches right after it ([`fanout`]).
//! While unread, notifications of one kind about one thing are one row whose `count` grows
//! ("3 new replies in …"): its `open_key` (the thread, the group, the conversation) is unique
//! per member and kind, and is cleared when the row is read. The bell is the sum of the unread
//! rows' counts, read from one index.

pub mod email;
pub(crate) mod facilitators;
pub mod fanout;
pub mod levels;
mod listing;
pub mod mailing;
pub mod preferences;
pub mod unsubscribe;

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::upsert::excluded;
use serde::Serialize;

use crate::db::schema::{mutes, notifications};
use crate::db::{per_connection, write_tx_unseen, Cached, DbConn};
use crate::error::Result;
use crate::ids::{BoardId, ConversationId, MeetingId, MemberId, NotificationId, PostId, ThreadId};
use crate::text_enum::text_enum;

pub use fanout::Addressed;
pub use levels::Level;
pub use listing::{list, NotificationItem, NotificationPage};
pub use preferences::{preferences, save_preferences, Preferences, ReminderLead};

text_enum! {
    /// What a notification tells about.
    #[derive(Serialize, Hash, PartialOrd, Ord)]
    pub enum Kind ("notification kind") {
        /// A reply in a thread the member started.
        Reply = "reply",
        /// A reply to one of the member's posts: it quotes or answers it.
        ReplyToYou = "reply_to_you",
        /// `@username` in a post.
        Mention = "mention",
        /// A new post in a thread the member watches.
        WatchedPost = "watched_post",
        /// A new thread in a group the member watches.
        NewThread = "new_thread",
        /// A message in a private conversation the member is part of.
        Message = "message",
        /// An outcome from the moderators (a warning, a hidden post, a suspension…): its words
        /// are in `body`, written by Hearth or a moderator.
        Moderation = "moderation",
        /// For facilitators: someone asks to join one of their groups.
        JoinRequest = "join_request",
        /// For facilitators: a check-in is waiting in one of their groups.
        CheckIn = "check_in",
        /// A meeting the member is going to changed.
        MeetingChanged = "meeting_changed",
        /// A meeting the member is going to was cancelled.
        MeetingCancelled = "meeting_cancelled",
        /// A meeting the member is going to starts soon.
        MeetingReminder = "meeting_reminder",
        /// Members reacted to one of the member's posts ("I hear you", …): one per post.
        Reaction = "reaction",
    }
}

/// What a notification points to. Only the fields of its kind are set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject {
    pub board: Option<BoardId>,
    pub thread: Option<ThreadId>,
    /// The first post it tells about, where its link goes.
    pub post: Option<PostId>,
    /// The position of that post in its thread: reading the thread that far reads it.
    pub position: Option<i32>,
    pub conversation: Option<ConversationId>,
    pub meeting: Option<MeetingId>,
}

/// One notification to write for some members.
#[derive(Debug, Clone, Copy)]
pub struct NewNotification<'a> {
    pub kind: Kind,
    /// Unread notifications of this kind with the same key are one (their count grows).
    /// `None` never groups (each moderation outcome is its own).
    pub group: Option<i64>,
    pub subject: Subject,
    /// Who did it: never told themselves, and not heard by members who muted them.
    pub actor: Option<MemberId>,
    /// Words written by Hearth or the moderators, shown as they are (escaped); never a post's.
    pub body: &'a str,
}

#[derive(Insertable)]
// `None` is NULL, not DEFAULT: SQLite's many-row INSERT has no DEFAULT keyword.
#[diesel(table_name = notifications, treat_none_as_default_value = false)]
struct Row<'a> {
    member_id: MemberId,
    kind: &'a str,
    open_key: Option<i64>,
    board_id: Option<BoardId>,
    thread_id: Option<ThreadId>,
    post_id: Option<PostId>,
    first_position: Option<i32>,
    last_position: Option<i32>,
    conversation_id: Option<ConversationId>,
    meeting_id: Option<MeetingId>,
    actor_id: Option<MemberId>,
    count: i32,
    body: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    /// Its news waits for a mail from now (for members who chose mail: [`mailing`]).
    mail_pending_since: Option<NaiveDateTime>,
}

/// Tells `recipients` about something, inside the caller's transaction. The caller has
/// decided through the policy that each of them may read what it points to. The actor is never
/// told, nor anyone who muted them. Returns how many members were told.
pub(crate) fn notify(
    conn: &mut DbConn,
    recipients: &[MemberId],
    new: &NewNotification<'_>,
    now: NaiveDateTime,
) -> Result<usize> {
    let mut told: Vec<MemberId> = recipients
        .iter()
        .copied()
        .filter(|&id| Some(id) != new.actor)
        .collect();
    told.sort_unstable();
    told.dedup();
    if let Some(actor) = new.actor {
        let muting = muted_actor(conn, &told, actor)?;
        told.retain(|id| !muting.contains(id));
    }
    let once = Tally {
        count: 1,
        last_position: new.subject.position,
    };
    let rows = told
        .iter()
        .map(|&member| Told {
            member,
            new: *new,
            tally: once,
        })
        .collect();
    write_told(conn, rows, now)?;
    Ok(told.len())
}

/// How much one notification row tells: `count` things (posts), the latest at
/// `last_position`; the earliest is the subject's.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tally {
    pub count: i32,
    pub last_position: Option<i32>,
}

/// One member's notification, and how much it tells.
#[derive(Debug, Clone, Copy)]
pub(super) struct Told<'a> {
    pub member: MemberId,
    pub new: NewNotification<'a>,
    pub tally: Tally,
}

/// The order every transaction writes notification rows in: by kind (its text), key, member.
///
/// An unread row of the same kind and key is updated in place (its count grows), and on
/// PostgreSQL the update locks it until the transaction ends (as does a second insert of a row
/// another transaction inserted and has not committed). Two transactions that wrote the same
/// members' rows in different orders could each wait for a row the other holds: a deadlock
/// PostgreSQL ends by aborting one. In one order, the later of two only ever waits for rows the
/// earlier one writes before any it holds itself.
fn lock_order(told: &Told<'_>) -> (&'static str, Option<i64>, MemberId) {
    (told.new.kind.as_str(), told.new.group, told.member)
}

/// Changes the existing rows `$rows` (a filtered `notifications::table`) selects, with `$rows`
/// bound to that selection in `$change`, after locking them in [`lock_order`] (rows without a
/// key before those with one, as `Option` sorts, then by id): every statement that changes
/// several rows, maybe several members' (a moderator's hide) or several of one member's that a
/// fan-out or a hide may be changing too (a member reading a thread), locks them in this one
/// order, so none waits for a row another holds while holding one it waits for. Without a
/// change, only the lock (for rows the caller changes in several statements). Nothing is sent
/// for the lock on SQLite ([`lock_in_order`]).
macro_rules! in_lock_order {
    ($conn:expr, $rows:expr) => {
        $crate::notifications::in_lock_order!($conn, $rows, |_rows| ())
    };
    ($conn:expr, $rows:expr, |$bound:ident| $change:expr) => {{
        $crate::db::lock_in_order!(
            $conn,
            $rows
                .order((
                    diesel::dsl::sql::<diesel::sql_types::Text>(
                        "notifications.kind COLLATE \"C\"",
                    ),
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "notifications.open_key IS NOT NULL",
                    ),
                    $crate::db::schema::notifications::open_key,
                    $crate::db::schema::notifications::member_id,
                    $crate::db::schema::notifications::id,
                ))
                .select($crate::db::schema::notifications::id)
        )?;
        let $bound = $rows;
        $change
    }};
}
pub(crate) use in_lock_order;

/// Marks `$rows` (a filtered `notifications::table`, locked in [`lock_order`]) read at `$now`:
/// out of their group, so the next such notification starts a new row. How many.
macro_rules! marked_read {
    ($conn:expr, $rows:expr, $now:expr) => {
        diesel::update($rows)
            .set((
                $crate::db::schema::notifications::read_at.eq($now),
                $crate::db::schema::notifications::open_key.eq(None::<i64>),
            ))
            .execute($conn)
            .map_err($crate::error::Error::from)
    };
}
pub(crate) use marked_read;

/// Writes `told` (each member, kind and key once, already decided: the caller left out the actor
/// and whoever muted them), inside the caller's transaction, in [`lock_order`]: a statement for
/// each kind and key, of at most 500 rows, each row with its own counts.
pub(super) fn write_told(
    conn: &mut DbConn,
    mut told: Vec<Told<'_>>,
    now: NaiveDateTime,
) -> Result<()> {
    told.sort_unstable_by_key(lock_order);
    let same_kind =
        |a: &Told<'_>, b: &Told<'_>| (a.new.kind, a.new.group) == (b.new.kind, b.new.group);
    for chunk in told.chunk_by(same_kind).flat_map(|same| same.chunks(500)) {
        let rows: Vec<Row<'_>> = chunk
            .iter()
            .map(|&Told { member, new, tally }| Row {
                member_id: member,
                kind: new.kind.as_str(),
                open_key: new.group,
                board_id: new.subject.board,
                thread_id: new.subject.thread,
                post_id: new.subject.post,
                first_position: new.subject.position,
                last_position: tally.last_position,
                conversation_id: new.subject.conversation,
                meeting_id: new.subject.meeting,
                actor_id: new.actor,
                count: tally.count,
                body: new.body,
                created_at: now,
                updated_at: now,
                mail_pending_since: Some(now),
            })
            .collect();
        // An unread notification of the same kind about the same thing counts these more; it
        // keeps the earliest post it tells of (where its link goes: a post approved late can
        // be earlier) and the latest position.
        let target = (
            notifications::member_id,
            notifications::kind,
            notifications::open_key,
        );
        let merged = || {
            (
                notifications::count.eq(notifications::count + excluded(notifications::count)),
                notifications::actor_id.eq(excluded(notifications::actor_id)),
                notifications::post_id.eq(sql::<Nullable<BigInt>>(
                    "CASE WHEN excluded.first_position < notifications.first_position \
                     THEN excluded.post_id ELSE notifications.post_id END",
                )),
                notifications::first_position.eq(sql::<Nullable<Integer>>(
                    "CASE WHEN excluded.first_position < notifications.first_position \
                     THEN excluded.first_position ELSE notifications.first_position END",
                )),
                notifications::last_position.eq(sql::<Nullable<Integer>>(
                    "CASE WHEN excluded.last_position > notifications.last_position \
                     THEN excluded.last_position ELSE notifications.last_position END",
                )),
                notifications::updated_at.eq(excluded(notifications::updated_at)),
                // News that joins a row already waiting for a mail waits since the first;
                // a row mailed since waits again from now.
                notifications::mail_pending_since.eq(
                    sql::<Nullable<diesel::sql_types::Timestamp>>(
                        "COALESCE(notifications.mail_pending_since, excluded.mail_pending_since)",
                    ),
                ),
            )
        };
        if let [row] = rows.as_slice() {
            // One member told (most replies tell the thread's author alone): a statement kept
            // prepared. A many-row one is a statement per row count.
            let upsert = Cached(
                diesel::insert_into(notifications::table)
                    .values(row)
                    .on_conflict(target)
                    .do_update()
                    .set(merged()),
            );
            per_connection!(conn, |c| upsert.run(c))?;
            continue;
        }
        let upsert = diesel::insert_into(notifications::table)
            .values(&rows)
            .on_conflict(target)
            .do_update()
            .set(merged());
        per_connection!(conn, |c| upsert.execute(c))?;
    }
    Ok(())
}

/// Which of `members` muted `actor`.
fn muted_actor(
    conn: &mut DbConn,
    members: &[MemberId],
    actor: MemberId,
) -> Result<std::collections::HashSet<MemberId>> {
    let all: Vec<MemberId> = mutes::table
        .filter(mutes::muted_id.eq(actor))
        .select(mutes::member_id)
        .load(conn)?;
    Ok(all
        .into_iter()
        .filter(|id| members.binary_search(id).is_ok())
        .collect())
}

/// Who muted which of `authors`: (member, muted author) pairs.
pub(super) fn mutes_of(
    conn: &mut DbConn,
    authors: &[MemberId],
) -> Result<std::collections::HashSet<(MemberId, MemberId)>> {
    let pairs: Vec<(MemberId, MemberId)> = mutes::table
        .filter(mutes::muted_id.eq_any(authors))
        .select((mutes::member_id, mutes::muted_id))
        .load(conn)?;
    Ok(pairs.into_iter().collect())
}

/// A notice from Hearth or the moderators to one member (a warning, a hidden post, a
/// suspension, a meeting's change): its words are `body`. Inside the caller's transaction.
pub(crate) fn notice(
    conn: &mut DbConn,
    member: MemberId,
    kind: Kind,
    subject: Subject,
    body: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let new = NewNotification {
        kind,
        group: None,
        subject,
        actor: None,
        body,
    };
    notify(conn, &[member], &new, now)?;
    Ok(())
}

/// The bell's number: how many unread things the member has, one query on one index.
pub fn unread_count(conn: &mut DbConn, member: MemberId) -> Result<i64> {
    let query = notifications::table
        .filter(notifications::member_id.eq(member))
        .filter(notifications::read_at.is_null())
        .select(diesel::dsl::sum(notifications::count));
    // Every signed-in page: sent to the inner connection (see `per_connection`).
    let sum: Option<i64> = per_connection!(conn, |c| query.get_result(c))?;
    Ok(sum.unwrap_or(0))
}

/// The member read a thread as far as `up_to` (a post position): what told them about posts
/// there up to it is read. Inside the transaction that writes the read marker. No page shows
/// anything of it to visitors.
pub fn read_thread_in(
    conn: &mut DbConn,
    member: MemberId,
    thread: ThreadId,
    up_to: i32,
    now: NaiveDateTime,
) -> Result<usize> {
    in_lock_order!(
        conn,
        notifications::table
            .filter(notifications::member_id.eq(member))
            .filter(notifications::thread_id.eq(thread))
            .filter(notifications::read_at.is_null())
            .filter(notifications::last_position.le(up_to)),
        |rows| marked_read!(conn, rows, now)
    )
}

/// The member read a private conversation: what told them of its messages is read. Inside
/// the transaction that moves their marker there.
pub(crate) fn read_conversation_in(
    conn: &mut DbConn,
    member: MemberId,
    conversation: ConversationId,
    now: NaiveDateTime,
) -> Result<usize> {
    in_lock_order!(
        conn,
        notifications::table
            .filter(notifications::member_id.eq(member))
            .filter(notifications::conversation_id.eq(conversation))
            .filter(notifications::read_at.is_null()),
        |rows| marked_read!(conn, rows, now)
    )
}

/// The member marked a whole group read: what told them of posts in its threads is read.
pub(crate) fn read_board_in(
    conn: &mut DbConn,
    member: MemberId,
    board: BoardId,
    now: NaiveDateTime,
) -> Result<usize> {
    use crate::db::schema::threads;
    in_lock_order!(
        conn,
        notifications::table
            .filter(notifications::member_id.eq(member))
            .filter(notifications::read_at.is_null())
            .filter(
                notifications::thread_id.eq_any(
                    threads::table
                        .filter(threads::board_id.eq(board))
                        .select(threads::id.nullable())
                )
            ),
        |rows| marked_read!(conn, rows, now)
    )
}

/// Marks one of the member's notifications read (another member's is not found).
pub fn mark_read(
    conn: &mut DbConn,
    member: MemberId,
    id: NotificationId,
    now: NaiveDateTime,
) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        diesel::update(notifications::table.find(id))
            .filter(notifications::member_id.eq(member))
            .filter(notifications::read_at.is_null())
            .set((
                notifications::read_at.eq(now),
                notifications::open_key.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Marks read those of the member's notifications the listing found they may no longer read;
/// returns the bell's count after.
pub fn mark_stale_read(
    conn: &mut DbConn,
    member: MemberId,
    stale: Vec<NotificationId>,
    now: NaiveDateTime,
) -> Result<i64> {
    write_tx_unseen(conn, |conn| {
        in_lock_order!(
            conn,
            notifications::table
                .filter(notifications::id.eq_any(&stale))
                .filter(notifications::member_id.eq(member)),
            |rows| marked_read!(conn, rows, now)
        )?;
        unread_count(conn, member)
    })
}

/// Marks every notification of the member read.
pub fn mark_all_read(conn: &mut DbConn, member: MemberId, now: NaiveDateTime) -> Result<()> {
    write_tx_unseen(conn, |conn| {
        in_lock_order!(
            conn,
            notifications::table
                .filter(notifications::member_id.eq(member))
                .filter(notifications::read_at.is_null()),
            |rows| marked_read!(conn, rows, now)
        )?;
        Ok(())
    })
}

/// Deletes notifications read more than `kept_days` before `now` (unread ones stay, however
/// old). Run hourly by `hearth serve` with the `notifications_kept_days` setting.
pub fn purge_read(conn: &mut DbConn, now: NaiveDateTime, kept_days: u32) -> Result<usize> {
    let read_before = now - chrono::TimeDelta::days(i64::from(kept_days));
    write_tx_unseen(conn, |conn| {
        in_lock_order!(
            conn,
            notifications::table.filter(notifications::read_at.lt(read_before)),
            |rows| Ok(diesel::delete(rows).execute(conn)?)
        )
    })
}

/// A post stopped being readable (hidden, held again, deleted): it tells nobody any more.
/// Inside the transaction that changed it, after the change. A notification about it alone
/// goes; a grouped one ("3 new replies") is counted again from the visible posts it spans,
/// leads to the first of them, names the author of the last, and goes when none is left.
pub(crate) fn post_withdrawn(conn: &mut DbConn, post: &crate::model::Post) -> Result<()> {
    // Its own rows (a mention, a quote) and the grouped rows spanning it ("3 new replies").
    let own = notifications::post_id
        .eq(post.id)
        .and(notifications::open_key.is_null());
    let spans = notifications::thread_id
        .eq(post.thread_id)
        .and(notifications::open_key.is_not_null())
        .and(notifications::first_position.le(post.position))
        .and(notifications::last_position.ge(post.position));
    let unread = notifications::table.filter(notifications::read_at.is_null());
    // They are many members' (a fan-out may be counting more into them, a member may be
    // reading them): all locked first, in one order.
    in_lock_order!(conn, unread.filter(own.or(spans)));
    diesel::delete(unread.filter(own)).execute(conn)?;
    // The visible posts of the row's thread between its first and last position, but the
    // member's own and those of members they muted (as the fan-out counted them): one SQL
    // fragment with bound values, so diesel writes each backend's placeholders.
    macro_rules! spanned {
        ($ty:ty, $what:literal, $tail:literal) => {
            sql::<$ty>(concat!(
                "(SELECT ",
                $what,
                " FROM posts p WHERE p.thread_id = notifications.thread_id \
                 AND p.position BETWEEN notifications.first_position AND notifications.last_position \
                 AND p.author_id <> notifications.member_id AND p.state = "
            ))
            .bind::<Text, _>(crate::model::Publication::Published.as_str())
            .sql(" AND p.moderation = ")
            .bind::<Text, _>(crate::model::Moderation::Visible.as_str())
            .sql(
                " AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.member_id = \
                 notifications.member_id AND m.muted_id = p.author_id)",
            )
            .sql($tail)
        };
    }
    diesel::update(unread.filter(spans))
        .set((
            notifications::count.eq(spanned!(Integer, "COUNT(*)", ")")),
            notifications::post_id.eq(spanned!(
                Nullable<BigInt>,
                "p.id",
                " ORDER BY p.position LIMIT 1)"
            )),
            notifications::first_position.eq(spanned!(
                Nullable<Integer>,
                "p.position",
                " ORDER BY p.position LIMIT 1)"
            )),
            notifications::actor_id.eq(spanned!(
                Nullable<BigInt>,
                "p.author_id",
                " ORDER BY p.position DESC LIMIT 1)"
            )),
        ))
        .execute(conn)?;
    diesel::delete(notifications::table)
        .filter(notifications::thread_id.eq(post.thread_id))
        .filter(notifications::read_at.is_null())
        .filter(notifications::count.eq(0))
        .execute(conn)?;
    Ok(())
}

/// The member left a group (or was removed or banned from it): what they were told of it and
/// have not read goes, with the level they chose for it. Inside that transaction.
pub(crate) fn forget_board(conn: &mut DbConn, member: MemberId, board: BoardId) -> Result<()> {
    use crate::db::schema::{board_subscriptions, threads};
    // Private messages stay: the member is still a party to their conversations.
    in_lock_order!(
        conn,
        notifications::table
            .filter(notifications::member_id.eq(member))
            .filter(notifications::read_at.is_null())
            .filter(notifications::kind.ne(Kind::Message.as_str()))
            .filter(
                notifications::board_id
                    .eq(board)
                    .or(notifications::thread_id.eq_any(
                        threads::table
                            .filter(threads::board_id.eq(board))
                            .select(threads::id.nullable())
                    ))
            ),
        |rows| diesel::delete(rows).execute(conn)
    )?;
    diesel::delete(board_subscriptions::table.find((board, member))).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests;
