//! Private conversations on both backends: who reads and answers them, crisis phrases opening
//! check-ins, member-to-member messages behind their setting, hiding logged, the limits.

use chrono::TimeDelta;
use diesel::prelude::*;

use super::*;
use crate::db::schema::{members as members_table, moderation_log, review_items};
use crate::error::Error;
use crate::forum::boards::NewBoardForm;
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::ids::{ConversationId, MemberId};
use crate::model::SiteRole;
use crate::moderation::actions;
use crate::moderation::review::{self, ItemKind, ReportLimits};
use crate::safety::gate::PostingRules;
use crate::safety::limits::PostingLimits;
use crate::safety::watched;
use crate::test_support::{any_pool, member};

const CRISIS: &str = "Since Milo died I want to end my life.";

fn posting() -> PostingRules {
    PostingRules {
        limits: PostingLimits::NONE,
        same_reply_minutes: 0,
        ..PostingRules::default()
    }
}

fn unlimited() -> ConversationRules {
    ConversationRules {
        messages_per_minute: 0,
        messages_per_day: 0,
        ..ConversationRules::default()
    }
}

/// A private group "grief" facilitated by fran and gina, with members joan and olga; "pets",
/// another group, facilitated by paul; the admin ada.
struct World {
    ada: MemberActor,
    fran: MemberActor,
    gina: MemberActor,
    paul: MemberActor,
    joan: MemberActor,
    olga: MemberActor,
    grief: Board,
}

fn world(conn: &mut DbConn) -> World {
    let ada = member(conn, "ada", SiteRole::Admin);
    let mut boards = Vec::new();
    for (slug, visibility) in [("grief", "private"), ("pets", "public")] {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: slug.to_owned(),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        boards.push(crate::forum::boards::create(conn, &ada, &form).unwrap());
    }
    let (grief, pets) = (boards[0].clone(), boards[1].clone());
    for (name, board) in [("fran", &grief), ("gina", &grief), ("paul", &pets)] {
        member(conn, name, SiteRole::Member);
        actions::set_facilitator(conn, &ada, board, name, true).unwrap();
    }
    for name in ["joan", "olga"] {
        let who = member(conn, name, SiteRole::Member);
        memberships::join(conn, &who, &grief, "").unwrap();
        memberships::answer_request(conn, &ada, &grief, name, true, "").unwrap();
    }
    World {
        fran: again(conn, "fran"),
        gina: again(conn, "gina"),
        paul: again(conn, "paul"),
        joan: again(conn, "joan"),
        olga: again(conn, "olga"),
        ada,
        grief,
    }
}

fn again(conn: &mut DbConn, username: &str) -> MemberActor {
    let account = members::by_username(conn, username).unwrap();
    actors::actor_for(conn, account).unwrap()
}

fn start_with(
    conn: &mut DbConn,
    rules: &ConversationRules,
    who: &MemberActor,
    to: StartQuery,
    body: &str,
) -> Result<Sent> {
    let form = StartForm {
        to,
        subject: "Checking in".to_owned(),
        body: body.to_owned(),
    };
    start(conn, rules, &posting(), who, &form)
}

fn to_member(group: &str, with: &str) -> StartQuery {
    StartQuery {
        group: group.to_owned(),
        with: with.to_owned(),
        post: None,
    }
}

fn listed(conn: &mut DbConn, who: &MemberActor) -> Vec<(ConversationId, bool)> {
    list_for(conn, who)
        .unwrap()
        .iter()
        .map(|line| (line.id, line.unread))
        .collect()
}

/// Makes an account `days` old.
fn age(conn: &mut DbConn, who: &MemberActor, days: i64) -> MemberActor {
    diesel::update(members_table::table.find(who.id))
        .set(members_table::created_at.eq(crate::clock::now() - TimeDelta::days(days)))
        .execute(conn)
        .unwrap();
    again(conn, &who.username)
}

/// How many notifications of private messages `who` has.
fn told_of_messages(conn: &mut DbConn, who: &MemberActor) -> i64 {
    use crate::db::schema::notifications;
    notifications::table
        .filter(notifications::member_id.eq(who.id))
        .filter(notifications::kind.eq("message"))
        .count()
        .get_result(conn)
        .unwrap()
}

