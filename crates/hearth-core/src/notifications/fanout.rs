//! Who hears about a new post, and how telling them stays off the reply's path.
//!
//! The posting transaction tells the first batch of members itself ([`tell_new`]) and writes a
//! `notification_jobs` row only when more are left: a reply holds the write lock for at most
//! one batch whether two members follow its thread or five thousand. A post approved later is
//! told by a job written with its approval ([`enqueue`]), its first batch delivered right after
//! the commit ([`deliver_for`]). What is left is finished by the worker in `hearth serve`
//! ([`deliver_pending`]), one batch of members per transaction (replies to one thread that wait
//! together are one batch: [`deliver_folded`]). Each batch
//! claims the job by its `done_through` (the highest member id told, committed with the batch),
//! so two nodes or a restart never tell a member twice, and a crash loses nothing: the job
//! stays until its last batch commits.
//!
//! A delivery reads the post, its thread and its board as they are *then*, so a post hidden or
//! a thread moved into a private group meanwhile tells nobody who may not read it. The author
//! follows the thread from then on ([`levels::follow_on_posting`]). Everyone with a level on
//! the thread or its group, and everyone the post addresses (mentions, the authors of posts it
//! quotes or answers), is a candidate; each gets at most one notification for it, of the
//! strongest kind that applies: a mention; a reply to their post (when they follow the thread);
//! a reply in the thread they started, a new thread or a new post (when they watch it). A
//! quote is a reply to the quoted post: its author hears of it when they follow the thread, or
//! when they chose no level there at all (a quote from another thread, a thread from before
//! notifications); a member who chose "normal: mentions only" or muted is not told. An edit
//! tells only those it newly names or quotes ([`post_edited`], a handful, in the edit's own
//! transaction). Candidates are authorized together with the policy on this board
//! (`actors_on_board`).

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::levels::{self, Chosen, Level};
use super::{Kind, NewNotification, Subject, Tally, Told};
use crate::accounts::actors;
use crate::db::schema::notification_jobs;
use crate::db::{
    load_unclaimed, per_connection, write_tx_background, write_tx_unseen, Cached, DbConn,
};
use crate::error::{Error, Result};
use crate::forum::{boards, threads};
use crate::ids::{MemberId, PostId};
use crate::model::{Board, Post, Thread};
use crate::policy::{self, Action, Actor};

/// Members told per transaction.
pub const BATCH: usize = 500;

/// [`BATCH`], or a test's smaller one.
fn batch_size() -> usize {
    #[cfg(test)]
    if let Some(size) = hooks::batch() {
        return size;
    }
    BATCH
}

/// The members a post speaks to by name: whom it mentions, and the authors of the posts it
/// quotes or answers. Found by the caller from the post's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressed {
    pub mentions: Vec<MemberId>,
    pub replies_to: Vec<MemberId>,
}

impl Addressed {
    fn all(&self) -> Vec<MemberId> {
        self.mentions
            .iter()
            .chain(&self.replies_to)
            .copied()
            .collect()
    }
}

