//! Reading conversations: a reader's list (unread first), one conversation with what its reader
//! may do there, the start form's page, and the read markers. Both the list and a conversation
//! come in pages cut by keys (a cursor), so a reader with a thousand conversations or a
//! conversation of a thousand messages costs one page.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamp};
use serde::Serialize;

use crate::accounts::{actors, members};
use crate::db::schema::{
    board_facilitators, boards, conversation_messages, conversation_reads, conversations,
    members as members_table, mutes, review_items,
};
use crate::db::{write_tx_unseen, DbConn};
use crate::error::Result;
use crate::ids::{BoardId, ConversationId, MemberId, MessageId, PostId};
use crate::model::{
    AuthorRef, Board, Conversation, ConversationKind, Message, Moderation, SiteRole,
};
use crate::moderation::review::{ItemKind, ItemState};
use crate::policy::{self, Action, MemberActor};

use super::{ConversationRules, StartQuery};

/// The most conversations a page of the list shows.
pub const LISTED: i64 = 100;

/// The most messages a page of a conversation shows.
pub const MESSAGES_PER_PAGE: i64 = 50;

/// Where a page of a reader's list starts: just after this conversation in the list's order.
///
/// The list is one order: the conversations with unread messages, by latest activity, then the
/// read ones, by latest activity (ties by id). Pages cut that order every [`LISTED`]
/// conversations, so the unread ones fill page 1 first and none is skipped or shown twice
/// while nothing changes. A conversation that changes between two pages moves: a new message
/// brings it to page 1 (where a reader looks for news), and one read meanwhile may show again
/// among the read ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub unread: bool,
    pub last_activity_at: NaiveDateTime,
    pub id: ConversationId,
}

impl ListCursor {
    /// A compact, URL-safe form: `<unread 0|1>.<microseconds>.<id>`.
    pub fn encode(&self) -> String {
        let micros = self.last_activity_at.and_utc().timestamp_micros();
        format!("{}.{}.{}", u8::from(self.unread), micros, self.id)
    }

    pub fn decode(text: &str) -> Option<ListCursor> {
        let mut parts = text.splitn(3, '.');
        let unread = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let micros: i64 = parts.next()?.parse().ok()?;
        let id: i64 = parts.next()?.parse().ok()?;
        let last_activity_at = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
        Some(ListCursor {
            unread,
            last_activity_at,
            id: ConversationId(id),
        })
    }
}

/// One page of a reader's conversations.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationList {
    pub lines: Vec<ConversationLine>,
    /// Present when there are more conversations after this page.
    #[serde(skip)]
    pub next: Option<ListCursor>,
}

/// One conversation of a reader's list.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationLine {
    pub id: ConversationId,
    pub subject: String,
    pub kind: ConversationKind,
    pub board_slug: String,
    pub board_name: String,
    /// Who the reader talks with: the member (for the group's facilitators), the other member
    /// of a direct one; `None` for the member of a facilitators' conversation (they talk with
    /// "the facilitators of …").
    pub with: Option<AuthorRef>,
    pub unread: bool,
    pub last_activity_at: NaiveDateTime,
    pub message_count: i32,
}

type ListRow = (Conversation, (String, String, String), Option<i64>);

/// Whether a listed row has messages its reader has not read (the reader's marker, joined,
/// below the conversation's newest message; no marker at all is nothing read). The same test
/// as [`is_unread`], in SQL.
const UNREAD: &str =
    "(conversations.last_message_id > COALESCE(conversation_reads.last_read_message_id, 0))";
const READ: &str =
    "(conversations.last_message_id <= COALESCE(conversation_reads.last_read_message_id, 0))";

fn is_unread(conversation: &Conversation, read_up_to: Option<i64>) -> bool {
    conversation.last_message_id > read_up_to.unwrap_or(0)
}

/// Later than the cursor in the list's order, within one half of it. A row-value comparison:
/// one range seek on both backends, which diesel can only write as literal SQL.
macro_rules! after_list_cursor {
    ($at:expr, $id:expr) => {
        sql::<Bool>("(conversations.last_activity_at, conversations.id) < (")
            .bind::<Timestamp, _>($at)
            .sql(", ")
            .bind::<BigInt, _>($id)
            .sql(")")
    };
}

