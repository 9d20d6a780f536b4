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
        submission_key: crate::forum::posts::new_submission_key(),
    };
    start(conn, rules, &posting(), who, &form)
}

/// An answer's form, with a key of its own (as every form the page shows has).
fn answer(body: &str) -> ReplyForm {
    ReplyForm {
        body: body.to_owned(),
        submission_key: crate::forum::posts::new_submission_key(),
    }
}

fn to_member(group: &str, with: &str) -> StartQuery {
    StartQuery {
        group: group.to_owned(),
        with: with.to_owned(),
        post: None,
    }
}

fn listed(conn: &mut DbConn, who: &MemberActor) -> Vec<(ConversationId, bool)> {
    list_for(conn, who, None)
        .unwrap()
        .lines
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
    let view = page_for(conn, &w.joan, id, MessagesAt::Newest).unwrap();
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
        &answer("Gina here too. Take your time."),
    )
    .unwrap();
    // The member answers; her own message is read for her, the facilitators' are not.
    assert_eq!(listed(conn, &w.joan), vec![(id, true)]);
    let newest = page_for(conn, &w.joan, id, MessagesAt::Newest)
        .unwrap()
        .newest
        .unwrap();
    mark_read(conn, &w.joan, id, newest).unwrap();
    assert_eq!(listed(conn, &w.joan), vec![(id, false)]);
    reply(
        conn,
        &unlimited(),
        &posting(),
        &w.joan,
        id,
        &answer("Thank you both."),
    )
    .unwrap();
    assert_eq!(listed(conn, &w.joan), vec![(id, false)]);
    assert_eq!(listed(conn, &w.fran), vec![(id, true)]);
    let view = page_for(conn, &w.fran, id, MessagesAt::Newest).unwrap();
    let authors: Vec<&str> = view
        .messages
        .iter()
        .filter_map(|m| m.author.as_ref().map(|a| a.username.as_str()))
        .collect();
    assert_eq!(authors, ["fran", "gina", "joan"]);

    // The staff read and answer it too.
    assert!(
        page_for(conn, &w.ada, id, MessagesAt::Newest)
            .unwrap()
            .can_answer
    );
    // Nobody else may know it exists: another member of the group, a facilitator of another
    // group; and it is in none of their lists.
    for outsider in [&w.olga, &w.paul] {
        assert_eq!(
            told_of_messages(conn, outsider),
            0,
            "no notification reveals it"
        );
        assert!(matches!(
            page_for(conn, outsider, id, MessagesAt::Newest),
            Err(Error::NotFound)
        ));
        assert!(matches!(
            reply(conn, &unlimited(), &posting(), outsider, id, &answer("hi")),
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
    assert!(matches!(
        page_for(conn, &fran, id, MessagesAt::Newest),
        Err(Error::NotFound)
    ));
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
    let view = page_for(conn, &w.gina, id, MessagesAt::Newest).unwrap();
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
        &answer("Do you want to end my life? No: tell me more."),
    )
    .unwrap();
    let after: i64 = review_items::table.count().get_result(conn).unwrap();
    assert_eq!(before, after);

    // Closing it is logged for the moderators, never publicly.
    assert_eq!(close_check_in(conn, &w.fran, id, "we talked").unwrap(), 1);
    assert!(
        !page_for(conn, &w.gina, id, MessagesAt::Newest)
            .unwrap()
            .open_check_in
    );
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
    reply(conn, &on, &posting(), &olga, id, &answer("hi joan")).unwrap();
    // The group's facilitators may read it (to act on a report) but do not answer it, and it
    // is not in their list.
    assert!(page_for(conn, &w.fran, id, MessagesAt::Newest).is_ok());
    assert!(matches!(
        reply(conn, &on, &posting(), &w.fran, id, &answer("hello")),
        Err(Error::Denied(crate::error::Denied::NotInConversation))
    ));
    assert_eq!(listed(conn, &w.fran), vec![]);
    assert!(matches!(
        page_for(conn, &paul, id, MessagesAt::Newest),
        Err(Error::NotFound)
    ));
    // Turned off again, nobody answers; a mute stops it both ways.
    assert!(reply(conn, &off, &posting(), &olga, id, &answer("again")).is_err());
    crate::accounts::mutes::mute(conn, &olga, &joan).unwrap();
    assert!(matches!(
        reply(conn, &on, &posting(), &joan, id, &answer("are you there?")),
        Err(Error::Invalid(_))
    ));
    assert!(reply(conn, &on, &posting(), &olga, id, &answer("bye")).is_err());
    // Reporting a message of the other member puts it in the group's queue.
    let message = page_for(conn, &olga, id, MessagesAt::Newest)
        .unwrap()
        .messages[0]
        .message
        .id;
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
        &answer("something unkind"),
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
    let for_author = page_for(conn, &w.joan, id, MessagesAt::Newest).unwrap();
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
    assert!(
        !page_for(conn, &w.joan, id, MessagesAt::Newest)
            .unwrap()
            .messages[1]
            .hidden
    );
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
        &answer("here is my address"),
    )
    .unwrap();
    // The held message waits for a moderator: its author and the moderators see it.
    let line = |who: &MemberActor, conn: &mut DbConn| {
        page_for(conn, who, id, MessagesAt::Newest)
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
    reply(conn, &rules, &posting(), &w.joan, id, &answer("two")).unwrap();
    match reply(conn, &rules, &posting(), &w.joan, id, &answer("three")) {
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
        reply(second, &rules, &posting(), &w.joan, id, &answer("three")),
        Err(Error::RateLimited { .. })
    ));
    for text in ["a", "b", "c"] {
        reply(conn, &rules, &posting(), &w.fran, id, &answer(text)).unwrap();
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

fn start_keyed(
    conn: &mut DbConn,
    rules: &ConversationRules,
    who: &MemberActor,
    key: &str,
    body: &str,
) -> Result<Sent> {
    let form = StartForm {
        to: to_member("grief", ""),
        subject: "Tonight".to_owned(),
        body: body.to_owned(),
        submission_key: key.to_owned(),
    };
    start(conn, rules, &posting(), who, &form)
}

fn reply_keyed(
    conn: &mut DbConn,
    rules: &ConversationRules,
    who: &MemberActor,
    id: ConversationId,
    key: &str,
    body: &str,
) -> Result<Sent> {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: key.to_owned(),
    };
    reply(conn, rules, &posting(), who, id, &form)
}

/// How many messages `who` was told of, counting each notification's messages.
fn messages_told(conn: &mut DbConn, who: &MemberActor) -> i64 {
    use crate::db::schema::notifications;
    let counts: Vec<i32> = notifications::table
        .filter(notifications::member_id.eq(who.id))
        .filter(notifications::kind.eq("message"))
        .select(notifications::count)
        .load(conn)
        .unwrap();
    counts.into_iter().map(i64::from).sum()
}

fn messages_in(conn: &mut DbConn, id: ConversationId) -> i64 {
    conversation_messages::table
        .filter(conversation_messages::conversation_id.eq(id))
        .count()
        .get_result(conn)
        .unwrap()
}

#[test]
fn a_start_form_sent_twice_starts_one_conversation_and_tells_once() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let first = start_keyed(conn, &unlimited(), &w.joan, "double-tap-key-0001", "hello").unwrap();
    let again = start_keyed(conn, &unlimited(), &w.joan, "double-tap-key-0001", "hello").unwrap();
    assert_eq!(again.conversation_id, first.conversation_id);
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(listed(conn, &w.joan), vec![(first.conversation_id, false)]);
    assert_eq!(messages_in(conn, first.conversation_id), 1);
    assert_eq!(told_of_messages(conn, &w.fran), 1);
    assert_eq!(messages_told(conn, &w.fran), 1);
    // Another form (another key) is another conversation.
    let other = start_keyed(conn, &unlimited(), &w.joan, "double-tap-key-0002", "hello").unwrap();
    assert_ne!(other.conversation_id, first.conversation_id);
    assert_eq!(listed(conn, &w.joan).len(), 2);
    assert_eq!(told_of_messages(conn, &w.fran), 2);
    // The key is the author's own: the same key from another member is their own form.
    let olgas = start_keyed(conn, &unlimited(), &w.olga, "double-tap-key-0001", "hi").unwrap();
    assert_ne!(olgas.conversation_id, first.conversation_id);

    // Words of crisis sent twice: one check-in, and the help page again for the second
    // sending (after a timeout it is the first answer the member sees).
    let crisis = start_keyed(conn, &unlimited(), &w.joan, "crisis-form-key-0001", CRISIS).unwrap();
    let repeat = start_keyed(conn, &unlimited(), &w.joan, "crisis-form-key-0001", CRISIS).unwrap();
    assert!(crisis.check_in && repeat.check_in);
    assert_eq!(repeat.message_id, crisis.message_id);
    let check_ins: i64 = review_items::table
        .filter(review_items::conversation_id.eq(crisis.conversation_id))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(check_ins, 1);

    // A form without a key (or a forged one) is refused before anything else.
    let refused = start_keyed(conn, &unlimited(), &w.joan, "", "hello");
    assert!(
        matches!(refused, Err(Error::Invalid(ref i)) if i.message_for("submission_key").is_some())
    );
}

