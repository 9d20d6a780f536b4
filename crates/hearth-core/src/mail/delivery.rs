//! The worker that empties the outbox: it claims due rows with a lease, sends each, and marks
//! it sent or schedules it again.
//!
//! Delivery is at least once. A claim sets `claimed_until` (and counts the attempt) in one
//! statement that only takes rows nobody holds: on PostgreSQL the rows are picked `FOR UPDATE
//! SKIP LOCKED`, so two nodes claiming at once get different rows; on SQLite the write
//! transaction holds the database's one write lock. A process killed between sending and
//! marking leaves its lease to run out (`claim_seconds`), and the mail goes again with the same
//! `Message-ID`, which receiving systems use to drop the copy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::sender::{Outgoing, Sender};
use super::settings::EmailSettings;
use super::MailKind;
use crate::db::schema::outbox;
use crate::db::{self, per_connection, write_tx_unseen, DbConn, Pool};
use crate::error::Result;
use crate::ids::MailId;

/// How many rows one claim takes: small, so a slow server does not hold many mails past
/// their lease.
const CLAIM_BATCH: i64 = 10;

/// A claimed outbox row.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = outbox)]
pub struct Claimed {
    pub id: MailId,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: Option<String>,
    pub message_token: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

impl Claimed {
    fn outgoing(&self) -> Outgoing {
        Outgoing {
            to: self.to_address.clone(),
            subject: self.subject.clone(),
            text: self.text_body.clone(),
            html: self.html_body.clone(),
            unsubscribe_url: self.unsubscribe_url.clone(),
            message_token: self.message_token.clone(),
        }
    }
}

/// Claims up to `n` due rows for `lease`: unsent, due, not given up, held by nobody.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease: TimeDelta,
    max_attempts: i32,
    n: i64,
) -> Result<Vec<Claimed>> {
    // The placeholders appear once each and in order, so the statement reads the same on both
    // backends (SQLite numbers `$n` parameters by first appearance).
    let sql = format!(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox \
             WHERE sent_at IS NULL AND send_after <= $2 AND attempts < $3 \
             AND (claimed_until IS NULL OR claimed_until <= $4) \
             ORDER BY send_after, id LIMIT $5{}) \
         AND (claimed_until IS NULL OR claimed_until <= $6) \
         RETURNING id, to_address, subject, text_body, html_body, unsubscribe_url, \
             message_token, attempts",
        db::claim_lock_clause(conn)
    );
    write_tx_unseen(conn, |conn| {
        let query = diesel::sql_query(sql.as_str())
            .bind::<Timestamp, _>(now + lease)
            .bind::<Timestamp, _>(now)
            .bind::<Integer, _>(max_attempts)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(n)
            .bind::<Timestamp, _>(now);
        Ok(per_connection!(conn, |c| query.load::<Claimed>(c))?)
    })
}

/// The `SET` clauses that forget a sent or given-up mail's one-time link: a verification or
/// reset mail's bodies are blanked (its subject carries nothing secret), other mail is kept as
/// it was until purged.
fn forget_links() -> String {
    let secret = format!(
        "kind IN ('{}', '{}')",
        MailKind::Verify.as_str(),
        MailKind::PasswordReset.as_str()
    );
    format!(
        "text_body = CASE WHEN {secret} THEN '' ELSE text_body END, \
         html_body = CASE WHEN {secret} THEN '' ELSE html_body END"
    )
}

/// The mail was taken by the SMTP server.
pub fn mark_sent(conn: &mut DbConn, id: MailId, now: NaiveDateTime) -> Result<()> {
    let sql = format!(
        "UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL, {} \
         WHERE id = $2",
        forget_links()
    );
    write_tx_unseen(conn, |conn| {
        let query = diesel::sql_query(sql.as_str())
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(id.0);
        per_connection!(conn, |c| query.execute(c))?;
        Ok(())
    })
}

/// What happened to a mail that was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It is tried again at this time.
    RetryAt(NaiveDateTime),
    /// It was tried as often as `retry_seconds` allows.
    GivenUp,
}

