//! Bulk loading: many rows per statement, many statements per transaction.
//!
//! For filling a database in one go (the benchmark's seeded community, an import), where writing
//! row by row through [`crate::forum::threads::start`] and [`crate::forum::posts::reply`] would cost one commit
//! — one fsync — per post. The caller computes every counter up front (thread reply counts,
//! board and member post counts) and hands finished rows in; each function here is one
//! [`write_tx`], so the caller chooses the transaction size by the length of the slice.
//!
//! Post HTML is a [`SafeHtml`], so bulk loading cannot store markup the renderer did not make.
//! Ids are the database's own (identity columns on PostgreSQL, rowids on SQLite), so the
//! application's later inserts carry on from them on either backend.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hearth_markdown::SafeHtml;

use crate::db::schema::{boards, members, posts, threads};
use crate::db::{per_connection, write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::{BoardId, MemberId, ThreadId};
use crate::model::{Publication, SiteRole, Visibility};

/// SQLite's default cap on bound parameters in one statement (`SQLITE_MAX_VARIABLE_NUMBER`
/// since 3.32); PostgreSQL's cap (65,535) is higher, so one chunk size serves both.
pub const MAX_BOUND_PARAMETERS: usize = 32_766;

/// How many rows of `columns` bound values fit in one statement.
pub const fn rows_per_statement(columns: usize) -> usize {
    MAX_BOUND_PARAMETERS / columns
}

/// A member account. `post_count` must equal the member's published posts.
#[derive(Debug, Clone)]
pub struct NewMember<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub pronouns: &'a str,
    pub time_zone: &'a str,
    /// A PHC string from [`crate::accounts::passwords::hash`]; many members may share one.
    pub password_hash: &'a str,
    pub site_role: SiteRole,
    pub created_at: NaiveDateTime,
    pub post_count: i64,
}

/// A board's counters, as `threads::start` and `posts::reply` keep them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoardActivity {
    /// Published threads.
    pub thread_count: i64,
    /// Published posts in published threads.
    pub post_count: i64,
    /// The latest `last_activity_at` of its published threads, and that thread.
    pub last_activity_at: Option<NaiveDateTime>,
    pub last_thread_id: Option<ThreadId>,
}

#[derive(Debug, Clone)]
pub struct NewBoard<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub ground_rules: &'a str,
    pub ground_rules_html: &'a SafeHtml,
    pub visibility: Visibility,
    pub position: i32,
    pub created_by: MemberId,
    pub created_at: NaiveDateTime,
    /// `last_thread_id` is usually unknown until the threads exist: insert the boards with
    /// `None`, then call [`set_board_activity`].
    pub activity: BoardActivity,
}

/// A published thread with its counters: `reply_count` published posts after the first,
/// `last_position` posts in all, the latest published post's time and author.
#[derive(Debug, Clone)]
pub struct NewThread<'a> {
    pub board_id: BoardId,
    pub author_id: MemberId,
    pub title: &'a str,
    /// [`crate::forum::threads::slug_of`] the title, as the app stores it.
    pub slug: &'a str,
    pub pinned: bool,
    pub locked: bool,
    /// Why it is locked, shown in the thread as a facilitator's reason is (`None` when it is
    /// not locked).
    pub lock_reason: Option<&'a str>,
    pub reply_count: i64,
    pub last_position: i32,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    pub last_poster_id: Option<MemberId>,
}

/// A post. Positions must be dense from 1 in each thread, and `(author_id, submission_key)`
/// unique, as the schema demands.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub thread_id: ThreadId,
    pub author_id: MemberId,
    pub position: i32,
    pub source: &'a str,
    /// Rendered by this build's renderer: stored with [`hearth_markdown::RENDERER_VERSION`].
    pub html: &'a SafeHtml,
    pub state: Publication,
    pub submission_key: &'a str,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// Inserts members in one transaction; returns their ids in the order given.
pub fn insert_members(conn: &mut DbConn, rows: &[NewMember]) -> Result<Vec<MemberId>> {
    write_tx(conn, |conn| {
        in_chunks(rows, 9, |chunk| {
            let values: Vec<_> = chunk
                .iter()
                .map(|m| {
                    (
                        members::username.eq(m.username),
                        members::username_lower.eq(m.username.to_lowercase()),
                        members::display_name.eq(m.display_name),
                        members::pronouns.eq(m.pronouns),
                        members::time_zone.eq(m.time_zone),
                        members::password_hash.eq(m.password_hash),
                        members::site_role.eq(m.site_role.as_str()),
                        members::created_at.eq(m.created_at),
                        members::post_count.eq(m.post_count),
                    )
                })
                .collect();
            let insert = diesel::insert_into(members::table)
                .values(values)
                .returning(members::id);
            Ok(per_connection!(conn, |c| insert.get_results(c))?)
        })
    })
}

