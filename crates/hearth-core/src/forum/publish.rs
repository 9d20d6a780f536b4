//! One pipeline for every new post (a thread's opening post and a reply) and every edit.
//!
//! [`publish`] reads as its steps: `check` the form (sizes); a form sent again returns what the
//! first sending made (`again`); `screen` the words; a reply repeating its author's reply of a
//! few minutes ago is that reply (`same_reply`); the member's limits (`gate::check_limits`), so
//! a refused request costs no rendering; `render`, outside the write lock; then, in one
//! transaction, `claim` the post's place and re-check everything that can have changed since the
//! page authorized it (the thread still open, the board it is on now, the member not suspended
//! or banned there), accept the ground rules, let the gate judge (the limits again, under the
//! lock), `write` the rows and `count` them, and tell whoever should hear of it (the fan-out,
//! with the members the post names: `addressing`). The names `@mentioned` are looked up
//! once, before rendering, so the renderer links exactly those that belong to a member.
//!
//! [`revise`] (an edit) goes the same way: `check`, `screen`, the edit limits, `render`, then
//! in one transaction `claim_edit` (the post, its thread, its board and the member read and
//! authorized again: not banned there, the thread not locked), the gate's `judge` (an edit is
//! held, flagged and checked in on exactly as a new post), `keep_revision` (the old text, with
//! the oldest but the original pruned) and the new text, with its moderation; a visible post's
//! edit tells only the members it newly mentions or quotes.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::accounts::{actors, members};
use crate::clock;
use crate::db::schema::{boards, post_revisions, posts as post_rows, threads};
use crate::db::{counters, per_connection, write_tx, write_tx_counter, Cached, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::{addressing, boards as board_ops, posts, threads as thread_ops};
use crate::groups;
use crate::ids::{MemberId, PostId, ThreadId};
use crate::model::{Board, Moderation, Post, Publication, Thread};
use crate::notifications::{self, fanout};
use crate::policy::{self, Action, MemberActor};
use crate::safety::gate::{self, Judgement, PostingRules, Screened, Writing};
use crate::search;

/// Where a new post goes, as the page that authorized it saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place<'a> {
    /// A new thread on this board, with this title.
    NewThread { board: &'a Board, title: &'a str },
    /// A reply in this thread of this board.
    Reply {
        board: &'a Board,
        thread: &'a Thread,
    },
}

/// A post as its form sent it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draft<'a> {
    pub place: Place<'a>,
    pub body: &'a str,
    pub submission_key: &'a str,
    /// The version of the group's ground rules the member ticked to accept, if they did.
    pub accept_rules_version: Option<i32>,
}

/// A post just written, with its thread (for the address to send the member to).
#[derive(Debug, Clone)]
pub struct Posted {
    pub post: Post,
    pub thread: Thread,
    /// The post matched the crisis phrases: show its author the help page now.
    pub check_in: bool,
}