/// Up to `limit` conversations of one half of `member`'s list (`unread` or read), after `after`
/// in it, newest activity first: those they take part in and, as one of its group's
/// facilitators, the group's. The policy still decides each (`list_for`).
fn list_half(
    conn: &mut DbConn,
    member: &MemberActor,
    unread: bool,
    after: Option<(NaiveDateTime, ConversationId)>,
    limit: i64,
) -> Result<Vec<ListRow>> {
    let me = member.id;
    let facilitated: Vec<BoardId> = if member.moderates_any() {
        member.facilitates.clone()
    } else {
        Vec::new()
    };
    let written_in = conversation_messages::table
        .filter(conversation_messages::author_id.eq(me))
        .select(conversation_messages::conversation_id);
    let half = conversations::table
        .inner_join(boards::table)
        .left_join(
            conversation_reads::table.on(conversation_reads::conversation_id
                .eq(conversations::id)
                .and(conversation_reads::member_id.eq(me))),
        )
        .filter(
            conversations::member_id
                .eq(me)
                .or(conversations::started_by.eq(me))
                .or(conversations::kind
                    .eq(ConversationKind::Group.as_str())
                    .and(conversations::board_id.eq_any(&facilitated)))
                .or(conversations::id.eq_any(written_in)),
        )
        .filter(sql::<Bool>(if unread { UNREAD } else { READ }))
        .order((
            conversations::last_activity_at.desc(),
            conversations::id.desc(),
        ))
        .select((
            Conversation::as_select(),
            (boards::slug, boards::name, boards::visibility),
            conversation_reads::last_read_message_id.nullable(),
        ))
        .limit(limit);
    Ok(match after {
        None => half.load(conn)?,
        Some((at, id)) => half.filter(after_list_cursor!(at, id.0)).load(conn)?,
    })
}

/// The next `limit` rows of `member`'s list after `after`: the rest of the unread half, then the
/// read half.
fn list_rows(
    conn: &mut DbConn,
    member: &MemberActor,
    after: Option<ListCursor>,
    limit: i64,
) -> Result<Vec<ListRow>> {
    let mut rows: Vec<ListRow> = Vec::new();
    if after.is_none_or(|c| c.unread) {
        let from = after.map(|c| (c.last_activity_at, c.id));
        rows.extend(list_half(conn, member, true, from, limit)?);
    }
    let short = limit - i64::try_from(rows.len()).unwrap_or(limit);
    if short > 0 {
        let from = after
            .filter(|c| !c.unread)
            .map(|c| (c.last_activity_at, c.id));
        rows.extend(list_half(conn, member, false, from, short)?);
    }
    Ok(rows)
}

fn cursor_of((conversation, _, read_up_to): &ListRow) -> ListCursor {
    ListCursor {
        unread: is_unread(conversation, *read_up_to),
        last_activity_at: conversation.last_activity_at,
        id: conversation.id,
    }
}