#[test]
fn a_check_in_from_a_post_is_read_and_answered_by_the_groups_facilitators_and_its_member_only() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let thread_form = NewThreadForm {
        title: "Can't do this anymore".to_owned(),
        body: CRISIS.to_owned(),
        submission_key: "k".repeat(16),
        ..Default::default()
    };
    let posted = threads::start(conn, &posting(), &w.joan, &w.grief, &thread_form).unwrap();
    let post_id = crate::forum::posts::thread_page(conn, &posted.thread, 1)
        .unwrap()
        .posts[0]
        .post
        .id;
    let from_post = StartQuery {
        post: Some(post_id),
        ..StartQuery::default()
    };
    // Only the group's moderators check in from a post; a member of the group is refused.
    assert!(matches!(
        start_with(conn, &unlimited(), &w.olga, from_post.clone(), "Hello"),
        Err(Error::Denied(_))
    ));
    // What the facilitators were told before (the check-in waiting) is read.
    for f in [&w.fran, &w.gina] {
        crate::notifications::mark_all_read(conn, f.id, crate::clock::now()).unwrap();
    }
    let sent = start_with(
        conn,
        &unlimited(),
        &w.fran,
        from_post,
        "Joan, I read your post. I am here.",
    )
    .unwrap();
    let id = sent.conversation_id;
    let view = page_for(conn, &w.joan, id).unwrap();
    assert_eq!(view.post_id, Some(post_id));
    assert_eq!(
        view.member.as_ref().map(|m| m.username.as_str()),
        Some("joan")
    );
    assert!(view.can_answer && view.is_member && !view.can_moderate);

    // The group's other facilitator is told, reads it in their list, unread, and answers.
    assert_eq!(
        crate::notifications::unread_count(conn, w.gina.id).unwrap(),
        1
    );
    assert_eq!(
        crate::notifications::unread_count(conn, w.fran.id).unwrap(),
        0
    );
    assert_eq!(listed(conn, &w.gina), vec![(id, true)]);
    reply(
        conn,
        &unlimited(),
        &posting(),
        &w.gina,
        id,
        "Gina here too. Take your time.",
    )
    .unwrap();
    // The member answers; her own message is read for her, the facilitators' are not.
    assert_eq!(listed(conn, &w.joan), vec![(id, true)]);
    let newest = page_for(conn, &w.joan, id).unwrap().newest.unwrap();
    mark_read(conn, &w.joan, id, newest).unwrap();
    assert_eq!(listed(conn, &w.joan), vec![(id, false)]);
    reply(
        conn,
        &unlimited(),
        &posting(),
        &w.joan,
        id,
        "Thank you both.",
    )
    .unwrap();
    assert_eq!(listed(conn, &w.joan), vec![(id, false)]);
    assert_eq!(listed(conn, &w.fran), vec![(id, true)]);
    let view = page_for(conn, &w.fran, id).unwrap();
    let authors: Vec<&str> = view
        .messages
        .iter()
        .filter_map(|m| m.author.as_ref().map(|a| a.username.as_str()))
        .collect();
    assert_eq!(authors, ["fran", "gina", "joan"]);

    // The staff read and answer it too.
    assert!(page_for(conn, &w.ada, id).unwrap().can_answer);
    // Nobody else may know it exists: another member of the group, a facilitator of another
    // group; and it is in none of their lists.
    for outsider in [&w.olga, &w.paul] {
        assert_eq!(
            told_of_messages(conn, outsider),
            0,
            "no notification reveals it"
        );
        assert!(matches!(page_for(conn, outsider, id), Err(Error::NotFound)));
        assert!(matches!(
            reply(conn, &unlimited(), &posting(), outsider, id, "hi"),
            Err(Error::NotFound)
        ));
        assert!(matches!(
            mark_read(conn, outsider, id, newest),
            Err(Error::NotFound)
        ));
        assert_eq!(listed(conn, outsider), vec![]);
    }
    // A facilitator who no longer facilitates the group has lost it, though they started it.
    actions::set_facilitator(conn, &w.ada, &w.grief, "fran", false).unwrap();
    let fran = again(conn, "fran");
    assert!(matches!(page_for(conn, &fran, id), Err(Error::NotFound)));
    assert_eq!(listed(conn, &fran), vec![]);
}