/// Publishes a draft the caller has authorized against the page it came from. A form sent
/// twice (same submission key) returns the post the first sending made. A post that awaits
/// approval takes its place but counts nowhere until approved.
pub(crate) fn publish(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    draft: &Draft<'_>,
) -> Result<Posted> {
    check(rules, draft)?;
    if let Some(posted) = again(conn, member, draft.submission_key)? {
        return Ok(posted);
    }
    let (board, title) = match draft.place {
        Place::NewThread { board, title } => (board, title.trim()),
        Place::Reply { board, .. } => (board, ""),
    };
    let screened = gate::screen(conn, rules, member, board, title, draft.body)?;
    if let Place::Reply { thread, .. } = draft.place {
        if let Some(posted) = same_reply(conn, rules, member, thread, &screened.source)? {
            return Ok(posted);
        }
    }
    let thread = match draft.place {
        Place::Reply { thread, .. } => Some(thread),
        Place::NewThread { .. } => None,
    };
    let writing = Writing::New { thread };
    gate::check_limits(conn, rules, member, board, writing, clock::now())?;
    let names = addressing::resolve(conn, &screened.source)?;
    let html = render(&screened.source, &names)?;
    // An opening post's one-line excerpt for its group page, made outside the lock too.
    let excerpt =
        matches!(draft.place, Place::NewThread { .. }).then(|| posts::excerpt_of(&screened.source));
    // And the text the search index holds.
    let plain = search::index::plain_text(&screened.source);
    #[cfg(test)]
    hooks::before_write();
    let outcome = write_tx(conn, |conn| {
        let now = clock::now();
        let claimed = claim(conn, member, &draft.place)?;
        let member = &claimed.member;
        groups::require_rules(
            conn,
            member,
            &claimed.board,
            draft.accept_rules_version,
            now,
        )?;
        let judgement = gate::judge(
            conn,
            rules,
            member,
            &claimed.board,
            Writing::New {
                thread: claimed.thread.as_ref(),
            },
            &screened,
            now,
        )?;
        let written = Written {
            html: &html,
            excerpt: excerpt.as_deref(),
        };
        let (thread_id, post_id) = write(
            conn, member, &claimed, &screened, &written, &judgement, draft, now,
        )?;
        count(conn, member, &claimed, thread_id, &judgement, now)?;
        gate::record(conn, &judgement, claimed.board.id, post_id, now)?;
        let post = posts::by_id(conn, post_id)?;
        // Findable from this commit on, if it is visible.
        let title = claimed
            .thread
            .as_ref()
            .map_or(&screened.title, |t| &t.title);
        search::sync_written(conn, &post, title, &plain, &claimed.board.language)?;
        // Its readers are told (`fanout`): the first batch in this commit, with the members
        // it names and quotes; a job row for the worker only if more are left.
        let addressed = if post.moderation == Moderation::Visible {
            addressing::addressed(conn, member, &names, None, rules.mentions_notified)?
        } else {
            // Told when approved (`posts::set_moderation`).
            notifications::Addressed::default()
        };
        fanout::tell_new(conn, post_id, &addressed, now)?;
        Ok(post)
    });
    match outcome {
        Ok(post) => posted(conn, post, screened.check_in),
        Err(e) if e.is_unique_violation() => again(conn, member, draft.submission_key)?.ok_or(e),
        Err(e) => Err(e),
    }
}

/// The form's own checks: a title for a new thread, a body, a submission key.
fn check(rules: &PostingRules, draft: &Draft<'_>) -> Result<()> {
    let mut invalid = Invalid::default();
    if let Place::NewThread { title, .. } = draft.place {
        thread_ops::check_title(title, &mut invalid);
    }
    posts::check_body(draft.body, rules.max_body_bytes, &mut invalid);
    posts::check_submission_key(draft.submission_key, &mut invalid);
    invalid.into_result()
}

/// What an earlier sending of the same form made, if it got through.
fn again(conn: &mut DbConn, member: &MemberActor, key: &str) -> Result<Option<Posted>> {
    match posts::by_submission_key(conn, member.id, key)? {
        Some(existing) => posted(conn, existing, false).map(Some),
        None => Ok(None),
    }
}

/// The reply its author made in this thread a few minutes ago with the same text, if any: the
/// same reply sent again from a form that Back brought back with a new submission key.
fn same_reply(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    thread: &Thread,
    source: &str,
) -> Result<Option<Posted>> {
    if rules.same_reply_minutes == 0 {
        return Ok(None);
    }
    let since = clock::now() - TimeDelta::minutes(i64::from(rules.same_reply_minutes));
    let earlier: Option<Post> = post_rows::table
        .filter(post_rows::author_id.eq(member.id))
        .filter(post_rows::created_at.gt(since))
        .filter(post_rows::thread_id.eq(thread.id))
        .filter(post_rows::state.eq(Publication::Published.as_str()))
        .filter(post_rows::source.eq(source))
        .order(post_rows::created_at.desc())
        .select(Post::as_select())
        .first(conn)
        .optional()?;
    earlier.map(|post| posted(conn, post, false)).transpose()
}

fn posted(conn: &mut DbConn, post: Post, check_in: bool) -> Result<Posted> {
    let thread = thread_ops::by_id(conn, post.thread_id)?;
    Ok(Posted {
        post,
        thread,
        check_in,
    })
}

/// The post's place as it is inside the transaction, with the member as they are now.
struct Claimed {
    member: MemberActor,
    board: Board,
    /// The thread replied to (`None` for a new thread), its position already taken.
    thread: Option<Thread>,
    /// The position the new post takes in its thread.
    position: i32,
}

