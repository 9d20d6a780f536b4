//! A member's notifications, newest first, each decided again for its reader: one about a
//! thread they may no longer read (moved into a private group, hidden since) is not shown, and
//! says nothing of what it was.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::Kind;
use crate::db::schema::{boards, members, notifications, threads};
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::{ConversationId, MeetingId, MemberId, NotificationId, PostId, ThreadId};
use crate::model::{Board, Thread, Visibility};
use crate::policy::{self, Action, MemberActor};

/// How many notifications one page shows.
pub const PAGE_SIZE: i64 = 30;

/// One notification as its reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationItem {
    pub id: NotificationId,
    pub kind: &'static str,
    /// How many things it groups ("3 new replies").
    pub count: i32,
    pub unread: bool,
    pub updated_at: NaiveDateTime,
    /// The display name of who did it last, if anyone.
    pub actor: Option<String>,
    pub thread_title: Option<String>,
    pub group_name: Option<String>,
    /// Hearth's or the moderators' words (moderation outcomes, meetings).
    pub body: String,
    /// Where it leads: the first post it tells about, the thread, the conversation…
    pub link: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationPage {
    pub items: Vec<NotificationItem>,
    /// The `before` cursor of the next (older) page, if there is one.
    pub older: Option<i64>,
    pub unread: i64,
    /// Unread notifications the reader may no longer read (what they told of moved into a
    /// private group, or the member left it): the page marks them read, so the bell agrees.
    pub stale: Vec<NotificationId>,
}

type Loaded = (
    NotificationId,
    String,
    i32,
    Option<NaiveDateTime>,
    NaiveDateTime,
    String,
    Option<PostId>,
    Option<ConversationId>,
    Option<MeetingId>,
    Option<String>,
    Option<Thread>,
    Option<Board>,
);

/// Which notifications [`load`] reads.
enum Which<'a> {
    /// A page, newest first, older than the id given.
    Page(Option<i64>),
    /// These (the scheduler's mail).
    Ids(&'a [NotificationId]),
}

/// The member's notifications with the thread and board they point to *now*.
fn load(conn: &mut DbConn, member: MemberId, which: Which<'_>) -> Result<Vec<Loaded>> {
    let mut query = notifications::table
        .left_join(threads::table.on(threads::id.nullable().eq(notifications::thread_id)))
        // The board a thread is on *now* (it may have moved since), else the one named.
        .left_join(
            boards::table.on(boards::id.nullable().eq(threads::board_id.nullable()).or(
                threads::id
                    .is_null()
                    .and(boards::id.nullable().eq(notifications::board_id)),
            )),
        )
        .left_join(members::table.on(members::id.nullable().eq(notifications::actor_id)))
        .filter(notifications::member_id.eq(member))
        .into_boxed();
    match which {
        Which::Page(before) => {
            if let Some(before) = before {
                query = query.filter(notifications::id.lt(before));
            }
            query = query.order(notifications::id.desc()).limit(PAGE_SIZE + 1);
        }
        Which::Ids(ids) => {
            query = query
                .filter(notifications::id.eq_any(ids))
                .order(notifications::id.asc());
        }
    }
    Ok(query
        .select((
            notifications::id,
            notifications::kind,
            notifications::count,
            notifications::read_at,
            notifications::updated_at,
            notifications::body,
            notifications::post_id,
            notifications::conversation_id,
            notifications::meeting_id,
            members::display_name.nullable(),
            Option::<Thread>::as_select(),
            Option::<Board>::as_select(),
        ))
        .load(conn)?)
}

/// A notification its reader may read now, with what a mail about it needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    pub item: NotificationItem,
    pub thread: Option<ThreadId>,
    pub conversation: Option<ConversationId>,
    /// The first post it tells of.
    pub post: Option<PostId>,
    /// What it points to is in a private group (a mail says who and where, not what).
    pub private: bool,
}