#[test]
fn a_reply_sent_twice_posts_once_tells_once_and_counts_once_against_the_limit() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let rules = ConversationRules {
        messages_per_minute: 3,
        messages_per_day: 10,
        ..ConversationRules::default()
    };
    let id = start_keyed(conn, &rules, &w.joan, "reply-test-start-01", "one")
        .unwrap()
        .conversation_id;
    assert_eq!(messages_told(conn, &w.fran), 1);
    let first = reply_keyed(conn, &rules, &w.joan, id, "reply-test-key-0002", "two").unwrap();
    let again = reply_keyed(conn, &rules, &w.joan, id, "reply-test-key-0002", "two").unwrap();
    assert_eq!(
        (again.conversation_id, again.message_id),
        (first.conversation_id, first.message_id)
    );
    assert_eq!(messages_in(conn, id), 2);
    assert_eq!(messages_told(conn, &w.fran), 2);
    // The repeat was not counted: a third message still fits the three a minute…
    let third = reply_keyed(conn, &rules, &w.joan, id, "reply-test-key-0003", "three").unwrap();
    assert_ne!(third.message_id, first.message_id);
    assert_eq!(messages_told(conn, &w.fran), 3);
    // …the fourth does not; and at the limit a repeat still finds its message, not the limit.
    assert!(matches!(
        reply_keyed(conn, &rules, &w.joan, id, "reply-test-key-0004", "four"),
        Err(Error::RateLimited { .. })
    ));
    let late = reply_keyed(conn, &rules, &w.joan, id, "reply-test-key-0003", "three").unwrap();
    assert_eq!(late.message_id, third.message_id);
    assert_eq!(messages_in(conn, id), 3);
    assert_eq!(messages_told(conn, &w.fran), 3);
}

