//! How closely a member follows a thread or a group, and their own defaults.
//!
//! - watching: every new post (and, for a group, every new thread);
//! - following: replies to the member's posts and mentions — what they get by default in
//!   threads they reply to;
//! - normal: mentions only — where they have said nothing;
//! - muted: nothing.
//!
//! A thread's own level wins over its group's; without either the member is at normal. The
//! member's defaults (watching for threads they start, following for threads they reply to)
//! are written as the thread's level the first time they post there, never lowering what
//! their group's level already gives them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{board_subscriptions, notification_preferences, thread_subscriptions};
use crate::db::{first_rows, per_connection, write_tx_unseen, Cached, DbConn};
use crate::error::{Error, Result};
use crate::ids::{BoardId, MemberId, ThreadId};
use crate::model::{Board, Thread};
use crate::policy::{self, Action, MemberActor};
use crate::text_enum::text_enum;

text_enum! {
    /// How closely a member follows a thread or a group.
    #[derive(Serialize, PartialOrd, Ord)]
    pub enum Level ("notification level") {
        Muted = "muted",
        Normal = "normal",
        Following = "following",
        Watching = "watching",
    }
}

impl Level {
    /// The words the level control shows.
    pub fn label(self) -> &'static str {
        match self {
            Level::Watching => "Watching: every new post",
            Level::Following => "Following: replies to you and mentions",
            Level::Normal => "Normal: mentions only",
            Level::Muted => "Muted: nothing",
        }
    }

    /// Parses a level from a form.
    pub fn from_form(text: &str) -> Result<Level> {
        Level::parse(text).ok_or_else(|| Error::invalid("level", "Choose how closely to follow."))
    }
}

/// A member's own defaults for the threads they write in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Defaults {
    /// The level of a thread they start.
    pub started: Level,
    /// The level of a thread they reply to.
    pub replied: Level,
}

impl Default for Defaults {
    fn default() -> Defaults {
        Defaults {
            started: Level::Watching,
            replied: Level::Following,
        }
    }
}

/// The member's defaults (the site's when they have chosen none).
pub fn defaults(conn: &mut DbConn, member: MemberId) -> Result<Defaults> {
    let row: Option<(String, String)> = notification_preferences::table
        .find(member)
        .select((
            notification_preferences::started_level,
            notification_preferences::replied_level,
        ))
        .get_result(conn)
        .optional()?;
    let fallback = Defaults::default();
    Ok(row.map_or(fallback, |(started, replied)| Defaults {
        started: Level::parse(&started).unwrap_or(fallback.started),
        replied: Level::parse(&replied).unwrap_or(fallback.replied),
    }))
}

/// Saves the member's defaults (for threads they write in from now on).
pub fn save_defaults(conn: &mut DbConn, member: MemberId, chosen: Defaults) -> Result<()> {
    let now = crate::clock::now();
    write_tx_unseen(conn, |conn| {
        let row = (
            notification_preferences::member_id.eq(member),
            notification_preferences::started_level.eq(chosen.started.as_str()),
            notification_preferences::replied_level.eq(chosen.replied.as_str()),
            notification_preferences::updated_at.eq(now),
        );
        let upsert = diesel::insert_into(notification_preferences::table)
            .values(row)
            .on_conflict(notification_preferences::member_id)
            .do_update()
            .set((
                notification_preferences::started_level.eq(chosen.started.as_str()),
                notification_preferences::replied_level.eq(chosen.replied.as_str()),
                notification_preferences::updated_at.eq(now),
            ));
        per_connection!(conn, |c| upsert.execute(c))?;
        Ok(())
    })
}

fn stored(text: Option<String>) -> Option<Level> {
    text.as_deref().and_then(Level::parse)
}

/// The member's level on one thread as they chose it, and on its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Chosen {
    pub thread: Option<Level>,
    pub board: Option<Level>,
}

impl Chosen {
    /// The levels as stored (`None`: not chosen, or a value this version does not know).
    pub(crate) fn of_stored(thread: Option<String>, board: Option<String>) -> Chosen {
        Chosen {
            thread: stored(thread),
            board: stored(board),
        }
    }