fn ids_text(ids: &[MemberId]) -> String {
    ids.iter()
        .map(|id| id.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn ids_of(text: &str) -> Vec<MemberId> {
    text.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .map(MemberId)
        .collect()
}

/// Who a post's job tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// Everyone who follows its thread or group closely enough, and those it addresses: a new
    /// post, or one approved that was never shown.
    Followers,
    /// The same, but for a post shown before, held after an edit and approved again: members
    /// who read past it already are not told again (those who had not are: its withdrawal
    /// took back what told them), and of those it names only the ones the edit added.
    ShownBefore,
}

/// Inside the transaction that makes a post visible (or writes one held for approval: its
/// author follows the thread all the same): its readers are to be told.
pub(crate) fn enqueue(
    conn: &mut DbConn,
    post: PostId,
    addressed: &Addressed,
    audience: Audience,
    now: NaiveDateTime,
) -> Result<()> {
    let job = Job {
        post,
        addressed: addressed.clone(),
        shown_before: audience == Audience::ShownBefore,
    };
    insert_job(conn, &job, 0, now)
}

/// What a job tells of: the post, whom it addresses, and whether it was shown before.
struct Job {
    post: PostId,
    addressed: Addressed,
    shown_before: bool,
}

/// A job for the worker, to go on after member `done_through`.
fn insert_job(conn: &mut DbConn, job: &Job, done_through: i64, now: NaiveDateTime) -> Result<()> {
    diesel::insert_into(notification_jobs::table)
        .values((
            notification_jobs::post_id.eq(job.post),
            notification_jobs::mentions.eq(ids_text(&job.addressed.mentions)),
            notification_jobs::replies_to.eq(ids_text(&job.addressed.replies_to)),
            notification_jobs::shown_before.eq(job.shown_before),
            notification_jobs::done_through.eq(done_through),
            notification_jobs::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inside the transaction of a new post: tells its readers. The first batch is told here, so
/// those told first (most often the thread's author alone) are told in the commit that posts
/// it, without a transaction of their own (which cost a reply a third of its rate, the write
/// lock being handed over twice more; docs/performance.md, "Tenth session"); only what is left
/// becomes a job for the worker, so most replies write no job at all. A batch that fails is
/// undone to before it (a savepoint) and the whole job is left to the worker, logged: it is
/// never the poster's error, their post is in.
pub(crate) fn tell_new(
    conn: &mut DbConn,
    post: PostId,
    addressed: &Addressed,
    now: NaiveDateTime,
) -> Result<()> {
    let job = Job {
        post,
        addressed: addressed.clone(),
        shown_before: false,
    };
    match conn.transaction(|conn| tell_next(conn, &job, 0, batch_size())) {
        Ok(Some((_, Some(last)))) => insert_job(conn, &job, last.0, now),
        Ok(_) => Ok(()),
        Err(e) => {
            // Only while the post's transaction is still open: an error SQLite answers by
            // rolling the whole transaction back (a full disk) is the post's error too.
            use diesel::connection::TransactionManager;
            let depth =
                <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
                    .transaction_depth();
            if !matches!(depth, Ok(Some(_))) {
                return Err(e);
            }
            tracing::warn!(error = %e, "notifications left to the worker");
            insert_job(conn, &job, 0, now)
        }
    }
}

/// After the post's transaction committed: the first batch of each of its jobs, in the
/// poster's request. What is left is the worker's; a failure here is too (logged, not the
/// poster's error: their post is in).
pub(crate) fn deliver_for(conn: &mut DbConn, post: PostId) {
    let jobs: Vec<i64> = match notification_jobs::table
        .filter(notification_jobs::post_id.eq(post))
        .select(notification_jobs::id)
        .load(conn)
    {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "notifications left to the worker");
            return;
        }
    };
    for job in jobs {
        if let Err(e) = deliver_batch(conn, job, BATCH) {
            tracing::warn!(error = %e, "notifications left to the worker");
        }
    }
}

/// The worker's turn: delivers waiting jobs, oldest first, a batch per transaction, until none
/// is left or `max_batches` are done. A job that fails is logged and left for the next turn;
/// the others go on. Returns how many batches it delivered (failed ones not counted, so a
/// caller that goes on while a turn was full does not spin on a job that keeps failing).
pub fn deliver_pending(conn: &mut DbConn, max_batches: usize) -> Result<usize> {
    let jobs: Vec<i64> = notification_jobs::table
        .order(notification_jobs::id)
        .limit(i64::try_from(max_batches).unwrap_or(i64::MAX))
        .select(notification_jobs::id)
        .load(conn)?;
    let mut tried = 0;
    let mut done = 0;
    for job in jobs {
        // A job folded into an earlier one of this turn is gone: a plain read, not a write
        // transaction (which would first let requests go ahead).
        let waiting: i64 = notification_jobs::table
            .filter(notification_jobs::id.eq(job))
            .count()
            .get_result(conn)?;
        if waiting == 0 {
            continue;
        }
        while tried < max_batches {
            tried += 1;
            match deliver_batch_folding(conn, job, batch_size()) {
                Ok(Delivered::More(_)) => {
                    done += 1;
                    continue;
                }
                Ok(Delivered::Done(_)) => {
                    done += 1;
                    break;
                }
                Ok(Delivered::Taken) => break,
                Err(e) => {
                    tracing::warn!(error = %e, job, "a notification job failed; retried later");
                    break;
                }
            }
        }
    }
    Ok(done)
}

/// How a batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// These many members were told; more are left.
    More(usize),
    /// The job is done (these many told in its last batch).
    Done(usize),
    /// Another delivery had this batch (or the job is gone).
    Taken,
}

/// One batch of one job, in one transaction: the next `size` candidates after `done_through`.
pub(crate) fn deliver_batch(conn: &mut DbConn, job: i64, size: usize) -> Result<Delivered> {
    write_tx_unseen(conn, |conn| deliver_batch_in(conn, job, size, Fold::No))
}

/// One batch of the worker's: [`deliver_batch`], with the replies of the same thread that wait
/// with it folded in ([`deliver_folded`]), as background work (`db::write_tx_background`).
pub(crate) fn deliver_batch_folding(conn: &mut DbConn, job: i64, size: usize) -> Result<Delivered> {
    write_tx_background(conn, |conn| deliver_batch_in(conn, job, size, Fold::Yes))
}

/// Whether a delivery folds other jobs into its batch: only the worker's do (a request that
/// delivers its own post's first batch, `deliver_for`, tells of that post alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    Yes,
    No,
}