#[test]
fn the_database_keeps_one_message_per_author_and_key_and_any_number_without_a_key() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let sent = start_keyed(conn, &unlimited(), &w.joan, "unique-index-key-01", "hello").unwrap();
    let row = |key: Option<&str>| {
        (
            conversation_messages::conversation_id.eq(sent.conversation_id),
            conversation_messages::author_id.eq(w.joan.id),
            conversation_messages::source.eq("x"),
            conversation_messages::html.eq("<p>x</p>"),
            conversation_messages::render_version.eq(1),
            conversation_messages::created_at.eq(crate::clock::now()),
            conversation_messages::submission_key.eq(key.map(str::to_owned)),
        )
    };
    let twice = diesel::insert_into(conversation_messages::table)
        .values(row(Some("unique-index-key-01")))
        .execute(conn);
    let error = crate::error::Error::from(twice.unwrap_err());
    assert!(error.is_unique_violation(), "{error:?}");
    // Messages from before keys existed have none, and need none to differ.
    for _ in 0..2 {
        diesel::insert_into(conversation_messages::table)
            .values(row(None))
            .execute(conn)
            .unwrap();
    }
}

/// `n` conversations joan starts with grief's facilitators; their latest activity set ten to a
/// minute (ties, for the id to order), oldest first.
fn many_conversations(conn: &mut DbConn, w: &World, n: usize) -> Vec<ConversationId> {
    let base = crate::clock::now() - TimeDelta::days(1);
    (0..n)
        .map(|i| {
            let id = start_with(conn, &unlimited(), &w.joan, to_member("grief", ""), "hello")
                .unwrap()
                .conversation_id;
            let minutes = i64::try_from(i / 10).unwrap();
            diesel::update(conversations::table.find(id))
                .set(conversations::last_activity_at.eq(base + TimeDelta::minutes(minutes)))
                .execute(conn)
                .unwrap();
            id
        })
        .collect()
}