/// A page of the conversations `member` takes part in or, as one of its group's moderators, may
/// answer: unread first, then the most recent (see [`ListCursor`] for how pages cut that
/// order); `after` is where the page starts, `None` for the first. Each is checked against the
/// policy, so the list shows exactly what the reader may open (a facilitator who no longer
/// facilitates a group does not see its conversations, though they wrote in them); rows the
/// policy drops are read past, so a page is full whenever there is more to show.
pub fn list_for(
    conn: &mut DbConn,
    member: &MemberActor,
    after: Option<ListCursor>,
) -> Result<ConversationList> {
    let me = member.id;
    let actor = member.actor();
    // One more than a page, to know whether there is a next one.
    let wanted = LISTED + 1;
    let mut shown: Vec<ListRow> = Vec::new();
    let mut from = after;
    loop {
        let rows = list_rows(conn, member, from, wanted)?;
        let exhausted = rows.len() < wanted as usize;
        from = rows.last().map(cursor_of).or(from);
        let board_ids: Vec<BoardId> = rows.iter().map(|r| r.0.board_id).collect();
        let found_boards: Vec<Board> = boards::table
            .filter(boards::id.eq_any(&board_ids))
            .select(Board::as_select())
            .load(conn)?;
        shown.extend(rows.into_iter().filter(|(conversation, _, _)| {
            found_boards
                .iter()
                .find(|b| b.id == conversation.board_id)
                .is_some_and(|b| policy::allows(&actor, Action::ReadConversation(b, conversation)))
        }));
        if exhausted || shown.len() > LISTED as usize {
            break;
        }
    }
    let next = if shown.len() > LISTED as usize {
        shown.truncate(LISTED as usize);
        shown.last().map(cursor_of)
    } else {
        None
    };
    let others: Vec<MemberId> = shown.iter().map(|r| super::other_party(&r.0, me)).collect();
    let people = members::authors_by_ids(conn, &others)?;
    let lines: Vec<ConversationLine> = shown
        .into_iter()
        .map(|(conversation, (board_slug, board_name, _), read_up_to)| {
            let with =
                if conversation.kind == ConversationKind::Group && conversation.member_id == me {
                    None
                } else {
                    people.get(&super::other_party(&conversation, me)).cloned()
                };
            ConversationLine {
                unread: is_unread(&conversation, read_up_to),
                id: conversation.id,
                subject: conversation.subject,
                kind: conversation.kind,
                board_slug,
                board_name,
                with,
                last_activity_at: conversation.last_activity_at,
                message_count: conversation.message_count,
            }
        })
        .collect();
    Ok(ConversationList { lines, next })
}

/// One message as its reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageLine {
    pub message: Message,
    pub author: Option<AuthorRef>,
    /// Beside the author's name: their site role, "Facilitator" of this group, "New member".
    pub badges: Vec<crate::model::Badge>,
    /// The reader sees its words (visible; or hidden or awaiting, to its author and the
    /// group's moderators, with the reason).
    pub shown: bool,
    pub hidden: bool,
    pub awaiting: bool,
    pub is_own: bool,
    pub can_report: bool,
    /// The reader may hide, restore or approve it.
    pub can_moderate: bool,
}

/// Which messages of a conversation a page shows: the newest, or a page's worth just before or
/// just after a message (keyed by id, as messages are written in id order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessagesAt {
    #[default]
    Newest,
    Before(MessageId),
    After(MessageId),
}

/// A conversation with a page of its messages and what its reader may do there.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub board_slug: String,
    pub board_name: String,
    pub member: Option<AuthorRef>,
    pub started_by: Option<AuthorRef>,
    /// At most [`MESSAGES_PER_PAGE`] messages, oldest first.
    pub messages: Vec<MessageLine>,
    /// The newest message this page shows, for the reader's read marker.
    pub newest: Option<MessageId>,
    /// The oldest message shown, when the reader has earlier ones to see (`?before=`).
    pub earlier: Option<MessageId>,
    /// The newest message shown, when the reader has later ones to see (`?after=`).
    pub later: Option<MessageId>,
    pub can_answer: bool,
    pub can_moderate: bool,
    /// A check-in is open on it (for its moderators, who can close it).
    pub open_check_in: bool,
    /// The reader is the member a facilitators' conversation is with.
    pub is_member: bool,
    /// The post it started from, for the reader to open (the permalink authorizes again).
    pub post_id: Option<PostId>,
}

/// The messages of `conversation` its reader sees: all, for its moderators; otherwise all but
/// the ones awaiting a moderator that others wrote (those are not there at all for them).
macro_rules! messages_seen {
    ($conversation:expr, $reader:expr, $can_moderate:expr) => {
        conversation_messages::table
            .filter(conversation_messages::conversation_id.eq($conversation))
            .filter(
                conversation_messages::moderation
                    .ne_all(if $can_moderate {
                        Vec::new()
                    } else {
                        vec![Moderation::Awaiting.as_str()]
                    })
                    .or(conversation_messages::author_id.eq($reader)),
            )
    };
}