#[test]
fn crisis_words_in_a_private_message_open_a_check_in_for_the_groups_facilitators() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let sent = start_with(conn, &unlimited(), &w.joan, to_member("grief", ""), CRISIS).unwrap();
    assert!(sent.check_in, "the author is shown the help page");
    let id = sent.conversation_id;
    let view = page_for(conn, &w.gina, id).unwrap();
    assert!(view.open_check_in);
    // In the group's queue, above the posts, pointing at the conversation; counted in the
    // header; not in another group's queue.
    let queue = review::queue(conn, &w.gina, Some(&w.grief), 1).unwrap();
    assert_eq!(queue.conversations.len(), 1);
    assert_eq!(queue.conversations[0].conversation_id, id);
    assert!(queue.conversations[0].check_in);
    assert_eq!(queue.n_posts, 0, "no post is involved");
    assert_eq!(review::open_count(conn, &w.gina).unwrap(), 1);
    assert_eq!(review::open_count(conn, &w.paul).unwrap(), 0);
    assert!(review::queue(conn, &w.paul, None, 1)
        .unwrap()
        .conversations
        .is_empty());

    // A facilitator writing the same words opens none (they ask about them).
    let before: i64 = review_items::table.count().get_result(conn).unwrap();
    reply(
        conn,
        &unlimited(),
        &posting(),
        &w.fran,
        id,
        "Do you want to end my life? No: tell me more.",
    )
    .unwrap();
    let after: i64 = review_items::table.count().get_result(conn).unwrap();
    assert_eq!(before, after);

    // Closing it is logged for the moderators, never publicly.
    assert_eq!(close_check_in(conn, &w.fran, id, "we talked").unwrap(), 1);
    assert!(!page_for(conn, &w.gina, id).unwrap().open_check_in);
    assert_eq!(review::open_count(conn, &w.gina).unwrap(), 0);
    let actions_logged: Vec<String> = moderation_log::table
        .select(moderation_log::action)
        .load(conn)
        .unwrap();
    assert!(actions_logged.contains(&"check_in_handled".to_owned()));
    let (_, public) =
        crate::moderation::log::board_log(conn, &w.olga.actor(), &w.grief, true, None).unwrap();
    assert!(public.is_empty(), "{public:?}");
}

#[test]
fn member_messages_are_off_unless_the_site_allows_them_then_only_in_a_shared_group_past_the_account_age(
) {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let off = unlimited();
    assert!(matches!(
        start_with(conn, &off, &w.joan, to_member("grief", "olga"), "hello"),
        Err(Error::Denied(crate::error::Denied::MemberMessagesOff))
    ));
    let on = ConversationRules {
        member_messages: true,
        member_messages_min_account_days: 7,
        ..unlimited()
    };
    // New accounts may not, either way.
    assert!(matches!(
        start_with(conn, &on, &w.joan, to_member("grief", "olga"), "hello"),
        Err(Error::Invalid(_))
    ));
    let joan = age(conn, &w.joan, 8);
    assert!(matches!(
        start_with(conn, &on, &joan, to_member("grief", "olga"), "hello"),
        Err(Error::Invalid(_))
    ));
    let olga = age(conn, &w.olga, 8);
    // Only within a group both belong to: paul is not in "grief" (and joan not in "pets").
    let paul = age(conn, &w.paul, 8);
    assert!(start_with(conn, &on, &joan, to_member("grief", "paul"), "hello").is_err());
    assert!(start_with(conn, &on, &joan, to_member("pets", "paul"), "hello").is_err());
    let sent = start_with(conn, &on, &joan, to_member("grief", "olga"), "hello").unwrap();
    let id = sent.conversation_id;
    reply(conn, &on, &posting(), &olga, id, "hi joan").unwrap();
    // The group's facilitators may read it (to act on a report) but do not answer it, and it
    // is not in their list.
    assert!(page_for(conn, &w.fran, id).is_ok());
    assert!(matches!(
        reply(conn, &on, &posting(), &w.fran, id, "hello"),
        Err(Error::Denied(crate::error::Denied::NotInConversation))
    ));
    assert_eq!(listed(conn, &w.fran), vec![]);
    assert!(matches!(page_for(conn, &paul, id), Err(Error::NotFound)));
    // Turned off again, nobody answers; a mute stops it both ways.
    assert!(reply(conn, &off, &posting(), &olga, id, "again").is_err());
    crate::accounts::mutes::mute(conn, &olga, &joan).unwrap();
    assert!(matches!(
        reply(conn, &on, &posting(), &joan, id, "are you there?"),
        Err(Error::Invalid(_))
    ));
    assert!(reply(conn, &on, &posting(), &olga, id, "bye").is_err());
    // Reporting a message of the other member puts it in the group's queue.
    let message = page_for(conn, &olga, id).unwrap().messages[0].message.id;
    assert!(report_message(
        conn,
        &ReportLimits::NONE,
        &olga,
        id,
        message,
        "harassment",
        ""
    )
    .unwrap());
    assert!(!report_message(
        conn,
        &ReportLimits::NONE,
        &olga,
        id,
        message,
        "harassment",
        ""
    )
    .unwrap());
    assert!(report_message(conn, &ReportLimits::NONE, &joan, id, message, "spam", "").is_err());
    let queue = review::queue(conn, &w.fran, Some(&w.grief), 1).unwrap();
    assert_eq!(queue.conversations[0].conversation_id, id);
}

