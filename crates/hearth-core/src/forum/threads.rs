//! Threads: a title and a conversation of posts on one board.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamp};
use serde::Serialize;

use crate::db::schema::{
    boards as boards_table, members as members_table, mutes, posts as posts_table, thread_reads,
    threads,
};
use crate::db::{self, per_connection, Cached, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards;
use crate::forum::posts;
use crate::forum::publish::{publish, Draft, Place, Posted};
use crate::forum::reads::{self, news_columns, NewsColumns};
use crate::groups;
use crate::ids::{MemberId, ThreadId};
use crate::model::{self, AuthorRef, Board, Post, Publication, SiteRole, Thread};
use crate::policy::{self, Action, Actor, MemberActor};
use crate::safety::gate::PostingRules;

pub const MIN_TITLE_CHARS: usize = 3;
pub const MAX_TITLE_CHARS: usize = 150;
/// Threads on one page of a board.
pub const THREADS_PER_PAGE: i64 = 30;

/// A thread as a board page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadListing {
    pub thread: Thread,
    /// One line of the opening post as plain text; empty when it may not be shown (deleted,
    /// hidden), was not made yet, or its author is muted by the reader.
    pub excerpt: String,
    pub author: Option<AuthorRef>,
    /// The reader muted the thread's author: the row shows no words of theirs, as the thread
    /// page collapses their posts.
    pub author_muted: bool,
    pub last_poster: Option<AuthorRef>,
    /// What is new in it for the member reading the listing (`None` for visitors, and when
    /// nothing is).
    pub unread: Option<reads::Unread>,
}

/// Where a board page starts: just after this thread in listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardCursor {
    pub pinned: bool,
    pub last_activity_at: NaiveDateTime,
    pub id: ThreadId,
}

impl BoardCursor {
    /// A compact, URL-safe form: `<pinned 0|1>.<microseconds>.<id>`.
    pub fn encode(&self) -> String {
        let micros = self.last_activity_at.and_utc().timestamp_micros();
        format!("{}.{}.{}", u8::from(self.pinned), micros, self.id)
    }

    pub fn decode(text: &str) -> Option<BoardCursor> {
        let mut parts = text.splitn(3, '.');
        let pinned = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let micros: i64 = parts.next()?.parse().ok()?;
        let id: i64 = parts.next()?.parse().ok()?;
        let last_activity_at = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
        Some(BoardCursor {
            pinned,
            last_activity_at,
            id: ThreadId(id),
        })
    }