/// Every page of `who`'s list, first to last.
fn all_pages(conn: &mut DbConn, who: &MemberActor) -> Vec<Vec<(ConversationId, bool)>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = list_for(conn, who, after).unwrap();
        pages.push(page.lines.iter().map(|l| (l.id, l.unread)).collect());
        match page.next {
            Some(next) => after = Some(next),
            None => return pages,
        }
        assert!(pages.len() < 10, "the pages end");
    }
}

#[test]
fn the_list_pages_through_every_conversation_once_unread_first() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let ids = many_conversations(conn, &w, 120);
    // Fran has read fifteen of them, spread over the list: 105 unread, 15 read.
    let read: Vec<ConversationId> = ids.iter().copied().step_by(8).collect();
    assert_eq!(read.len(), 15);
    for id in &read {
        let newest = page_for(conn, &w.fran, *id, MessagesAt::Newest)
            .unwrap()
            .newest
            .unwrap();
        mark_read(conn, &w.fran, *id, newest).unwrap();
    }
    // The expected order: unread first, then by latest activity (ids tie-break), newest first.
    // `ids` is oldest first, and within a minute the later id is the newer.
    let mut expected: Vec<(ConversationId, bool)> = ids
        .iter()
        .rev()
        .map(|id| (*id, !read.contains(id)))
        .collect();
    expected.sort_by_key(|(_, unread)| !unread);

    let pages = all_pages(conn, &w.fran);
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].len(), LISTED as usize);
    assert!(
        pages[0].iter().all(|(_, unread)| *unread),
        "page 1 is all unread"
    );
    assert_eq!(pages[1].len(), 20);
    assert_eq!(
        pages.concat(),
        expected,
        "every conversation once, in order"
    );

    // The member who started them has read them all: newest first, same two pages.
    let joans = all_pages(conn, &w.joan);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(
        joans.concat().iter().map(|l| l.0).collect::<Vec<_>>(),
        newest_first
    );
    assert_eq!(joans[1].len(), 20);

    // A cursor survives the URL.
    let next = list_for(conn, &w.fran, None).unwrap().next.unwrap();
    assert_eq!(ListCursor::decode(&next.encode()), Some(next));
    assert_eq!(ListCursor::decode("2.1.1"), None);
}