#[test]
fn a_moderator_hides_a_message_logged_and_its_author_still_sees_it_with_the_reason() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let id = start_with(conn, &unlimited(), &w.joan, to_member("grief", ""), "hello")
        .unwrap()
        .conversation_id;
    let sent = reply(
        conn,
        &unlimited(),
        &posting(),
        &w.joan,
        id,
        "something unkind",
    )
    .unwrap();
    let hide = MessageDecision::Hide {
        reason: "please keep it kind".to_owned(),
    };
    assert!(matches!(
        moderate_message(conn, &w.joan, id, sent.message_id, &hide),
        Err(Error::Denied(_))
    ));
    assert!(matches!(
        moderate_message(conn, &w.paul, id, sent.message_id, &hide),
        Err(Error::NotFound)
    ));
    moderate_message(conn, &w.gina, id, sent.message_id, &hide).unwrap();
    // The second of two decisions on what was seen changes nothing.
    assert!(matches!(
        moderate_message(conn, &w.fran, id, sent.message_id, &hide),
        Err(Error::Invalid(_))
    ));
    let logged: Vec<(String, Option<MemberId>, String)> = moderation_log::table
        .select((
            moderation_log::action,
            moderation_log::member_id,
            moderation_log::reason,
        ))
        .load(conn)
        .unwrap();
    assert!(logged.contains(&(
        "hide_message".to_owned(),
        Some(w.joan.id),
        "please keep it kind".to_owned()
    )));
    let for_author = page_for(conn, &w.joan, id).unwrap();
    let line = for_author.messages.last().unwrap();
    assert!(line.hidden && line.shown);
    assert_eq!(line.message.hidden_reason, "please keep it kind");
    moderate_message(
        conn,
        &w.fran,
        id,
        sent.message_id,
        &MessageDecision::Restore,
    )
    .unwrap();
    assert!(!page_for(conn, &w.joan, id).unwrap().messages[1].hidden);
}

#[test]
fn watched_words_hold_block_and_flag_messages_as_they_do_posts() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    watched::add(conn, &w.ada, "casino", "block").unwrap();
    watched::add(conn, &w.ada, "my address", "hold").unwrap();
    let blocked = start_with(
        conn,
        &unlimited(),
        &w.joan,
        to_member("grief", ""),
        "win at the casino",
    );
    assert!(matches!(blocked, Err(Error::Invalid(ref i)) if i.message_for("body").is_some()));
    let sent = start_with(conn, &unlimited(), &w.joan, to_member("grief", ""), "hello").unwrap();
    let id = sent.conversation_id;
    let held = reply(
        conn,
        &unlimited(),
        &posting(),
        &w.joan,
        id,
        "here is my address",
    )
    .unwrap();
    // The held message waits for a moderator: its author and the moderators see it.
    let line = |who: &MemberActor, conn: &mut DbConn| {
        page_for(conn, who, id)
            .unwrap()
            .messages
            .iter()
            .any(|m| m.message.id == held.message_id)
    };
    assert!(line(&w.joan, conn) && line(&w.fran, conn));
    let queue = review::queue(conn, &w.fran, Some(&w.grief), 1).unwrap();
    assert_eq!(queue.conversations[0].items[0].kind, ItemKind::Awaiting);
    moderate_message(
        conn,
        &w.fran,
        id,
        held.message_id,
        &MessageDecision::Approve,
    )
    .unwrap();
    assert!(review::queue(conn, &w.fran, Some(&w.grief), 1)
        .unwrap()
        .conversations
        .is_empty());
}