    fn of(thread: &Thread) -> BoardCursor {
        BoardCursor {
            pinned: thread.pinned,
            last_activity_at: thread.last_activity_at,
            id: thread.id,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardPage {
    pub threads: Vec<ThreadListing>,
    /// Present when there are more threads after this page.
    #[serde(skip)]
    pub next: Option<BoardCursor>,
}

/// Later than the cursor in a board's order. A row-value comparison, which SQLite and
/// PostgreSQL both turn into one range seek on `threads_board_listing`; the equivalent chain
/// of ORs makes SQLite scan. diesel can only write it as literal SQL.
macro_rules! after_board_cursor {
    ($c:expr) => {
        sql::<Bool>("(threads.pinned, threads.last_activity_at, threads.id) < (")
            .bind::<Bool, _>($c.pinned)
            .sql(", ")
            .bind::<Timestamp, _>($c.last_activity_at)
            .sql(", ")
            .bind::<BigInt, _>($c.id.0)
            .sql(")")
    };
}

/// A board's visible threads with their authors and last posters, in listing order: pinned
/// first, then by latest activity. `$reads` is the join the reader's markers come through (or
/// nothing, for visitors), then whether they muted the thread's author.
macro_rules! board_listing {
    ($board:expr, $last_posters:expr, $opening:expr $(, $reads:expr, $muted:expr)?) => {
        threads::table
            .inner_join(members_table::table.on(members_table::id.eq(threads::author_id)))
            .left_join(
                $last_posters.on(threads::last_poster_id
                    .eq($last_posters.field(members_table::id).nullable())),
            )
            // The opening post's excerpt, by the (thread_id, position) key, only while that
            // post may be read: a deleted or hidden opening post shows none.
            .left_join(
                $opening.on($opening
                    .field(posts_table::thread_id)
                    .eq(threads::id)
                    .and($opening.field(posts_table::position).eq(1))
                    .and($opening.field(posts_table::state).eq(Publication::Published.as_str()))
                    .and(
                        $opening
                            .field(posts_table::moderation)
                            .eq(model::Moderation::Visible.as_str()),
                    )),
            )
            $(.left_join($reads).left_join($muted))?
            .filter(threads::board_id.eq($board.id))
            .filter(threads::state.eq(Publication::Published.as_str()))
            .filter(threads::moderation.eq(model::Moderation::Visible.as_str()))
            .order((
                threads::pinned.desc(),
                threads::last_activity_at.desc(),
                threads::id.desc(),
            ))
    };
}

/// One page of a board's threads: pinned first, then by latest activity. Keyset pagination,
/// so every page costs the same however deep it is. For a member (`reader`), each thread
/// comes with what is new in it for them ([`reads::Unread`]), in the same statement: their
/// marker by its primary key and two index-only counts of the posts after it.
pub fn board_page(
    conn: &mut DbConn,
    board: &Board,
    reader: Option<MemberId>,
    after: Option<BoardCursor>,
) -> Result<BoardPage> {
    // Threads with their authors and last posters in one statement. The first page's statement
    // never changes shape, so SQLite prepares it once per connection; later pages add the
    // row-value cursor, which diesel can only write as literal SQL.
    let last_posters = diesel::alias!(members_table as last_posters);
    let opening = diesel::alias!(posts_table as opening_posts);
    let excerpt_field = opening.field(posts_table::excerpt).nullable();
    let poster_fields = last_posters
        .fields((
            members_table::id,
            members_table::username,
            members_table::display_name,
            members_table::pronouns,
            members_table::site_role,
            members_table::created_at,
        ))
        .nullable();
    // One more than a page, to know whether there is a next one.
    let wanted = THREADS_PER_PAGE + 1;
    let mut rows: Vec<Row> = match reader {
        None => {
            let listing = board_listing!(board, last_posters, opening).select((
                Thread::as_select(),
                AuthorRef::as_select(),
                poster_fields,
                excerpt_field,
            ));
            let rows: Vec<(Thread, AuthorRef, Option<Poster>, Option<String>)> = match after {
                None => db::first_rows(conn, listing, wanted)?,
                Some(c) => db::first_rows(conn, listing.filter(after_board_cursor!(c)), wanted)?,
            };
            rows.into_iter()
                .map(|(thread, author, last, excerpt)| (thread, author, last, excerpt, None, false))
                .collect()
        }
        Some(me) => {
            let reads = thread_reads::table.on(thread_reads::thread_id
                .eq(threads::id)
                .and(thread_reads::member_id.eq(me)));
            // The reader's mute of the author, by its primary key: no statement more.
            let muted = mutes::table.on(mutes::member_id
                .eq(me)
                .and(mutes::muted_id.eq(threads::author_id)));
            let listing = board_listing!(board, last_posters, opening, reads, muted).select((
                Thread::as_select(),
                AuthorRef::as_select(),
                poster_fields,
                excerpt_field,
                news_columns!(),
                mutes::muted_id.nullable(),
            ));
            let rows: Vec<MemberRow> = match after {
                None => db::first_rows(conn, listing, wanted)?,
                Some(c) => db::first_rows(conn, listing.filter(after_board_cursor!(c)), wanted)?,
            };
            rows.into_iter()
                .map(|(thread, author, last, excerpt, news, muted)| {
                    let unread = reads::Unread::of(&thread, news);
                    // A muted author's words stay out of the reader's listing.
                    let excerpt = excerpt.filter(|_| muted.is_none());
                    (thread, author, last, excerpt, unread, muted.is_some())
                })
                .collect()
        }
    };
    let next = if rows.len() as i64 > THREADS_PER_PAGE {
        rows.truncate(THREADS_PER_PAGE as usize);
        rows.last().map(|r| BoardCursor::of(&r.0))
    } else {
        None
    };
    let threads = rows
        .into_iter()
        .map(
            |(thread, author, last, excerpt, unread, author_muted)| ThreadListing {
                thread,
                excerpt: excerpt.unwrap_or_default(),
                author: author.present(),
                author_muted,
                last_poster: last.and_then(
                    |(id, username, display_name, pronouns, site_role, created_at)| {
                        AuthorRef {
                            id,
                            username,
                            display_name,
                            pronouns,
                            site_role: SiteRole::parse(&site_role).unwrap_or(SiteRole::Member),
                            created_at,
                        }
                        .present()
                    },
                ),
                unread,
            },
        )
        .collect();
    Ok(BoardPage { threads, next })
}

/// A last poster's fields, as a listing selects them.
type Poster = (MemberId, String, String, String, String, NaiveDateTime);
/// A member's listing row as loaded: the thread, its author and last poster, the opening
/// post's excerpt, what is new in it, and their mute of the author (if any).
type MemberRow = (
    Thread,
    AuthorRef,
    Option<Poster>,
    Option<String>,
    NewsColumns,
    Option<MemberId>,
);

type Row = (
    Thread,
    AuthorRef,
    Option<Poster>,
    Option<String>,
    Option<reads::Unread>,
    bool,
);

/// A thread and its board, if the actor may read them.
pub fn by_id_for(conn: &mut DbConn, actor: &Actor, id: ThreadId) -> Result<(Board, Thread)> {
    // The thread and its board in one statement, sent to the inner connection (every thread
    // page: see `db::per_connection`).
    let (thread, board): (Thread, Board) = per_connection!(conn, |c| threads::table
        .inner_join(boards_table::table)
        .filter(threads::id.eq(id))
        .select((Thread::as_select(), Board::as_select()))
        .get_result(c))
    .optional()?
    .ok_or(Error::NotFound)?;
    policy::authorize(actor, Action::ReadThread(&board, &thread))?;
    Ok((board, thread))
}

pub(crate) fn by_id(conn: &mut DbConn, id: ThreadId) -> Result<Thread> {
    // Read on almost every request: sent to the inner connection (`per_connection!`).
    per_connection!(conn, |c| threads::table
        .find(id)
        .select(Thread::as_select())
        .get_result(c)
        .optional())?
    .ok_or(Error::NotFound)
}

/// What the new-thread form carries.
#[derive(Debug, Clone, Default)]
pub struct NewThreadForm {
    pub title: String,
    pub body: String,
    /// A random key put in the form when it was shown; the same key never makes two threads.
    pub submission_key: String,
    /// The version of the group's ground rules the member ticked to accept, if they did.
    pub accept_rules_version: Option<i32>,
}

pub(crate) fn check_title(title: &str, invalid: &mut Invalid) {
    let n_chars = title.trim().chars().count();
    if !(MIN_TITLE_CHARS..=MAX_TITLE_CHARS).contains(&n_chars) {
        invalid.add(
            "title",
            format!("a title has {MIN_TITLE_CHARS} to {MAX_TITLE_CHARS} characters"),
        );
    }
}

/// Turns a title into the readable part of a thread's URL (`losing-milo`).
pub fn slug_of(title: &str) -> String {
    let mut slug = slug::slugify(title);
    if let Some((cut, _)) = slug.char_indices().nth(60) {
        slug.truncate(cut);
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "thread".to_owned()
    } else {
        slug
    }
}

/// Starts a thread with its opening post through the posting pipeline
/// ([`publish`](crate::forum::publish)), after checking the member may start one on the board.
pub fn start(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    board: &Board,
    form: &NewThreadForm,
) -> Result<Posted> {
    policy::authorize(&member.actor(), Action::StartThread(board))?;
    let draft = Draft {
        place: Place::NewThread {
            board,
            title: &form.title,
        },
        body: &form.body,
        submission_key: &form.submission_key,
        accept_rules_version: form.accept_rules_version,
    };
    publish(conn, rules, member, &draft)
}

pub(crate) fn count_member_post(conn: &mut DbConn, member_id: MemberId, delta: i64) -> Result<()> {
    let counted = Cached(
        diesel::update(members_table::table.find(member_id))
            .set(members_table::post_count.eq(members_table::post_count + delta)),
    );
    per_connection!(conn, |c| counted.run(c))?;
    Ok(())
}

/// The opening post of a thread, for previews.
pub fn opening_post(conn: &mut DbConn, thread: &Thread) -> Result<Option<Post>> {
    posts::at_position(conn, thread.id, 1)
}

/// One page of a thread as one reader sees it: the posts they may see, and what they may do
/// there, every answer decided by the policy ([`page_for`]).
#[derive(Debug)]
pub struct ThreadView {
    pub board: Board,
    pub thread: Thread,
    /// The posts of the page this reader sees, in order (posts awaiting approval that are not
    /// theirs to see are left out).
    pub posts: Vec<ReadablePost>,
    /// 1-based.
    pub page: i32,
    pub n_pages: i32,
    /// The thread's moderation controls (lock, pin, slow mode, hide, …).
    pub can_moderate: bool,
    pub reply: ReplyBox,
    /// The boards this reader may move the thread to: (slug, name); empty unless they
    /// moderate the thread's board.
    pub move_targets: Vec<(String, String)>,
    /// The reader must accept the group's ground rules with their first post.
    pub must_accept_rules: bool,
    /// For a member whose marker this page moves forward, or who has unread notifications
    /// about what it shows: what to record once the page is shown (with [`reads::record`], or
    /// kept in [`reads::PendingReads`] when no notification waits). `None` when nothing is to
    /// be written (a visitor, or a page read before), so re-reading a page writes nothing.
    pub marks_read: Option<reads::MarkRead>,
    /// How closely a signed-in reader follows this thread now (its own level, else the
    /// group's, else normal), for the level control; `None` for visitors.
    pub level: Option<crate::notifications::Level>,
}

/// A post on a thread page, with what its reader may see of it and do to it.
#[derive(Debug)]
pub struct ReadablePost {
    pub post: Post,
    pub author: Option<AuthorRef>,
    /// The author facilitates this group (for the badge).
    pub facilitator: bool,
    /// The reactions under it, in the order of [`ReactionKind::ALL`](crate::forum::reactions::ReactionKind).
    pub reactions: Vec<crate::forum::reactions::ReactionCount>,
    pub can_react: bool,
    pub shown: Shown,
    pub can_edit: bool,
    pub can_delete: bool,
    pub can_report: bool,
}

/// How a post appears to its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shown {
    Post,
    /// Deleted by its author: its place kept with a notice.
    Deleted,
    /// By a member who left and had their words deleted: "A post by a former member was
    /// removed".
    Removed,
    /// Hidden from this reader by the moderators: a short notice in its place.
    Withheld,
    /// By a member the reader muted: shown collapsed.
    Muted,
}

/// What a thread page offers its reader for replying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyBox {
    Allowed,
    /// A visitor: signing in comes first.
    SignIn,
    /// Closed to this reader, with the reason they can act on (empty when there is none to give).
    Closed(&'static str),
}

/// Page `page` of a thread as `actor` may read it (see [`ThreadView`]).
pub fn page_for(conn: &mut DbConn, actor: &Actor, id: ThreadId, page: i32) -> Result<ThreadView> {
    let (board, thread) = by_id_for(conn, actor, id)?;
    let page = posts::thread_page(conn, &thread, page)?;
    let muted = match actor.member() {
        Some(me) => crate::accounts::mutes::muted_by(conn, me.id)?,
        None => std::collections::HashSet::new(),
    };
    let move_targets = crate::moderation::actions::move_targets(conn, actor, &board)?;
    let must_accept_rules = match actor.member_actor() {
        Some(me) => groups::must_accept_rules(conn, me, &board)?,
        None => false,
    };
    let first = (page.page - 1) * posts::POSTS_PER_PAGE + 1;
    let mut reactions = crate::forum::reactions::for_page(
        conn,
        thread.id,
        first,
        first + posts::POSTS_PER_PAGE - 1,
        actor.member().map(|m| m.id),
    )?;
    let posts: Vec<ReadablePost> = page
        .posts
        .into_iter()
        .filter_map(|view| {
            let post = view.post;
            let shown = match policy::decide(actor, Action::ReadPost(&board, &thread, &post)) {
                // Deleted posts keep their place with the author's own notice.
                policy::Ruling::NotFound
                    if post.state == model::Publication::Deleted && view.author.is_none() =>
                {
                    Shown::Removed
                }
                policy::Ruling::NotFound if post.state == model::Publication::Deleted => {
                    Shown::Deleted
                }
                // Awaiting approval: not there at all for this reader.
                policy::Ruling::NotFound => return None,
                policy::Ruling::Deny(_) => Shown::Withheld,
                policy::Ruling::Allow if muted.contains(&post.author_id) => Shown::Muted,
                policy::Ruling::Allow => Shown::Post,
            };
            Some(ReadablePost {
                can_edit: policy::allows(actor, Action::EditPost(&board, &thread, &post)),
                can_delete: policy::allows(actor, Action::DeletePost(&board, &thread, &post)),
                can_report: policy::allows(actor, Action::ReportPost(&board, &thread, &post)),
                shown,
                author: view.author,
                facilitator: view.facilitator,
                can_react: shown == Shown::Post
                    && policy::allows(actor, Action::React(&board, &thread, &post)),
                // Only under a post the reader sees: a hidden one's reactions stay with it.
                reactions: if shown == Shown::Post {
                    reactions.remove(&post.id).unwrap_or_default()
                } else {
                    Vec::new()
                },
                post,
            })
        })
        .collect();
    let reply = match policy::decide(actor, Action::Reply(&board, &thread)) {
        policy::Ruling::Allow => ReplyBox::Allowed,
        policy::Ruling::Deny(crate::error::Denied::SignInRequired) => ReplyBox::SignIn,
        policy::Ruling::Deny(reason) => ReplyBox::Closed(reason.explanation()),
        policy::Ruling::NotFound => ReplyBox::Closed(""),
    };
    // What the reader is shown: awaiting posts not theirs to see are left out, so one approved
    // later still counts as new when it is visible.
    let shown_up_to = posts.iter().map(|p| p.post.position).max();
    // The marker, the notifications it reads and the level control: one statement.
    let (marks_read, level) = match actor.member() {
        Some(me) => {
            let state = reads::state_of(conn, me.id, &thread, shown_up_to.unwrap_or(0))?;
            let marks = shown_up_to.and_then(|shown| state.position_to_record(shown));
            (marks, Some(state.levels.effective()))
        }
        None => (None, None),
    };
    Ok(ThreadView {
        marks_read,
        can_moderate: policy::allows(actor, Action::Moderate(&board)),
        board,
        thread,
        posts,
        page: page.page,
        n_pages: page.n_pages,
        reply,
        move_targets,
        must_accept_rules,
        level,
    })
}

/// The new-thread form of the group at `slug`, if `member` may start a thread there: the
/// board, and whether they must accept its ground rules with their first post.
pub fn for_new_thread(
    conn: &mut DbConn,
    member: &MemberActor,
    slug: &str,
) -> Result<(Board, bool)> {
    let actor = member.actor();
    let board = boards::by_slug_for(conn, &actor, slug)?;
    policy::authorize(&actor, Action::StartThread(&board))?;
    let must_accept = groups::must_accept_rules(conn, member, &board)?;
    Ok((board, must_accept))
}
