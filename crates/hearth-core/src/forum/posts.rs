//! Posts: what members write. Each post keeps its markdown source, the sanitized HTML rendered
//! once at write time, and the renderer version that made it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{
    board_facilitators, boards, members as members_table, post_revisions, posts,
    threads as threads_table,
};
use crate::db::{per_connection, write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::publish::{publish, revise, Draft, EditDraft, Place, Posted};
use crate::forum::threads::{self, count_member_post};
use crate::ids::{BoardId, MemberId, PostId, ThreadId};
use crate::model::{AuthorRef, Board, Moderation, Post, Publication, Thread};
use crate::policy::{self, Action, Actor, MemberActor};
use crate::safety::gate::PostingRules;
use crate::{accounts::tokens, clock};

pub const MAX_BODY_CHARS: usize = 50_000;
/// Posts on one page of a thread.
pub const POSTS_PER_PAGE: i32 = 20;

/// A post as a thread page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PostView {
    pub post: Post,
    pub author: Option<AuthorRef>,
    /// The author facilitates the thread's group: the "Facilitator" badge.
    pub facilitator: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThreadPage {
    pub posts: Vec<PostView>,
    /// 1-based.
    pub page: i32,
    pub n_pages: i32,
}

/// The page of a thread that holds `position`.
pub fn page_of_position(position: i32) -> i32 {
    (position - 1).max(0) / POSTS_PER_PAGE + 1
}

/// Page `page` of a thread: the posts whose positions fall in that page's range. Positions are
/// dense and indexed, so page 500 costs what page 1 costs.
pub fn thread_page(conn: &mut DbConn, thread: &Thread, page: i32) -> Result<ThreadPage> {
    let n_pages = page_of_position(thread.last_position.max(1));
    let page = page.clamp(1, n_pages);
    let first = (page - 1) * POSTS_PER_PAGE + 1;
    // The posts with their authors in one statement, whose shape never changes, so SQLite
    // prepares it once per connection (an `IN (…)` list of authors would be prepared each time).
    // The authors' roles come with them: their site role is a column, and whether they
    // facilitate this group one primary-key lookup per post, so badges cost no statement.
    // Sent to the inner connection: see `db::per_connection`.
    let rows: Vec<(Post, AuthorRef, bool)> = per_connection!(conn, |c| posts::table
        .inner_join(members_table::table)
        .filter(posts::thread_id.eq(thread.id))
        .filter(posts::position.between(first, first + POSTS_PER_PAGE - 1))
        .order(posts::position.asc())
        .select((
            Post::as_select(),
            AuthorRef::as_select(),
            diesel::dsl::exists(
                board_facilitators::table
                    .filter(board_facilitators::board_id.eq(thread.board_id))
                    .filter(board_facilitators::member_id.eq(posts::author_id)),
            ),
        ))
        .load(c))?;
    let posts = rows
        .into_iter()
        .map(|(post, author, facilitator)| PostView {
            post,
            author: author.present(),
            facilitator,
        })
        .collect();
    Ok(ThreadPage {
        posts,
        page,
        n_pages,
    })
}

/// A post's text: something, at most [`MAX_BODY_CHARS`] characters and at most `max_bytes`
/// bytes (an emoji or a letter of many scripts takes several bytes; the database stores bytes).
pub fn check_body(body: &str, max_bytes: usize, invalid: &mut Invalid) {
    if body.trim().is_empty() {
        invalid.add("body", "write something before posting");
    } else if body.chars().count() > MAX_BODY_CHARS {
        invalid.add(
            "body",
            format!("a post has at most {MAX_BODY_CHARS} characters; split it into two posts"),
        );
    } else if body.len() > max_bytes {
        invalid.add(
            "body",
            format!(
                "a post has at most {max_bytes} bytes, and this one has {}: emoji and many \
                 letters take several bytes each, so it can be over this limit with fewer than \
                 {MAX_BODY_CHARS} characters; please shorten it or split it into two posts",
                body.len()
            ),
        );
    }
}

/// Submission keys come from our own forms: 16 to 64 URL-safe characters.
pub fn check_submission_key(key: &str, invalid: &mut Invalid) {
    let ok = (16..=64).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        invalid.add(
            "submission_key",
            "this form is out of date; please send it again",
        );
    }
}

/// A fresh submission key for a form about to be shown.
pub fn new_submission_key() -> String {
    tokens::random_token()
}