/// The body of [`deliver_batch`] and [`deliver_batch_folding`], in its transaction.
fn deliver_batch_in(conn: &mut DbConn, job: i64, size: usize, fold: Fold) -> Result<Delivered> {
    let found: Option<(PostId, String, String, bool, i64)> = notification_jobs::table
        .find(job)
        .select((
            notification_jobs::post_id,
            notification_jobs::mentions,
            notification_jobs::replies_to,
            notification_jobs::shown_before,
            notification_jobs::done_through,
        ))
        .get_result(conn)
        .optional()?;
    let Some((post_id, mentions, replies_to, shown_before, done_through)) = found else {
        return Ok(Delivered::Taken);
    };
    // The claim: on PostgreSQL this row lock makes a second delivery of the same batch
    // wait, then find `done_through` moved and stop; SQLite's write lock does the same. It is
    // the transaction's first lock, so the wait cannot be part of a deadlock: this delivery
    // holds nothing yet that another could be waiting for.
    let claim = Cached(
        diesel::update(notification_jobs::table.find(job))
            .filter(notification_jobs::done_through.eq(done_through))
            .set(notification_jobs::done_through.eq(done_through))
            .returning(notification_jobs::id),
    );
    let claimed: Option<i64> = per_connection!(conn, |c| claim.get_result(c).optional())?;
    if claimed.is_none() {
        return Ok(Delivered::Taken);
    }
    let told_of = Job {
        post: post_id,
        addressed: Addressed {
            mentions: ids_of(&mentions),
            replies_to: ids_of(&replies_to),
        },
        shown_before,
    };
    let plain = told_of.addressed.all().is_empty() && !shown_before && done_through > 0;
    if plain && fold == Fold::Yes {
        if let Some(delivered) = deliver_folded(conn, job, post_id, done_through, size)? {
            return Ok(delivered);
        }
    }
    let told = tell_next(conn, &told_of, done_through, size)?;
    match told {
        Some((told, last)) if last.is_some() => {
            let last = last.map_or(done_through, |id: MemberId| id.0);
            let done = Cached(
                diesel::update(notification_jobs::table.find(job))
                    .set(notification_jobs::done_through.eq(last)),
            );
            per_connection!(conn, |c| done.run(c))?;
            Ok(Delivered::More(told))
        }
        other => {
            diesel::delete(notification_jobs::table.find(job)).execute(conn)?;
            Ok(Delivered::Done(other.map_or(0, |(told, _)| told)))
        }
    }
}

/// Most jobs a folded batch takes with the one it claimed.
const FOLDED_AT_MOST: i64 = 1_000;

