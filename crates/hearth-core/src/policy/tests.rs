//! The whole permission table, cell by cell: every actor against every action.

use chrono::NaiveDateTime;

use super::*;
use crate::ids::{BoardId, ConversationId, MemberId, MessageId, PostId, ThreadId};
use crate::model::{MemberStatus, Moderation, Visibility};

fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

fn member(id: i64, role: SiteRole, status: MemberStatus, suspended_until: Option<&str>) -> Member {
    Member {
        id: MemberId(id),
        username: format!("m{id}"),
        display_name: format!("m{id}"),
        pronouns: String::new(),
        bio: String::new(),
        bio_html: String::new(),
        time_zone: "UTC".to_owned(),
        site_role: role,
        status,
        suspended_until: suspended_until.map(time),
        created_at: time("2026-01-01 00:00"),
        post_count: 0,
    }
}

/// The columns search reads of `board`.
fn board_ref(board: &Board) -> BoardRef {
    BoardRef {
        id: board.id,
        slug: board.slug.clone(),
        name: board.name.clone(),
        language: board.language.clone(),
        visibility: board.visibility,
    }
}

fn board(visibility: Visibility) -> Board {
    board_numbered(1, visibility)
}

fn board_numbered(id: i64, visibility: Visibility) -> Board {
    Board {
        id: BoardId(id),
        slug: "b".to_owned(),
        name: "B".to_owned(),
        description: String::new(),
        ground_rules: String::new(),
        ground_rules_html: String::new(),
        ground_rules_version: 1,
        visibility,
        position: 0,
        thread_count: 1,
        post_count: 1,
        last_activity_at: None,
        last_thread_id: None,
        created_at: time("2026-01-01 00:00"),
        premod_first_posts: 0,
        category_id: None,
        tags: String::new(),
        language: "en".to_owned(),
        meeting_format: crate::model::MeetingFormat::Online,
        city: String::new(),
        country: String::new(),
        time_zone: "UTC".to_owned(),
        member_count: 0,
    }
}

fn thread(locked: bool, state: Publication) -> Thread {
    thread_moderated(locked, state, Moderation::Visible)
}

fn thread_moderated(locked: bool, state: Publication, moderation: Moderation) -> Thread {
    Thread {
        id: ThreadId(1),
        board_id: BoardId(1),
        author_id: MemberId(1),
        title: "T".to_owned(),
        slug: "t".to_owned(),
        pinned: false,
        locked,
        state,
        reply_count: 0,
        last_position: 1,
        created_at: time("2026-01-01 00:00"),
        last_activity_at: time("2026-01-01 00:00"),
        last_poster_id: None,
        moderation,
        slow_mode_seconds: 0,
        lock_reason: None,
    }
}

fn post(author: i64, state: Publication) -> Post {
    post_moderated(author, state, Moderation::Visible)
}

fn post_moderated(author: i64, state: Publication, moderation: Moderation) -> Post {
    Post {
        id: PostId(1),
        thread_id: ThreadId(1),
        author_id: MemberId(author),
        position: 1,
        source: String::new(),
        html: String::new(),
        render_version: 1,
        state,
        created_at: time("2026-01-01 00:00"),
        edited_at: None,
        deleted_at: None,
        moderation,
        hidden_reason: String::new(),
    }
}

/// A conversation of board 1 with member 1: the facilitators' (started by facilitator 5), or
/// a direct one started by member 2.
fn conversation(kind: ConversationKind) -> Conversation {
    Conversation {
        id: ConversationId(1),
        board_id: BoardId(1),
        kind,
        started_by: MemberId(if kind == ConversationKind::Group {
            5
        } else {
            2
        }),
        member_id: MemberId(1),
        subject: "S".to_owned(),
        post_id: None,
        created_at: time("2026-01-01 00:00"),
        last_activity_at: time("2026-01-01 00:00"),
        last_message_id: 1,
        message_count: 1,
    }
}

fn message(author: i64) -> Message {
    Message {
        id: MessageId(1),
        conversation_id: ConversationId(1),
        author_id: MemberId(author),
        source: String::new(),
        html: String::new(),
        render_version: 1,
        created_at: time("2026-01-01 00:00"),
        moderation: Moderation::Visible,
        hidden_reason: String::new(),
    }
}