/// One page of the messages `reader` sees in `conversation`, oldest first: the newest
/// [`MESSAGES_PER_PAGE`], or as many just before or after a message. A page past either end
/// is the newest page.
fn message_page(
    conn: &mut DbConn,
    conversation: ConversationId,
    reader: MemberId,
    can_moderate: bool,
    at: MessagesAt,
) -> Result<Vec<Message>> {
    let base = messages_seen!(conversation, reader, can_moderate).select(Message::as_select());
    let mut messages: Vec<Message> = match at {
        MessagesAt::Newest => base
            .order(conversation_messages::id.desc())
            .limit(MESSAGES_PER_PAGE)
            .load(conn)?,
        MessagesAt::Before(before) => base
            .filter(conversation_messages::id.lt(before))
            .order(conversation_messages::id.desc())
            .limit(MESSAGES_PER_PAGE)
            .load(conn)?,
        MessagesAt::After(after) => {
            let mut later: Vec<Message> = base
                .filter(conversation_messages::id.gt(after))
                .order(conversation_messages::id.asc())
                .limit(MESSAGES_PER_PAGE)
                .load(conn)?;
            later.reverse();
            later
        }
    };
    if messages.is_empty() && at != MessagesAt::Newest {
        return message_page(conn, conversation, reader, can_moderate, MessagesAt::Newest);
    }
    messages.reverse();
    Ok(messages)
}

/// Whether `reader` sees a message of `conversation` before (`earlier`) or after `than`.
fn has_more(
    conn: &mut DbConn,
    conversation: ConversationId,
    reader: MemberId,
    can_moderate: bool,
    than: MessageId,
    earlier: bool,
) -> Result<bool> {
    let base = messages_seen!(conversation, reader, can_moderate).select(conversation_messages::id);
    let found: Option<MessageId> = if earlier {
        base.filter(conversation_messages::id.lt(than))
            .first(conn)
            .optional()?
    } else {
        base.filter(conversation_messages::id.gt(than))
            .first(conn)
            .optional()?
    };
    Ok(found.is_some())
}

/// The conversation `id`, if `member` may read it (not found otherwise), with the page of its
/// messages `at` names.
pub fn page_for(
    conn: &mut DbConn,
    member: &MemberActor,
    id: ConversationId,
    at: MessagesAt,
) -> Result<ConversationView> {
    let actor = member.actor();
    let (board, conversation) = super::by_id_for(conn, &actor, id)?;
    let can_moderate = policy::allows(&actor, Action::ModerateConversation(&board, &conversation));
    let messages = message_page(conn, conversation.id, member.id, can_moderate, at)?;
    let (earlier, later) = match (messages.first(), messages.last()) {
        (Some(first), Some(last)) => (
            has_more(
                conn,
                conversation.id,
                member.id,
                can_moderate,
                first.id,
                true,
            )?
            .then_some(first.id),
            has_more(
                conn,
                conversation.id,
                member.id,
                can_moderate,
                last.id,
                false,
            )?
            .then_some(last.id),
        ),
        _ => (None, None),
    };
    let can_answer = policy::allows(&actor, Action::AnswerConversation(&board, &conversation));
    let mut people: Vec<MemberId> = messages.iter().map(|m| m.author_id).collect();
    people.extend([conversation.member_id, conversation.started_by]);
    let people = members::authors_by_ids(conn, &people)?;
    // The group's facilitators, for their badge: a handful of rows by the primary key's prefix.
    let facilitators: std::collections::HashSet<MemberId> = board_facilitators::table
        .filter(board_facilitators::board_id.eq(board.id))
        .select(board_facilitators::member_id)
        .load::<MemberId>(conn)?
        .into_iter()
        .collect();
    let lines: Vec<MessageLine> = messages
        .into_iter()
        .map(|message| {
            let is_own = message.author_id == member.id;
            // Awaiting a moderator: not loaded at all for the others (`messages_seen`).
            let may_see = is_own || can_moderate;
            let author = people.get(&message.author_id).cloned();
            MessageLine {
                badges: author.as_ref().map_or_else(Vec::new, |a| {
                    crate::model::badges(
                        a.site_role,
                        facilitators.contains(&a.id),
                        a.created_at,
                        Some(message.created_at),
                    )
                }),
                author,
                shown: message.moderation == Moderation::Visible || may_see,
                hidden: message.moderation == Moderation::Hidden,
                awaiting: message.moderation == Moderation::Awaiting,
                can_report: policy::allows(
                    &actor,
                    Action::ReportMessage(&board, &conversation, &message),
                ) && !can_moderate,
                can_moderate,
                is_own,
                message,
            }
        })
        .collect();
    let open_check_in = can_moderate && {
        let open: i64 = review_items::table
            .filter(review_items::conversation_id.eq(conversation.id))
            .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
            .filter(review_items::state.eq(ItemState::Open.as_str()))
            .count()
            .get_result(conn)?;
        open > 0
    };
    Ok(ConversationView {
        board_slug: board.slug.clone(),
        board_name: board.name.clone(),
        member: people.get(&conversation.member_id).cloned(),
        started_by: people.get(&conversation.started_by).cloned(),
        newest: lines.last().map(|l| l.message.id),
        earlier,
        later,
        messages: lines,
        can_answer,
        can_moderate,
        open_check_in,
        is_member: conversation.kind == ConversationKind::Group
            && conversation.member_id == member.id,
        post_id: conversation.post_id,
        conversation,
    })
}