/// Decides each row again for its reader (the one check for the page and for mail): those
/// still theirs to read, and the unread ones that no longer are.
fn decide(
    conn: &mut DbConn,
    reader: &MemberActor,
    rows: Vec<Loaded>,
) -> Result<(Vec<Decided>, Vec<NotificationId>)> {
    let actor = reader.actor();
    let mut kept = Vec::with_capacity(rows.len());
    let mut stale = Vec::new();
    for row in rows {
        let (id, unread) = (row.0, row.3.is_none());
        // A private message is shown only while its conversation is the reader's to read
        // (a facilitator removed since, a member who left): decided by the conversation's own
        // check, a page holds a handful of them.
        if let Some(conversation) = row.7 {
            match crate::conversations::readable_by_id(conn, &actor, conversation) {
                Ok(_) => {}
                Err(crate::Error::NotFound | crate::Error::Denied(_)) => {
                    if unread {
                        stale.push(id);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let thread = row.10.as_ref().map(|t| t.id);
        let private = row
            .11
            .as_ref()
            .is_some_and(|b| b.visibility == Visibility::Private);
        let (post, conversation) = (row.6, row.7);
        match item_for(&actor, row) {
            Some(item) => kept.push(Decided {
                item,
                thread,
                conversation,
                post,
                private,
            }),
            None if unread => stale.push(id),
            None => {}
        }
    }
    Ok((kept, stale))
}

/// The member's notifications, newest first, `PAGE_SIZE` at a time; `before` is the id the
/// previous page ended at.
pub fn list(
    conn: &mut DbConn,
    reader: &MemberActor,
    before: Option<i64>,
) -> Result<NotificationPage> {
    let rows = load(conn, reader.id, Which::Page(before))?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let shown: Vec<Loaded> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    let older = if more {
        shown.last().map(|row| row.0 .0)
    } else {
        None
    };
    let (kept, stale) = decide(conn, reader, shown)?;
    Ok(NotificationPage {
        items: kept.into_iter().map(|d| d.item).collect(),
        older,
        unread: super::unread_count(conn, reader.id)?,
        stale,
    })
}

/// The notifications `ids` of the reader, decided again exactly as [`list`] decides them.
pub(crate) fn decided(
    conn: &mut DbConn,
    reader: &MemberActor,
    ids: &[NotificationId],
) -> Result<(Vec<Decided>, Vec<NotificationId>)> {
    let rows = load(conn, reader.id, Which::Ids(ids))?;
    decide(conn, reader, rows)
}

/// The notification as the reader may see it now, or `None` when what it points to is no
/// longer theirs to read.
fn item_for(actor: &policy::Actor, row: Loaded) -> Option<NotificationItem> {
    let (
        id,
        kind,
        count,
        read_at,
        updated_at,
        body,
        post,
        conversation,
        meeting,
        name,
        thread,
        board,
    ) = row;
    let kind = Kind::parse(&kind)?;
    let readable = match (kind, &board, &thread) {
        // A message's conversation was checked by the caller.
        (Kind::Moderation | Kind::Message, _, _) => true,
        (Kind::JoinRequest | Kind::CheckIn, Some(board), _) => {
            policy::allows(actor, Action::Moderate(board))
        }
        (_, Some(board), Some(thread)) => policy::allows(actor, Action::ReadThread(board, thread)),
        (_, Some(board), None) => policy::allows(actor, Action::ReadBoard(board)),
        (_, None, _) => false,
    };
    if !readable {
        return None;
    }
    let link = match kind {
        Kind::Moderation => None,
        Kind::Message => conversation.map(|c| format!("/c/{c}")),
        Kind::JoinRequest => board.as_ref().map(|b| format!("/b/{}/members", b.slug)),
        Kind::CheckIn => board.as_ref().map(|b| format!("/b/{}/review", b.slug)),
        Kind::MeetingChanged | Kind::MeetingCancelled | Kind::MeetingReminder => {
            meeting.map(|m| format!("/m/{m}"))
        }
        // By number alone: the address's words are the title's, and mail from a private
        // group must not carry them (the thread page sends the reader on to its full address).
        Kind::NewThread => thread.as_ref().map(|t| format!("/t/{}", t.id)),
        Kind::Reply | Kind::ReplyToYou | Kind::Mention | Kind::WatchedPost | Kind::Reaction => {
            post.map(|p| format!("/p/{p}"))
        }
    };
    Some(NotificationItem {
        id,
        kind: kind.as_str(),
        count,
        unread: read_at.is_none(),
        updated_at,
        actor: name,
        thread_title: thread.map(|t| t.title),
        group_name: board.map(|b| b.name),
        body,
        link,
    })
}