#[test]
fn paging_never_shows_a_conversation_its_reader_may_not_open() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    // Paul, who facilitates pets, helped in grief for a while and wrote in 110 of its
    // conversations; then he stopped facilitating it.
    actions::set_facilitator(conn, &w.ada, &w.grief, "paul", true).unwrap();
    let paul = again(conn, "paul");
    let grief_ids = many_conversations(conn, &w, 110);
    for id in &grief_ids {
        reply(
            conn,
            &unlimited(),
            &posting(),
            &paul,
            *id,
            &answer("paul here"),
        )
        .unwrap();
    }
    actions::set_facilitator(conn, &w.ada, &w.grief, "paul", false).unwrap();
    let paul = again(conn, "paul");
    // Pets' own conversations, which are his.
    let pets_member = crate::test_support::member(conn, "pat", SiteRole::Member);
    let pets: Board = crate::db::schema::boards::table
        .filter(crate::db::schema::boards::slug.eq("pets"))
        .select(Board::as_select())
        .get_result(conn)
        .unwrap();
    memberships::join(conn, &pets_member, &pets, "").unwrap();
    let pets_member = again(conn, "pat");
    let mut pets_ids = Vec::new();
    for _ in 0..3 {
        pets_ids.push(
            start_with(
                conn,
                &unlimited(),
                &pets_member,
                to_member("pets", ""),
                "hi paul",
            )
            .unwrap()
            .conversation_id,
        );
    }
    pets_ids.reverse();
    let pages = all_pages(conn, &paul);
    // One page, full of what he may open: the rows the policy dropped were read past.
    assert_eq!(pages.len(), 1);
    let listed: Vec<ConversationId> = pages.concat().iter().map(|l| l.0).collect();
    assert_eq!(listed, pets_ids);
    for id in &grief_ids {
        assert!(matches!(
            page_for(conn, &paul, *id, MessagesAt::Newest),
            Err(Error::NotFound)
        ));
    }
    // And the other way: grief's facilitators page through grief's 110, never pets'.
    let gina_sees: Vec<ConversationId> = all_pages(conn, &w.gina)
        .concat()
        .iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(gina_sees.len(), 110);
    assert!(gina_sees.iter().all(|id| grief_ids.contains(id)));
    for id in gina_sees {
        assert!(page_for(conn, &w.gina, id, MessagesAt::Newest).is_ok());
    }
}

#[test]
fn a_long_conversation_shows_a_page_of_messages_and_pages_back_through_all_of_them() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let w = world(conn);
    let id = start_with(
        conn,
        &unlimited(),
        &w.joan,
        to_member("grief", ""),
        "message 0",
    )
    .unwrap()
    .conversation_id;
    for i in 1..500 {
        let who = if i % 2 == 0 { &w.joan } else { &w.fran };
        reply(
            conn,
            &unlimited(),
            &posting(),
            who,
            id,
            &answer(&format!("message {i}")),
        )
        .unwrap();
    }
    let newest = page_for(conn, &w.joan, id, MessagesAt::Newest).unwrap();
    assert_eq!(newest.messages.len(), MESSAGES_PER_PAGE as usize);
    assert!(newest.later.is_none());
    assert_eq!(newest.newest, newest.messages.last().map(|l| l.message.id));
    let texts = |view: &ConversationView| -> Vec<String> {
        view.messages
            .iter()
            .map(|l| l.message.source.clone())
            .collect()
    };
    assert_eq!(texts(&newest).last().unwrap(), "message 499");
    // Back to the first, then forward to the newest: every message once, in order.
    let mut back = vec![texts(&newest)];
    let mut view = newest;
    while let Some(before) = view.earlier {
        view = page_for(conn, &w.joan, id, MessagesAt::Before(before)).unwrap();
        back.push(texts(&view));
    }
    back.reverse();
    let all: Vec<String> = (0..500).map(|i| format!("message {i}")).collect();
    assert_eq!(back.concat(), all);
    let mut forward = vec![texts(&view)];
    while let Some(after) = view.later {
        view = page_for(conn, &w.joan, id, MessagesAt::After(after)).unwrap();
        forward.push(texts(&view));
    }
    assert_eq!(forward.concat(), all);
}