/// The conversation `id` if `actor` may read it (a way back to it from the help page), not
/// found otherwise.
pub fn readable_by_id(
    conn: &mut DbConn,
    actor: &policy::Actor,
    id: ConversationId,
) -> Result<ConversationId> {
    super::by_id_for(conn, actor, id).map(|(_, conversation)| conversation.id)
}

/// Marks the conversation read by `member` up to `up_to` (what their page showed). Never moves
/// a marker back; a conversation they may not read is not found.
pub fn mark_read(
    conn: &mut DbConn,
    member: &MemberActor,
    id: ConversationId,
    up_to: MessageId,
) -> Result<()> {
    let actor = member.actor();
    super::by_id_for(conn, &actor, id)?;
    write_tx_unseen(conn, |conn| {
        mark_read_in(conn, member.id, id, up_to)?;
        // What told them of its messages is read with them.
        crate::notifications::read_conversation_in(conn, member.id, id, crate::clock::now())?;
        Ok(())
    })
}

/// The read marker, inside a transaction: inserted, or moved forward only.
pub(crate) fn mark_read_in(
    conn: &mut DbConn,
    member: MemberId,
    id: ConversationId,
    up_to: MessageId,
) -> Result<()> {
    let moved = diesel::update(conversation_reads::table.find((id, member)))
        .filter(conversation_reads::last_read_message_id.lt(up_to.0))
        .set(conversation_reads::last_read_message_id.eq(up_to.0))
        .execute(conn)?;
    if moved == 0 {
        let exists: Option<i64> = conversation_reads::table
            .find((id, member))
            .select(conversation_reads::last_read_message_id)
            .get_result(conn)
            .optional()?;
        if exists.is_none() {
            diesel::insert_into(conversation_reads::table)
                .values((
                    conversation_reads::conversation_id.eq(id),
                    conversation_reads::member_id.eq(member),
                    conversation_reads::last_read_message_id.eq(up_to.0),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Who is told about a new message by `author`: the member it is with (and the other member of
/// a direct one), the group's facilitators (for a facilitators' conversation), and the staff who
/// have written in it; each only while they may read it, never the author, never someone who
/// muted the author.
pub(crate) fn readers_to_notify(
    conn: &mut DbConn,
    author: &MemberActor,
    board: &Board,
    conversation: &Conversation,
) -> Result<Vec<MemberId>> {
    let mut candidates = vec![conversation.member_id];
    if conversation.kind == ConversationKind::Direct {
        candidates.push(conversation.started_by);
    } else {
        let facilitators: Vec<MemberId> = board_facilitators::table
            .filter(board_facilitators::board_id.eq(board.id))
            .select(board_facilitators::member_id)
            .load(conn)?;
        // A group with no facilitator yet: its conversations go to the site's staff, as the
        // page promises, so a member who writes is never talking to nobody.
        if facilitators.is_empty() {
            let staff: Vec<MemberId> = members_table::table
                .filter(members_table::site_role.ne(SiteRole::Member.as_str()))
                .select(members_table::id)
                .load(conn)?;
            candidates.extend(staff);
        }
        candidates.extend(facilitators);
        let staff_writers: Vec<MemberId> = conversation_messages::table
            .inner_join(members_table::table)
            .filter(conversation_messages::conversation_id.eq(conversation.id))
            .filter(members_table::site_role.ne(SiteRole::Member.as_str()))
            .select(conversation_messages::author_id)
            .distinct()
            .load(conn)?;
        candidates.extend(staff_writers);
    }
    candidates.sort_unstable();
    candidates.dedup();
    candidates.retain(|id| *id != author.id);
    let muted_author: Vec<MemberId> = mutes::table
        .filter(mutes::muted_id.eq(author.id))
        .filter(mutes::member_id.eq_any(&candidates))
        .select(mutes::member_id)
        .load(conn)?;
    candidates.retain(|id| !muted_author.contains(id));
    let mut readers = Vec::new();
    for id in candidates {
        let account = members::by_id(conn, id)?;
        let reader = actors::actor_for(conn, account)?;
        if policy::allows(
            &reader.actor(),
            Action::ReadConversation(board, conversation),
        ) {
            readers.push(id);
        }
    }
    Ok(readers)
}

/// The start form's page: who the conversation will be with, authorized exactly as
/// [`super::start`] will be.
#[derive(Debug, Clone, Serialize)]
pub struct StartView {
    pub board_slug: String,
    pub board_name: String,
    pub kind: ConversationKind,
    /// The member it will be with; `None` for "the group's facilitators".
    pub with: Option<AuthorRef>,
    pub post_id: Option<PostId>,
}

pub fn for_start(
    conn: &mut DbConn,
    rules: &ConversationRules,
    member: &MemberActor,
    query: &StartQuery,
) -> Result<StartView> {
    let planned = super::plan(conn, rules, member, query)?;
    let with = (planned.member.id != member.id).then(|| AuthorRef {
        id: planned.member.id,
        username: planned.member.username.clone(),
        display_name: planned.member.display_name.clone(),
        pronouns: planned.member.pronouns.clone(),
        site_role: planned.member.site_role,
        created_at: planned.member.created_at,
    });
    Ok(StartView {
        board_slug: planned.board.slug,
        board_name: planned.board.name,
        kind: planned.kind,
        with,
        post_id: planned.post,
    })
}

/// The groups in which `member` may start a conversation with `target` (a profile's "message
/// privately" forms): as one of the group's moderators, or — where the site allows it — as a
/// member of a group they share. (slug, name) pairs.
pub fn ways_to_reach(
    conn: &mut DbConn,
    rules: &ConversationRules,
    member: &MemberActor,
    target_username: &str,
) -> Result<Vec<(String, String)>> {
    let target = members::by_username(conn, target_username)?;
    if target.id == member.id {
        return Ok(Vec::new());
    }
    let mut ids: Vec<BoardId> = member.facilitates.clone();
    if rules.member_messages || member.is_staff() {
        ids.extend(member.member_of.iter().copied());
    }
    let candidates: Vec<Board> = if member.is_staff() {
        // Staff moderate every group: the target's own groups are the ones worth offering.
        let target_actor = actors::actor_for(conn, target.clone())?;
        let mut theirs = target_actor.member_of.clone();
        theirs.extend(target_actor.facilitates.iter().copied());
        boards::table
            .filter(boards::id.eq_any(&theirs))
            .select(Board::as_select())
            .load(conn)?
    } else {
        boards::table
            .filter(boards::id.eq_any(&ids))
            .select(Board::as_select())
            .load(conn)?
    };
    let mut ways = Vec::new();
    for board in candidates {
        let query = StartQuery {
            group: board.slug.clone(),
            with: target.username.clone(),
            post: None,
        };
        if super::plan(conn, rules, member, &query).is_ok() {
            ways.push((board.slug, board.name));
        }
    }
    ways.sort();
    ways.dedup();
    Ok(ways)
}