#[test]
fn messages_are_limited_per_minute_counted_in_the_database_and_moderators_are_not() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let rules = ConversationRules {
        messages_per_minute: 2,
        messages_per_day: 10,
        ..ConversationRules::default()
    };
    let id = start_with(conn, &rules, &w.joan, to_member("grief", ""), "one")
        .unwrap()
        .conversation_id;
    reply(conn, &rules, &posting(), &w.joan, id, "two").unwrap();
    match reply(conn, &rules, &posting(), &w.joan, id, "three") {
        Err(Error::RateLimited {
            retry_after_seconds,
            reason,
        }) => {
            assert!((1..=60).contains(&retry_after_seconds));
            assert!(reason.contains("2 messages a minute"), "{reason}");
        }
        other => panic!("expected the limit, got {other:?}"),
    }
    // Another process would see the same count: it is the stored messages.
    let second = &mut *pool.get().unwrap();
    assert!(matches!(
        reply(second, &rules, &posting(), &w.joan, id, "three"),
        Err(Error::RateLimited { .. })
    ));
    for text in ["a", "b", "c"] {
        reply(conn, &rules, &posting(), &w.fran, id, text).unwrap();
    }
}

#[test]
fn a_facilitator_removed_from_the_group_no_longer_sees_its_messages_in_notifications() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    for f in [&w.fran, &w.gina] {
        crate::notifications::mark_all_read(conn, f.id, crate::clock::now()).unwrap();
    }
    start_with(
        conn,
        &unlimited(),
        &w.fran,
        to_member("grief", "joan"),
        "Joan, checking in on you this evening.",
    )
    .unwrap();
    let listed_for = |conn: &mut DbConn, who: &str| {
        let reader = again(conn, who);
        crate::notifications::list(conn, &reader, None).unwrap()
    };
    let page = listed_for(conn, "gina");
    let messages = |page: &crate::notifications::NotificationPage| {
        page.items.iter().filter(|n| n.kind == "message").count()
    };
    assert_eq!(messages(&page), 1, "{:?}", page.items);
    actions::set_facilitator(conn, &w.ada, &w.grief, "gina", false).unwrap();
    let page = listed_for(conn, "gina");
    assert_eq!(messages(&page), 0, "{:?}", page.items);
    assert_eq!(page.stale.len(), 1, "unread, so the page marks it read");
}

/// What `who` was told of, by kind, unread.
fn unread_kinds(conn: &mut DbConn, who: &MemberActor) -> Vec<String> {
    use crate::db::schema::notifications;
    notifications::table
        .filter(notifications::member_id.eq(who.id))
        .filter(notifications::read_at.is_null())
        .select(notifications::kind)
        .load(conn)
        .unwrap()
}

#[test]
fn crisis_words_in_a_direct_message_ring_the_facilitators_bell() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    for f in [&w.fran, &w.gina] {
        crate::notifications::mark_all_read(conn, f.id, crate::clock::now()).unwrap();
    }
    let on = ConversationRules {
        member_messages: true,
        member_messages_min_account_days: 0,
        ..unlimited()
    };
    let sent = start_with(conn, &on, &w.joan, to_member("grief", "olga"), CRISIS).unwrap();
    assert!(sent.check_in);
    for f in [&w.fran, &w.gina] {
        assert_eq!(unread_kinds(conn, f), ["check_in"], "{}", f.username);
    }
    assert!(!unread_kinds(conn, &w.paul).contains(&"check_in".to_owned()));
    // Handling it in the conversation settles the facilitators' bell.
    close_check_in(conn, &w.fran, sent.conversation_id, "Spoke with Joan.").unwrap();
    assert!(unread_kinds(conn, &w.gina).is_empty());
}

#[test]
fn reading_a_conversation_reads_what_told_of_it() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    crate::notifications::mark_all_read(conn, w.joan.id, crate::clock::now()).unwrap();
    let sent = start_with(
        conn,
        &unlimited(),
        &w.fran,
        to_member("grief", "joan"),
        "Joan, how are you doing this week?",
    )
    .unwrap();
    assert_eq!(unread_kinds(conn, &w.joan), ["message"]);
    mark_read(conn, &w.joan, sent.conversation_id, sent.message_id).unwrap();
    assert!(unread_kinds(conn, &w.joan).is_empty());
}

#[test]
fn a_facilitator_checks_in_only_with_members_of_their_group() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    // Paul facilitates "pets"; Joan is not in it.
    let refused = start_with(conn, &unlimited(), &w.paul, to_member("pets", "joan"), "Hi");
    assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
    // The staff reach anyone.
    start_with(
        conn,
        &unlimited(),
        &w.ada,
        to_member("pets", "joan"),
        "Hello Joan",
    )
    .unwrap();
}