/// Inside the transaction: takes the post's place and authorizes it again with what is stored
/// now. A reply takes the next position by updating its thread row first, which serializes it
/// with a lock or a move of that thread (the row lock on PostgreSQL, the write lock on SQLite):
/// it never lands in a thread locked since its page, and it counts on the board the thread is on
/// when it commits, authorized there (ground rules, pre-moderation and bans included). The
/// member is read again too, so a suspension or ban committed before this transaction refuses
/// the post; on PostgreSQL one that commits while it runs is ordered after it.
fn claim(conn: &mut DbConn, member: &MemberActor, place: &Place<'_>) -> Result<Claimed> {
    let account = members::by_id(conn, member.id)?;
    let member = actors::actor_for(conn, account)?;
    let actor = member.actor();
    match *place {
        Place::NewThread { board, .. } => {
            let board = board_ops::by_id(conn, board.id)?;
            policy::authorize(&actor, Action::StartThread(&board))?;
            Ok(Claimed {
                member,
                board,
                thread: None,
                position: 1,
            })
        }
        Place::Reply { thread, .. } => {
            // `Thread` is the whole row in table order (`as_returning` cannot go through the
            // `MultiConnection`; a column added to one and not the other does not compile).
            let claim = Cached(
                diesel::update(threads::table.find(thread.id))
                    .set(threads::last_position.eq(threads::last_position + 1))
                    .returning(threads::all_columns),
            );
            let thread: Thread = per_connection!(conn, |c| claim.get_result(c).optional())?
                .ok_or(Error::NotFound)?;
            let board = board_ops::by_id(conn, thread.board_id)?;
            policy::authorize(&actor, Action::Reply(&board, &thread))?;
            Ok(Claimed {
                member,
                board,
                position: thread.last_position,
                thread: Some(thread),
            })
        }
    }
}

/// What was made of a post's text before the transaction.
struct Written<'a> {
    html: &'a hearth_markdown::SafeHtml,
    /// The opening post's excerpt; `None` for a reply.
    excerpt: Option<&'a str>,
}

/// Writes the new thread (for an opening post) and the post itself.
#[allow(clippy::too_many_arguments)]
fn write(
    conn: &mut DbConn,
    member: &MemberActor,
    claimed: &Claimed,
    screened: &Screened<'_>,
    written: &Written<'_>,
    judgement: &Judgement,
    draft: &Draft<'_>,
    now: NaiveDateTime,
) -> Result<(ThreadId, PostId)> {
    let thread_id: ThreadId = match &claimed.thread {
        Some(thread) => thread.id,
        None => diesel::insert_into(threads::table)
            .values((
                threads::board_id.eq(claimed.board.id),
                threads::author_id.eq(member.id),
                threads::title.eq(&screened.title),
                threads::slug.eq(thread_ops::slug_of(&screened.title)),
                threads::last_position.eq(1),
                threads::created_at.eq(now),
                threads::last_activity_at.eq(now),
                threads::last_poster_id.eq(member.id),
                threads::moderation.eq(judgement.moderation.as_str()),
            ))
            .returning(threads::id)
            .get_result(conn)?,
    };
    let post_id = posts::insert(
        conn,
        &posts::NewPost {
            thread_id,
            author_id: member.id,
            position: claimed.position,
            source: &screened.source,
            html: written.html,
            // Only an opening post has one (a reply's position is never 1).
            excerpt: written.excerpt.filter(|_| claimed.position == 1),
            submission_key: draft.submission_key,
            moderation: judgement.moderation,
            now,
        },
    )?;
    Ok((thread_id, post_id))
}

/// Counts a visible post on its thread, its board (when the thread counts there) and its
/// author, in the posting transaction. A post awaiting approval counts nowhere yet.
fn count(
    conn: &mut DbConn,
    member: &MemberActor,
    claimed: &Claimed,
    thread_id: ThreadId,
    judgement: &Judgement,
    now: NaiveDateTime,
) -> Result<()> {
    if judgement.moderation != Moderation::Visible {
        return Ok(());
    }
    let board = claimed.board.id;
    match &claimed.thread {
        Some(thread) => {
            let on_thread = Cached(diesel::update(threads::table.find(thread.id)).set((
                threads::reply_count.eq(threads::reply_count + 1),
                threads::last_activity_at.eq(now),
                threads::last_poster_id.eq(member.id),
            )));
            per_connection!(conn, |c| on_thread.run(c))?;
            if thread.counts() {
                let on_board = Cached(diesel::update(boards::table.find(board)).set((
                    boards::post_count.eq(boards::post_count + 1),
                    boards::last_activity_at.eq(now),
                    boards::last_thread_id.eq(thread.id),
                )));
                per_connection!(conn, |c| on_board.run(c))?;
            }
        }
        None => {
            diesel::update(boards::table.find(board))
                .set((
                    boards::thread_count.eq(boards::thread_count + 1),
                    boards::post_count.eq(boards::post_count + 1),
                    boards::last_activity_at.eq(now),
                    boards::last_thread_id.eq(thread_id),
                ))
                .execute(conn)?;
        }
    }
    thread_ops::count_member_post(conn, member.id, 1)
}

