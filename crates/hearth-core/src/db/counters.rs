//! Counts of limited actions, per subject and window, for limits that cannot be read from the
//! rows an action leaves (a reaction given, taken back and given again leaves one row). A
//! subject names who acts and what (`"react:m42"`): never words, names or addresses.

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use diesel::prelude::*;

use super::schema::action_counts;
use super::{write_tx_unseen, DbConn};
use crate::error::{Error, Result};

/// The start of the hour `at` is in: the window of an hourly limit.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(at)
}

/// Counts one more for `subject` in the window starting at `window_start` and returns the
/// window's count with it. Call it inside the write transaction of the action it counts, so a
/// refused or failed action is not counted.
pub fn bump(conn: &mut DbConn, subject: &str, window_start: NaiveDateTime) -> Result<i64> {
    let upsert = diesel::insert_into(action_counts::table)
        .values((
            action_counts::subject.eq(subject),
            action_counts::window_start.eq(window_start),
            action_counts::n.eq(1),
        ))
        .on_conflict((action_counts::subject, action_counts::window_start))
        .do_update()
        .set(action_counts::n.eq(action_counts::n + 1));
    // Upserts are written by each backend itself (the multi-backend has no ON CONFLICT).
    super::per_connection!(conn, |c| upsert.execute(c))?;
    let n: i32 = action_counts::table
        .find((subject, window_start))
        .select(action_counts::n)
        .get_result(conn)?;
    Ok(i64::from(n))
}

/// Counts one more for `subject` in the hour of `now` and, when that makes more than
/// `per_hour`, refuses it with [`Error::RateLimited`]: the seconds left in the hour and
/// `reason`. A limit of 0 is none (nothing is counted). Call it inside the write transaction
/// of what it counts, as [`bump`]: a refused action rolls its count back with it, so asking
/// again in the same hour is refused as cheaply and nothing grows.
pub fn within_hour(
    conn: &mut DbConn,
    subject: &str,
    per_hour: u32,
    now: NaiveDateTime,
    reason: impl FnOnce() -> String,
) -> Result<()> {
    if per_hour == 0 {
        return Ok(());
    }
    let hour = hour_of(now);
    if bump(conn, subject, hour)? <= i64::from(per_hour) {
        return Ok(());
    }
    Err(Error::RateLimited {
        retry_after_seconds: (hour + TimeDelta::hours(1) - now).num_seconds().max(1),
        reason: reason(),
    })
}

/// Deletes the counts of windows that started more than a day before `now` (called hourly):
/// no limit looks further back.
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize> {
    let before = now - TimeDelta::days(1);
    write_tx_unseen(conn, |conn| {
        Ok(
            diesel::delete(action_counts::table.filter(action_counts::window_start.lt(before)))
                .execute(conn)?,
        )
    })
}