/// Member 1 writes the posts under test; board 1 is the board under test, board 2 another.
fn actors() -> Vec<(&'static str, Actor)> {
    let plain = |m: Member| MemberActor::plain(m).actor();
    let active = |id: i64, role: SiteRole| member(id, role, MemberStatus::Active, None);
    let suspended = |id: i64, role: SiteRole| {
        member(id, role, MemberStatus::Suspended, Some("2999-01-01 00:00"))
    };
    vec![
        ("visitor", Actor::Visitor),
        ("author", plain(active(1, SiteRole::Member))),
        ("other", plain(active(2, SiteRole::Member))),
        (
            "suspended author",
            plain(member(
                1,
                SiteRole::Member,
                MemberStatus::Suspended,
                Some("2999-01-01 00:00"),
            )),
        ),
        (
            "suspension over",
            plain(member(
                1,
                SiteRole::Member,
                MemberStatus::Suspended,
                Some("2000-01-01 00:00"),
            )),
        ),
        (
            "author banned from board 1",
            Actor::Member(Box::new(MemberActor {
                member: active(1, SiteRole::Member),
                facilitates: vec![],
                banned_from: vec![BoardId(1)],
                member_of: vec![],
            })),
        ),
        (
            "facilitator of board 1",
            Actor::Member(Box::new(MemberActor {
                member: active(5, SiteRole::Member),
                facilitates: vec![BoardId(1)],
                banned_from: vec![],
                member_of: vec![],
            })),
        ),
        (
            "facilitator of board 2",
            Actor::Member(Box::new(MemberActor {
                member: active(6, SiteRole::Member),
                facilitates: vec![BoardId(2)],
                banned_from: vec![],
                member_of: vec![],
            })),
        ),
        ("moderator", plain(active(3, SiteRole::Moderator))),
        ("admin", plain(active(4, SiteRole::Admin))),
        (
            "suspended facilitator of board 1",
            Actor::Member(Box::new(MemberActor {
                member: suspended(5, SiteRole::Member),
                facilitates: vec![BoardId(1)],
                banned_from: vec![],
                member_of: vec![],
            })),
        ),
        (
            "suspended moderator",
            plain(suspended(3, SiteRole::Moderator)),
        ),
    ]
}

const A: Ruling = Ruling::Allow;
const NF: Ruling = Ruling::NotFound;
const IN: Ruling = Ruling::Deny(Denied::SignInRequired);
const SUS: Ruling = Ruling::Deny(Denied::Suspended);
const BAN: Ruling = Ruling::Deny(Denied::BannedFromBoard);
const OUT: Ruling = Ruling::Deny(Denied::BannedFromPrivateGroup);
const LOCK: Ruling = Ruling::Deny(Denied::ThreadLocked);
const MINE: Ruling = Ruling::Deny(Denied::NotYours);
const OWN: Ruling = Ruling::Deny(Denied::OwnPost);
const HID: Ruling = Ruling::Deny(Denied::HiddenByModerators);
const MOD: Ruling = Ruling::Deny(Denied::ModeratorsOnly);
const CANT: Ruling = Ruling::Deny(Denied::CannotActOnMember);
const ADM: Ruling = Ruling::Deny(Denied::AdminOnly);
const NOMUTE: Ruling = Ruling::Deny(Denied::CannotMute);
const GRP: Ruling = Ruling::Deny(Denied::GroupMembersOnly);
const OWNPROP: Ruling = Ruling::Deny(Denied::OwnProposal);
const SELF: Ruling = Ruling::Deny(Denied::CannotMessageSelf);
const NIC: Ruling = Ruling::Deny(Denied::NotInConversation);

