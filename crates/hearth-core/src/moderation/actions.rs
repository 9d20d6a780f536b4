//! Moderators' actions on threads, members and boards: lock, pin, move; warn, suspend, ban
//! from a board; assign facilitators and set a board's pre-moderation. Each is one
//! transaction that writes its row in the moderation log. Decisions on single posts (approve,
//! hide, restore, dismiss) are in [`crate::moderation::review`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{members, sessions};
use crate::clock;
use crate::db::schema::{
    board_bans, board_facilitators, boards as boards_table, members as members_table, threads,
};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards;
use crate::forum::posts;
use crate::groups::memberships;
use crate::ids::{BoardId, MemberId, ThreadId};
use crate::model::{AuthorRef, Board, Member, MemberStatus, Thread, Visibility};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::policy::{self, Action, Actor, MemberActor};

const MAX_REASON_CHARS: usize = 1_000;
/// The most posts of new members a board can hold for approval.
pub const MAX_PREMOD_POSTS: i32 = 50;

fn check_reason(reason: &str, required: bool) -> Result<&str> {
    let reason = reason.trim();
    if required && reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "say why, in a sentence; it goes in the log",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(reason)
}

/// The longest reason for a lock: a line members read at the top of the thread.
pub const MAX_LOCK_REASON_CHARS: usize = 200;

/// A thread change's reason; a lock's is required, short, and its error names the lock form's
/// field (`lock_reason`), since the thread page holds several moderation forms.
fn check_lock_reason(reason: &str, locking: bool) -> Result<&str> {
    if !locking {
        return check_reason(reason, false);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "lock_reason",
            "say why the thread is locked; members will read it at the top of the thread",
        ));
    }
    if reason.chars().count() > MAX_LOCK_REASON_CHARS {
        return Err(Error::invalid(
            "lock_reason",
            format!("at most {MAX_LOCK_REASON_CHARS} characters: one line members will read"),
        ));
    }
    Ok(reason)
}

/// What a moderator can change about a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadChange {
    Lock(bool),
    Pin(bool),
    /// To another board; the mover moderates both.
    Move(BoardId),
    /// Seconds each member must wait between their posts in the thread; 0 turns it off.
    SlowMode(i32),
}

/// The longest slow mode: one post a day per member.
pub const MAX_SLOW_MODE_SECONDS: i32 = 86_400;

