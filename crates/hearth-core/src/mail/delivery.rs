//! The worker that empties the outbox: it claims one due row at a time with a lease, sends it,
//! and marks it sent or schedules it again.
//!
//! Delivery is at least once. A claim sets `claimed_until` (and counts the attempt) in one
//! statement that only takes rows nobody holds: on PostgreSQL the rows are picked `FOR UPDATE
//! SKIP LOCKED`, so two nodes claiming at once get different rows; on SQLite the write
//! transaction holds the database's one write lock. Each row is claimed just before its own
//! send, and marked sent or failed only while `claimed_until` still holds the lease it was
//! claimed with, so a sender whose lease ran out cannot overwrite another's claim. A process
//! killed between sending and marking leaves its lease to run out (`claim_seconds`), and the
//! mail goes again with the same `Message-ID`, which receiving systems use to drop the copy; if
//! that was its last allowed attempt, the next round marks it given up, with a warning naming
//! its id. A verification or reset mail's bodies are blanked when it is sent or given up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::sender::{Outgoing, SendError, Sender};
use super::settings::EmailSettings;
use super::MailKind;
use crate::db::schema::outbox;
use crate::db::{self, per_connection, write_tx_unseen, DbConn, Pool};
use crate::error::Result;
use crate::ids::MailId;

/// How many mails one round sends at most. Each is claimed on its own just before it is sent,
/// so a slow server never holds a mail whose lease runs out while it waits its turn.
const ROUND_MAILS: usize = 10;

/// What a row given up because its sender stopped during its last attempt says.
const STOPPED_MID_SEND: &str = "the sender stopped during the last allowed attempt \
     (a crash or a restart); the mail may or may not have arrived";

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
    /// The lease: the row is ours while it still reads this (another claim changes it).
    pub claimed_until: Option<NaiveDateTime>,
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
             message_token, attempts, claimed_until",
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

/// The `WHERE` of a row still held under the lease `mail` was claimed with (`$n`, `$n+1`).
fn still_ours(first: usize) -> String {
    format!(
        "id = ${first} AND claimed_until = ${} AND sent_at IS NULL",
        first + 1
    )
}

/// The mail was taken by the SMTP server. Marks it only while it is still held under the lease
/// it was claimed with; `false` when it was not (the lease ran out and another sender took it).
pub fn mark_sent(conn: &mut DbConn, mail: &Claimed, now: NaiveDateTime) -> Result<bool> {
    let Some(lease) = mail.claimed_until else {
        return Ok(false);
    };
    let sql = format!(
        "UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL, {} WHERE {}",
        forget_links(),
        still_ours(2)
    );
    write_tx_unseen(conn, |conn| {
        let query = diesel::sql_query(sql.as_str())
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(mail.id.0)
            .bind::<Timestamp, _>(lease);
        Ok(per_connection!(conn, |c| query.execute(c))? == 1)
    })
}

/// What happened to a mail that was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It is tried again at this time.
    RetryAt(NaiveDateTime),
    /// It was tried as often as `retry_seconds` allows.
    GivenUp,
    /// The lease had run out and another sender holds the row now: nothing was changed.
    NoLongerOurs,
}

/// The attempt failed: the row is let go, to be tried after its backoff or never again (only
/// while it is still held under the lease it was claimed with).
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
    let Some(lease) = mail.claimed_until else {
        return Ok(Failure::NoLongerOurs);
    };
    let error: String = error.chars().take(500).collect();
    let changed = write_tx_unseen(conn, |conn| {
        Ok(match failure {
            Failure::RetryAt(at) => diesel::update(
                outbox::table
                    .find(mail.id)
                    .filter(outbox::claimed_until.eq(lease))
                    .filter(outbox::sent_at.is_null()),
            )
            .set((
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::send_after.eq(at),
                outbox::last_error.eq(&error),
            ))
            .execute(conn)?,
            // Given up: attempts stay at the bound, so no claim takes it again.
            Failure::GivenUp => {
                let sql = format!(
                    "UPDATE outbox SET claimed_until = NULL, attempts = $1, last_error = $2, {} \
                     WHERE {}",
                    forget_links(),
                    still_ours(3)
                );
                let query = diesel::sql_query(sql.as_str())
                    .bind::<Integer, _>(settings.max_attempts())
                    .bind::<Text, _>(&error)
                    .bind::<BigInt, _>(mail.id.0)
                    .bind::<Timestamp, _>(lease);
                per_connection!(conn, |c| query.execute(c))?
            }
            Failure::NoLongerOurs => 0,
        })
    })?;
    Ok(if changed == 1 {
        failure
    } else {
        Failure::NoLongerOurs
    })
}

