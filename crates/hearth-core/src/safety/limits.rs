//! Posting limits: how many posts a member may make in a minute and in a day (fewer while the
//! account is new), and slow mode, which spaces out one member's posts in a thread; and edit
//! limits: how many edits a member may make in a minute and in a day, and how many earlier
//! versions a post keeps.
//!
//! [`check_posting`] and [`check_editing`] only read; the posting pipeline calls them before it
//! renders (so a refused request costs no rendering) and again inside its transaction. Every
//! post a member made counts, deleted ones included (deleting does not give the allowance
//! back); every edit counts by its stored revision.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::max;
use diesel::prelude::*;
use serde::Deserialize;

use crate::db::schema::{post_revisions, posts, review_items, threads};
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::ids::{MemberId, ThreadId};
use crate::moderation::review::{ItemKind, ItemState};

/// How many posts a member may make. A limit of 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PostingLimits {
    /// Posts (new threads and replies) per minute.
    pub per_minute: u32,
    /// Posts per 24 hours.
    pub per_day: u32,
    /// Posts per minute while the account is younger than `new_account_hours`.
    pub new_account_per_minute: u32,
    /// Posts per 24 hours while the account is younger than `new_account_hours`.
    pub new_account_per_day: u32,
    /// How long an account counts as new, in hours.
    pub new_account_hours: u32,
}

impl Default for PostingLimits {
    fn default() -> Self {
        PostingLimits {
            per_minute: 5,
            per_day: 100,
            new_account_per_minute: 2,
            new_account_per_day: 20,
            new_account_hours: 24,
        }
    }
}

impl PostingLimits {
    /// No limit at all (tests and benchmarks that post faster than people do).
    pub const NONE: PostingLimits = PostingLimits {
        per_minute: 0,
        per_day: 0,
        new_account_per_minute: 0,
        new_account_per_day: 0,
        new_account_hours: 0,
    };
}

/// How many edits a member may make, and how many earlier versions a post keeps. A limit of 0
/// is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct EditLimits {
    /// Edits per minute, over all of the member's posts.
    pub per_minute: u32,
    /// Edits per 24 hours.
    pub per_day: u32,
    /// The earlier versions one post keeps: its original text always, then the newest ones.
    /// Over this number, the oldest versions but the original are pruned in the edit's own
    /// transaction.
    pub revisions_kept: u32,
}

impl Default for EditLimits {
    fn default() -> Self {
        EditLimits {
            per_minute: 5,
            per_day: 40,
            revisions_kept: 50,
        }
    }
}

impl EditLimits {
    /// No limit at all (tests and benchmarks).
    pub const NONE: EditLimits = EditLimits {
        per_minute: 0,
        per_day: 0,
        revisions_kept: 0,
    };

    /// Edits are counted by their stored versions, so pruning must never drop a version that
    /// still counts: a post keeps more versions than a member may make within the longest
    /// limit's window.
    pub fn check(&self) -> std::result::Result<(), String> {
        let counted = if self.per_day > 0 {
            self.per_day
        } else {
            self.per_minute
        };
        if self.revisions_kept > 0 && counted >= self.revisions_kept {
            return Err(format!(
                "edit_limits.revisions_kept ({}) must be more than edit_limits.per_day (or \
                 per_minute when per_day is 0): edits are counted by the versions a post keeps",
                self.revisions_kept
            ));
        }
        Ok(())
    }
}

/// One limit the next post would break, and how long until it would not.
pub(crate) struct Reached {
    wait_seconds: i64,
    reason: String,
}

/// Refuses a post that would go over the member's limits or a thread's slow mode, with
/// [`Error::RateLimited`] saying which and when they can post again. `thread` is the thread being
/// replied to and its `slow_mode_seconds` (`None` when starting a thread). When several limits
/// are reached, the one with the longest wait is reported, so the time given is true.
///
/// A new account replying in its own crisis thread (one it started where a post of theirs
/// opened a check-in that is still open, see [`is_own_crisis_thread`]) is held to the ordinary
/// limits, not the new-account ones: someone who just wrote that they are struggling can keep
/// talking with whoever answers them until a facilitator has checked in.
pub fn check_posting(
    conn: &mut DbConn,
    member_id: MemberId,
    member_created_at: NaiveDateTime,
    thread: Option<(ThreadId, i32)>,
    limits: &PostingLimits,
    now: NaiveDateTime,
) -> Result<()> {
    let is_new = now - member_created_at < TimeDelta::hours(i64::from(limits.new_account_hours))
        && !match thread {
            Some((thread_id, _)) => is_own_crisis_thread(conn, member_id, thread_id)?,
            None => false,
        };
    let (per_minute, per_day) = if is_new {
        (limits.new_account_per_minute, limits.new_account_per_day)
    } else {
        (limits.per_minute, limits.per_day)
    };
    let mut reached: Vec<Reached> = Vec::new();

    if let Some((thread_id, slow_seconds)) = thread.filter(|(_, seconds)| *seconds > 0) {
        let spacing = TimeDelta::seconds(i64::from(slow_seconds));
        let latest: Option<NaiveDateTime> = posts::table
            .filter(posts::author_id.eq(member_id))
            .filter(posts::created_at.gt(now - spacing))
            .filter(posts::thread_id.eq(thread_id))
            .select(max(posts::created_at))
            .get_result(conn)?;
        if let Some(latest) = latest {
            let wait_seconds = seconds_until(latest + spacing, now);
            reached.push(Reached {
                wait_seconds,
                reason: format!(
                    "this thread is in slow mode, so each member can post in it once every {}; \
                     you can post here again {}",
                    span_words(i64::from(slow_seconds)),
                    in_words(wait_seconds)
                ),
            });
        }
    }

    let fetch = per_minute.max(per_day);
    if fetch > 0 {
        // The member's newest posts of the last day, at most as many as the larger limit: when
        // a limit `n` is reached, the `n`-th newest is the post whose age frees the next one.
        let recent: Vec<NaiveDateTime> = posts::table
            .filter(posts::author_id.eq(member_id))
            .filter(posts::created_at.gt(now - TimeDelta::days(1)))
            .order(posts::created_at.desc())
            .limit(i64::from(fetch))
            .select(posts::created_at)
            .load(conn)?;
        let who = if is_new {
            format!(
                " for accounts in their first {}",
                span_words(i64::from(limits.new_account_hours) * 3600)
            )
        } else {
            String::new()
        };
        reached.extend(counted(&recent, per_minute, per_day, "post", &who, now));
    }

    worst(reached)
}