/// Locks, pins or moves a thread, with its log row, in one transaction.
pub fn change_thread(
    conn: &mut DbConn,
    member: &MemberActor,
    thread_id: ThreadId,
    change: ThreadChange,
    reason: &str,
) -> Result<Thread> {
    let actor = member.actor();
    let (board, thread) = crate::forum::threads::by_id_for(conn, &actor, thread_id)?;
    // Members read why a thread is locked in it ("Locked by a facilitator: …"): a lock needs one.
    let reason = check_lock_reason(reason, matches!(change, ThreadChange::Lock(true)))?;
    let destination = match change {
        ThreadChange::Move(to) => {
            let to = boards::by_id_for(conn, &actor, to)
                .map_err(|_| Error::invalid("board", "choose a group to move the thread to"))?;
            policy::authorize(&actor, Action::MoveThread(&board, &to))?;
            if to.id == board.id {
                return Err(Error::invalid(
                    "board",
                    "the thread is already in that group",
                ));
            }
            Some(to)
        }
        ThreadChange::SlowMode(seconds) if !(0..=MAX_SLOW_MODE_SECONDS).contains(&seconds) => {
            return Err(Error::invalid(
                "slow_mode_seconds",
                "choose from the list of slow-mode intervals",
            ));
        }
        _ => {
            policy::authorize(&actor, Action::Moderate(&board))?;
            None
        }
    };
    let mut slow_mode_reason = String::new();
    write_tx(conn, |conn| {
        let now = clock::now();
        let row = threads::table.find(thread.id);
        let logged = match change {
            ThreadChange::Lock(on) => {
                diesel::update(row)
                    .set((
                        threads::locked.eq(on),
                        threads::lock_reason.eq(on.then_some(reason)),
                    ))
                    .execute(conn)?;
                if on {
                    LoggedAction::Lock
                } else {
                    LoggedAction::Unlock
                }
            }
            ThreadChange::Pin(on) => {
                diesel::update(row)
                    .set(threads::pinned.eq(on))
                    .execute(conn)?;
                if on {
                    LoggedAction::Pin
                } else {
                    LoggedAction::Unpin
                }
            }
            ThreadChange::SlowMode(seconds) => {
                diesel::update(row)
                    .set(threads::slow_mode_seconds.eq(seconds))
                    .execute(conn)?;
                slow_mode_reason = if seconds == 0 {
                    "off".to_owned()
                } else {
                    format!(
                        "one post every {}",
                        crate::safety::limits::span_words(i64::from(seconds))
                    )
                };
                LoggedAction::SlowMode
            }
            ThreadChange::Move(_) => {
                let to = destination
                    .as_ref()
                    .ok_or_else(|| Error::Internal("move without destination".to_owned()))?;
                // Only from where the mover saw it: a concurrent move leaves this one nothing
                // to do (and the board counters are moved once).
                let moved = diesel::update(row.filter(threads::board_id.eq(board.id)))
                    .set(threads::board_id.eq(to.id))
                    .execute(conn)?;
                if moved == 0 {
                    return Err(Error::invalid(
                        "board",
                        "someone has just moved this thread; look at where it is now",
                    ));
                }
                if thread.counts() {
                    let n_posts = posts::published_in_thread(conn, thread.id, true)?;
                    posts::recount_board(conn, board.id, -1, -n_posts)?;
                    posts::recount_board(conn, to.id, 1, n_posts)?;
                }
                // Reports and check-ins follow the thread to its new board's queue.
                diesel::update(crate::db::schema::review_items::table)
                    .filter(
                        crate::db::schema::review_items::post_id.eq_any(
                            crate::db::schema::posts::table
                                .filter(crate::db::schema::posts::thread_id.eq(thread.id))
                                .select(crate::db::schema::posts::id.nullable()),
                        ),
                    )
                    .set(crate::db::schema::review_items::board_id.eq(to.id))
                    .execute(conn)?;
                // Searched with the new group's language (PostgreSQL's text configuration);
                // who may find it follows the thread's board at query time.
                if crate::search::config_for(&board.language)
                    != crate::search::config_for(&to.language)
                {
                    crate::search::sync_thread(conn, thread.id)?;
                }
                LoggedAction::Move
            }
        };
        let moved_reason;
        let mut entry = Entry::new(logged, Some(board.id));
        entry.thread_id = Some(thread.id);
        entry.member_id = Some(thread.author_id);
        entry.reason = reason;
        if !slow_mode_reason.is_empty() {
            entry.reason = &slow_mode_reason;
        }
        if let Some(to) = &destination {
            moved_reason = if reason.is_empty() {
                format!("to {}", to.name)
            } else {
                format!("to {}: {reason}", to.name)
            };
            entry.reason = &moved_reason;
        }
        log::write(conn, member, entry, now)?;
        crate::forum::threads::by_id(conn, thread.id)
    })
}

/// Sends a member a private warning from the moderators. With a board, the board's
/// facilitators may send it; without, site moderators and admins.
pub fn warn(
    conn: &mut DbConn,
    member: &MemberActor,
    target: &Member,
    board: Option<&Board>,
    message: &str,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::Warn(board, target))?;
    let message = message.trim();
    if message.is_empty() {
        return Err(Error::invalid(
            "message",
            "write the warning the member will read",
        ));
    }
    let message = check_reason(message, true)
        .map_err(|_| Error::invalid("message", format!("at most {MAX_REASON_CHARS} characters")))?;
    write_tx(conn, |conn| {
        let now = clock::now();
        let body = match board {
            Some(b) => format!("A warning from the moderators of {}: {message}", b.name),
            None => format!("A warning from the moderators: {message}"),
        };
        notices::send(conn, target.id, &body, now)?;
        let mut entry = Entry::new(LoggedAction::Warn, board.map(|b| b.id));
        entry.member_id = Some(target.id);
        entry.reason = message;
        log::write(conn, member, entry, now)
    })
}