pub(crate) fn by_submission_key(
    conn: &mut DbConn,
    author: MemberId,
    key: &str,
) -> Result<Option<Post>> {
    Ok(posts::table
        .filter(posts::author_id.eq(author))
        .filter(posts::submission_key.eq(key))
        .select(Post::as_select())
        .get_result(conn)
        .optional()?)
}

pub(crate) fn at_position(
    conn: &mut DbConn,
    thread_id: ThreadId,
    position: i32,
) -> Result<Option<Post>> {
    Ok(posts::table
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::position.eq(position))
        .select(Post::as_select())
        .get_result(conn)
        .optional()?)
}

/// How long a thread row's excerpt of its opening post is, in characters.
pub const EXCERPT_CHARS: usize = 140;

/// The opening post's excerpt as a group page shows it: plain text (the template escapes it),
/// one line, cut at a character and never inside markup.
pub(crate) fn excerpt_of(source: &str) -> String {
    hearth_markdown::plain_text_excerpt(source, EXCERPT_CHARS)
}

/// A post about to be stored.
pub(crate) struct NewPost<'a> {
    pub thread_id: ThreadId,
    pub author_id: MemberId,
    pub position: i32,
    pub source: &'a str,
    pub html: &'a hearth_markdown::SafeHtml,
    /// The opening post's one-line excerpt ([`excerpt_of`]); `None` for a reply.
    pub excerpt: Option<&'a str>,
    pub submission_key: &'a str,
    pub moderation: Moderation,
    pub now: NaiveDateTime,
}

pub(crate) fn insert(conn: &mut DbConn, new: &NewPost<'_>) -> Result<PostId> {
    Ok(diesel::insert_into(posts::table)
        .values((
            posts::thread_id.eq(new.thread_id),
            posts::author_id.eq(new.author_id),
            posts::position.eq(new.position),
            posts::source.eq(new.source),
            posts::html.eq(new.html.as_str()),
            posts::excerpt.eq(new.excerpt),
            posts::render_version.eq(hearth_markdown::RENDERER_VERSION),
            posts::submission_key.eq(new.submission_key),
            posts::created_at.eq(new.now),
            posts::moderation.eq(new.moderation.as_str()),
        ))
        .returning(posts::id)
        .get_result(conn)?)
}

/// What the reply form carries.
#[derive(Debug, Clone, Default)]
pub struct ReplyForm {
    pub body: String,
    pub submission_key: String,
    /// The version of the group's ground rules the member ticked to accept, if they did.
    pub accept_rules_version: Option<i32>,
}

/// Adds a reply through the posting pipeline ([`publish`](crate::forum::publish)), after
/// checking the reader may reply in the thread as they see it now.
pub fn reply(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    thread_id: ThreadId,
    form: &ReplyForm,
) -> Result<Posted> {
    let actor = member.actor();
    let (board, thread) = threads::by_id_for(conn, &actor, thread_id)?;
    policy::authorize(&actor, Action::Reply(&board, &thread))?;
    let draft = Draft {
        place: Place::Reply {
            board: &board,
            thread: &thread,
        },
        body: &form.body,
        submission_key: &form.submission_key,
        accept_rules_version: form.accept_rules_version,
    };
    publish(conn, rules, member, &draft)
}

pub(crate) fn by_id(conn: &mut DbConn, id: PostId) -> Result<Post> {
    per_connection!(conn, |c| posts::table
        .find(id)
        .select(Post::as_select())
        .get_result(c)
        .optional())?
    .ok_or(Error::NotFound)
}

/// A post with its thread and board, if the actor may read it. Deleted posts are not found.
pub fn by_id_for(conn: &mut DbConn, actor: &Actor, id: PostId) -> Result<(Board, Thread, Post)> {
    let post = by_id(conn, id)?;
    if post.state == Publication::Deleted {
        return Err(Error::NotFound);
    }
    let (board, thread) = threads::by_id_for(conn, actor, post.thread_id)?;
    Ok((board, thread, post))
}

/// A post found by its id alone (its permalink, the help page's way back) for a reader who may
/// read its words: a post awaiting approval or hidden is not found for anyone else, so an id
/// reveals nothing of a post one may not read.
pub fn readable_by_id(
    conn: &mut DbConn,
    actor: &Actor,
    id: PostId,
) -> Result<(Board, Thread, Post)> {
    let (board, thread, post) = by_id_for(conn, actor, id)?;
    match policy::decide(actor, Action::ReadPost(&board, &thread, &post)) {
        policy::Ruling::Allow => Ok((board, thread, post)),
        _ => Err(Error::NotFound),
    }
}

