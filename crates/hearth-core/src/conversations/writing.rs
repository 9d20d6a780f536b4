//! Starting a conversation and answering one: one pipeline, as posts have. `check` the form,
//! `screen` the words (watched words block, mask, hold and flag; crisis phrases open a check-in
//! for the group's facilitators), the message limits, `render` outside the write lock; then in
//! one transaction `claim` (the member and the conversation read and authorized again), the
//! limits again, `write` the message and its conversation's counters, `record` its review
//! items, and `notify` the other readers.
//!
//! Every form carries a submission key (as a post's does), stored with the message and unique
//! per author: a form sent twice — a double tap on "Send", a retry after a timeout — finds what
//! its first sending wrote (`again`) and returns that, writing, telling and counting nothing.

use diesel::prelude::*;
use serde::Deserialize;

use crate::accounts::{actors, members};
use crate::clock;
use crate::db::schema::{conversation_messages, conversations, review_items};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::posts;
use crate::ids::{ConversationId, MemberId, MessageId};
use crate::model::{Board, Conversation, ConversationKind, Moderation};
use crate::moderation::review::{self, ItemKind, OnMessage};
use crate::notifications;
use crate::policy::{self, Action, MemberActor};
use crate::safety::gate::{self, PostingRules, Screened};

use super::{ConversationRules, StartQuery, MAX_SUBJECT_CHARS};

/// A new conversation as its form sent it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StartForm {
    #[serde(flatten)]
    pub to: StartQuery,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    /// The form's own key ([`posts::new_submission_key`]): sent again, it writes nothing new.
    #[serde(default)]
    pub submission_key: String,
}

/// An answer in a conversation as its form sent it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub submission_key: String,
}

/// A message just written (or, for a form sent again, the one its first sending wrote).
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    /// The message matched the crisis phrases: show its author the help page now.
    pub check_in: bool,
}

/// Starts a conversation with its first message.
pub fn start(
    conn: &mut DbConn,
    rules: &ConversationRules,
    posting: &PostingRules,
    starter: &MemberActor,
    form: &StartForm,
) -> Result<Sent> {
    let subject = form.subject.trim();
    let mut invalid = Invalid::default();
    if subject.is_empty() {
        invalid.add("subject", "give the conversation a subject, in a few words");
    } else if subject.chars().count() > MAX_SUBJECT_CHARS {
        invalid.add(
            "subject",
            format!("a subject has at most {MAX_SUBJECT_CHARS} characters"),
        );
    }
    posts::check_body(&form.body, posting.max_body_bytes, &mut invalid);
    posts::check_submission_key(&form.submission_key, &mut invalid);
    invalid.into_result()?;
    if let Some(sent) = again(conn, starter.id, &form.submission_key)? {
        return Ok(sent);
    }
    let planned = super::plan(conn, rules, starter, &form.to)?;
    let screened = gate::screen(conn, posting, starter, &planned.board, subject, &form.body)?;
    super::check_limits(conn, rules, starter, &planned.board, clock::now())?;
    let html = render(&screened.source)?;
    let outcome = write_tx(conn, |conn| {
        let now = clock::now();
        // A sending of the same form that got here first, before the limits count it.
        if let Some(sent) = again(conn, starter.id, &form.submission_key)? {
            return Ok(sent);
        }
        // Everything the plan rested on, read again under the write lock.
        let starter = fresh(conn, starter)?;
        let planned = super::plan(conn, rules, &starter, &form.to)?;
        super::check_limits(conn, rules, &starter, &planned.board, now)?;
        let conversation: Conversation = diesel::insert_into(conversations::table)
            .values((
                conversations::board_id.eq(planned.board.id),
                conversations::kind.eq(planned.kind.as_str()),
                conversations::started_by.eq(starter.id),
                conversations::member_id.eq(planned.member.id),
                conversations::subject.eq(&screened.title),
                conversations::post_id.eq(planned.post),
                conversations::created_at.eq(now),
                conversations::last_activity_at.eq(now),
            ))
            .returning(conversations::all_columns)
            .get_result(conn)?;
        let message_id = write(
            conn,
            &starter,
            &conversation,
            &screened,
            &html,
            &form.submission_key,
            now,
        )?;
        record(
            conn,
            &starter,
            &planned.board,
            &conversation,
            message_id,
            &screened,
            now,
        )?;
        notify(
            conn,
            &starter,
            &planned.board,
            &conversation,
            !screened.hold.is_empty(),
            now,
        )?;
        Ok(Sent {
            conversation_id: conversation.id,
            message_id,
            check_in: screened.check_in,
        })
    });
    settled(conn, starter.id, &form.submission_key, outcome)
}