/// Suspends a member site-wide until `until`: they can read but not post, hold no moderation
/// or admin power, and are signed out everywhere. `None` lifts it.
pub fn suspend(
    conn: &mut DbConn,
    member: &MemberActor,
    target: &Member,
    until: Option<NaiveDateTime>,
    reason: &str,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::Suspend(target))?;
    let now = clock::now();
    let reason = check_reason(reason, until.is_some())?;
    if until.is_some_and(|u| u <= now) {
        return Err(Error::invalid("until", "choose a date in the future"));
    }
    write_tx(conn, |conn| {
        let status = if until.is_some() {
            MemberStatus::Suspended
        } else {
            MemberStatus::Active
        };
        diesel::update(members_table::table.find(target.id))
            .set((
                members_table::status.eq(status.as_str()),
                members_table::suspended_until.eq(until),
            ))
            .execute(conn)?;
        // A suspension removes every power at once: the member signs in again to read, and
        // no page they had open keeps its forms.
        if until.is_some() {
            sessions::end_all_in(conn, target.id)?;
        }
        let body = match until {
            Some(until) => format!(
                "The moderators suspended your account until {} UTC: you can read, but not post. Their reason: {reason}",
                until.format("%Y-%m-%d %H:%M")
            ),
            None => "The moderators lifted your suspension: you can post again.".to_owned(),
        };
        notices::send(conn, target.id, &body, now)?;
        let logged = if until.is_some() {
            LoggedAction::Suspend
        } else {
            LoggedAction::Unsuspend
        };
        let mut entry = Entry::new(logged, None);
        entry.member_id = Some(target.id);
        entry.reason = reason;
        log::write(conn, member, entry, now)
    })
}

/// Bans a member from posting on one board until `until` (`None`: until lifted), or lifts the
/// ban (`lift`).
pub fn ban_from_board(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    target: &Member,
    ban: Option<Option<NaiveDateTime>>,
    reason: &str,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::BanFromBoard(board, target))?;
    let now = clock::now();
    let reason = check_reason(reason, ban.is_some())?;
    if ban.flatten().is_some_and(|u| u <= now) {
        return Err(Error::invalid("until", "choose a date in the future"));
    }
    write_tx(conn, |conn| {
        diesel::delete(board_bans::table.find((board.id, target.id))).execute(conn)?;
        let logged = match ban {
            Some(until) => {
                diesel::insert_into(board_bans::table)
                    .values((
                        board_bans::board_id.eq(board.id),
                        board_bans::member_id.eq(target.id),
                        board_bans::until.eq(until),
                        board_bans::reason.eq(reason),
                        board_bans::created_by.eq(member.id),
                        board_bans::created_at.eq(now),
                    ))
                    .execute(conn)?;
                let ends = until.map_or("until the facilitators lift it".to_owned(), |u| {
                    format!("until {} UTC", u.format("%Y-%m-%d %H:%M"))
                });
                // In a private group a ban also ends the membership: the policy already
                // shuts a banned member out, and when the ban ends they ask to join again.
                let body = if board.visibility == Visibility::Private {
                    memberships::end_membership(conn, board.id, target.id, now)?;
                    format!(
                        "The facilitators of {} ended your membership and stopped you taking part there {ends}. Their reason: {reason}",
                        board.name
                    )
                } else {
                    format!(
                        "The facilitators of {} stopped you posting there {ends}. You can still read it. Their reason: {reason}",
                        board.name
                    )
                };
                notices::send(conn, target.id, &body, now)?;
                LoggedAction::Ban
            }
            None => {
                notices::send(
                    conn,
                    target.id,
                    &format!("You can post in {} again.", board.name),
                    now,
                )?;
                LoggedAction::Unban
            }
        };
        let mut entry = Entry::new(logged, Some(board.id));
        entry.member_id = Some(target.id);
        entry.reason = reason;
        log::write(conn, member, entry, now)
    })
}

