//! The moderators' side of conversations: hiding, restoring and approving a message, closing a
//! check-in, and members' reports of a message. Each is one transaction with its log row, as
//! decisions on posts are; the log keeps them out of the public log (`LoggedAction::is_private`).

use diesel::prelude::*;

use crate::clock;
use crate::db::schema::{conversation_messages, review_items};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::{ConversationId, MessageId};
use crate::model::{Message, Moderation};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::moderation::review::{self, ItemKind, ItemState, OnMessage, ReportLimits};
use crate::policy::{self, Action, MemberActor};

const MAX_REASON_CHARS: usize = 500;

/// A moderator's decision on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageDecision {
    /// Take it out of view; its author sees it with the reason.
    Hide { reason: String },
    /// Show a hidden message again.
    Restore,
    /// Show a message that awaited approval.
    Approve,
}

fn message_by_id(conn: &mut DbConn, id: MessageId) -> Result<Message> {
    conversation_messages::table
        .find(id)
        .select(Message::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// Takes a decision on a message of conversation `id`: the change (claimed from the state the
/// moderator saw, so the second of two racing decisions changes nothing), its open items
/// resolved, a notice to the author when it is hidden, and the log row: one transaction.
pub fn moderate_message(
    conn: &mut DbConn,
    member: &MemberActor,
    id: ConversationId,
    message_id: MessageId,
    decision: &MessageDecision,
) -> Result<()> {
    let actor = member.actor();
    let (board, conversation) = super::by_id_for(conn, &actor, id)?;
    policy::authorize(&actor, Action::ModerateConversation(&board, &conversation))?;
    let message = message_by_id(conn, message_id)?;
    if message.conversation_id != conversation.id {
        return Err(Error::NotFound);
    }
    let reason = match decision {
        MessageDecision::Hide { reason } => reason.trim(),
        _ => "",
    };
    if matches!(decision, MessageDecision::Hide { .. }) && reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "say why, in a sentence; the author will see it",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    let (from, to, logged, resolution): (&[Moderation], Moderation, LoggedAction, &str) =
        match decision {
            MessageDecision::Hide { .. } => (
                &[Moderation::Visible, Moderation::Awaiting],
                Moderation::Hidden,
                LoggedAction::HideMessage,
                "hidden",
            ),
            MessageDecision::Restore => (
                &[Moderation::Hidden],
                Moderation::Visible,
                LoggedAction::RestoreMessage,
                "restored",
            ),
            MessageDecision::Approve => (
                &[Moderation::Awaiting],
                Moderation::Visible,
                LoggedAction::ApproveMessage,
                "approved",
            ),
        };
    let taken = "someone else has already decided on this message; the page shows what it is now";
    if !from.contains(&message.moderation) {
        return Err(Error::invalid("decision", taken));
    }
    let excerpt = hearth_markdown::plain_text_excerpt(&message.source, 140);
    write_tx(conn, |conn| {
        let now = clock::now();
        let claimed = diesel::update(conversation_messages::table.find(message.id))
            .filter(conversation_messages::moderation.eq(message.moderation.as_str()))
            .set((
                conversation_messages::moderation.eq(to.as_str()),
                conversation_messages::hidden_reason.eq(reason),
            ))
            .execute(conn)?;
        if claimed == 0 {
            return Err(Error::invalid("decision", taken));
        }
        if !matches!(decision, MessageDecision::Restore) {
            let kinds = [
                ItemKind::Awaiting.as_str(),
                ItemKind::Report.as_str(),
                ItemKind::WatchedWord.as_str(),
            ];
            diesel::update(review_items::table)
                .filter(review_items::message_id.eq(message.id))
                .filter(review_items::state.eq(ItemState::Open.as_str()))
                .filter(review_items::kind.eq_any(kinds))
                .set((
                    review_items::state.eq(ItemState::Resolved.as_str()),
                    review_items::resolved_by.eq(member.id),
                    review_items::resolved_at.eq(now),
                    review_items::resolution.eq(resolution),
                    review_items::resolution_note.eq(reason),
                ))
                .execute(conn)?;
        }
        if matches!(decision, MessageDecision::Approve) {
            // Approved: the conversation's other readers hear of it now, as they would have.
            let author = crate::accounts::members::by_id(conn, message.author_id)?;
            let author = crate::accounts::actors::actor_for(conn, author)?;
            super::writing::notify(conn, &author, &board, &conversation, false, now)?;
        }
        if matches!(decision, MessageDecision::Hide { .. }) {
            notices::send(
                conn,
                message.author_id,
                &format!(
                    "The moderators hid your message in the private conversation “{}”. Their \
                     reason: {reason}",
                    conversation.subject
                ),
                now,
            )?;
        }
        let mut entry = Entry::new(logged, Some(board.id));
        entry.member_id = Some(message.author_id);
        entry.reason = reason;
        entry.excerpt = &excerpt;
        log::write(conn, member, entry, now)
    })
}

/// One of the group's moderators checked in with the member: the conversation's open check-ins
/// (and reports that someone may be at risk) are closed, with a private note, and logged in the
/// moderators' log only.
pub fn close_check_in(
    conn: &mut DbConn,
    member: &MemberActor,
    id: ConversationId,
    note: &str,
) -> Result<usize> {
    let actor = member.actor();
    let (board, conversation) = super::by_id_for(conn, &actor, id)?;
    policy::authorize(&actor, Action::ModerateConversation(&board, &conversation))?;
    let note = note.trim();
    if note.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(
            "note",
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    write_tx(conn, |conn| {
        let now = clock::now();
        let closed = diesel::update(review_items::table)
            .filter(review_items::conversation_id.eq(conversation.id))
            .filter(review_items::state.eq(ItemState::Open.as_str()))
            .filter(review_items::priority.eq(0))
            .set((
                review_items::state.eq(ItemState::Resolved.as_str()),
                review_items::resolved_by.eq(member.id),
                review_items::resolved_at.eq(now),
                review_items::resolution.eq("handled"),
                review_items::resolution_note.eq(note),
            ))
            .execute(conn)?;
        if closed > 0 {
            let mut entry = Entry::new(LoggedAction::CheckInHandled, Some(board.id));
            entry.member_id = Some(conversation.member_id);
            entry.reason = note;
            entry.at_risk = true;
            log::write(conn, member, entry, now)?;
            // The last check-in of the group handled: the facilitators' bell stops saying so.
            crate::moderation::review::check_ins_settled(conn, board.id, now)?;
        }
        Ok(closed)
    })
}

/// A member asks the group's moderators to look at someone else's message (in a direct
/// conversation above all). One open report per member per message: reporting again changes
/// nothing (`Ok(false)`). Counted with the member's reports of posts, under the same limits.
pub fn report_message(
    conn: &mut DbConn,
    limits: &ReportLimits,
    member: &MemberActor,
    id: ConversationId,
    message_id: MessageId,
    reason: &str,
    note: &str,
) -> Result<bool> {
    let actor = member.actor();
    let (board, conversation) = super::by_id_for(conn, &actor, id)?;
    let message = message_by_id(conn, message_id)?;
    if message.conversation_id != conversation.id
        || (message.moderation == Moderation::Awaiting && message.author_id != member.id)
    {
        return Err(Error::NotFound);
    }
    policy::authorize(
        &actor,
        Action::ReportMessage(&board, &conversation, &message),
    )?;
    let reason = review::check_report_form(reason, note, "message")?;
    let inserted = write_tx(conn, |conn| {
        let now = clock::now();
        let already: i64 = review_items::table
            .filter(review_items::message_id.eq(message.id))
            .filter(review_items::reporter_id.eq(member.id))
            .filter(review_items::kind.eq(ItemKind::Report.as_str()))
            .filter(review_items::state.eq(ItemState::Open.as_str()))
            .count()
            .get_result(conn)?;
        if already > 0 {
            return Ok(false);
        }
        review::check_report_limits(conn, member.id, reason, limits, now)?;
        let on = OnMessage {
            board_id: board.id,
            conversation_id: conversation.id,
            message_id: message.id,
        };
        review::open_on_message(
            conn,
            on,
            ItemKind::Report,
            reason.as_str(),
            note.trim(),
            Some(member.id),
            now,
        )?;
        Ok(true)
    });
    match inserted {
        Err(e) if e.is_unique_violation() => Ok(false),
        other => other,
    }
}
