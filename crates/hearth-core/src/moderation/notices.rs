//! Notices from the moderators to one member: warnings, suspensions, hidden posts, answers to
//! their requests. They are notifications of the kind `moderation` (see
//! [`crate::notifications`]): the member sees them on `/notifications`, counted in the bell.

use chrono::NaiveDateTime;

use crate::db::DbConn;
use crate::error::Result;
use crate::ids::MemberId;
use crate::notifications::{self, Kind, Subject};

/// Sends a notice; call it inside the transaction of the action it tells about.
pub(crate) fn send(
    conn: &mut DbConn,
    member_id: MemberId,
    body: &str,
    now: NaiveDateTime,
) -> Result<()> {
    notifications::notice(
        conn,
        member_id,
        Kind::Moderation,
        Subject::default(),
        body,
        now,
    )
}