/// Answers in a conversation.
pub fn reply(
    conn: &mut DbConn,
    rules: &ConversationRules,
    posting: &PostingRules,
    member: &MemberActor,
    id: ConversationId,
    form: &ReplyForm,
) -> Result<Sent> {
    let mut invalid = Invalid::default();
    posts::check_body(&form.body, posting.max_body_bytes, &mut invalid);
    posts::check_submission_key(&form.submission_key, &mut invalid);
    invalid.into_result()?;
    if let Some(sent) = again(conn, member.id, &form.submission_key)? {
        return Ok(sent);
    }
    let (board, conversation) = claim(conn, rules, member, id)?;
    let screened = gate::screen(conn, posting, member, &board, "", &form.body)?;
    super::check_limits(conn, rules, member, &board, clock::now())?;
    let html = render(&screened.source)?;
    let outcome = write_tx(conn, |conn| {
        let now = clock::now();
        if let Some(sent) = again(conn, member.id, &form.submission_key)? {
            return Ok(sent);
        }
        let member = fresh(conn, member)?;
        let (board, conversation) = claim(conn, rules, &member, conversation.id)?;
        super::check_limits(conn, rules, &member, &board, now)?;
        let message_id = write(
            conn,
            &member,
            &conversation,
            &screened,
            &html,
            &form.submission_key,
            now,
        )?;
        record(
            conn,
            &member,
            &board,
            &conversation,
            message_id,
            &screened,
            now,
        )?;
        notify(
            conn,
            &member,
            &board,
            &conversation,
            !screened.hold.is_empty(),
            now,
        )?;
        Ok(Sent {
            conversation_id: conversation.id,
            message_id,
            check_in: screened.check_in,
        })
    });
    settled(conn, member.id, &form.submission_key, outcome)
}

/// What an earlier sending of the same form by `author` wrote, if it got through: its
/// conversation and message. Its author is shown the help page again if the message opened a
/// check-in, since a retry after a timeout is the first answer they see.
fn again(conn: &mut DbConn, author: MemberId, key: &str) -> Result<Option<Sent>> {
    let first: Option<(MessageId, ConversationId)> = conversation_messages::table
        .filter(conversation_messages::author_id.eq(author))
        .filter(conversation_messages::submission_key.eq(key))
        .select((
            conversation_messages::id,
            conversation_messages::conversation_id,
        ))
        .get_result(conn)
        .optional()?;
    let Some((message_id, conversation_id)) = first else {
        return Ok(None);
    };
    let check_ins: i64 = review_items::table
        .filter(review_items::message_id.eq(message_id.0))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .count()
        .get_result(conn)?;
    Ok(Some(Sent {
        conversation_id,
        message_id,
        check_in: check_ins > 0,
    }))
}

/// A write that lost the race to another sending of the same form (its message broke the
/// unique key and rolled back with its conversation) returns what that sending wrote.
fn settled(conn: &mut DbConn, author: MemberId, key: &str, outcome: Result<Sent>) -> Result<Sent> {
    match outcome {
        Err(e) if e.is_unique_violation() => again(conn, author, key)?.ok_or(e),
        outcome => outcome,
    }
}

/// The member as stored now (a suspension or ban committed since their page refuses them).
fn fresh(conn: &mut DbConn, member: &MemberActor) -> Result<MemberActor> {
    let account = members::by_id(conn, member.id)?;
    actors::actor_for(conn, account)
}

/// The conversation, if `member` may answer it now; a direct one also needs what
/// [`super::may_message_member`] checks (the setting, a shared group, no mute).
fn claim(
    conn: &mut DbConn,
    rules: &ConversationRules,
    member: &MemberActor,
    id: ConversationId,
) -> Result<(Board, Conversation)> {
    let actor = member.actor();
    let (board, conversation) = super::by_id_for(conn, &actor, id)?;
    policy::authorize(&actor, Action::AnswerConversation(&board, &conversation))?;
    if conversation.kind == ConversationKind::Direct {
        let other = members::by_id(conn, super::other_party(&conversation, member.id))?;
        super::may_message_member(conn, rules, member, &other, &board)?;
    }
    Ok((board, conversation))
}

