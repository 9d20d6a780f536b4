//! What the core tells `/metrics`: the names of its series and the few places that record them
//! (the pool's waits and timeouts, SQLite's write lock, failed mail).
//!
//! The recording goes through the `metrics` facade, which does nothing (a load of the global
//! recorder, found unset) until the web layer installs the Prometheus recorder: the core works
//! the same with metrics off, in tests and in the CLI. No series here has a label that could
//! name a member, a group or an address; most have none.

use std::time::Duration;

/// Seconds a caller waited for a pooled connection (r2d2's checkout).
pub const POOL_WAIT: &str = "hearth_db_pool_wait_seconds";
/// Checkouts that gave up waiting for a connection.
pub const POOL_TIMEOUTS: &str = "hearth_db_pool_timeouts_total";
/// Seconds a SQLite write transaction waited before it held the write lock.
pub const WRITE_LOCK_WAIT: &str = "hearth_db_write_lock_wait_seconds";
/// Attempts to send a mail that the SMTP server did not take (label `outcome`).
pub const MAIL_SEND_FAILURES: &str = "hearth_mail_send_failures_total";

/// Gives each series of the core its unit and help text; call once, after a recorder is
/// installed (descriptions sent to no recorder are lost).
pub fn describe() {
    metrics::describe_histogram!(
        POOL_WAIT,
        metrics::Unit::Seconds,
        "Time spent waiting for a pooled database connection."
    );
    metrics::describe_counter!(
        POOL_TIMEOUTS,
        metrics::Unit::Count,
        "Waits for a pooled database connection that timed out."
    );
    metrics::describe_histogram!(
        WRITE_LOCK_WAIT,
        metrics::Unit::Seconds,
        "Time a SQLite write transaction waited before it held the write lock (not recorded on PostgreSQL)."
    );
    metrics::describe_counter!(
        MAIL_SEND_FAILURES,
        metrics::Unit::Count,
        "Mail the SMTP server did not take, by outcome: retry (tried again later) or given_up."
    );
}

pub(crate) fn pool_waited(waited: Duration) {
    metrics::histogram!(POOL_WAIT).record(waited.as_secs_f64());
}

pub(crate) fn pool_timed_out() {
    metrics::counter!(POOL_TIMEOUTS).increment(1);
}

pub(crate) fn write_lock_waited(waited: Duration) {
    metrics::histogram!(WRITE_LOCK_WAIT).record(waited.as_secs_f64());
}

/// What became of a mail that failed (the label's only values).
#[derive(Debug, Clone, Copy)]
pub(crate) enum MailFailure {
    Retry,
    GivenUp,
}

pub(crate) fn mail_failed(outcome: MailFailure) {
    let outcome = match outcome {
        MailFailure::Retry => "retry",
        MailFailure::GivenUp => "given_up",
    };
    metrics::counter!(MAIL_SEND_FAILURES, "outcome" => outcome).increment(1);
}

/// r2d2's events, turned into [`POOL_WAIT`] and [`POOL_TIMEOUTS`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolEvents;

impl diesel::r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        pool_waited(event.duration());
    }

    fn handle_timeout(&self, _event: diesel::r2d2::event::TimeoutEvent) {
        pool_timed_out();
    }
}
