//! The whole permission table, cell by cell: every actor against every action.

use chrono::NaiveDateTime;

use super::*;
use crate::boards::Visibility;
use crate::ids::{BoardId, MemberId, PostId, ThreadId};
use crate::members::MemberStatus;

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

fn board(visibility: Visibility) -> Board {
    Board {
        id: BoardId(1),
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
    }
}

fn thread(locked: bool, state: ThreadState) -> Thread {
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
        slow_mode_seconds: 0,
    }
}

fn post(author: i64, state: PostState) -> Post {
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
    }
}

/// The actors of the table. Member 1 is the author of the post under test.
fn actors() -> Vec<(&'static str, Actor)> {
    vec![
        ("visitor", Actor::Visitor),
        (
            "author",
            Actor::Member(member(1, SiteRole::Member, MemberStatus::Active, None)),
        ),
        (
            "other",
            Actor::Member(member(2, SiteRole::Member, MemberStatus::Active, None)),
        ),
        (
            "suspended author",
            Actor::Member(member(
                1,
                SiteRole::Member,
                MemberStatus::Suspended,
                Some("2999-01-01 00:00"),
            )),
        ),
        (
            "suspension over",
            Actor::Member(member(
                1,
                SiteRole::Member,
                MemberStatus::Suspended,
                Some("2000-01-01 00:00"),
            )),
        ),
        (
            "moderator",
            Actor::Member(member(3, SiteRole::Moderator, MemberStatus::Active, None)),
        ),
        (
            "admin",
            Actor::Member(member(4, SiteRole::Admin, MemberStatus::Active, None)),
        ),
    ]
}

const A: Decision = Decision::Allow;
const H: Decision = Decision::Hide;
const IN: Decision = Decision::Deny(Denied::SignInRequired);
const SUS: Decision = Decision::Deny(Denied::Suspended);
const LOCK: Decision = Decision::Deny(Denied::ThreadLocked);
const MINE: Decision = Decision::Deny(Denied::NotYours);
const ADM: Decision = Decision::Deny(Denied::AdminOnly);
const NOMUTE: Decision = Decision::Deny(Denied::CannotMute);

#[test]
fn every_cell_of_the_permission_table() {
    let public = board(Visibility::Public);
    let members_only = board(Visibility::Members);
    let private = board(Visibility::Private);
    let open = thread(false, ThreadState::Published);
    let locked = thread(true, ThreadState::Published);
    let gone = thread(false, ThreadState::Deleted);
    let authors_post = post(1, PostState::Published);
    let deleted_post = post(1, PostState::Deleted);
    let the_author = member(1, SiteRole::Member, MemberStatus::Active, None);
    let a_moderator = member(3, SiteRole::Moderator, MemberStatus::Active, None);

    // Columns: visitor, author, other, suspended author, suspension over, moderator, admin.
    let table: Vec<(&str, Action, [Decision; 7])> = vec![
        (
            "read public board",
            Action::ReadBoard(&public),
            [A, A, A, A, A, A, A],
        ),
        (
            "read members-only board",
            Action::ReadBoard(&members_only),
            [H, A, A, A, A, A, A],
        ),
        (
            "read private board",
            Action::ReadBoard(&private),
            [H, H, H, H, H, A, A],
        ),
        (
            "read thread",
            Action::ReadThread(&public, &open),
            [A, A, A, A, A, A, A],
        ),
        (
            "read deleted thread",
            Action::ReadThread(&public, &gone),
            [H, H, H, H, H, A, A],
        ),
        (
            "read thread on members-only board",
            Action::ReadThread(&members_only, &open),
            [H, A, A, A, A, A, A],
        ),
        (
            "start thread",
            Action::StartThread(&public),
            [IN, A, A, SUS, A, A, A],
        ),
        (
            "start thread on private board",
            Action::StartThread(&private),
            [H, H, H, H, H, A, A],
        ),
        (
            "reply",
            Action::Reply(&public, &open),
            [IN, A, A, SUS, A, A, A],
        ),
        (
            "reply to locked thread",
            Action::Reply(&public, &locked),
            [IN, LOCK, LOCK, SUS, LOCK, A, A],
        ),
        (
            "reply to deleted thread",
            Action::Reply(&public, &gone),
            [H, H, H, H, H, A, A],
        ),
        (
            "edit own post",
            Action::EditPost(&public, &open, &authors_post),
            [IN, A, MINE, SUS, A, MINE, MINE],
        ),
        (
            "edit deleted post",
            Action::EditPost(&public, &open, &deleted_post),
            [IN, H, H, SUS, H, H, H],
        ),
        (
            "edit post on members-only board",
            Action::EditPost(&members_only, &open, &authors_post),
            [H, A, MINE, SUS, A, MINE, MINE],
        ),
        (
            "delete own post",
            Action::DeletePost(&public, &open, &authors_post),
            [IN, A, MINE, SUS, A, MINE, MINE],
        ),
        (
            "delete post in locked thread",
            Action::DeletePost(&public, &locked, &authors_post),
            [IN, A, MINE, SUS, A, MINE, MINE],
        ),
        (
            "create board",
            Action::CreateBoard,
            [IN, ADM, ADM, ADM, ADM, ADM, A],
        ),
        (
            "mute the author",
            Action::Mute(&the_author),
            [IN, NOMUTE, A, NOMUTE, NOMUTE, A, A],
        ),
        (
            "mute a moderator",
            Action::Mute(&a_moderator),
            [IN, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE, NOMUTE],
        ),
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

#[test]
fn listing_filters_match_the_board_decisions() {
    for (name, actor) in actors() {
        for visibility in [Visibility::Public, Visibility::Members, Visibility::Private] {
            let listed = readable_visibilities(&actor).contains(&visibility.as_str());
            let readable = allows(&actor, Action::ReadBoard(&board(visibility)));
            assert_eq!(listed, readable, "{name} / {visibility:?}");
        }
    }
}