    /// What applies: the thread's level, else the group's, else normal.
    pub fn effective(self) -> Level {
        self.thread.or(self.board).unwrap_or(Level::Normal)
    }
}

/// The member's levels on a thread and its group.
pub fn on_thread(conn: &mut DbConn, member: MemberId, thread: &Thread) -> Result<Chosen> {
    let thread_level = thread_subscriptions::table
        .find((thread.id, member))
        .select(thread_subscriptions::level)
        .get_result::<String>(conn)
        .optional()?;
    Ok(Chosen {
        thread: stored(thread_level),
        board: on_board(conn, member, thread.board_id)?,
    })
}

/// The member's level on a group, if they chose one.
pub fn on_board(conn: &mut DbConn, member: MemberId, board: BoardId) -> Result<Option<Level>> {
    let level = board_subscriptions::table
        .find((board, member))
        .select(board_subscriptions::level)
        .get_result::<String>(conn)
        .optional()?;
    Ok(stored(level))
}

/// Sets how closely the member follows a thread they may read.
pub fn set_for_thread(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    thread: &Thread,
    level: Level,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::ReadThread(board, thread))?;
    let now = crate::clock::now();
    write_tx_unseen(conn, |conn| {
        put_thread_level(conn, member.id, thread.id, level, now)
    })
}

/// Sets how closely the member follows a group they may read.
pub fn set_for_board(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    level: Level,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::ReadBoard(board))?;
    let now = crate::clock::now();
    write_tx_unseen(conn, |conn| {
        let upsert = Cached(
            diesel::insert_into(board_subscriptions::table)
                .values((
                    board_subscriptions::member_id.eq(member.id),
                    board_subscriptions::board_id.eq(board.id),
                    board_subscriptions::level.eq(level.as_str()),
                    board_subscriptions::updated_at.eq(now),
                ))
                .on_conflict((
                    board_subscriptions::board_id,
                    board_subscriptions::member_id,
                ))
                .do_update()
                .set((
                    board_subscriptions::level.eq(level.as_str()),
                    board_subscriptions::updated_at.eq(now),
                )),
        );
        per_connection!(conn, |c| upsert.run(c))?;
        Ok(())
    })
}

fn put_thread_level(
    conn: &mut DbConn,
    member: MemberId,
    thread: ThreadId,
    level: Level,
    now: NaiveDateTime,
) -> Result<()> {
    // Written by every new post (its author follows the thread).
    let upsert = Cached(
        diesel::insert_into(thread_subscriptions::table)
            .values((
                thread_subscriptions::member_id.eq(member),
                thread_subscriptions::thread_id.eq(thread),
                thread_subscriptions::level.eq(level.as_str()),
                thread_subscriptions::updated_at.eq(now),
            ))
            .on_conflict((
                thread_subscriptions::thread_id,
                thread_subscriptions::member_id,
            ))
            .do_update()
            .set((
                thread_subscriptions::level.eq(level.as_str()),
                thread_subscriptions::updated_at.eq(now),
            )),
    );
    per_connection!(conn, |c| upsert.run(c))?;
    Ok(())
}

/// The author of a new post follows its thread as their defaults say, the first time they
/// post there (a level they chose stays), and never less closely than their group's level.
pub(crate) fn follow_on_posting(
    conn: &mut DbConn,
    member: MemberId,
    thread: &Thread,
    started: bool,
    now: NaiveDateTime,
) -> Result<()> {
    let chosen = on_thread(conn, member, thread)?;
    if chosen.thread.is_some() {
        return Ok(());
    }
    let mine = defaults(conn, member)?;
    let default = if started { mine.started } else { mine.replied };
    let level = chosen.board.map_or(default, |board| board.max(default));
    put_thread_level(conn, member, thread.id, level, now)
}