/// Rows whose last allowed attempt was claimed and never marked (the sender crashed or was
/// stopped mid-send) and whose lease has run out: no claim takes them again, so they are
/// marked given up here, each with a warning naming its id. Returns their ids.
pub fn give_up_abandoned(
    conn: &mut DbConn,
    max_attempts: i32,
    now: NaiveDateTime,
) -> Result<Vec<MailId>> {
    let sql = format!(
        "UPDATE outbox SET claimed_until = NULL, last_error = $1, {} \
         WHERE sent_at IS NULL AND attempts >= $2 \
         AND claimed_until IS NOT NULL AND claimed_until <= $3 \
         RETURNING id",
        forget_links()
    );
    #[derive(QueryableByName)]
    struct Abandoned {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let abandoned = write_tx_unseen(conn, |conn| {
        let query = diesel::sql_query(sql.as_str())
            .bind::<Text, _>(STOPPED_MID_SEND)
            .bind::<Integer, _>(max_attempts)
            .bind::<Timestamp, _>(now);
        Ok(per_connection!(conn, |c| query.load::<Abandoned>(c))?)
    })?;
    let ids: Vec<MailId> = abandoned.into_iter().map(|row| MailId(row.id)).collect();
    for id in &ids {
        crate::telemetry::mail_failed(crate::telemetry::MailFailure::GivenUp);
        tracing::warn!(
            mail_id = id.0,
            "a mail was given up: its sender stopped during its last attempt"
        );
    }
    Ok(ids)
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
}

/// Sends up to [`ROUND_MAILS`] due mails through `sender`, each claimed just before it is sent.
pub fn send_due(conn: &mut DbConn, sender: &Sender, settings: &EmailSettings) -> Result<Round> {
    send_due_with(conn, settings, |mail| sender.send(mail))
}

/// [`send_due`] with the sending step given (tests send nowhere).
pub fn send_due_with(
    conn: &mut DbConn,
    settings: &EmailSettings,
    mut send: impl FnMut(&Outgoing) -> std::result::Result<(), SendError>,
) -> Result<Round> {
    let lease = TimeDelta::seconds(i64::from(settings.claim_seconds));
    let max_attempts = settings.max_attempts();
    give_up_abandoned(conn, max_attempts, crate::clock::now())?;
    let mut round = Round::default();
    while round.claimed < ROUND_MAILS {
        // One row, claimed now: its lease starts when its own send does.
        let Some(mail) = claim(conn, crate::clock::now(), lease, max_attempts, 1)?
            .into_iter()
            .next()
        else {
            break;
        };
        round.claimed += 1;
        match send(&mail.outgoing()) {
            Ok(()) => {
                round.sent += 1;
                if !mark_sent(conn, &mail, crate::clock::now())? {
                    tracing::warn!(
                        mail_id = mail.id.0,
                        "a mail was sent after its lease ran out; another sender may send it too"
                    );
                }
            }
            Err(error) => {
                round.failed += 1;
                // The id only: the error may quote the address.
                match mark_failed(conn, &mail, &error.0, settings, crate::clock::now())? {
                    Failure::RetryAt(_) => {
                        crate::telemetry::mail_failed(crate::telemetry::MailFailure::Retry);
                        tracing::info!(
                            mail_id = mail.id.0,
                            attempts = mail.attempts,
                            "a mail was not taken by the SMTP server; it will be tried again"
                        );
                    }
                    Failure::GivenUp => {
                        crate::telemetry::mail_failed(crate::telemetry::MailFailure::GivenUp);
                        tracing::warn!(
                            mail_id = mail.id.0,
                            attempts = mail.attempts,
                            "a mail was given up after its last attempt"
                        );
                    }
                    Failure::NoLongerOurs => tracing::info!(
                        mail_id = mail.id.0,
                        "a mail failed after its lease ran out; another sender holds it now"
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
                        Ok(round) => round.claimed >= ROUND_MAILS,
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