/// Replies to one thread that wait for the worker at the same member are told together:
/// each member's row counts all of them in one upsert, so a burst of replies to a thread with
/// thousands of watchers costs one pass over the watchers, not one per reply. Only replies
/// that address nobody and were not shown before are folded (the first batch of each, in its
/// own commit, told the same first members, so all wait at `done_through`). `None`: nothing to
/// fold with, the job goes alone.
fn deliver_folded(
    conn: &mut DbConn,
    job: i64,
    post: PostId,
    done_through: i64,
    size: usize,
) -> Result<Option<Delivered>> {
    use crate::db::schema::posts;
    let Some((board, thread, first)) = place_of(conn, post)? else {
        return Ok(None);
    };
    if first.position == 1 {
        return Ok(None);
    }
    let others: Vec<(i64, PostId)> = notification_jobs::table
        .inner_join(posts::table.on(posts::id.eq(notification_jobs::post_id)))
        .filter(posts::thread_id.eq(thread.id))
        .filter(posts::position.gt(1))
        .filter(notification_jobs::id.ne(job))
        .filter(notification_jobs::done_through.eq(done_through))
        .filter(notification_jobs::shown_before.eq(false))
        .filter(notification_jobs::mentions.eq(""))
        .filter(notification_jobs::replies_to.eq(""))
        .order(notification_jobs::id)
        .limit(FOLDED_AT_MOST)
        .select((notification_jobs::id, notification_jobs::post_id))
        .load(conn)?;
    if others.is_empty() {
        return Ok(None);
    }
    // Claimed without waiting: a job another delivery holds (a request's first batch, another
    // node's worker folding the same replies) is left to it. Waiting for it, as the first job's
    // claim does, could deadlock on PostgreSQL: that delivery may be waiting for a job this one
    // holds. One whose `done_through` moved meanwhile was delivered past this batch.
    let ids: Vec<i64> = others.iter().map(|(id, _)| *id).collect();
    let free = notification_jobs::table
        .filter(notification_jobs::id.eq_any(&ids))
        .filter(notification_jobs::done_through.eq(done_through))
        .select(notification_jobs::id);
    let claimed: Vec<i64> = load_unclaimed!(conn, free)?;
    let claimed: HashSet<i64> = claimed.into_iter().collect();
    let mut jobs = vec![job];
    let mut posts = vec![first];
    for (id, post) in others {
        if !claimed.contains(&id) {
            continue;
        }
        match crate::forum::posts::by_id(conn, post) {
            // A reply of this thread: told with the others if it is visible; one awaiting
            // approval, hidden or deleted tells nobody, and its job ends or goes on with theirs.
            Ok(post) if post.thread_id == thread.id && post.position > 1 => {
                jobs.push(id);
                posts.push(post);
            }
            // Not one of them after all: left as it was, for a delivery of its own.
            Ok(_) => {}
            // Gone: it tells nobody, its job ends with theirs.
            Err(Error::NotFound) => jobs.push(id),
            Err(e) => return Err(e),
        }
    }
    // Each post is told as it is now: one awaiting approval, hidden or deleted tells nobody.
    // (All are replies of this thread: the first by the check above, the others by the loop.)
    posts.retain(|p| {
        p.moderation == crate::model::Moderation::Visible
            && p.state == crate::model::Publication::Published
    });
    posts.sort_by_key(|p| p.position);
    let batch = Batch {
        after: MemberId(done_through),
        size,
        shown_before: false,
    };
    let told = if posts.is_empty() {
        None
    } else {
        Some(tell_many(conn, &board, &thread, &posts, batch)?)
    };
    match told {
        Some((told, Some(last))) => {
            diesel::update(notification_jobs::table.filter(notification_jobs::id.eq_any(&jobs)))
                .set(notification_jobs::done_through.eq(last.0))
                .execute(conn)?;
            Ok(Some(Delivered::More(told)))
        }
        other => {
            diesel::delete(notification_jobs::table.filter(notification_jobs::id.eq_any(&jobs)))
                .execute(conn)?;
            Ok(Some(Delivered::Done(other.map_or(0, |(told, _)| told))))
        }
    }
}