/// Whether `thread` is the member's own crisis thread: they started it, and a post of theirs
/// in it opened a check-in (crisis phrases) that is still open. Once a facilitator marked it
/// handled the exemption ends: crisis words must not buy a new account the ordinary limits for
/// good. One primary-key look-up and one probe of the thread's review items.
pub fn is_own_crisis_thread(
    conn: &mut DbConn,
    member_id: MemberId,
    thread_id: ThreadId,
) -> Result<bool> {
    let author: Option<MemberId> = threads::table
        .find(thread_id)
        .select(threads::author_id)
        .get_result(conn)
        .optional()?;
    if author != Some(member_id) {
        return Ok(false);
    }
    let check_in: Option<i64> = review_items::table
        .inner_join(posts::table.on(posts::id.nullable().eq(review_items::post_id)))
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::author_id.eq(member_id))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .select(review_items::id)
        .first(conn)
        .optional()?;
    Ok(check_in.is_some())
}

/// Refuses an edit that would go over the member's edit limits, with [`Error::RateLimited`]
/// saying which and when they can edit again. Edits are counted by the versions they stored
/// (`post_revisions`, by editor and time), which pruning never drops while they count (see
/// [`EditLimits::check`]).
pub fn check_editing(
    conn: &mut DbConn,
    member_id: MemberId,
    limits: &EditLimits,
    now: NaiveDateTime,
) -> Result<()> {
    let fetch = limits.per_minute.max(limits.per_day);
    if fetch == 0 {
        return Ok(());
    }
    let recent: Vec<NaiveDateTime> = post_revisions::table
        .filter(post_revisions::editor_id.eq(member_id))
        .filter(post_revisions::replaced_at.gt(now - TimeDelta::days(1)))
        .order(post_revisions::replaced_at.desc())
        .limit(i64::from(fetch))
        .select(post_revisions::replaced_at)
        .load(conn)?;
    worst(counted(
        &recent,
        limits.per_minute,
        limits.per_day,
        "edit",
        "",
        now,
    ))
}

/// The per-minute and per-day limits that `recent` (the newest times first, of the last day)
/// has reached.
pub(crate) fn counted(
    recent: &[NaiveDateTime],
    per_minute: u32,
    per_day: u32,
    noun: &str,
    who: &str,
    now: NaiveDateTime,
) -> Vec<Reached> {
    let mut reached = Vec::new();
    for (limit, span, per) in [
        (per_minute, TimeDelta::minutes(1), "a minute"),
        (per_day, TimeDelta::days(1), "a day"),
    ] {
        let Ok(index) = usize::try_from(limit) else {
            continue;
        };
        let oldest_counted = index
            .checked_sub(1)
            .and_then(|i| recent.get(i))
            .filter(|at| **at > now - span);
        if let Some(oldest) = oldest_counted {
            let wait_seconds = seconds_until(*oldest + span, now);
            reached.push(Reached {
                wait_seconds,
                reason: format!(
                    "you have reached this site's limit of {limit} {noun}{} {per}{who}; you can \
                     {noun} again {}",
                    if limit == 1 { "" } else { "s" },
                    in_words(wait_seconds)
                ),
            });
        }
    }
    reached
}

/// The limit with the longest wait, so the time given is true.
pub(crate) fn worst(reached: Vec<Reached>) -> Result<()> {
    match reached.into_iter().max_by_key(|r| r.wait_seconds) {
        None => Ok(()),
        Some(worst) => Err(Error::RateLimited {
            retry_after_seconds: worst.wait_seconds,
            reason: worst.reason,
        }),
    }
}

/// Whole seconds from `now` until `at`, rounded up, at least 1.
fn seconds_until(at: NaiveDateTime, now: NaiveDateTime) -> i64 {
    let millis = (at - now).num_milliseconds().max(0);
    ((millis + 999) / 1000).max(1)
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A length of time as a person says it: "30 seconds", "2 minutes", "24 hours".
pub fn span_words(seconds: i64) -> String {
    if seconds >= 3600 && seconds % 3600 == 0 {
        plural(seconds / 3600, "hour")
    } else if seconds >= 60 && seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

/// When something can happen again, as a person says it: "in 40 seconds", "in about 3
/// minutes", "in about 5 hours".
pub fn in_words(seconds: i64) -> String {
    if seconds < 60 {
        format!("in {}", plural(seconds.max(1), "second"))
    } else if seconds < 2 * 3600 {
        format!("in about {}", plural((seconds + 59) / 60, "minute"))
    } else {
        format!("in about {}", plural((seconds + 1800) / 3600, "hour"))
    }
}

#[cfg(test)]
mod crisis_tests;
#[cfg(test)]
mod tests;
