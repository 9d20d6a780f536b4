//! The numbers `/metrics` reads from the database when it is scraped: crisis check-ins still
//! waiting, first posts nobody has answered, and mail not yet sent. Each is one count (the
//! first posts' through `health`'s definition, a walk of the threads); the web layer keeps the
//! result for a few seconds, so scraping stays cheap.

use diesel::prelude::*;

use crate::db::schema::{outbox, review_items};
use crate::db::DbConn;
use crate::error::Result;
use crate::moderation::review::{ItemKind, ItemState};

/// What the database says at one moment, site-wide. No group, member or word in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gauges {
    /// Crisis check-ins the review queue shows as waiting (on posts and on conversations).
    pub open_check_ins: i64,
    /// Threads whose first post people can read and that no one but its author has answered.
    pub unanswered_first_posts: i64,
    /// Mail not sent yet that will still be tried (given-up mail is not counted).
    pub outbox_unsent: i64,
}

/// Reads every gauge. `max_attempts` is the `[email]` settings' bound: a mail tried that often
/// has been given up.
pub fn read(conn: &mut DbConn, max_attempts: i32) -> Result<Gauges> {
    Ok(Gauges {
        open_check_ins: open_check_ins(conn)?,
        unanswered_first_posts: unanswered_first_posts(conn)?,
        outbox_unsent: outbox_unsent(conn, max_attempts)?,
    })
}

/// Open check-in items, as the review queue counts them waiting: each open item of the kind
/// `check_in` (one per post or message that opened it), through the `(state, …)` index.
pub fn open_check_ins(conn: &mut DbConn) -> Result<i64> {
    Ok(review_items::table
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .count()
        .get_result(conn)?)
}

/// First posts still unanswered, site-wide: `health`'s one definition (a visible opening post
/// no one but its author has answered with a visible reply), counted at this moment.
pub fn unanswered_first_posts(conn: &mut DbConn) -> Result<i64> {
    crate::health::count_waiting(conn, crate::clock::now())
}

/// Mail waiting to be sent: unsent and tried fewer than `max_attempts` times (the `outbox_due`
/// index holds only unsent rows).
pub fn outbox_unsent(conn: &mut DbConn, max_attempts: i32) -> Result<i64> {
    Ok(outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::attempts.lt(max_attempts))
        .count()
        .get_result(conn)?)
}

#[cfg(test)]
mod tests;
