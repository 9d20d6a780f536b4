//! The one place that decides who may do what. `hearth-web` asks; it never decides.
//!
//! A ruling is one of three: allowed; denied with a reason the person can act on; or not found —
//! the actor may not even know the thing exists, which callers show exactly as a thing that
//! does not exist.
//!
//! Roles: visitors; members; facilitators, who moderate the boards an admin assigned them;
//! site moderators, who moderate every board; admins, who also run the site. A suspension
//! removes every power while it lasts: a suspended facilitator, moderator or admin reads as an
//! ordinary (suspended) member of their groups, and is refused the rest with
//! [`Denied::Suspended`] (see [`MemberActor::moderates`]).

mod actor;

pub use actor::{Actor, MemberActor};

use crate::clock;
use crate::error::{Denied, Error, Result};
use crate::ids::{BoardId, MemberId};
use crate::model::{
    Board, BoardRef, Conversation, ConversationKind, Member, Message, Moderation, Post,
    Publication, SiteRole, Thread, Visibility,
};

/// Everything an actor can try to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// A group's public face: name, description, ground rules, how it meets. Everyone sees
    /// it, even of a private group — never its threads, members, meeting links or feeds.
    ViewGroup(&'a Board),
    /// Its threads and posts.
    ReadBoard(&'a Board),
    /// Join a group (or ask to, for a private one).
    JoinGroup(&'a Board),
    /// See who belongs to a group and answer join requests: its facilitators and the staff.
    ManageMembers(&'a Board),
    /// End a member's membership of a group: its facilitators and the staff, on members below
    /// them (as a ban).
    RemoveMember(&'a Board, &'a Member),
    ReadThread(&'a Board, &'a Thread),
    /// See a post's text (posts awaiting approval or hidden are not everyone's to read).
    ReadPost(&'a Board, &'a Thread, &'a Post),
    /// Search a board's posts: whoever may read it ([`Action::ReadBoard`], the same rule),
    /// decided on the few columns search reads of every board.
    SearchBoard(&'a BoardRef),
    /// A post among search hits: whoever may read it ([`Action::ReadPost`], the same rule).
    FindPost(&'a BoardRef, &'a Thread, &'a Post),
    StartThread(&'a Board),
    Reply(&'a Board, &'a Thread),
    EditPost(&'a Board, &'a Thread, &'a Post),
    DeletePost(&'a Board, &'a Thread, &'a Post),
    /// Ask the moderators to look at someone else's post.
    ReportPost(&'a Board, &'a Thread, &'a Post),
    /// React to someone else's post ("I hear you", …): a member who may read it and write on
    /// its board, on a visible post only (never one hidden or awaiting approval), never their own,
    /// and not in a locked thread (but its moderators).
    React(&'a Board, &'a Thread, &'a Post),
    /// The board's review queue and its moderation: approve, hide, restore, dismiss reports,
    /// mark check-ins handled, lock, pin, slow mode, pre-moderation, the full log.
    Moderate(&'a Board),
    /// Move a thread from one board to another: the mover moderates both.
    MoveThread(&'a Board, &'a Board),
    /// Send a member a private warning from the moderators, about something on a board
    /// (facilitators of that board and staff) or in general (staff).
    Warn(Option<&'a Board>, &'a Member),
    /// Stop a member posting anywhere until a date.
    Suspend(&'a Member),
    /// Make a member a site moderator or admin, or take the role back: admins, on anyone
    /// (themselves too: the core refuses to leave the site without an admin).
    ChangeSiteRole(&'a Member),
    /// Stop a member posting on one board.
    BanFromBoard(&'a Board, &'a Member),
    /// The site-wide review queue and moderation log.
    ModerateSite,
    /// Assign and remove a board's facilitators, change its settings.
    ManageBoard(&'a Board),
    /// The watched words and phrases.
    ManageWatchedWords,
    /// Propose a new group.
    ProposeGroup,
    /// Review proposals for new groups: site moderators and admins.
    ReviewProposals,
    /// Approve or decline one proposal, made by the member given: a reviewer, but never on
    /// their own proposal.
    AnswerProposal(MemberId),
    /// Be named the mentor of a new group, facilitating it beside its proposer without being
    /// asked again: the site's staff (the actor is the mentor).
    MentorGroup,
    CreateBoard,
    /// Collapse another member's posts for oneself.
    Mute(&'a Member),
    /// Schedule a group's meetings, edit or cancel them, cancel or move one meeting of a
    /// series: its facilitators and the staff.
    ScheduleMeeting(&'a Board),
    /// A meeting's online link and place, and who is going: the group's members (and its
    /// moderators). Never visitors, other members, or public feeds.
    SeeMeetingDetails(&'a Board),
    /// Answer going / maybe / not going for one meeting: members of the group who may post in it.
    Rsvp(&'a Board),
    /// A private conversation of a group: the member it is with (and the other member of a
    /// direct one), the group's facilitators and the staff. Nobody else may know it exists.
    ReadConversation(&'a Board, &'a Conversation),
    /// Answer in a conversation: the group's facilitators, the staff and the member, in a
    /// conversation with the facilitators; the two members, in a direct one.
    AnswerConversation(&'a Board, &'a Conversation),
    /// Hide, restore or approve a message, close a check-in: the group's moderators.
    ModerateConversation(&'a Board, &'a Conversation),
    /// Ask the moderators to look at someone else's message.
    ReportMessage(&'a Board, &'a Conversation, &'a Message),
    /// Start a private check-in with a member about a group: its facilitators and the staff.
    CheckInWith(&'a Board, &'a Member),
    /// Write to a group's facilitators: its members.
    MessageFacilitators(&'a Board),
    /// Write privately to another member of a group (when the site allows it, the account is
    /// old enough, and the other member shares the group: the core checks those).
    MessageMember(&'a Board, &'a Member),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling {
    Allow,
    Deny(Denied),
    /// The actor may not know the thing exists: shown as "not found", exactly like a thing
    /// that does not exist (a moderator's hide is [`crate::model::Moderation::Hidden`]).
    NotFound,
}

pub fn decide(actor: &Actor, action: Action<'_>) -> Ruling {
    match action {
        Action::ViewGroup(_) => Ruling::Allow,
        Action::ReadBoard(board) => read_board(actor, board),
        Action::JoinGroup(board) => match actor.member() {
            None => Ruling::Deny(Denied::SignInRequired),
            // A ban from a private group ended the membership; it is not asked for again
            // while the ban lasts.
            Some(_)
                if board.visibility == Visibility::Private && actor.is_banned_from(board.id) =>
            {
                Ruling::Deny(Denied::BannedFromPrivateGroup)
            }
            Some(_) => Ruling::Allow,
        },
        Action::ManageMembers(board) => moderator_of(actor, board),
        Action::ReadThread(board, thread) => read_thread(actor, board, thread),
        Action::ReadPost(board, thread, post) => read_post(actor, board, thread, post),
        Action::SearchBoard(board) => read_board(actor, board),
        Action::FindPost(board, thread, post) => read_post(actor, board, thread, post),
        Action::StartThread(board) => then(read_board(actor, board), || may_post(actor, board)),
        Action::Reply(board, thread) => then(read_thread(actor, board, thread), || {
            then(may_post(actor, board), || {
                if thread.locked && !actor.moderates(board.id) {
                    Ruling::Deny(Denied::ThreadLocked)
                } else {
                    Ruling::Allow
                }
            })
        }),
        // An edit is writing on the board: refused to a member banned from it, and in a locked
        // thread (as a reply is), besides being the author's own.
        Action::EditPost(board, thread, post) => then(read_thread(actor, board, thread), || {
            then(may_write(actor), || {
                then(change_own_post(actor, post, false), || {
                    then(may_post(actor, board), || {
                        if thread.locked && !actor.moderates(board.id) {
                            Ruling::Deny(Denied::ThreadLocked)
                        } else {
                            Ruling::Allow
                        }
                    })
                })
            })
        }),
        Action::DeletePost(board, thread, post) => then(read_thread(actor, board, thread), || {
            then(may_write(actor), || change_own_post(actor, post, true))
        }),
        Action::ReportPost(board, thread, post) => {
            then(read_post(actor, board, thread, post), || {
                match actor.member() {
                    None => Ruling::Deny(Denied::SignInRequired),
                    Some(_) if actor.is_author_of(post) => Ruling::Deny(Denied::OwnPost),
                    Some(_) => Ruling::Allow,
                }
            })
        }
        Action::React(board, thread, post) => then(read_post(actor, board, thread, post), || {
            match actor.member() {
                None => Ruling::Deny(Denied::SignInRequired),
                Some(_) if actor.is_author_of(post) => Ruling::Deny(Denied::OwnPost),
                Some(_) if post.moderation != Moderation::Visible => {
                    Ruling::Deny(Denied::HiddenByModerators)
                }
                // A locked thread takes no new words, and no more "me too" either.
                Some(_) => then(may_post(actor, board), || {
                    if thread.locked && !actor.moderates(board.id) {
                        Ruling::Deny(Denied::ThreadLocked)
                    } else {
                        Ruling::Allow
                    }
                }),
            }
        }),
        Action::Moderate(board) => then(read_board(actor, board), || moderator_of(actor, board)),
        Action::MoveThread(from, to) => then(decide(actor, Action::Moderate(from)), || {
            then(read_board(actor, to), || moderator_of(actor, to))
        }),
        Action::Warn(board, target) => {
            let may = match board {
                Some(board) => then(read_board(actor, board), || moderator_of(actor, board)),
                None => staff_only(actor),
            };
            then(may, || act_on_member(actor, target))
        }
        Action::Suspend(target) => then(staff_only(actor), || act_on_member(actor, target)),
        Action::ChangeSiteRole(_) => admin_only(actor),
        Action::BanFromBoard(board, target) | Action::RemoveMember(board, target) => {
            then(decide(actor, Action::Moderate(board)), || {
                act_on_member(actor, target)
            })
        }
        Action::ModerateSite | Action::ReviewProposals | Action::MentorGroup => staff_only(actor),
        Action::AnswerProposal(proposer) => then(staff_only(actor), || {
            if actor.member().is_some_and(|me| me.id == proposer) {
                Ruling::Deny(Denied::OwnProposal)
            } else {
                Ruling::Allow
            }
        }),
        Action::ProposeGroup => may_write(actor),
        Action::ManageBoard(board) => then(read_board(actor, board), || admin_only(actor)),
        Action::ManageWatchedWords | Action::CreateBoard => admin_only(actor),
        Action::Mute(target) => match actor.member() {
            None => Ruling::Deny(Denied::SignInRequired),
            Some(me) if me.id == target.id || target.site_role >= SiteRole::Moderator => {
                Ruling::Deny(Denied::CannotMute)
            }
            Some(_) => Ruling::Allow,
        },
        Action::ScheduleMeeting(board) => {
            then(read_board(actor, board), || moderator_of(actor, board))
        }
        Action::SeeMeetingDetails(board) => {
            then(read_board(actor, board), || group_member(actor, board))
        }
        Action::Rsvp(board) => then(read_board(actor, board), || {
            then(may_post(actor, board), || group_member(actor, board))
        }),
        Action::ReadConversation(board, conversation) => {
            read_conversation(actor, board, conversation)
        }
        Action::AnswerConversation(board, conversation) => {
            then(read_conversation(actor, board, conversation), || {
                then(may_write(actor), || match conversation.kind {
                    ConversationKind::Group => Ruling::Allow,
                    ConversationKind::Direct if is_party(actor, conversation) => {
                        may_post(actor, board)
                    }
                    ConversationKind::Direct => Ruling::Deny(Denied::NotInConversation),
                })
            })
        }
        Action::ModerateConversation(board, conversation) => {
            then(read_conversation(actor, board, conversation), || {
                moderator_of(actor, board)
            })
        }
        Action::ReportMessage(board, conversation, message) => then(
            read_conversation(actor, board, conversation),
            || match actor.member() {
                None => Ruling::Deny(Denied::SignInRequired),
                Some(me) if me.id == message.author_id => Ruling::Deny(Denied::OwnPost),
                Some(_) => Ruling::Allow,
            },
        ),
        Action::CheckInWith(board, target) => then(read_board(actor, board), || {
            then(moderator_of(actor, board), || not_oneself(actor, target))
        }),
        Action::MessageFacilitators(board) => then(read_board(actor, board), || {
            then(may_write(actor), || group_member(actor, board))
        }),
        Action::MessageMember(board, target) => then(read_board(actor, board), || {
            then(may_post(actor, board), || {
                then(group_member(actor, board), || not_oneself(actor, target))
            })
        }),
    }
}

/// A conversation is read by the people in it and the group's moderators; for anyone else it
/// does not exist. (A moderator reads a direct conversation to act on a report or a check-in
/// in it; only its two members answer it.)
fn read_conversation(actor: &Actor, board: &Board, conversation: &Conversation) -> Ruling {
    if actor.member().is_none() {
        return Ruling::NotFound;
    }
    if is_party(actor, conversation) || actor.moderates(board.id) {
        Ruling::Allow
    } else {
        Ruling::NotFound
    }
}

fn is_party(actor: &Actor, conversation: &Conversation) -> bool {
    actor
        .member()
        .is_some_and(|me| conversation.is_party(me.id))
}

fn not_oneself(actor: &Actor, target: &Member) -> Ruling {
    match actor.member() {
        Some(me) if me.id == target.id => Ruling::Deny(Denied::CannotMessageSelf),
        Some(_) => Ruling::Allow,
        None => Ruling::Deny(Denied::SignInRequired),
    }
}

/// [`decide`] as a `Result`: hidden becomes not-found, so the two cannot be told apart.
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<()> {
    match decide(actor, action) {
        Ruling::Allow => Ok(()),
        Ruling::Deny(reason) => Err(Error::Denied(reason)),
        Ruling::NotFound => Err(Error::NotFound),
    }
}

pub fn allows(actor: &Actor, action: Action<'_>) -> bool {
    decide(actor, action) == Ruling::Allow
}

/// The board visibilities an actor may read, for queries that list boards. Private boards a
/// member belongs to or facilitates are added by the listing itself (see `boards::list_for`).
pub fn readable_visibilities(actor: &Actor) -> &'static [&'static str] {
    match actor {
        Actor::Visitor => &["public"],
        Actor::Member(_) if actor.is_staff() => &["public", "members", "private"],
        Actor::Member(_) => &["public", "members"],
    }
}

fn then(first: Ruling, next: impl FnOnce() -> Ruling) -> Ruling {
    match first {
        Ruling::Allow => next(),
        other => other,
    }
}

/// What the reading rules look at of a board: which one it is and who may read it (a whole
/// [`Board`] or search's [`BoardRef`]).
#[derive(Debug, Clone, Copy)]
struct Readable {
    id: BoardId,
    visibility: Visibility,
}

impl From<&Board> for Readable {
    fn from(board: &Board) -> Readable {
        Readable {
            id: board.id,
            visibility: board.visibility,
        }
    }
}

impl From<&BoardRef> for Readable {
    fn from(board: &BoardRef) -> Readable {
        Readable {
            id: board.id,
            visibility: board.visibility,
        }
    }
}

fn read_board(actor: &Actor, board: impl Into<Readable>) -> Ruling {
    let board = board.into();
    let visible = match board.visibility {
        Visibility::Public => true,
        Visibility::Members => actor.member().is_some(),
        // Private groups: their members and moderators. A ban there shuts its member out
        // (and ends their membership: `moderation::actions::ban_from_board`).
        Visibility::Private => {
            actor.moderates(board.id)
                || (actor.belongs_to(board.id) && !actor.is_banned_from(board.id))
        }
    };
    if visible {
        Ruling::Allow
    } else {
        Ruling::NotFound
    }
}

/// Deleted threads are gone for everyone but moderators; a thread whose opening post awaits
/// approval or was hidden is seen by its author and the board's moderators only.
fn read_thread(actor: &Actor, board: impl Into<Readable>, thread: &Thread) -> Ruling {
    let board = board.into();
    then(read_board(actor, board), || {
        let own = actor.member().is_some_and(|m| m.id == thread.author_id);
        let moderates = actor.moderates(board.id);
        match (thread.state, thread.moderation) {
            (Publication::Deleted, _) if !moderates => Ruling::NotFound,
            (_, Moderation::Awaiting | Moderation::Hidden) if !(own || moderates) => {
                Ruling::NotFound
            }
            _ => Ruling::Allow,
        }
    })
}

fn read_post(actor: &Actor, board: impl Into<Readable>, thread: &Thread, post: &Post) -> Ruling {
    let board = board.into();
    then(read_thread(actor, board, thread), || {
        let own = actor.is_author_of(post);
        match (post.state, post.moderation) {
            (Publication::Deleted, _) => Ruling::NotFound,
            (_, Moderation::Visible) => Ruling::Allow,
            _ if own || actor.moderates(board.id) => Ruling::Allow,
            (_, Moderation::Awaiting) => Ruling::NotFound,
            (_, Moderation::Hidden) => Ruling::Deny(Denied::HiddenByModerators),
        }
    })
}

fn may_write(actor: &Actor) -> Ruling {
    match actor.member() {
        None => Ruling::Deny(Denied::SignInRequired),
        Some(member) if member.is_suspended(clock::now()) => Ruling::Deny(Denied::Suspended),
        Some(_) => Ruling::Allow,
    }
}

/// Writing on one board: not suspended, and not banned from it.
fn may_post(actor: &Actor, board: &Board) -> Ruling {
    then(may_write(actor), || match actor.member_actor() {
        Some(m) if m.banned_from.contains(&board.id) => Ruling::Deny(Denied::BannedFromBoard),
        _ => Ruling::Allow,
    })
}

/// The board's moderators. A suspended one holds no power while it lasts, and is told why.
fn moderator_of(actor: &Actor, board: &Board) -> Ruling {
    match actor.member_actor() {
        None => Ruling::Deny(Denied::SignInRequired),
        Some(m) if m.moderates(board.id) => Ruling::Allow,
        Some(m) if m.has_moderator_role(board.id) => Ruling::Deny(Denied::Suspended),
        Some(_) => Ruling::Deny(Denied::ModeratorsOnly),
    }
}

/// The group's members and its moderators.
fn group_member(actor: &Actor, board: &Board) -> Ruling {
    match actor.member() {
        None => Ruling::Deny(Denied::SignInRequired),
        Some(_) if actor.belongs_to(board.id) => Ruling::Allow,
        Some(_) => Ruling::Deny(Denied::GroupMembersOnly),
    }
}

fn staff_only(actor: &Actor) -> Ruling {
    match actor.member_actor() {
        None => Ruling::Deny(Denied::SignInRequired),
        Some(m) if m.is_staff() => Ruling::Allow,
        Some(m) if m.has_staff_role() => Ruling::Deny(Denied::Suspended),
        Some(_) => Ruling::Deny(Denied::ModeratorsOnly),
    }
}

fn admin_only(actor: &Actor) -> Ruling {
    match actor.member_actor() {
        None => Ruling::Deny(Denied::SignInRequired),
        Some(m) if m.is_admin() => Ruling::Allow,
        Some(m) if m.member.is_admin() => Ruling::Deny(Denied::Suspended),
        Some(_) => Ruling::Deny(Denied::AdminOnly),
    }
}

/// Warnings, suspensions and bans go down, never sideways or up: not oneself, not the site's
/// staff (only an admin may act on a site moderator).
fn act_on_member(actor: &Actor, target: &Member) -> Ruling {
    let Some(me) = actor.member() else {
        return Ruling::Deny(Denied::SignInRequired);
    };
    let outranks = match target.site_role {
        SiteRole::Member => true,
        SiteRole::Moderator => me.site_role == SiteRole::Admin,
        SiteRole::Admin => false,
    };
    if me.id == target.id || !outranks {
        Ruling::Deny(Denied::CannotActOnMember)
    } else {
        Ruling::Allow
    }
}

/// Authors edit and delete their own posts; moderators hide others' posts through their own
/// actions, which are logged. A hidden post can be deleted by its author but not edited.
fn change_own_post(actor: &Actor, post: &Post, deleting: bool) -> Ruling {
    match (post.state, post.moderation) {
        (Publication::Deleted, _) => Ruling::NotFound,
        _ if !actor.is_author_of(post) => Ruling::Deny(Denied::NotYours),
        (_, Moderation::Hidden) if !deleting => Ruling::Deny(Denied::HiddenByModerators),
        _ => Ruling::Allow,
    }
}

#[cfg(test)]
mod tests;