/// Tells the next candidates of `batch` about `posts` (visible replies in `thread`, by
/// position): each member once, counting the posts they may read, did not write, and whose
/// authors they did not mute. Returns how many were told and the last candidate when more may
/// follow.
fn tell_many(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    posts: &[Post],
    batch: Batch,
) -> Result<(usize, Option<MemberId>)> {
    let now = crate::clock::now();
    // `audience` gives the first `size` of the thread's and of the group's lists: together
    // they hold the first `size` candidates, and only those are complete.
    let mut candidates = levels::audience(conn, thread.id, board.id, &[], batch.after, batch.size)?;
    candidates.truncate(batch.size);
    let last = (candidates.len() == batch.size)
        .then(|| candidates.last().map(|(id, _)| *id))
        .flatten();
    let nobody = Addressed::default();
    let kinds: Vec<(MemberId, Kind)> = candidates
        .iter()
        .filter_map(|&(member, chosen)| {
            kind_for(member, chosen, thread, &posts[0], &nobody).map(|kind| (member, kind))
        })
        .collect();
    if kinds.is_empty() {
        return Ok((0, last));
    }
    let ids: Vec<MemberId> = kinds.iter().map(|(id, _)| *id).collect();
    let actors: std::collections::HashMap<MemberId, Actor> =
        actors::actors_on_board(conn, &ids, board.id)?
            .into_iter()
            .map(|actor| (actor.id, Actor::Member(Box::new(actor))))
            .collect();
    let authors: Vec<MemberId> = posts.iter().map(|p| p.author_id).collect();
    let muting: HashSet<(MemberId, MemberId)> = super::mutes_of(conn, &authors)?;
    // Each member's row counts the posts they may read, did not write and whose authors they
    // did not mute; all rows are written together, in the one order of every transaction.
    let mut told = Vec::with_capacity(kinds.len());
    for (member, kind) in kinds {
        let Some(actor) = actors.get(&member) else {
            continue;
        };
        let mut counted = posts.iter().filter(|post| {
            post.author_id != member
                && !muting.contains(&(member, post.author_id))
                && policy::allows(actor, Action::ReadPost(board, thread, post))
        });
        let Some(first) = counted.next() else {
            continue;
        };
        let (count, newest) = counted.fold((1, first), |(count, _), post| (count + 1, post));
        // Replies and watched posts group by thread ("3 new replies in …").
        let new = NewNotification {
            kind,
            group: Some(thread.id.0),
            subject: Subject {
                board: Some(board.id),
                thread: Some(thread.id),
                post: Some(first.id),
                position: Some(first.position),
                ..Subject::default()
            },
            actor: Some(newest.author_id),
            body: "",
        };
        let tally = Tally {
            count,
            last_position: Some(newest.position),
        };
        told.push(Told { member, new, tally });
    }
    let n_told = told.len();
    super::write_told(conn, told, now)?;
    Ok((n_told, last))
}

/// Tells the batch of `job`'s readers after member `done_through` (the first batch also
/// has the post's author follow its thread). How many were told, and the last candidate when
/// more may follow; `None` when the post is gone.
fn tell_next(
    conn: &mut DbConn,
    job: &Job,
    done_through: i64,
    size: usize,
) -> Result<Option<(usize, Option<MemberId>)>> {
    let Some((board, thread, post)) = place_of(conn, job.post)? else {
        return Ok(None);
    };
    let now = crate::clock::now();
    if done_through == 0 {
        levels::follow_on_posting(conn, post.author_id, &thread, post.position == 1, now)?;
    }
    let batch = Batch {
        after: MemberId(done_through),
        size,
        shown_before: job.shown_before,
    };
    let told = tell_batch(conn, &board, &thread, &post, &job.addressed, batch, now)?;
    #[cfg(test)]
    if hooks::fails() {
        // After the batch's writes, as a failure midway would be: they must be undone.
        return Err(Error::Internal("a batch failed (test)".to_owned()));
    }
    Ok(told)
}