/// Inserts boards in one transaction; returns their ids in the order given.
pub fn insert_boards(conn: &mut DbConn, rows: &[NewBoard]) -> Result<Vec<BoardId>> {
    write_tx(conn, |conn| {
        in_chunks(rows, 14, |chunk| {
            let values: Vec<_> = chunk
                .iter()
                .map(|b| {
                    (
                        boards::slug.eq(b.slug),
                        boards::name.eq(b.name),
                        boards::description.eq(b.description),
                        boards::ground_rules.eq(b.ground_rules),
                        boards::ground_rules_html.eq(b.ground_rules_html.as_str()),
                        boards::visibility.eq(b.visibility.as_str()),
                        boards::position.eq(b.position),
                        boards::thread_count.eq(b.activity.thread_count),
                        boards::post_count.eq(b.activity.post_count),
                        boards::last_activity_at.eq(b.activity.last_activity_at),
                        boards::last_thread_id.eq(b.activity.last_thread_id),
                        boards::created_by.eq(b.created_by),
                        boards::created_at.eq(b.created_at),
                        // Rules are shown with their version; a new board's rules are version 1.
                        boards::ground_rules_version.eq(1),
                        boards::search_text.eq(crate::groups::search_text(
                            b.name,
                            b.description,
                            "",
                        )),
                    )
                })
                .collect();
            let insert = diesel::insert_into(boards::table)
                .values(values)
                .returning(boards::id);
            Ok(per_connection!(conn, |c| insert.get_results(c))?)
        })
    })
}