/// What a post with this text would look like, for the Preview button of the new-thread, reply
/// and edit forms: the renderer and sanitizer of posting, names linked as they would be. Nothing
/// is stored, no posting limit counts it, nobody is notified; the watched-word gate runs only
/// when the post is sent. The text is bounded as a post's is before anything else; then the
/// preview counts against the member's `previews_per_hour` (`db::counters`, in a short write of
/// its own that does not wait for the disk: call this on the database threads), and only then
/// is it rendered.
pub fn preview(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    source: &str,
) -> Result<hearth_markdown::SafeHtml> {
    let mut invalid = crate::error::Invalid::default();
    crate::forum::posts::check_body(source, rules.max_body_bytes, &mut invalid);
    invalid.into_result()?;
    let per_hour = rules.previews_per_hour;
    let subject = format!("preview:m{}", member.id.0);
    if per_hour > 0 {
        write_tx_counter(conn, |conn| {
            counters::within_hour(conn, &subject, per_hour, clock::now(), || {
                format!(
                    "you can preview at most {per_hour} times an hour; post your text when it \
                     reads right, or preview it again in a little while"
                )
            })
        })?;
    }
    let names = addressing::resolve(conn, source)?;
    render(source, &names)
}

/// Renders a post's text, linking the names that belong to members. Only after every cheap
/// check, and never inside the transaction.
fn render(source: &str, names: &addressing::Names) -> Result<hearth_markdown::SafeHtml> {
    #[cfg(test)]
    hooks::rendered();
    let limits = hearth_markdown::RenderLimits::DEFAULT;
    hearth_markdown::render_post_within(source, &limits, &names.known)
        .map_err(|too_complex| Error::invalid("body", too_complex.to_string()))
}

/// An edit as its form sent it, of a post the caller found and authorized.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EditDraft<'a> {
    pub board: &'a Board,
    pub thread: &'a Thread,
    pub post: &'a Post,
    pub body: &'a str,
}

/// Replaces a post's text through the same gate as a new post: limits (edit limits), watched
/// words (block, mask, hold, flag), crisis phrases, pre-moderation. The old text goes to the
/// post's revisions. A visible post held by its new text awaits approval again, out of every
/// count until a moderator approves it.
pub(crate) fn revise(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    edit: &EditDraft<'_>,
) -> Result<Posted> {
    let mut invalid = Invalid::default();
    posts::check_body(edit.body, rules.max_body_bytes, &mut invalid);
    invalid.into_result()?;
    if edit.body == edit.post.source {
        return Ok(Posted {
            post: edit.post.clone(),
            thread: edit.thread.clone(),
            check_in: false,
        });
    }
    let screened = gate::screen(conn, rules, member, edit.board, "", edit.body)?;
    let writing = Writing::Edit { post: edit.post };
    gate::check_limits(conn, rules, member, edit.board, writing, clock::now())?;
    let names = addressing::resolve(conn, &screened.source)?;
    let html = render(&screened.source, &names)?;
    let excerpt = (edit.post.position == 1).then(|| posts::excerpt_of(&screened.source));
    #[cfg(test)]
    hooks::before_write();
    let post = write_tx(conn, |conn| {
        let now = clock::now();
        let (member, board, thread, post) = claim_edit(conn, member, edit.post.id)?;
        let judgement = gate::judge(
            conn,
            rules,
            &member,
            &board,
            Writing::Edit { post: &post },
            &screened,
            now,
        )?;
        keep_revision(conn, &post, member.id, rules.edits.revisions_kept, now)?;
        diesel::update(post_rows::table.find(post.id))
            .set((
                post_rows::source.eq(screened.source.as_ref()),
                post_rows::html.eq(html.as_str()),
                post_rows::render_version.eq(hearth_markdown::RENDERER_VERSION),
                post_rows::edited_at.eq(now),
                post_rows::excerpt.eq(excerpt.as_deref()),
            ))
            .execute(conn)?;
        if judgement.moderation != post.moderation {
            let to = judgement.moderation;
            posts::set_moderation(
                conn,
                &board,
                &thread,
                &post,
                to,
                "",
                rules.mentions_notified,
            )?;
        } else if post.moderation == Moderation::Visible {
            let before = Some(post.source.as_str());
            let max = rules.mentions_notified;
            let addressed = addressing::addressed(conn, &member, &names, before, max)?;
            fanout::post_edited(conn, &board, &thread, &post, &addressed, now)?;
        }
        gate::record(conn, &judgement, board.id, post.id, now)?;
        // Found by its new words, and no longer by the old ones.
        crate::search::sync_post(conn, post.id)?;
        posts::by_id(conn, post.id)
    })?;
    posted(conn, post, screened.check_in)
}