/// A reply that starts by quoting a post: the thread page holding the post, as `actor` sees it
/// (the reply form on it decides whether they may answer), and the reply's first words: the
/// post's text as a block quote, attributed to its author and linked to it. Only a visible post
/// the reader may read can be quoted; any other is not found.
pub fn quote_for(
    conn: &mut DbConn,
    actor: &Actor,
    id: PostId,
) -> Result<(crate::forum::threads::ThreadView, String)> {
    let (_, thread, post) = readable_by_id(conn, actor, id)?;
    if post.moderation != Moderation::Visible {
        return Err(Error::NotFound);
    }
    let author = crate::accounts::members::by_id(conn, post.author_id)?;
    let view = threads::page_for(conn, actor, thread.id, page_of_position(post.position))?;
    Ok((
        view,
        quote_text(&author.display_name, post.id, &post.source),
    ))
}

/// `> **Fran** [wrote](/p/123):` and the quoted text, each line in the quote, then an empty
/// line for the reply. The name is the member's own text, so its Markdown is escaped.
pub fn quote_text(display_name: &str, id: PostId, source: &str) -> String {
    let mut name = String::with_capacity(display_name.len());
    for c in display_name.chars() {
        if c.is_ascii_punctuation() {
            name.push('\\');
        }
        name.push(c);
    }
    let mut text = format!("> **{name}** [wrote](/p/{}):\n", id.0);
    for line in source.trim_end().lines() {
        text.push('>');
        if !line.is_empty() {
            text.push(' ');
            text.push_str(line);
        }
        text.push('\n');
    }
    text.push('\n');
    text
}

/// Replaces a post's text, keeping the previous version in its revision history, through the
/// posting pipeline's gate ([`revise`](crate::forum::publish)): an edit is limited, screened,
/// held and checked in on exactly as a new post.
pub fn edit(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    post_id: PostId,
    new_source: &str,
) -> Result<Posted> {
    let actor = member.actor();
    let (board, thread, post) = by_id_for(conn, &actor, post_id)?;
    policy::authorize(&actor, Action::EditPost(&board, &thread, &post))?;
    let draft = EditDraft {
        board: &board,
        thread: &thread,
        post: &post,
        body: new_source,
    };
    revise(conn, rules, member, &draft)
}

/// One earlier version of a post.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = post_revisions)]
pub struct Revision {
    pub editor_id: MemberId,
    pub source: String,
    pub html: String,
    pub replaced_at: NaiveDateTime,
}

/// A post's earlier versions, oldest first.
pub fn revisions(conn: &mut DbConn, post_id: PostId) -> Result<Vec<Revision>> {
    Ok(post_revisions::table
        .filter(post_revisions::post_id.eq(post_id))
        .order(post_revisions::id.asc())
        .select(Revision::as_select())
        .load(conn)?)
}

/// What deleting a post did, so the caller can send the member somewhere sensible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The post is gone from its thread, which goes on.
    Post { thread_id: ThreadId },
    /// It was the opening post of a thread nobody had answered: the thread is gone too.
    Thread { board_id: crate::ids::BoardId },
}

/// The author's own delete: a soft delete that keeps every counter right, in one transaction.
pub fn delete_own(conn: &mut DbConn, member: &MemberActor, post_id: PostId) -> Result<Deleted> {
    let actor = member.actor();
    let (board, thread, post) = by_id_for(conn, &actor, post_id)?;
    policy::authorize(&actor, Action::DeletePost(&board, &thread, &post))?;
    write_tx(conn, |conn| {
        let now = clock::now();
        diesel::update(posts::table.find(post.id))
            .set((
                posts::state.eq(Publication::Deleted.as_str()),
                posts::deleted_at.eq(now),
            ))
            .execute(conn)?;
        crate::search::sync_post(conn, post.id)?;
        let counted = post.moderation == Moderation::Visible;
        if counted {
            count_member_post(conn, post.author_id, -1)?;
        }
        let post_delta = if counted && thread.counts() { -1 } else { 0 };
        let remaining = published_in_thread(conn, thread.id, false)?;
        if post.position == 1 && remaining == 0 {
            diesel::update(threads_table::table.find(thread.id))
                .set(threads_table::state.eq(Publication::Deleted.as_str()))
                .execute(conn)?;
            let thread_delta = if thread.counts() { -1 } else { 0 };
            recount_board(conn, board.id, thread_delta, post_delta)?;
            // Notifications last: rows are locked in the posting order.
            crate::notifications::post_withdrawn(conn, &post)?;
            return Ok(Deleted::Thread { board_id: board.id });
        }
        recount_thread(conn, &thread)?;
        recount_board(conn, board.id, 0, post_delta)?;
        crate::notifications::post_withdrawn(conn, &post)?;
        Ok(Deleted::Post {
            thread_id: thread.id,
        })
    })
}