/// The levels of `members` on this thread and its group (`Chosen` with neither for those who
/// chose none): two indexed reads for any number of them.
pub(crate) fn of_members(
    conn: &mut DbConn,
    thread: ThreadId,
    board: BoardId,
    members: &[MemberId],
) -> Result<std::collections::HashMap<MemberId, Chosen>> {
    let on_thread: Vec<(MemberId, String)> = thread_subscriptions::table
        .filter(thread_subscriptions::thread_id.eq(thread))
        .filter(thread_subscriptions::member_id.eq_any(members))
        .select((thread_subscriptions::member_id, thread_subscriptions::level))
        .load(conn)?;
    let on_board: Vec<(MemberId, String)> = board_subscriptions::table
        .filter(board_subscriptions::board_id.eq(board))
        .filter(board_subscriptions::member_id.eq_any(members))
        .select((board_subscriptions::member_id, board_subscriptions::level))
        .load(conn)?;
    let mut all: std::collections::HashMap<MemberId, Chosen> = members
        .iter()
        .map(|&id| {
            let none = Chosen {
                thread: None,
                board: None,
            };
            (id, none)
        })
        .collect();
    for (member, level) in on_thread {
        if let Some(chosen) = all.get_mut(&member) {
            chosen.thread = Level::parse(&level);
        }
    }
    for (member, level) in on_board {
        if let Some(chosen) = all.get_mut(&member) {
            chosen.board = Level::parse(&level);
        }
    }
    Ok(all)
}

/// Everyone whose level can make them hear of a new post in this thread, with their levels:
/// those watching the thread or its group, those with another level than following on the
/// thread (a thread's normal or muted overrides its group's watching), and the members the
/// post addresses, whatever their levels. Members who merely follow (nearly everyone who wrote
/// in the thread) hear only when addressed, so they are not loaded for every reply.
pub(crate) fn audience(
    conn: &mut DbConn,
    thread: ThreadId,
    board: BoardId,
    addressed: &[MemberId],
    after: MemberId,
    size: usize,
) -> Result<Vec<(MemberId, Chosen)>> {
    use std::collections::BTreeMap;
    let watching = Level::Watching.as_str();
    let following = Level::Following.as_str();
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let group_watchers = board_subscriptions::table
        .filter(board_subscriptions::board_id.eq(board))
        .filter(board_subscriptions::level.eq(watching))
        .select(board_subscriptions::member_id);
    // The first `size` members after `after` of each list: together they hold the first
    // `size` of both, with every level those members have. Nearly every post addresses nobody:
    // then the queries hold no `IN (…)` list, so diesel keeps them prepared instead of SQLite
    // compiling them again for every post.
    let on_thread = thread_subscriptions::table
        .filter(thread_subscriptions::thread_id.eq(thread))
        .filter(thread_subscriptions::member_id.gt(after))
        .order(thread_subscriptions::member_id)
        .select((thread_subscriptions::member_id, thread_subscriptions::level));
    let thread_listed = thread_subscriptions::level
        .ne(following)
        .or(thread_subscriptions::member_id.eq_any(group_watchers));
    // `first_rows`: no bound LIMIT, which SQLite would recompile the statement for.
    let on_thread: Vec<(MemberId, String)> = if addressed.is_empty() {
        first_rows(conn, on_thread.filter(thread_listed), size)?
    } else {
        let listed = thread_listed.or(thread_subscriptions::member_id.eq_any(addressed));
        first_rows(conn, on_thread.filter(listed), size)?
    };
    let on_board = board_subscriptions::table
        .filter(board_subscriptions::board_id.eq(board))
        .filter(board_subscriptions::member_id.gt(after))
        .order(board_subscriptions::member_id)
        .select((board_subscriptions::member_id, board_subscriptions::level));
    let on_board: Vec<(MemberId, String)> = if addressed.is_empty() {
        let listed = board_subscriptions::level.eq(watching);
        first_rows(conn, on_board.filter(listed), size)?
    } else {
        let listed = board_subscriptions::level
            .eq(watching)
            .or(board_subscriptions::member_id.eq_any(addressed));
        first_rows(conn, on_board.filter(listed), size)?
    };
    let mut all: BTreeMap<MemberId, Chosen> = BTreeMap::new();
    let none = Chosen {
        thread: None,
        board: None,
    };
    for (member, level) in on_thread {
        all.entry(member).or_insert(none).thread = Level::parse(&level);
    }
    for (member, level) in on_board {
        all.entry(member).or_insert(none).board = Level::parse(&level);
    }
    Ok(all.into_iter().collect())
}