/// The post with its thread and the board that thread is on now; `None` when gone.
fn place_of(conn: &mut DbConn, post: PostId) -> Result<Option<(Board, Thread, Post)>> {
    let post = match crate::forum::posts::by_id(conn, post) {
        Ok(post) => post,
        Err(Error::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let thread = match threads::by_id(conn, post.thread_id) {
        Ok(thread) => thread,
        Err(Error::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let board = boards::by_id(conn, thread.board_id)?;
    Ok(Some((board, thread, post)))
}

/// Which candidates one delivery considers.
#[derive(Debug, Clone, Copy)]
struct Batch {
    /// Those with a member id after this one…
    after: MemberId,
    /// …this many of them.
    size: usize,
    /// The post was shown before: those who read past it are not told again.
    shown_before: bool,
}

/// Tells the next candidates of `batch`. Returns how many were told, and the last candidate
/// considered when more may follow (`None`: this was the last batch).
fn tell_batch(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    addressed: &Addressed,
    batch: Batch,
    now: NaiveDateTime,
) -> Result<Option<(usize, Option<MemberId>)>> {
    let Batch {
        after,
        size,
        shown_before,
    } = batch;
    // A post awaiting approval, hidden or deleted tells nobody (its approval enqueues again).
    if post.moderation != crate::model::Moderation::Visible
        || post.state != crate::model::Publication::Published
    {
        return Ok(None);
    }
    let mut candidates: BTreeMap<MemberId, Chosen> =
        levels::audience(conn, thread.id, board.id, &addressed.all(), after, size)?
            .into_iter()
            .collect();
    let none = Chosen {
        thread: None,
        board: None,
    };
    for id in addressed.all() {
        if id > after {
            candidates.entry(id).or_insert(none);
        }
    }
    let mut batch: Vec<(MemberId, Chosen)> = candidates.into_iter().take(size).collect();
    let last = (batch.len() == size)
        .then(|| batch.last().map(|(id, _)| *id))
        .flatten();
    if shown_before {
        let ids: Vec<MemberId> = batch.iter().map(|(id, _)| *id).collect();
        let read_past = crate::forum::reads::read_past(conn, thread.id, &ids, post.position)?;
        batch.retain(|(id, _)| !read_past.contains(id));
    }
    let told = tell(conn, board, thread, post, &batch, addressed, now)?;
    Ok(Some((told, last)))
}

/// A visible post was edited: tell only those its new text names or quotes for the first time
/// (`addressed` holds just them, at most the mentions cap and its quotes), as a new post would,
/// inside the edit's transaction. Nobody else hears of an edit.
pub(crate) fn post_edited(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    addressed: &Addressed,
    now: NaiveDateTime,
) -> Result<usize> {
    if post.moderation != crate::model::Moderation::Visible {
        return Ok(0);
    }
    let ids = addressed.all();
    if ids.is_empty() {
        return Ok(0);
    }
    let candidates: Vec<(MemberId, Chosen)> = levels::of_members(conn, thread.id, board.id, &ids)?
        .into_iter()
        .collect();
    tell(conn, board, thread, post, &candidates, addressed, now)
}

/// Decides each candidate's kind, keeps those who may read the post and did not mute its author,
/// and notifies them.
fn tell(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    candidates: &[(MemberId, Chosen)],
    addressed: &Addressed,
    now: NaiveDateTime,
) -> Result<usize> {
    let mut kinds: Vec<(MemberId, Kind)> = candidates
        .iter()
        .filter(|&&(member, _)| member != post.author_id)
        .filter_map(|&(member, chosen)| {
            kind_for(member, chosen, thread, post, addressed).map(|kind| (member, kind))
        })
        .collect();
    if kinds.is_empty() {
        return Ok(0);
    }
    kinds.sort_unstable();
    // Only those who may read the post where it is now, and did not mute its author.
    let ids: Vec<MemberId> = kinds.iter().map(|(id, _)| *id).collect();
    let readers: HashSet<MemberId> = actors::actors_on_board(conn, &ids, board.id)?
        .into_iter()
        .filter(|actor| {
            policy::allows(
                &Actor::Member(Box::new(actor.clone())),
                Action::ReadPost(board, thread, post),
            )
        })
        .map(|actor| actor.id)
        .collect();
    let muting = super::muted_actor(conn, &ids, post.author_id)?;
    let subject = Subject {
        board: Some(board.id),
        thread: Some(thread.id),
        post: Some(post.id),
        position: Some(post.position),
        ..Subject::default()
    };
    let once = Tally {
        count: 1,
        last_position: Some(post.position),
    };
    let told: Vec<Told<'_>> = kinds
        .into_iter()
        .filter(|(member, _)| readers.contains(member) && !muting.contains(member))
        .map(|(member, kind)| {
            // Replies and watched posts group by thread ("3 new replies in …"); a mention, a
            // reply to the member's post and a new thread are each their own.
            let group = match kind {
                Kind::Reply | Kind::WatchedPost => Some(thread.id.0),
                _ => None,
            };
            let new = NewNotification {
                kind,
                group,
                subject,
                actor: Some(post.author_id),
                body: "",
            };
            Told {
                member,
                new,
                tally: once,
            }
        })
        .collect();
    let n_told = told.len();
    // All kinds together, in the one order of every transaction (`write_told`).
    super::write_told(conn, told, now)?;
    Ok(n_told)
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

#[cfg(test)]
pub(crate) mod hooks {
    use std::cell::Cell;

    thread_local! {
        static FAIL: Cell<bool> = const { Cell::new(false) };
        static BATCH: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// A new post's first batch, and the worker's batches, on this thread tell at most `size`
    /// members.
    pub(crate) fn set_batch(size: Option<usize>) {
        BATCH.with(|b| b.set(size));
    }

    pub(super) fn batch() -> Option<usize> {
        BATCH.with(Cell::get)
    }

    /// Makes this thread's batches fail until `fail(false)`.
    pub(crate) fn fail(on: bool) {
        FAIL.with(|f| f.set(on));
    }

    pub(super) fn fails() -> bool {
        FAIL.with(Cell::get)
    }
}