/// Whether the member facilitates the board.
pub(crate) fn facilitates(
    conn: &mut DbConn,
    board_id: BoardId,
    member_id: MemberId,
) -> Result<bool> {
    Ok(board_facilitators::table
        .find((board_id, member_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// A board's facilitators.
pub fn facilitators(conn: &mut DbConn, board: &Board) -> Result<Vec<AuthorRef>> {
    let ids: Vec<MemberId> = board_facilitators::table
        .filter(board_facilitators::board_id.eq(board.id))
        .select(board_facilitators::member_id)
        .load(conn)?;
    let found = members::authors_by_ids(conn, &ids)?;
    let mut list: Vec<AuthorRef> = found.into_values().collect();
    list.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(list)
}

/// Makes a member a facilitator of a board (admins), or stops them being one.
pub fn set_facilitator(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    username: &str,
    facilitates: bool,
) -> Result<()> {
    policy::authorize(&member.actor(), Action::ManageBoard(board))?;
    let target = members::by_username(conn, username.trim()).map_err(|e| match e {
        Error::NotFound => Error::invalid("username", "there is no member with that username"),
        other => other,
    })?;
    write_tx(conn, |conn| {
        let now = clock::now();
        let row = board_facilitators::table.find((board.id, target.id));
        let existed = diesel::delete(row).execute(conn)? > 0;
        if facilitates {
            diesel::insert_into(board_facilitators::table)
                .values((
                    board_facilitators::board_id.eq(board.id),
                    board_facilitators::member_id.eq(target.id),
                    board_facilitators::added_by.eq(member.id),
                    board_facilitators::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        if existed != facilitates {
            let logged = if facilitates {
                LoggedAction::AddFacilitator
            } else {
                LoggedAction::RemoveFacilitator
            };
            let mut entry = Entry::new(logged, Some(board.id));
            entry.member_id = Some(target.id);
            log::write(conn, member, entry, now)?;
        }
        Ok(())
    })
}

/// The moderation settings of one board.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BoardSettings {
    /// The first this-many posts of a member new to the board await approval.
    pub premod_first_posts: i32,
}

/// Changes a board's moderation settings (its facilitators and the site's staff).
pub fn set_board_settings(
    conn: &mut DbConn,
    member: &MemberActor,
    board: &Board,
    settings: &BoardSettings,
) -> Result<Board> {
    policy::authorize(&member.actor(), Action::Moderate(board))?;
    let mut invalid = Invalid::default();
    if !(0..=MAX_PREMOD_POSTS).contains(&settings.premod_first_posts) {
        invalid.add(
            "premod_first_posts",
            format!("choose a number from 0 to {MAX_PREMOD_POSTS}"),
        );
    }
    invalid.into_result()?;
    write_tx(conn, |conn| {
        diesel::update(boards_table::table.find(board.id))
            .set(boards_table::premod_first_posts.eq(settings.premod_first_posts))
            .execute(conn)?;
        let reason = format!(
            "new members' first {} posts await approval",
            settings.premod_first_posts
        );
        let mut entry = Entry::new(LoggedAction::BoardSettings, Some(board.id));
        entry.reason = &reason;
        log::write(conn, member, entry, clock::now())?;
        boards::by_id(conn, board.id)
    })
}

/// The boards `actor` may move a thread on `from` to, as (slug, name); none for anyone who
/// does not moderate `from`.
pub fn move_targets(
    conn: &mut DbConn,
    actor: &Actor,
    from: &Board,
) -> Result<Vec<(String, String)>> {
    if !policy::allows(actor, Action::Moderate(from)) {
        return Ok(Vec::new());
    }
    Ok(boards::list_for(conn, actor)?
        .into_iter()
        .map(|s| s.board)
        .filter(|b| b.id != from.id && policy::allows(actor, Action::MoveThread(from, b)))
        .map(|b| (b.slug, b.name))
        .collect())
}

/// A board's settings page: the board, its facilitators, and whether the reader may change
/// them (admins) besides its pre-moderation (its moderators).
#[derive(Debug)]
pub struct SettingsView {
    pub board: Board,
    pub facilitators: Vec<AuthorRef>,
    pub can_manage: bool,
}

/// The settings page of the board at `slug`, if `member` moderates it (see
/// [`set_board_settings`], [`set_facilitator`]).
pub fn settings_for(conn: &mut DbConn, member: &MemberActor, slug: &str) -> Result<SettingsView> {
    let actor = member.actor();
    let board = boards::by_slug_for(conn, &actor, slug)?;
    policy::authorize(&actor, Action::Moderate(&board))?;
    Ok(SettingsView {
        facilitators: facilitators(conn, &board)?,
        can_manage: policy::allows(&actor, Action::ManageBoard(&board)),
        board,
    })
}