/// Renders a message's text: only after every cheap check, never inside the transaction.
fn render(source: &str) -> Result<hearth_markdown::SafeHtml> {
    hearth_markdown::render_within(source, &hearth_markdown::RenderLimits::DEFAULT)
        .map_err(|too_complex| Error::invalid("body", too_complex.to_string()))
}

/// Writes the message, moves the conversation's counters and marks it read for its author.
/// A message with a watched word that holds it awaits a moderator (the author and the group's
/// moderators see it meanwhile).
fn write(
    conn: &mut DbConn,
    author: &MemberActor,
    conversation: &Conversation,
    screened: &Screened<'_>,
    html: &hearth_markdown::SafeHtml,
    submission_key: &str,
    now: chrono::NaiveDateTime,
) -> Result<MessageId> {
    let held = !screened.hold.is_empty();
    let moderation = if held {
        Moderation::Awaiting
    } else {
        Moderation::Visible
    };
    let message_id: MessageId = diesel::insert_into(conversation_messages::table)
        .values((
            conversation_messages::conversation_id.eq(conversation.id),
            conversation_messages::author_id.eq(author.id),
            conversation_messages::source.eq(screened.source.as_ref()),
            conversation_messages::html.eq(html.as_str()),
            conversation_messages::render_version.eq(hearth_markdown::RENDERER_VERSION),
            conversation_messages::created_at.eq(now),
            conversation_messages::moderation.eq(moderation.as_str()),
            conversation_messages::submission_key.eq(submission_key),
        ))
        .returning(conversation_messages::id)
        .get_result(conn)?;
    diesel::update(conversations::table.find(conversation.id))
        .set((
            conversations::last_activity_at.eq(now),
            conversations::last_message_id.eq(message_id.0),
            conversations::message_count.eq(conversations::message_count + 1),
        ))
        .execute(conn)?;
    super::reading::mark_read_in(conn, author.id, conversation.id, message_id)?;
    Ok(message_id)
}

/// The review items a message calls for: held or flagged by watched words, and a check-in for
/// the group's facilitators when it matched the crisis phrases. A moderator of the group writing
/// in a check-in often names the very words (asking someone whether they think of suicide), so
/// their messages open none.
fn record(
    conn: &mut DbConn,
    author: &MemberActor,
    board: &Board,
    conversation: &Conversation,
    message_id: MessageId,
    screened: &Screened<'_>,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    let on = OnMessage {
        board_id: board.id,
        conversation_id: conversation.id,
        message_id,
    };
    if !screened.hold.is_empty() {
        let reason = format!("watched words: {}", screened.hold.join(", "));
        review::open_on_message(conn, on, ItemKind::Awaiting, &reason, "", None, now)?;
    }
    if !screened.flag.is_empty() {
        let words = screened.flag.join(", ");
        review::open_on_message(conn, on, ItemKind::WatchedWord, &words, "", None, now)?;
    }
    if screened.check_in && !author.moderates(board.id) {
        review::open_on_message(conn, on, ItemKind::CheckIn, "", "", None, now)?;
        // The group's facilitators hear that a check-in waits, as for a post: whether the
        // conversation is theirs or direct, and whether the message is held or not. No words,
        // no name; its author is not told of their own.
        notifications::facilitators::tell(
            conn,
            board,
            notifications::Kind::CheckIn,
            None,
            Some(author.id),
            now,
        )?;
    }
    Ok(())
}

/// Tells every other reader of the conversation about the message, in its transaction: the
/// member it is with (and the other member of a direct one), the group's facilitators, and staff
/// who have written in it — each only if they may read it, never its author, never someone who
/// muted the author. Unread messages of one conversation are one notification. A message that
/// awaits approval tells nobody yet.
pub(super) fn notify(
    conn: &mut DbConn,
    author: &MemberActor,
    board: &Board,
    conversation: &Conversation,
    held: bool,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    if held {
        return Ok(());
    }
    let recipients = super::reading::readers_to_notify(conn, author, board, conversation)?;
    let new = notifications::NewNotification {
        kind: notifications::Kind::Message,
        group: Some(conversation.id.0),
        subject: notifications::Subject {
            board: Some(board.id),
            conversation: Some(conversation.id),
            ..Default::default()
        },
        actor: Some(author.id),
        body: "",
    };
    notifications::notify(conn, &recipients, &new, now)?;
    Ok(())
}