/// The attempt failed: the row is let go, to be tried after its backoff or never again.
pub fn mark_failed(
    conn: &mut DbConn,
    mail: &Claimed,
    error: &str,
    settings: &EmailSettings,
    now: NaiveDateTime,
) -> Result<Failure> {
    let failure = match settings.retry_after(mail.attempts) {
        Some(wait) if mail.attempts < settings.max_attempts() => Failure::RetryAt(now + wait),
        _ => Failure::GivenUp,
    };
    let error: String = error.chars().take(500).collect();
    write_tx_unseen(conn, |conn| {
        match failure {
            Failure::RetryAt(at) => {
                diesel::update(outbox::table.find(mail.id))
                    .set((
                        outbox::claimed_until.eq(None::<NaiveDateTime>),
                        outbox::send_after.eq(at),
                        outbox::last_error.eq(&error),
                    ))
                    .execute(conn)?;
            }
            // Given up: attempts stay at the bound, so no claim takes it again.
            Failure::GivenUp => {
                let sql = format!(
                    "UPDATE outbox SET claimed_until = NULL, attempts = $1, last_error = $2, {} \
                     WHERE id = $3",
                    forget_links()
                );
                let query = diesel::sql_query(sql.as_str())
                    .bind::<Integer, _>(settings.max_attempts())
                    .bind::<Text, _>(&error)
                    .bind::<BigInt, _>(mail.id.0);
                per_connection!(conn, |c| query.execute(c))?;
            }
        };
        Ok(())
    })?;
    Ok(failure)
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
}

/// Claims one batch of due mail and sends it.
pub fn send_due(conn: &mut DbConn, sender: &Sender, settings: &EmailSettings) -> Result<Round> {
    let now = crate::clock::now();
    let lease = TimeDelta::seconds(i64::from(settings.claim_seconds));
    let claimed = claim(conn, now, lease, settings.max_attempts(), CLAIM_BATCH)?;
    let mut round = Round {
        claimed: claimed.len(),
        ..Round::default()
    };
    for mail in &claimed {
        match sender.send(&mail.outgoing()) {
            Ok(()) => {
                mark_sent(conn, mail.id, crate::clock::now())?;
                round.sent += 1;
            }
            Err(error) => {
                round.failed += 1;
                // The id only: the error may quote the address.
                match mark_failed(conn, mail, &error.0, settings, crate::clock::now())? {
                    Failure::RetryAt(_) => tracing::info!(
                        mail_id = mail.id.0,
                        attempts = mail.attempts,
                        "a mail was not taken by the SMTP server; it will be tried again"
                    ),
                    Failure::GivenUp => tracing::warn!(
                        mail_id = mail.id.0,
                        attempts = mail.attempts,
                        "a mail was given up after its last attempt"
                    ),
                }
            }
        }
    }
    Ok(round)
}

/// Deletes mail sent, or given up, more than `kept_days` ago.
pub fn purge_sent(
    conn: &mut DbConn,
    settings: &EmailSettings,
    now: NaiveDateTime,
) -> Result<usize> {
    let before = now - TimeDelta::days(i64::from(settings.sent_kept_days));
    write_tx_unseen(conn, |conn| {
        let sent = diesel::delete(
            outbox::table
                .filter(outbox::sent_at.is_not_null())
                .filter(outbox::sent_at.lt(before)),
        )
        .execute(conn)?;
        let given_up = diesel::delete(
            outbox::table
                .filter(outbox::sent_at.is_null())
                .filter(outbox::attempts.ge(settings.max_attempts()))
                .filter(outbox::created_at.lt(before)),
        )
        .execute(conn)?;
        Ok(sent + given_up)
    })
}

/// The delivery worker of one process; stops when dropped.
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts sending on a thread of its own: a batch at once while work is left, a look every
    /// second once none is.
    pub fn spawn(pool: Pool, sender: Sender, settings: EmailSettings) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let more = match pool.get() {
                    Ok(mut conn) => match send_due(&mut conn, &sender, &settings) {
                        Ok(round) => round.claimed as i64 >= CLAIM_BATCH,
                        Err(e) => {
                            tracing::warn!(error = %e, "the outbox could not be read");
                            false
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "the outbox could not be read");
                        false
                    }
                };
                if !more {
                    for _ in 0..10 {
                        if stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        });
        Worker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
