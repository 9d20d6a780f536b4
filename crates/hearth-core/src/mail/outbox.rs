//! The outbox: mail written in the transaction of its cause, sent later by the worker.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::tokens::random_token;
use crate::db::schema::outbox;
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{MailId, MemberId};
use crate::text_enum::text_enum;

text_enum! {
    /// What a mail is for.
    pub enum MailKind ("mail kind") {
        /// The link that verifies a new address.
        Verify = "verify",
        /// A password reset link.
        PasswordReset = "password_reset",
        /// To a verified address: the member asked to change it.
        AddressChange = "address_change",
        /// Notifications as they happen (batched per thread).
        Notification = "notification",
        /// A daily or weekly digest of notifications.
        Digest = "digest",
        /// `hearth admin test-email`.
        Test = "test",
    }
}

/// One mail to queue. The bodies are final: the sender adds only the envelope and headers
/// (`From`, `Date`, `Message-ID`, and `List-Unsubscribe` from `unsubscribe_url`).
#[derive(Debug, Clone)]
pub struct Mail {
    /// The member it is for, when it is for one (their mail goes when they are deleted).
    pub member_id: Option<MemberId>,
    pub to: String,
    pub kind: MailKind,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe address (RFC 8058), for mail a member may stop.
    pub unsubscribe_url: Option<String>,
}

/// Queues `mail` to be sent at `send_after` or later. Call it inside the transaction of what
/// causes the mail.
pub fn enqueue(
    conn: &mut DbConn,
    mail: &Mail,
    send_after: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<MailId> {
    Ok(diesel::insert_into(outbox::table)
        .values((
            outbox::member_id.eq(mail.member_id),
            outbox::to_address.eq(&mail.to),
            outbox::kind.eq(mail.kind.as_str()),
            outbox::subject.eq(&mail.subject),
            outbox::text_body.eq(&mail.text),
            outbox::html_body.eq(&mail.html),
            outbox::unsubscribe_url.eq(&mail.unsubscribe_url),
            outbox::message_token.eq(random_token()),
            outbox::created_at.eq(now),
            outbox::send_after.eq(send_after),
        ))
        .returning(outbox::id)
        .get_result(conn)?)
}

/// An outbox row without its words: what an operator (or a test) needs to see of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Queued {
    pub id: MailId,
    pub member_id: Option<MemberId>,
    pub to: String,
    pub kind: String,
    pub message_token: String,
    pub send_after: NaiveDateTime,
    pub attempts: i32,
    pub claimed_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
}

/// Every row of the outbox, oldest first.
pub fn queued(conn: &mut DbConn) -> Result<Vec<Queued>> {
    Ok(outbox::table
        .order(outbox::id)
        .select((
            outbox::id,
            outbox::member_id,
            outbox::to_address,
            outbox::kind,
            outbox::message_token,
            outbox::send_after,
            outbox::attempts,
            outbox::claimed_until,
            outbox::sent_at,
        ))
        .load(conn)?)
}

#[cfg(test)]
mod tests;