/// A thread's published posts; with `visible_only`, only those moderation let through.
pub(crate) fn published_in_thread(
    conn: &mut DbConn,
    thread_id: ThreadId,
    visible_only: bool,
) -> Result<i64> {
    let mut query = posts::table
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::state.eq(Publication::Published.as_str()))
        .into_boxed();
    if visible_only {
        query = query.filter(posts::moderation.eq(Moderation::Visible.as_str()));
    }
    Ok(query.count().get_result(conn)?)
}

/// Inside a decision's transaction: whether the post's moderation is still what the moderator
/// saw. Touching the row (an UPDATE that changes nothing) takes its lock on PostgreSQL, so a
/// concurrent decision waits and then finds the new state; SQLite's writers are serialized.
pub(crate) fn claim_moderation(conn: &mut DbConn, post: &Post) -> Result<bool> {
    let touched = diesel::update(
        posts::table
            .find(post.id)
            .filter(posts::moderation.eq(post.moderation.as_str())),
    )
    .set(posts::moderation.eq(post.moderation.as_str()))
    .execute(conn)?;
    Ok(touched == 1)
}

/// Inside a decision's transaction: whether the post's text is still the one the moderator saw
/// (not edited since `post` was loaded). Touching the row takes its lock on PostgreSQL, so an
/// edit in flight commits first and is then seen; SQLite's writers are serialized.
pub(crate) fn claim_text(conn: &mut DbConn, post: &Post) -> Result<bool> {
    let update = diesel::update(posts::table.find(post.id)).into_boxed();
    let update = match post.edited_at {
        Some(at) => update.filter(posts::edited_at.eq(at)),
        None => update.filter(posts::edited_at.is_null()),
    };
    let touched = update
        .set(posts::edited_at.eq(post.edited_at))
        .execute(conn)?;
    Ok(touched == 1)
}

/// A moderator's decision on a post: shown, awaiting, or hidden with a reason. Keeps every
/// counter right: a post counts on its thread, board and author only while it is visible, and
/// the opening post carries its whole thread with it. Runs inside the caller's transaction.
/// An approved post tells whoever would have heard of it when it was written, the first
/// `max_mentions` members it mentions among them.
pub(crate) fn set_moderation(
    conn: &mut DbConn,
    board: &Board,
    thread: &Thread,
    post: &Post,
    to: Moderation,
    hidden_reason: &str,
    max_mentions: usize,
) -> Result<()> {
    diesel::update(posts::table.find(post.id))
        .set((
            posts::moderation.eq(to.as_str()),
            posts::hidden_reason.eq(hidden_reason),
        ))
        .execute(conn)?;
    // Findable exactly while visible (and published).
    crate::search::sync_post(conn, post.id)?;
    let published = post.state == Publication::Published;
    let was = published && post.moderation == Moderation::Visible;
    let will = published && to == Moderation::Visible;
    let member_delta = i64::from(will) - i64::from(was);
    if member_delta != 0 {
        count_member_post(conn, post.author_id, member_delta)?;
    }
    let (thread_delta, post_delta) = if post.position == 1 {
        diesel::update(threads_table::table.find(thread.id))
            .set(threads_table::moderation.eq(to.as_str()))
            .execute(conn)?;
        let thread_was = thread.counts();
        let thread_will = thread.state == Publication::Published && to == Moderation::Visible;
        let visible_posts = published_in_thread(conn, thread.id, true)?;
        match (thread_was, thread_will) {
            (false, true) => (1, visible_posts),
            // Before this change the opening post (if it was visible) counted too.
            (true, false) => (-1, -(visible_posts + i64::from(was))),
            (true, true) => (0, member_delta),
            (false, false) => (0, 0),
        }
    } else if thread.counts() {
        (0, member_delta)
    } else {
        (0, 0)
    };
    recount_thread(conn, thread)?;
    recount_board(conn, board.id, thread_delta, post_delta)?;
    // Notifications last, so rows are locked in the posting order: thread, board, member,
    // then notifications.
    if was && !will {
        crate::notifications::post_withdrawn(conn, post)?;
    }
    if will && post.moderation == Moderation::Awaiting {
        // Approved: news now to whoever would have heard of it when it was written, told
        // after this transaction with the thread and board as they are then. Whom it names,
        // from the text as stored now (an edit in this transaction may have replaced it).
        let source: String = posts::table
            .find(post.id)
            .select(posts::source)
            .get_result(conn)?;
        let author = crate::accounts::members::by_id(conn, post.author_id)?;
        let author = crate::accounts::actors::actor_for(conn, author)?;
        let names = super::addressing::resolve(conn, &source)?;
        // A post shown before and held after an edit was news when first written: only those
        // the edit newly names hear of it (as an edit that was not held tells them), compared
        // with the text before the edit, its newest revision. (A post held from the start and
        // edited while it waited reads the same way.)
        let before: Option<String> = if post.edited_at.is_some() {
            crate::db::schema::post_revisions::table
                .filter(crate::db::schema::post_revisions::post_id.eq(post.id))
                .order(crate::db::schema::post_revisions::id.desc())
                .select(crate::db::schema::post_revisions::source)
                .first(conn)
                .optional()?
        } else {
            None
        };
        let addressed =
            super::addressing::addressed(conn, &author, &names, before.as_deref(), max_mentions)?;
        let audience = if before.is_some() {
            crate::notifications::fanout::Audience::ShownBefore
        } else {
            crate::notifications::fanout::Audience::Followers
        };
        let now = crate::clock::now();
        crate::notifications::fanout::enqueue(conn, post.id, &addressed, audience, now)?;
    }
    Ok(())
}