/// Sets boards' counters (typically `last_thread_id`, once the threads exist), in one transaction.
pub fn set_board_activity(conn: &mut DbConn, rows: &[(BoardId, BoardActivity)]) -> Result<()> {
    write_tx(conn, |conn| {
        for (id, activity) in rows {
            diesel::update(boards::table.find(*id))
                .set((
                    boards::thread_count.eq(activity.thread_count),
                    boards::post_count.eq(activity.post_count),
                    boards::last_activity_at.eq(activity.last_activity_at),
                    boards::last_thread_id.eq(activity.last_thread_id),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Inserts published threads in one transaction; returns their ids in the order given.
pub fn insert_threads(conn: &mut DbConn, rows: &[NewThread]) -> Result<Vec<ThreadId>> {
    write_tx(conn, |conn| {
        in_chunks(rows, 12, |chunk| {
            let values: Vec<_> = chunk
                .iter()
                .map(|t| {
                    (
                        threads::board_id.eq(t.board_id),
                        threads::author_id.eq(t.author_id),
                        threads::title.eq(t.title),
                        threads::slug.eq(t.slug),
                        threads::pinned.eq(t.pinned),
                        threads::locked.eq(t.locked),
                        threads::lock_reason.eq(t.lock_reason),
                        threads::reply_count.eq(t.reply_count),
                        threads::last_position.eq(t.last_position),
                        threads::created_at.eq(t.created_at),
                        threads::last_activity_at.eq(t.last_activity_at),
                        threads::last_poster_id.eq(t.last_poster_id),
                    )
                })
                .collect();
            let insert = diesel::insert_into(threads::table)
                .values(values)
                .returning(threads::id);
            Ok(per_connection!(conn, |c| insert.get_results(c))?)
        })
    })
}

/// Inserts posts in one transaction; returns how many were inserted.
pub fn insert_posts(conn: &mut DbConn, rows: &[NewPost]) -> Result<usize> {
    write_tx(conn, |conn| {
        let mut inserted = 0;
        for chunk in rows.chunks(rows_per_statement(11)) {
            let values: Vec<_> = chunk
                .iter()
                .map(|p| {
                    (
                        posts::thread_id.eq(p.thread_id),
                        posts::author_id.eq(p.author_id),
                        posts::position.eq(p.position),
                        posts::source.eq(p.source),
                        posts::html.eq(p.html.as_str()),
                        posts::excerpt
                            .eq((p.position == 1)
                                .then(|| crate::forum::posts::excerpt_of(p.source))),
                        posts::render_version.eq(hearth_markdown::RENDERER_VERSION),
                        posts::state.eq(p.state.as_str()),
                        posts::submission_key.eq(p.submission_key),
                        posts::created_at.eq(p.created_at),
                        posts::deleted_at.eq(p.deleted_at),
                    )
                })
                .collect();
            let insert = diesel::insert_into(posts::table).values(values);
            inserted += per_connection!(conn, |c| insert.execute(c))?;
        }
        Ok(inserted)
    })
}

/// Runs `insert` on statement-sized chunks of `rows` and concatenates the ids it returns.
///
/// The ids a multi-row `INSERT … RETURNING` gives back are relied on to follow the VALUES order
/// (both engines produce them that way; Django's `bulk_create` relies on the same). Each chunk's
/// ids are checked to be one per row and increasing, so a surprise fails loudly instead of
/// attaching posts to the wrong thread.
fn in_chunks<R, Id: Copy + Ord>(
    rows: &[R],
    columns: usize,
    mut insert: impl FnMut(&[R]) -> Result<Vec<Id>>,
) -> Result<Vec<Id>> {
    let mut out: Vec<Id> = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(columns)) {
        let ids = insert(chunk)?;
        let after_previous = match (out.last(), ids.first()) {
            (Some(last), Some(first)) => last < first,
            _ => true,
        };
        let increasing = ids.windows(2).all(|w| w[0] < w[1]);
        if ids.len() != chunk.len() || !increasing || !after_previous {
            return Err(Error::Internal(
                "the database returned inserted ids out of order".to_owned(),
            ));
        }
        out.extend(ids);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::db::{self, DbConfig};
    use crate::policy::Actor;
    use crate::{
        accounts::members as members_ops, clock, forum::posts as posts_ops,
        forum::threads as threads_ops,
    };

    /// One member, one board, one thread of more posts than fit one statement; then a reply
    /// through the app, which must carry on from the loaded counters and ids.
    #[test]
    fn loaded_rows_read_back_and_the_app_carries_on_from_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("bulk.db").to_string_lossy().into_owned();
        let pool = db::open(&DbConfig {
            database_url: url,
            pool_size: 1,
        })
        .unwrap();
        let conn = &mut *pool.get().unwrap();
        let start = clock::now() - TimeDelta::days(30);
        let member = insert_members(
            conn,
            &[NewMember {
                username: "Robin",
                display_name: "Robin",
                pronouns: "",
                time_zone: "UTC",
                password_hash: "not-a-real-hash",
                site_role: SiteRole::Member,
                created_at: start,
                post_count: 0,
            }],
        )
        .unwrap()[0];
        let rules = hearth_markdown::render("Be kind.");
        let board = insert_boards(
            conn,
            &[NewBoard {
                slug: "pet-loss",
                name: "Pet loss",
                description: "",
                ground_rules: "Be kind.",
                ground_rules_html: &rules,
                visibility: Visibility::Public,
                position: 0,
                created_by: member,
                created_at: start,
                activity: BoardActivity::default(),
            }],
        )
        .unwrap()[0];
        let n = rows_per_statement(11) + 10;
        let at = |i: usize| start + TimeDelta::seconds(i as i64);
        let thread = insert_threads(
            conn,
            &[NewThread {
                board_id: board,
                author_id: member,
                title: "Losing Milo",
                slug: "losing-milo",
                pinned: false,
                locked: false,
                lock_reason: None,
                reply_count: n as i64 - 1,
                last_position: n as i32,
                created_at: at(0),
                last_activity_at: at(n - 1),
                last_poster_id: Some(member),
            }],
        )
        .unwrap()[0];
        let html = hearth_markdown::render("I miss him.");
        let keys: Vec<String> = (0..n).map(|i| format!("bulk-test-key-{i:06}")).collect();
        let rows: Vec<NewPost> = (0..n)
            .map(|i| NewPost {
                thread_id: thread,
                author_id: member,
                position: i as i32 + 1,
                source: "I miss him.",
                html: &html,
                state: Publication::Published,
                submission_key: &keys[i],
                created_at: at(i),
                deleted_at: None,
            })
            .collect();
        assert_eq!(insert_posts(conn, &rows).unwrap(), n);
        let activity = BoardActivity {
            thread_count: 1,
            post_count: n as i64,
            last_activity_at: Some(at(n - 1)),
            last_thread_id: Some(thread),
        };
        set_board_activity(conn, &[(board, activity)]).unwrap();
        diesel::update(members::table.find(member))
            .set(members::post_count.eq(n as i64))
            .execute(conn)
            .unwrap();

        let robin = members_ops::by_id(conn, member).unwrap();
        let robin = crate::policy::MemberActor::plain(robin);
        let form = posts_ops::ReplyForm {
            body: "Thinking of you.".to_owned(),
            submission_key: "bulk-test-reply-key".to_owned(),
            // The seeded board has ground rules; a first reply accepts them.
            accept_rules_version: Some(1),
        };
        let rules = crate::safety::gate::PostingRules::default();
        let reply = posts_ops::reply(conn, &rules, &robin, thread, &form)
            .unwrap()
            .post;
        assert_eq!(reply.position, n as i32 + 1);
        let (board_row, thread_row) =
            threads_ops::by_id_for(conn, &Actor::Visitor, thread).unwrap();
        assert_eq!(thread_row.reply_count, n as i64);
        assert_eq!(board_row.post_count, n as i64 + 1);
        assert_eq!(
            members_ops::by_id(conn, member).unwrap().post_count,
            n as i64 + 1
        );
        let last_page = posts_ops::thread_page(conn, &thread_row, i32::MAX).unwrap();
        let last = last_page.posts.last().unwrap();
        assert_eq!(last.post.id, reply.id);
        assert_eq!(last.post.render_version, hearth_markdown::RENDERER_VERSION);
    }

    /// A locked thread keeps the reason it was loaded with, which its page shows as it shows a
    /// facilitator's; on SQLite and (with `HEARTH_TEST_POSTGRES_URL`) PostgreSQL.
    #[test]
    fn a_loaded_locked_thread_keeps_its_reason() {
        let (_db, pool) = crate::test_support::any_pool();
        let conn = &mut *pool.get().unwrap();
        let start = clock::now() - TimeDelta::days(3);
        let member = insert_members(
            conn,
            &[NewMember {
                username: "Robin",
                display_name: "Robin",
                pronouns: "",
                time_zone: "UTC",
                password_hash: "not-a-real-hash",
                site_role: SiteRole::Member,
                created_at: start,
                post_count: 2,
            }],
        )
        .unwrap()[0];
        let rules = hearth_markdown::render("");
        let board = insert_boards(
            conn,
            &[NewBoard {
                slug: "pet-loss",
                name: "Pet loss",
                description: "",
                ground_rules: "",
                ground_rules_html: &rules,
                visibility: Visibility::Public,
                position: 0,
                created_by: member,
                created_at: start,
                activity: BoardActivity::default(),
            }],
        )
        .unwrap()[0];
        let thread = |title, slug, lock_reason: Option<&'static str>| NewThread {
            board_id: board,
            author_id: member,
            title,
            slug,
            pinned: false,
            locked: lock_reason.is_some(),
            lock_reason,
            reply_count: 0,
            last_position: 1,
            created_at: start,
            last_activity_at: start,
            last_poster_id: Some(member),
        };
        let reason = "A pause while the group meets in person";
        let ids = insert_threads(
            conn,
            &[
                thread("Open", "open", None),
                thread("Locked", "locked", Some(reason)),
            ],
        )
        .unwrap();
        let html = hearth_markdown::render("Hello.");
        let posts: Vec<NewPost> = ids
            .iter()
            .zip(["bulk-lock-key-0", "bulk-lock-key-1"])
            .map(|(id, key)| NewPost {
                thread_id: *id,
                author_id: member,
                position: 1,
                source: "Hello.",
                html: &html,
                state: Publication::Published,
                submission_key: key,
                created_at: start,
                deleted_at: None,
            })
            .collect();
        insert_posts(conn, &posts).unwrap();
        let read = |conn: &mut DbConn, id| threads_ops::by_id_for(conn, &Actor::Visitor, id);
        let (_, open) = read(conn, ids[0]).unwrap();
        assert!(!open.locked);
        assert_eq!(open.lock_reason, None);
        let (_, locked) = read(conn, ids[1]).unwrap();
        assert!(locked.locked);
        assert_eq!(locked.lock_reason.as_deref(), Some(reason));
    }
}