/// The name of an action's variant. The match has no wildcard, so a new action does not
/// compile until it is named here — and the table test then fails until it has rows.
fn variant(action: &Action<'_>) -> &'static str {
    match action {
        Action::ViewGroup(_) => "ViewGroup",
        Action::ReadBoard(_) => "ReadBoard",
        Action::JoinGroup(_) => "JoinGroup",
        Action::ManageMembers(_) => "ManageMembers",
        Action::RemoveMember(..) => "RemoveMember",
        Action::AnswerProposal(_) => "AnswerProposal",
        Action::MentorGroup => "MentorGroup",
        Action::ReadThread(..) => "ReadThread",
        Action::ReadPost(..) => "ReadPost",
        Action::SearchBoard(_) => "SearchBoard",
        Action::FindPost(..) => "FindPost",
        Action::StartThread(_) => "StartThread",
        Action::Reply(..) => "Reply",
        Action::EditPost(..) => "EditPost",
        Action::DeletePost(..) => "DeletePost",
        Action::ReportPost(..) => "ReportPost",
        Action::React(..) => "React",
        Action::Moderate(_) => "Moderate",
        Action::MoveThread(..) => "MoveThread",
        Action::Warn(..) => "Warn",
        Action::Suspend(_) => "Suspend",
        Action::ChangeSiteRole(_) => "ChangeSiteRole",
        Action::BanFromBoard(..) => "BanFromBoard",
        Action::ModerateSite => "ModerateSite",
        Action::ManageBoard(_) => "ManageBoard",
        Action::ManageWatchedWords => "ManageWatchedWords",
        Action::ProposeGroup => "ProposeGroup",
        Action::ReviewProposals => "ReviewProposals",
        Action::CreateBoard => "CreateBoard",
        Action::Mute(_) => "Mute",
        Action::ScheduleMeeting(_) => "ScheduleMeeting",
        Action::SeeMeetingDetails(_) => "SeeMeetingDetails",
        Action::Rsvp(_) => "Rsvp",
        Action::ReadConversation(..) => "ReadConversation",
        Action::AnswerConversation(..) => "AnswerConversation",
        Action::ModerateConversation(..) => "ModerateConversation",
        Action::ReportMessage(..) => "ReportMessage",
        Action::CheckInWith(..) => "CheckInWith",
        Action::MessageFacilitators(_) => "MessageFacilitators",
        Action::MessageMember(..) => "MessageMember",
    }
}

const EVERY_VARIANT: [&str; 40] = [
    "SearchBoard",
    "FindPost",
    "React",
    "ReadConversation",
    "AnswerConversation",
    "ModerateConversation",
    "ReportMessage",
    "CheckInWith",
    "MessageFacilitators",
    "MessageMember",
    "RemoveMember",
    "AnswerProposal",
    "MentorGroup",
    "ProposeGroup",
    "ReviewProposals",
    "ViewGroup",
    "ReadBoard",
    "JoinGroup",
    "ManageMembers",
    "ReadThread",
    "ReadPost",
    "StartThread",
    "Reply",
    "EditPost",
    "DeletePost",
    "ReportPost",
    "Moderate",
    "MoveThread",
    "Warn",
    "Suspend",
    "ChangeSiteRole",
    "BanFromBoard",
    "ModerateSite",
    "ManageBoard",
    "ManageWatchedWords",
    "CreateBoard",
    "Mute",
    "ScheduleMeeting",
    "SeeMeetingDetails",
    "Rsvp",
];

#[test]
fn every_cell_of_the_permission_table() {
    let public = board(Visibility::Public);
    let members_only = board(Visibility::Members);
    let private = board(Visibility::Private);
    let other_board = board_numbered(2, Visibility::Public);
    let open = thread(false, Publication::Published);
    let locked = thread(true, Publication::Published);
    let gone = thread(false, Publication::Deleted);
    let awaiting_thread = thread_moderated(false, Publication::Published, Moderation::Awaiting);
    let authors_post = post(1, Publication::Published);
    let deleted_post = post(1, Publication::Deleted);
    let awaiting_post = post_moderated(1, Publication::Published, Moderation::Awaiting);
    let hidden_post = post_moderated(1, Publication::Published, Moderation::Hidden);
    let the_author = member(1, SiteRole::Member, MemberStatus::Active, None);
    let a_moderator = member(3, SiteRole::Moderator, MemberStatus::Active, None);
    let an_admin = member(4, SiteRole::Admin, MemberStatus::Active, None);
    let (public_ref, members_ref, private_ref) = (
        board_ref(&public),
        board_ref(&members_only),
        board_ref(&private),
    );
    let with_facilitators = conversation(ConversationKind::Group);
    let direct = conversation(ConversationKind::Direct);
    let message_of_other = message(2);

    // Columns: visitor, author, other, suspended author, suspension over, author banned from
    // board 1, facilitator of board 1, facilitator of board 2, moderator, admin, suspended
    // facilitator of board 1, suspended moderator. A suspension removes every power while it
    // lasts: the suspended facilitator reads as a member of board 1, the suspended moderator as
    // an ordinary member, and both are told `Suspended` where their role would have allowed it.
    #[rustfmt::skip]
    let table: Vec<(&str, Action, [Ruling; 12])> = vec![
        ("view a private group's public face", Action::ViewGroup(&private), [A, A, A, A, A, A, A, A, A, A, A, A]),
        ("join a private group", Action::JoinGroup(&private), [IN, A, A, A, A, OUT, A, A, A, A, A, A]),
        ("join a public group", Action::JoinGroup(&public), [IN, A, A, A, A, A, A, A, A, A, A, A]),
        ("manage members of board 1", Action::ManageMembers(&public), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("manage members of board 2", Action::ManageMembers(&other_board), [IN, MOD, MOD, MOD, MOD, MOD, MOD, A, A, A, MOD, SUS]),
        ("read public board", Action::ReadBoard(&public), [A, A, A, A, A, A, A, A, A, A, A, A]),
        ("read members-only board", Action::ReadBoard(&members_only), [NF, A, A, A, A, A, A, A, A, A, A, A]),
        ("read private board", Action::ReadBoard(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, A, NF]),
        ("read thread", Action::ReadThread(&public, &open), [A, A, A, A, A, A, A, A, A, A, A, A]),
        ("read deleted thread", Action::ReadThread(&public, &gone), [NF, NF, NF, NF, NF, NF, A, NF, A, A, NF, NF]),
        ("read thread awaiting approval", Action::ReadThread(&public, &awaiting_thread), [NF, A, NF, A, A, A, A, NF, A, A, NF, NF]),
        ("read thread on members-only board", Action::ReadThread(&members_only, &open), [NF, A, A, A, A, A, A, A, A, A, A, A]),
        ("read post", Action::ReadPost(&public, &open, &authors_post), [A, A, A, A, A, A, A, A, A, A, A, A]),
        ("read post awaiting approval", Action::ReadPost(&public, &open, &awaiting_post), [NF, A, NF, A, A, A, A, NF, A, A, NF, NF]),
        ("read hidden post", Action::ReadPost(&public, &open, &hidden_post), [HID, A, HID, A, A, A, A, HID, A, A, HID, HID]),
        ("read deleted post", Action::ReadPost(&public, &open, &deleted_post), [NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF]),
        ("search public board", Action::SearchBoard(&public_ref), [A, A, A, A, A, A, A, A, A, A, A, A]),
        ("search members-only board", Action::SearchBoard(&members_ref), [NF, A, A, A, A, A, A, A, A, A, A, A]),
        ("search private board", Action::SearchBoard(&private_ref), [NF, NF, NF, NF, NF, NF, A, NF, A, A, A, NF]),
        ("find post", Action::FindPost(&public_ref, &open, &authors_post), [A, A, A, A, A, A, A, A, A, A, A, A]),
        ("find post in private board", Action::FindPost(&private_ref, &open, &authors_post), [NF, NF, NF, NF, NF, NF, A, NF, A, A, A, NF]),
        ("find post awaiting approval", Action::FindPost(&public_ref, &open, &awaiting_post), [NF, A, NF, A, A, A, A, NF, A, A, NF, NF]),
        ("find hidden post", Action::FindPost(&public_ref, &open, &hidden_post), [HID, A, HID, A, A, A, A, HID, A, A, HID, HID]),
        ("find deleted post", Action::FindPost(&public_ref, &open, &deleted_post), [NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF]),
        ("find post in deleted thread", Action::FindPost(&public_ref, &gone, &authors_post), [NF, NF, NF, NF, NF, NF, A, NF, A, A, NF, NF]),
        ("start thread", Action::StartThread(&public), [IN, A, A, SUS, A, BAN, A, A, A, A, SUS, SUS]),
        ("start thread on other board", Action::StartThread(&other_board), [IN, A, A, SUS, A, A, A, A, A, A, SUS, SUS]),
        ("start thread on private board", Action::StartThread(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("reply", Action::Reply(&public, &open), [IN, A, A, SUS, A, BAN, A, A, A, A, SUS, SUS]),
        ("reply to locked thread", Action::Reply(&public, &locked), [IN, LOCK, LOCK, SUS, LOCK, BAN, A, LOCK, A, A, SUS, SUS]),
        ("reply to deleted thread", Action::Reply(&public, &gone), [NF, NF, NF, NF, NF, NF, A, NF, A, A, NF, NF]),
        ("edit own post", Action::EditPost(&public, &open, &authors_post), [IN, A, MINE, SUS, A, BAN, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("edit own post in locked thread", Action::EditPost(&public, &locked, &authors_post), [IN, LOCK, MINE, SUS, LOCK, BAN, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("edit deleted post", Action::EditPost(&public, &open, &deleted_post), [IN, NF, NF, SUS, NF, NF, NF, NF, NF, NF, SUS, SUS]),
        ("edit hidden post", Action::EditPost(&public, &open, &hidden_post), [IN, HID, MINE, SUS, HID, HID, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("edit post on members-only board", Action::EditPost(&members_only, &open, &authors_post), [NF, A, MINE, SUS, A, BAN, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("delete own post", Action::DeletePost(&public, &open, &authors_post), [IN, A, MINE, SUS, A, A, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("delete hidden post", Action::DeletePost(&public, &open, &hidden_post), [IN, A, MINE, SUS, A, A, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("delete post in locked thread", Action::DeletePost(&public, &locked, &authors_post), [IN, A, MINE, SUS, A, A, MINE, MINE, MINE, MINE, SUS, SUS]),
        ("report a post", Action::ReportPost(&public, &open, &authors_post), [IN, OWN, A, OWN, OWN, OWN, A, A, A, A, A, A]),
        ("report a hidden post", Action::ReportPost(&public, &open, &hidden_post), [HID, OWN, HID, OWN, OWN, OWN, A, HID, A, A, HID, HID]),
        ("report a post awaiting approval", Action::ReportPost(&public, &open, &awaiting_post), [NF, OWN, NF, OWN, OWN, OWN, A, NF, A, A, NF, NF]),
        ("react to a post", Action::React(&public, &open, &authors_post), [IN, OWN, A, OWN, OWN, OWN, A, A, A, A, SUS, SUS]),
        ("react to a post in a locked thread", Action::React(&public, &locked, &authors_post), [IN, OWN, LOCK, OWN, OWN, OWN, A, LOCK, A, A, SUS, SUS]),
        ("react to a hidden post", Action::React(&public, &open, &hidden_post), [HID, OWN, HID, OWN, OWN, OWN, HID, HID, HID, HID, HID, HID]),
        ("react to a post awaiting approval", Action::React(&public, &open, &awaiting_post), [NF, OWN, NF, OWN, OWN, OWN, HID, NF, HID, HID, NF, NF]),
        ("react to a deleted post", Action::React(&public, &open, &deleted_post), [NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF]),
        ("react to a post on a private board", Action::React(&private, &open, &authors_post), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("moderate board 1", Action::Moderate(&public), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("moderate board 2", Action::Moderate(&other_board), [IN, MOD, MOD, MOD, MOD, MOD, MOD, A, A, A, MOD, SUS]),
        ("moderate private board 1", Action::Moderate(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("move thread from board 1 to 2", Action::MoveThread(&public, &other_board), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, SUS, SUS]),
        ("warn the author about board 1", Action::Warn(Some(&public), &the_author), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("warn the author about board 2", Action::Warn(Some(&other_board), &the_author), [IN, MOD, MOD, MOD, MOD, MOD, MOD, A, A, A, MOD, SUS]),
        ("warn the author site-wide", Action::Warn(None, &the_author), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, MOD, SUS]),
        ("warn a moderator about board 1", Action::Warn(Some(&public), &a_moderator), [IN, MOD, MOD, MOD, MOD, MOD, CANT, MOD, CANT, A, SUS, SUS]),
        ("suspend the author", Action::Suspend(&the_author), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, MOD, SUS]),
        ("suspend a moderator", Action::Suspend(&a_moderator), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, CANT, A, MOD, SUS]),
        ("suspend an admin", Action::Suspend(&an_admin), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, CANT, CANT, MOD, SUS]),
        ("change the author's site role", Action::ChangeSiteRole(&the_author), [IN, ADM, ADM, ADM, ADM, ADM, ADM, ADM, ADM, A, ADM, ADM]),
        ("change an admin's site role", Action::ChangeSiteRole(&an_admin), [IN, ADM, ADM, ADM, ADM, ADM, ADM, ADM, ADM, A, ADM, ADM]),
        ("ban the author from board 1", Action::BanFromBoard(&public, &the_author), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("ban the author from board 2", Action::BanFromBoard(&other_board, &the_author), [IN, MOD, MOD, MOD, MOD, MOD, MOD, A, A, A, MOD, SUS]),
        ("ban a moderator from board 1", Action::BanFromBoard(&public, &a_moderator), [IN, MOD, MOD, MOD, MOD, MOD, CANT, MOD, CANT, A, SUS, SUS]),
        ("remove the author from board 1", Action::RemoveMember(&public, &the_author), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("remove the author from private board 1", Action::RemoveMember(&private, &the_author), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("remove a moderator from board 1", Action::RemoveMember(&public, &a_moderator), [IN, MOD, MOD, MOD, MOD, MOD, CANT, MOD, CANT, A, SUS, SUS]),
        ("site-wide queue and log", Action::ModerateSite, [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, MOD, SUS]),
        ("manage board 1", Action::ManageBoard(&public), [IN, ADM, ADM, ADM, ADM, ADM, ADM, ADM, ADM, A, ADM, ADM]),
        ("manage private board 1", Action::ManageBoard(&private), [NF, NF, NF, NF, NF, NF, ADM, NF, ADM, A, ADM, NF]),
        ("propose a group", Action::ProposeGroup, [IN, A, A, SUS, A, A, A, A, A, A, SUS, SUS]),
        ("review group proposals", Action::ReviewProposals, [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, MOD, SUS]),
        ("answer the author's proposal", Action::AnswerProposal(MemberId(1)), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, MOD, SUS]),
        ("answer the moderator's own proposal", Action::AnswerProposal(MemberId(3)), [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, OWNPROP, A, MOD, SUS]),
        ("mentor a new group", Action::MentorGroup, [IN, MOD, MOD, MOD, MOD, MOD, MOD, MOD, A, A, MOD, SUS]),
        ("manage watched words", Action::ManageWatchedWords, [IN, ADM, ADM, ADM, ADM, ADM, ADM, ADM, ADM, A, ADM, ADM]),
        ("create board", Action::CreateBoard, [IN, ADM, ADM, ADM, ADM, ADM, ADM, ADM, ADM, A, ADM, ADM]),
        ("mute the author", Action::Mute(&the_author), [IN, NOMUTE, A, NOMUTE, NOMUTE, NOMUTE, A, A, A, A, A, A]),
        ("mute a moderator", Action::Mute(&a_moderator), [IN, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE]),
        ("schedule a meeting of board 1", Action::ScheduleMeeting(&public), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("schedule a meeting of board 2", Action::ScheduleMeeting(&other_board), [IN, MOD, MOD, MOD, MOD, MOD, MOD, A, A, A, MOD, SUS]),
        ("schedule a meeting of private board 1", Action::ScheduleMeeting(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("see meeting details of board 1", Action::SeeMeetingDetails(&public), [IN, GRP, GRP, GRP, GRP, GRP, A, GRP, A, A, A, GRP]),
        ("see meeting details of members-only board 1", Action::SeeMeetingDetails(&members_only), [NF, GRP, GRP, GRP, GRP, GRP, A, GRP, A, A, A, GRP]),
        ("see meeting details of private board 1", Action::SeeMeetingDetails(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, A, NF]),
        ("answer for a meeting of board 1", Action::Rsvp(&public), [IN, GRP, GRP, SUS, GRP, BAN, A, GRP, A, A, SUS, SUS]),
        ("answer for a meeting of private board 1", Action::Rsvp(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("read the facilitators' conversation with the author", Action::ReadConversation(&public, &with_facilitators), [NF, A, NF, A, A, A, A, NF, A, A, NF, NF]),
        ("read it on a private board", Action::ReadConversation(&private, &with_facilitators), [NF, A, NF, A, A, A, A, NF, A, A, NF, NF]),
        ("read a direct conversation", Action::ReadConversation(&public, &direct), [NF, A, A, A, A, A, A, NF, A, A, NF, NF]),
        ("answer the facilitators' conversation", Action::AnswerConversation(&public, &with_facilitators), [NF, A, NF, SUS, A, A, A, NF, A, A, NF, NF]),
        ("answer a direct conversation", Action::AnswerConversation(&public, &direct), [NF, A, A, SUS, A, BAN, NIC, NF, NIC, NIC, NF, NF]),
        ("moderate the facilitators' conversation", Action::ModerateConversation(&public, &with_facilitators), [NF, MOD, NF, MOD, MOD, MOD, A, NF, A, A, NF, NF]),
        ("moderate a direct conversation", Action::ModerateConversation(&public, &direct), [NF, MOD, MOD, MOD, MOD, MOD, A, NF, A, A, NF, NF]),
        ("report the other member's message", Action::ReportMessage(&public, &direct, &message_of_other), [NF, A, OWN, A, A, A, A, NF, A, A, NF, NF]),
        ("check in with the author about board 1", Action::CheckInWith(&public, &the_author), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, A, A, SUS, SUS]),
        ("check in with the author about private board 1", Action::CheckInWith(&private, &the_author), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("check in with the moderator", Action::CheckInWith(&public, &a_moderator), [IN, MOD, MOD, MOD, MOD, MOD, A, MOD, SELF, A, SUS, SUS]),
        ("message the facilitators of board 1", Action::MessageFacilitators(&public), [IN, GRP, GRP, SUS, GRP, GRP, A, GRP, A, A, SUS, SUS]),
        ("message the facilitators of private board 1", Action::MessageFacilitators(&private), [NF, NF, NF, NF, NF, NF, A, NF, A, A, SUS, NF]),
        ("message the author privately in board 1", Action::MessageMember(&public, &the_author), [IN, GRP, GRP, SUS, GRP, BAN, A, GRP, A, A, SUS, SUS]),
    ];
    let actors = actors();
    let mut wrong = Vec::new();
    for (action_name, action, expected) in &table {
        for ((actor_name, actor), want) in actors.iter().zip(expected) {
            let got = decide(actor, *action);
            if got != *want {
                wrong.push(format!(
                    "{actor_name} / {action_name}: expected {want:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let covered: std::collections::BTreeSet<&str> =
        table.iter().map(|(_, action, _)| variant(action)).collect();
    let every: std::collections::BTreeSet<&str> = EVERY_VARIANT.into_iter().collect();
    assert_eq!(covered, every, "every action needs rows in the table");
}

#[test]
fn hidden_becomes_not_found_and_denied_keeps_its_reason() {
    let private = board(Visibility::Private);
    assert!(matches!(
        authorize(&Actor::Visitor, Action::ReadBoard(&private)),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        authorize(&Actor::Visitor, Action::CreateBoard),
        Err(Error::Denied(Denied::SignInRequired))
    ));
}

/// Search decides on a board's few columns what pages decide on the whole row: the same
/// ruling for every actor, board, thread and post state.
#[test]
fn search_rules_as_reading_does() {
    let mut threads = vec![
        thread(false, Publication::Published),
        thread(true, Publication::Published),
    ];
    threads.push(thread(false, Publication::Deleted));
    for moderation in [Moderation::Awaiting, Moderation::Hidden] {
        threads.push(thread_moderated(false, Publication::Published, moderation));
    }
    let mut posts = vec![
        post(1, Publication::Published),
        post(2, Publication::Published),
    ];
    posts.push(post(1, Publication::Deleted));
    for moderation in [Moderation::Awaiting, Moderation::Hidden] {
        posts.push(post_moderated(1, Publication::Published, moderation));
        posts.push(post_moderated(2, Publication::Published, moderation));
    }
    // Besides the table's actors: members of a group, one banned from it since.
    let in_groups = |id: i64, member_of: &[i64], banned_from: &[i64]| {
        Actor::Member(Box::new(MemberActor {
            member: member(id, SiteRole::Member, MemberStatus::Active, None),
            facilitates: vec![],
            banned_from: banned_from.iter().map(|b| BoardId(*b)).collect(),
            member_of: member_of.iter().map(|b| BoardId(*b)).collect(),
        }))
    };
    let mut everyone = actors();
    everyone.extend([
        ("author, member of group 1", in_groups(1, &[1], &[])),
        ("member of group 2", in_groups(7, &[2], &[])),
        (
            "member of group 1, banned from it",
            in_groups(8, &[1], &[1]),
        ),
        (
            "member of both, banned from group 2",
            in_groups(9, &[1, 2], &[2]),
        ),
    ]);
    let mut compared = 0;
    for (name, actor) in everyone {
        for (id, visibility) in [1, 2].into_iter().flat_map(|id| {
            [Visibility::Public, Visibility::Members, Visibility::Private].map(|v| (id, v))
        }) {
            let board = board_numbered(id, visibility);
            let slim = board_ref(&board);
            assert_eq!(
                decide(&actor, Action::SearchBoard(&slim)),
                decide(&actor, Action::ReadBoard(&board)),
                "{name} / board {id} {visibility:?}"
            );
            for thread in &threads {
                for post in &posts {
                    assert_eq!(
                        decide(&actor, Action::FindPost(&slim, thread, post)),
                        decide(&actor, Action::ReadPost(&board, thread, post)),
                        "{name} / board {id} {visibility:?} / {thread:?} / {post:?}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 1000, "{compared} cases");
    // The members' branch is reached: a group's member searches it, no other private group,
    // and not after a ban.
    let private = |id| board_ref(&board_numbered(id, Visibility::Private));
    let searches = |actor: &Actor, id| decide(actor, Action::SearchBoard(&private(id)));
    assert_eq!(searches(&in_groups(7, &[2], &[]), 2), A);
    assert_eq!(searches(&in_groups(7, &[2], &[]), 1), NF);
    assert_eq!(searches(&in_groups(8, &[1], &[1]), 1), NF);
}

#[test]
fn listing_filters_match_the_board_decisions() {
    for (name, actor) in actors() {
        // Facilitators also list the private boards they moderate; the listing adds those.
        if actor
            .member_actor()
            .is_some_and(|m| !m.facilitates.is_empty())
        {
            continue;
        }
        for visibility in [Visibility::Public, Visibility::Members, Visibility::Private] {
            let listed = readable_visibilities(&actor).contains(&visibility.as_str());
            let readable = allows(&actor, Action::ReadBoard(&board(visibility)));
            assert_eq!(listed, readable, "{name} / {visibility:?}");
        }
    }
}

#[test]
fn a_private_group_opens_to_its_members_only() {
    let private = board(Visibility::Private);
    let open = thread(false, Publication::Published);
    let mut joined = MemberActor::plain(member(7, SiteRole::Member, MemberStatus::Active, None));
    joined.member_of = vec![BoardId(1)];
    let of_another = MemberActor {
        member_of: vec![BoardId(2)],
        ..joined.clone()
    };
    let joined = joined.actor();
    let of_another = of_another.actor();
    for action in [
        Action::ReadBoard(&private),
        Action::ReadThread(&private, &open),
        Action::StartThread(&private),
        Action::Reply(&private, &open),
    ] {
        assert_eq!(decide(&joined, action), A, "{action:?}");
        assert_eq!(decide(&of_another, action), NF, "{action:?}");
    }
    assert_eq!(
        decide(&joined, Action::ManageMembers(&private)),
        MOD,
        "members do not manage members"
    );
}

#[test]
fn a_ban_from_a_private_group_shuts_its_member_out() {
    let private = board(Visibility::Private);
    let open = thread(false, Publication::Published);
    let mut banned = MemberActor::plain(member(7, SiteRole::Member, MemberStatus::Active, None));
    banned.member_of = vec![BoardId(1)];
    banned.banned_from = vec![BoardId(1)];
    let banned = banned.actor();
    for action in [
        Action::ReadBoard(&private),
        Action::ReadThread(&private, &open),
        Action::SeeMeetingDetails(&private),
    ] {
        assert_eq!(decide(&banned, action), NF, "{action:?}");
    }
}

#[test]
fn a_groups_members_see_its_meeting_details_and_answer_for_its_meetings() {
    let members_only = board(Visibility::Members);
    let mut joined = MemberActor::plain(member(7, SiteRole::Member, MemberStatus::Active, None));
    joined.member_of = vec![BoardId(1)];
    let of_another = MemberActor {
        member_of: vec![BoardId(2)],
        ..joined.clone()
    };
    let banned = MemberActor {
        banned_from: vec![BoardId(1)],
        ..joined.clone()
    };
    let (joined, of_another, banned) = (joined.actor(), of_another.actor(), banned.actor());
    for action in [
        Action::SeeMeetingDetails(&members_only),
        Action::Rsvp(&members_only),
    ] {
        assert_eq!(decide(&joined, action), A, "{action:?}");
        assert_eq!(decide(&of_another, action), GRP, "{action:?}");
    }
    assert_eq!(decide(&joined, Action::ScheduleMeeting(&members_only)), MOD);
    assert_eq!(decide(&banned, Action::Rsvp(&members_only)), BAN);
    assert_eq!(
        decide(&banned, Action::SeeMeetingDetails(&members_only)),
        A,
        "a ban stops answering, not knowing where the group meets"
    );
}

#[test]
fn a_suspended_admin_runs_nothing() {
    let public = board(Visibility::Public);
    let the_author = member(1, SiteRole::Member, MemberStatus::Active, None);
    let admin = MemberActor::plain(member(
        4,
        SiteRole::Admin,
        MemberStatus::Suspended,
        Some("2999-01-01 00:00"),
    ));
    assert!(!admin.is_admin() && !admin.is_staff() && !admin.moderates_any());
    let admin = admin.actor();
    for action in [
        Action::ManageBoard(&public),
        Action::ManageWatchedWords,
        Action::CreateBoard,
        Action::ModerateSite,
        Action::ReviewProposals,
        Action::Moderate(&public),
        Action::Suspend(&the_author),
        Action::ChangeSiteRole(&the_author),
        Action::ScheduleMeeting(&public),
    ] {
        assert_eq!(decide(&admin, action), SUS, "{action:?}");
    }
    assert_eq!(
        readable_visibilities(&admin),
        &["public", "members"],
        "a suspended admin reads as an ordinary member"
    );
}

#[test]
fn a_member_writes_to_the_facilitators_and_members_of_their_own_groups_only() {
    let private = board(Visibility::Private);
    let the_author = member(1, SiteRole::Member, MemberStatus::Active, None);
    let mut joined = MemberActor::plain(member(7, SiteRole::Member, MemberStatus::Active, None));
    joined.member_of = vec![BoardId(1)];
    let of_another = MemberActor {
        member_of: vec![BoardId(2)],
        ..joined.clone()
    };
    let myself = joined.member.clone();
    let (joined, of_another) = (joined.actor(), of_another.actor());
    assert_eq!(decide(&joined, Action::MessageFacilitators(&private)), A);
    assert_eq!(
        decide(&of_another, Action::MessageFacilitators(&private)),
        NF
    );
    assert_eq!(
        decide(&joined, Action::MessageMember(&private, &the_author)),
        A
    );
    assert_eq!(
        decide(&joined, Action::MessageMember(&private, &myself)),
        SELF
    );
    assert_eq!(
        decide(&joined, Action::CheckInWith(&private, &the_author)),
        MOD,
        "members do not open check-ins"
    );
}