/// Sets a thread's reply count and last activity from its visible, published posts.
pub(crate) fn recount_thread(conn: &mut DbConn, thread: &Thread) -> Result<()> {
    let visible = posts::table
        .filter(posts::thread_id.eq(thread.id))
        .filter(posts::state.eq(Publication::Published.as_str()))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()));
    let replies: i64 = visible
        .filter(posts::position.gt(1))
        .count()
        .get_result(conn)?;
    let latest: Option<(NaiveDateTime, MemberId)> = visible
        .order(posts::position.desc())
        .select((posts::created_at, posts::author_id))
        .first(conn)
        .optional()?;
    let (last_activity_at, last_poster) = match latest {
        Some((at, who)) => (at, Some(who)),
        None => (thread.created_at, None),
    };
    diesel::update(threads_table::table.find(thread.id))
        .set((
            threads_table::reply_count.eq(replies),
            threads_table::last_activity_at.eq(last_activity_at),
            threads_table::last_poster_id.eq(last_poster),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves a board's counts by the deltas and finds its latest visible thread again.
pub(crate) fn recount_board(
    conn: &mut DbConn,
    board_id: BoardId,
    thread_delta: i64,
    post_delta: i64,
) -> Result<()> {
    let latest: Option<(ThreadId, NaiveDateTime)> = threads_table::table
        .filter(threads_table::board_id.eq(board_id))
        .filter(threads_table::state.eq(Publication::Published.as_str()))
        .filter(threads_table::moderation.eq(Moderation::Visible.as_str()))
        .order(threads_table::last_activity_at.desc())
        .select((threads_table::id, threads_table::last_activity_at))
        .first(conn)
        .optional()?;
    diesel::update(boards::table.find(board_id))
        .set((
            boards::thread_count.eq(boards::thread_count + thread_delta),
            boards::post_count.eq(boards::post_count + post_delta),
            boards::last_activity_at.eq(latest.map(|l| l.1)),
            boards::last_thread_id.eq(latest.map(|l| l.0)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A post with its thread and board, if `member` may take `action` on it: what the form
/// before that action shows.
pub(crate) fn for_action(
    conn: &mut DbConn,
    member: &MemberActor,
    id: PostId,
    action: impl for<'a> Fn(&'a Board, &'a Thread, &'a Post) -> Action<'a>,
) -> Result<(Board, Thread, Post)> {
    let actor = member.actor();
    let found = by_id_for(conn, &actor, id)?;
    let (board, thread, post) = &found;
    policy::authorize(&actor, action(board, thread, post))?;
    Ok(found)
}

/// The post for its edit form, if `member` may edit it (see [`edit`]).
pub fn for_edit(
    conn: &mut DbConn,
    member: &MemberActor,
    id: PostId,
) -> Result<(Board, Thread, Post)> {
    for_action(conn, member, id, |b, t, p| Action::EditPost(b, t, p))
}

/// The post for the question before deleting it, if `member` may delete it (see
/// [`delete_own`]).
pub fn for_delete(
    conn: &mut DbConn,
    member: &MemberActor,
    id: PostId,
) -> Result<(Board, Thread, Post)> {
    for_action(conn, member, id, |b, t, p| Action::DeletePost(b, t, p))
}