/// Inside the edit's transaction: the post, its thread, its board and the member as stored
/// now, the edit authorized again (a ban, a suspension or a lock committed since the form was
/// sent refuses it). Touching the post row first serializes the edit with a moderator's
/// decision on it (the row lock on PostgreSQL, the write lock on SQLite).
fn claim_edit(
    conn: &mut DbConn,
    member: &MemberActor,
    post_id: PostId,
) -> Result<(MemberActor, Board, Thread, Post)> {
    let touched = diesel::update(post_rows::table.find(post_id))
        .set(post_rows::id.eq(post_id))
        .execute(conn)?;
    if touched != 1 {
        return Err(Error::NotFound);
    }
    let account = members::by_id(conn, member.id)?;
    let member = actors::actor_for(conn, account)?;
    let post = posts::by_id(conn, post_id)?;
    let thread = thread_ops::by_id(conn, post.thread_id)?;
    let board = board_ops::by_id(conn, thread.board_id)?;
    policy::authorize(&member.actor(), Action::EditPost(&board, &thread, &post))?;
    Ok((member, board, thread, post))
}

/// Keeps the text an edit replaces as the post's newest revision. A post keeps at most `kept`
/// revisions (0: all): its original text, which moderators need to see what was first said,
/// and the newest others; the oldest of those go, in the edit's transaction.
fn keep_revision(
    conn: &mut DbConn,
    post: &Post,
    editor: MemberId,
    kept: u32,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(post_revisions::table)
        .values((
            post_revisions::post_id.eq(post.id),
            post_revisions::editor_id.eq(editor),
            post_revisions::source.eq(&post.source),
            post_revisions::html.eq(&post.html),
            post_revisions::render_version.eq(post.render_version),
            post_revisions::replaced_at.eq(now),
        ))
        .execute(conn)?;
    let Ok(kept) = usize::try_from(kept) else {
        return Ok(());
    };
    if kept == 0 {
        return Ok(());
    }
    // The original, and the newest `kept - 1` others; everything between goes, in one range
    // (a post edited many times before there was a bound may have thousands).
    let of_post = post_revisions::table.filter(post_revisions::post_id.eq(post.id));
    let original: Option<i64> = of_post
        .select(diesel::dsl::min(post_revisions::id))
        .get_result(conn)?;
    let Some(original) = original else {
        return Ok(());
    };
    let oldest_newer_kept: Option<i64> = match i64::try_from(kept - 1) {
        Ok(0) | Err(_) => None,
        Ok(newer) => of_post
            .filter(post_revisions::id.gt(original))
            .order(post_revisions::id.desc())
            .offset(newer - 1)
            .select(post_revisions::id)
            .first(conn)
            .optional()?,
    };
    let between = of_post.filter(post_revisions::id.gt(original));
    match (kept, oldest_newer_kept) {
        (1, _) => diesel::delete(between).execute(conn)?,
        (_, Some(oldest_kept)) => {
            diesel::delete(between.filter(post_revisions::id.lt(oldest_kept))).execute(conn)?
        }
        // Fewer than `kept - 1` newer versions: nothing to prune.
        (_, None) => 0,
    };
    Ok(())
}

/// A test's way into the moment between a page's authorization and the posting transaction,
/// where another member's lock or move can land.
#[cfg(test)]
pub(crate) mod hooks {
    use std::cell::RefCell;

    thread_local! {
        static BEFORE_WRITE: RefCell<Option<Box<dyn FnOnce()>>> = RefCell::new(None);
        static RENDERED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// How many posts this thread has rendered so far.
    pub(crate) fn renders() -> u32 {
        RENDERED.with(std::cell::Cell::get)
    }

    pub(super) fn rendered() {
        RENDERED.with(|n| n.set(n.get() + 1));
    }

    /// Runs `f` once, just before this thread's next posting transaction begins.
    pub(crate) fn set_before_write(f: impl FnOnce() + 'static) {
        BEFORE_WRITE.with(|hook| *hook.borrow_mut() = Some(Box::new(f)));
    }

    pub(super) fn before_write() {
        if let Some(f) = BEFORE_WRITE.with(|hook| hook.borrow_mut().take()) {
            f();
        }
    }
}

#[cfg(test)]
mod tests;
