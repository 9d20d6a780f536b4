//! Leaving on both backends: delete takes the words (posts, revisions, messages) and keeps
//! every count right; anonymise keeps them under "a former member"; the cooling-off period,
//! cancelling, the last admin, the held username; the retention purge of deleted posts.

use super::*;
use crate::accounts::throttle::{self, SignInKeys, ThrottlePolicy, Verdict};
use crate::accounts::{actors, members};
use crate::db::DbConn;
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self as forum_posts, ReplyForm};
use crate::forum::threads::{self as forum_threads, NewThreadForm, Shown};
use crate::model::{Board, Post};
use crate::moderation::review::{self, Decision, Seen};
use crate::safety::gate::PostingRules;
use crate::test_support::{any_pool, member, registration, PASSWORD};

fn group(conn: &mut DbConn, admin: &MemberActor, slug: &str) -> Board {
    let form = NewBoardForm {
        slug: slug.to_owned(),
        name: format!("Group {slug}"),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    boards::create(conn, admin, &form).unwrap()
}

/// No posting limits: these worlds write faster than a new account may.
fn posting() -> PostingRules {
    PostingRules {
        limits: crate::safety::limits::PostingLimits::NONE,
        ..PostingRules::default()
    }
}

fn start(conn: &mut DbConn, author: &MemberActor, board: &Board, title: &str) -> Thread {
    let form = NewThreadForm {
        title: title.to_owned(),
        body: format!("the opening of {title}"),
        submission_key: forum_posts::new_submission_key(),
        ..Default::default()
    };
    forum_threads::start(conn, &posting(), author, board, &form)
        .unwrap()
        .thread
}

fn reply(conn: &mut DbConn, author: &MemberActor, thread: ThreadId, body: &str) -> Post {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: forum_posts::new_submission_key(),
        ..Default::default()
    };
    forum_posts::reply(conn, &posting(), author, thread, &form)
        .unwrap()
        .post
}

fn reload(conn: &mut DbConn, who: &MemberActor) -> MemberActor {
    let member = members::by_id(conn, who.id).unwrap();
    actors::actor_for(conn, member).unwrap()
}

/// The counters every thread and board keeps, and what counting the posts again says they
/// should be: (stored, recounted) for each thread and board.
/// (stored, recounted) pairs.
type Pairs = Vec<(i64, i64)>;

fn counters(conn: &mut DbConn) -> (Pairs, Pairs) {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let threads: Vec<(i64, i64)> = threads::table
        .filter(threads::state.eq("published"))
        .order(threads::id)
        .select((
            threads::reply_count,
            sql::<BigInt>(
                "(SELECT COUNT(*) FROM posts p WHERE p.thread_id = threads.id AND p.position > 1 \
                 AND p.state = 'published' AND p.moderation = 'visible')",
            ),
        ))
        .load(conn)
        .unwrap();
    let boards: Vec<(i64, i64)> = crate::db::schema::boards::table
        .order(crate::db::schema::boards::id)
        .select((
            sql::<BigInt>("boards.post_count + 1000 * boards.thread_count"),
            sql::<BigInt>(
                "(SELECT COUNT(*) FROM posts p JOIN threads t ON t.id = p.thread_id \
                 WHERE t.board_id = boards.id AND t.state = 'published' \
                 AND t.moderation = 'visible' AND p.state = 'published' \
                 AND p.moderation = 'visible') + 1000 * (SELECT COUNT(*) FROM threads t \
                 WHERE t.board_id = boards.id AND t.state = 'published' \
                 AND t.moderation = 'visible')",
            ),
        ))
        .load(conn)
        .unwrap();
    (threads, boards)
}

fn assert_counters_right(conn: &mut DbConn) {
    let (threads, boards) = counters(conn);
    for (stored, recounted) in threads.iter().chain(&boards) {
        assert_eq!(stored, recounted, "threads {threads:?}, boards {boards:?}");
    }
}

fn last_thread_of_board(conn: &mut DbConn, board: BoardId) -> Option<i64> {
    crate::db::schema::boards::table
        .find(board)
        .select(crate::db::schema::boards::last_thread_id)
        .get_result(conn)
        .unwrap()
}

struct World {
    ada: MemberActor,
    bea: MemberActor,
    board: Board,
    /// Ada's thread with a reply of Bea's (edited once) and one of Ada's after it.
    adas: Thread,
    bea_reply: Post,
    /// Bea's thread with a reply of Ada's.
    beas: Thread,
    /// Bea's thread nobody answered.
    lonely: Thread,
}

fn world(conn: &mut DbConn) -> World {
    let ada = member(conn, "ada", SiteRole::Admin);
    let bea = member(conn, "bea", SiteRole::Member);
    let board = group(conn, &ada, "pets");
    groups_memberships::join(conn, &bea, &board, "").unwrap();
    let bea = reload(conn, &bea);
    let adas = start(conn, &ada, &board, "Ada asks");
    let bea_reply = reply(conn, &bea, adas.id, "bea's first words about her cat");
    forum_posts::edit(
        conn,
        &posting(),
        &bea,
        bea_reply.id,
        "bea's edited words about her cat",
    )
    .unwrap();
    reply(conn, &ada, adas.id, "ada answers bea");
    let beas = start(conn, &bea, &board, "Bea asks");
    reply(conn, &ada, beas.id, "ada answers in bea's thread");
    let lonely = start(conn, &bea, &board, "Nobody answers");
    World {
        ada,
        bea,
        board,
        adas,
        bea_reply,
        beas,
        lonely,
    }
}

/// [`request`] as the web front end calls it: the password's attempt counted first.
fn ask(
    conn: &mut DbConn,
    who: &MemberActor,
    mode: LeavingMode,
    password: &str,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<Departure> {
    let keys = test_keys(&who.member.username);
    let reservation = match throttle::reserve(conn, &keys, &ThrottlePolicy::default(), now)? {
        Verdict::Allow(reservation) | Verdict::Slow(reservation, _) => reservation,
        Verdict::Refuse(wait) => return Err(throttle::refused(wait)),
    };
    let confirmation = Confirmation {
        keys: &keys,
        reservation,
        password,
    };
    request(conn, who, mode, confirmation, rules, now)
}

fn test_keys(username: &str) -> SignInKeys {
    SignInKeys::new(b"leaving tests", [192, 0, 2, 1].into(), username)
}

fn rules() -> LeavingRules {
    LeavingRules::default()
}

fn bea_posts(conn: &mut DbConn, bea: MemberId) -> Vec<(String, String, String)> {
    posts::table
        .filter(posts::author_id.eq(bea))
        .select((posts::source, posts::html, posts::state))
        .load(conn)
        .unwrap()
}

/// Index rows holding the word "cat", which only Bea's reply has.
fn indexed_bea(conn: &mut DbConn) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = match conn {
        DbConn::Sqlite(_) => "SELECT count(*) AS n FROM post_search WHERE post_search MATCH 'cat'",
        DbConn::Pg(_) => {
            "SELECT count(*) AS n FROM post_search WHERE document @@ to_tsquery('simple', 'cat')"
        }
    };
    diesel::sql_query(query)
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

#[test]
fn delete_takes_the_words_and_revisions_and_keeps_every_count_right() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    assert_counters_right(conn);
    // Bea writes to the facilitators; a moderator hides a post of hers (logged with an
    // excerpt); her replies told Ada (notifications Bea caused).
    let sent = crate::conversations::start(
        conn,
        &crate::conversations::ConversationRules::default(),
        &posting(),
        &w.bea,
        &crate::conversations::StartForm {
            to: crate::conversations::StartQuery {
                group: w.board.slug.clone(),
                ..Default::default()
            },
            subject: "A question".to_owned(),
            body: "bea's private words".to_owned(),
            submission_key: crate::forum::posts::new_submission_key(),
        },
    )
    .unwrap();
    let hidden = reply(conn, &w.bea, w.adas.id, "bea's words the moderators hid");
    review::decide(
        conn,
        &PostingRules::default(),
        &w.ada,
        hidden.id,
        Seen::of(&hidden),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    let caused = |conn: &mut DbConn| -> i64 {
        notifications::table
            .filter(notifications::actor_id.eq(w.bea.id))
            .count()
            .get_result(conn)
            .unwrap()
    };
    assert!(caused(conn) > 0);
    assert_counters_right(conn);
    let now = crate::clock::now();
    crate::accounts::recovery::issue(conn, w.bea.id, now).unwrap();
    let codes = |conn: &mut DbConn| -> i64 {
        crate::db::schema::recovery_codes::table
            .filter(crate::db::schema::recovery_codes::member_id.eq(w.bea.id))
            .count()
            .get_result(conn)
            .unwrap()
    };
    assert_eq!(codes(conn), 10);
    assert!(indexed_bea(conn) > 0, "her posts are in the search index");
    ask(conn, &w.bea, LeavingMode::Delete, PASSWORD, &rules(), now).unwrap();
    let later = now + TimeDelta::days(8);
    assert_eq!(carry_out_due(conn, &rules(), later).unwrap(), 1);
    assert_eq!(caused(conn), 0);
    assert_eq!(codes(conn), 0, "her recovery codes go with her");
    assert_eq!(indexed_bea(conn), 0, "her words leave the search index");

    // Her message's text is gone; the log keeps the decision and its reason, not her words
    // nor her name.
    let message: (String, String) = conversation_messages::table
        .find(sent.message_id)
        .select((conversation_messages::source, conversation_messages::html))
        .get_result(conn)
        .unwrap();
    assert_eq!(message, (String::new(), String::new()));
    let (_, log) =
        crate::moderation::log::board_log(conn, &w.ada.actor(), &w.board, false, None).unwrap();
    let line = log
        .iter()
        .find(|l| l.post_id == Some(hidden.id))
        .expect("the hide stays logged");
    assert_eq!(line.reason, "Off-topic for this group");
    assert_eq!(line.excerpt, "");
    assert!(line.member.is_none() && line.member_left);

    // The text is gone from the tables, not only hidden.
    let theirs = bea_posts(conn, w.bea.id);
    assert_eq!(theirs.len(), 4);
    for (source, html, state) in &theirs {
        assert_eq!(
            (source.as_str(), html.as_str(), state.as_str()),
            ("", "", "deleted")
        );
    }
    let revisions: i64 = post_revisions::table
        .filter(post_revisions::post_id.eq(w.bea_reply.id))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(revisions, 0);
    let any_words: i64 = post_revisions::table
        .filter(post_revisions::source.like("%bea's%"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(any_words, 0);

    // Counters agree with a recount; the lone thread went, Bea's answered thread stays.
    assert_counters_right(conn);
    let lonely: String = threads::table
        .find(w.lonely.id)
        .select(threads::state)
        .get_result(conn)
        .unwrap();
    assert_eq!(lonely, "deleted");
    assert_ne!(last_thread_of_board(conn, w.board.id), Some(w.lonely.id.0));

    // The threads keep their shape: the removed line in the post's place.
    let page = forum_threads::page_for(conn, &w.ada.actor(), w.adas.id, 1).unwrap();
    let shown: Vec<Shown> = page.posts.iter().map(|p| p.shown).collect();
    assert_eq!(
        shown,
        [Shown::Post, Shown::Removed, Shown::Post, Shown::Removed]
    );
    assert_eq!(page.thread.reply_count, 1);
    let page = forum_threads::page_for(conn, &w.ada.actor(), w.beas.id, 1).unwrap();
    let shown: Vec<Shown> = page.posts.iter().map(|p| p.shown).collect();
    assert_eq!(shown, [Shown::Removed, Shown::Post]);

    // No profile, no sign-in, no membership; the name is held.
    assert!(matches!(
        members::by_username(conn, "bea"),
        Err(Error::NotFound)
    ));
    assert!(members::authenticate(conn, "bea", PASSWORD).is_err());
    assert!(members::register(conn, &registration("Bea"), SiteRole::Member).is_err());
    let n_members: i64 = memberships::table
        .filter(memberships::member_id.eq(w.bea.id))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(n_members, 0);
    let member_count: i64 = crate::db::schema::boards::table
        .find(w.board.id)
        .select(crate::db::schema::boards::member_count)
        .get_result(conn)
        .unwrap();
    assert_eq!(member_count, 0);
    let tombstone = members::by_id(conn, w.bea.id).unwrap();
    assert_eq!(tombstone.username, format!("~former-{}", w.bea.id.0));
    assert_eq!(tombstone.status, MemberStatus::Deleted);

    // After the hold the name is free again.
    diesel::update(retired_usernames::table)
        .set(retired_usernames::held_until.eq(now))
        .execute(conn)
        .unwrap();
    members::register(conn, &registration("bea"), SiteRole::Member).unwrap();
}

#[test]
fn anonymise_keeps_the_words_under_a_former_member() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let now = crate::clock::now();
    ask(
        conn,
        &w.bea,
        LeavingMode::Anonymise,
        PASSWORD,
        &rules(),
        now,
    )
    .unwrap();
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(8)).unwrap(),
        1
    );
    let page = forum_threads::page_for(conn, &w.ada.actor(), w.adas.id, 1).unwrap();
    let post = &page.posts[1];
    assert_eq!(post.shown, Shown::Post);
    assert!(post.author.is_none(), "shown as a former member");
    assert!(post.post.html.contains("edited words about her cat"));
    // Every post stays; the counts did not move.
    let theirs = bea_posts(conn, w.bea.id);
    assert!(theirs.iter().all(|(_, _, state)| state == "published"));
    assert_counters_right(conn);
    let listing = forum_threads::board_page(conn, &w.board, None, None).unwrap();
    let beas = listing
        .threads
        .iter()
        .find(|t| t.thread.id == w.beas.id)
        .unwrap();
    assert!(beas.author.is_none());
    assert!(matches!(
        members::by_username(conn, "bea"),
        Err(Error::NotFound)
    ));
}

#[test]
fn nothing_happens_before_the_cooling_off_period_ends() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let now = crate::clock::now();
    let departure = ask(conn, &w.bea, LeavingMode::Delete, PASSWORD, &rules(), now).unwrap();
    assert_eq!(departure.due_at, now + TimeDelta::days(7));
    assert_eq!(
        carry_out_due(
            conn,
            &rules(),
            now + TimeDelta::days(7) - TimeDelta::seconds(1)
        )
        .unwrap(),
        0
    );
    assert_eq!(members::by_username(conn, "bea").unwrap().id, w.bea.id);
    assert!(bea_posts(conn, w.bea.id)
        .iter()
        .all(|(s, _, _)| !s.is_empty()));
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(7)).unwrap(),
        1
    );
    // Once only.
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(9)).unwrap(),
        0
    );
}

#[test]
fn asking_signs_out_everywhere_and_signing_in_again_lets_one_cancel() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let lifetime = TimeDelta::days(1);
    let phone = crate::accounts::sessions::start(conn, &w.bea.member, lifetime).unwrap();
    let laptop = crate::accounts::sessions::start(conn, &w.bea.member, lifetime).unwrap();
    let now = crate::clock::now();
    // A wrong password asks again, on the password field.
    match ask(conn, &w.bea, LeavingMode::Delete, "not it", &rules(), now) {
        Err(Error::Invalid(invalid)) => assert!(invalid.message_for("password").is_some()),
        other => panic!("{other:?}"),
    }
    assert_eq!(pending(conn, w.bea.id).unwrap(), None);
    ask(conn, &w.bea, LeavingMode::Delete, PASSWORD, &rules(), now).unwrap();
    for token in [&phone.token, &laptop.token] {
        assert!(crate::accounts::sessions::resume(conn, token).is_err());
    }
    // Signing in still works in the period, and the request waits to be cancelled.
    let again = members::authenticate(conn, "bea", PASSWORD).unwrap();
    let again = actors::actor_for(conn, again).unwrap();
    assert_eq!(
        pending(conn, again.id).unwrap().unwrap().mode,
        LeavingMode::Delete
    );
    assert!(cancel(conn, &again).unwrap());
    assert!(!cancel(conn, &again).unwrap());
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(30)).unwrap(),
        0
    );
    assert_eq!(
        members::by_username(conn, "bea").unwrap().status,
        MemberStatus::Active
    );
}

#[test]
fn the_last_admin_cannot_leave() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let now = crate::clock::now();
    match ask(conn, &w.ada, LeavingMode::Delete, PASSWORD, &rules(), now) {
        Err(Error::Invalid(invalid)) => {
            assert!(invalid
                .message_for("mode")
                .unwrap()
                .contains("only administrator"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(pending(conn, w.ada.id).unwrap(), None);
    // With a second admin one may go; then the other is the last one.
    let cy = member(conn, "cyd", SiteRole::Admin);
    ask(
        conn,
        &w.ada,
        LeavingMode::Anonymise,
        PASSWORD,
        &rules(),
        now,
    )
    .unwrap();
    assert!(matches!(
        ask(conn, &cy, LeavingMode::Delete, PASSWORD, &rules(), now),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(8)).unwrap(),
        1
    );
    let ada = members::by_id(conn, w.ada.id).unwrap();
    assert_eq!(ada.site_role, SiteRole::Member);
    assert!(members::by_id(conn, cy.id).unwrap().is_admin());
}

#[test]
fn deleted_posts_lose_their_text_and_revisions_after_the_retention_period() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let rules = rules();
    forum_posts::delete_own(conn, &w.bea, w.bea_reply.id).unwrap();
    // A post the moderators hid can be restored: it keeps its text.
    let hidden = reply(conn, &w.bea, w.adas.id, "words the moderators hid");
    review::decide(
        conn,
        &PostingRules::default(),
        &w.ada,
        hidden.id,
        Seen::of(&hidden),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    let text_of = |conn: &mut DbConn, id: PostId| -> String {
        posts::table
            .find(id)
            .select(posts::source)
            .get_result(conn)
            .unwrap()
    };
    let revisions_of = |conn: &mut DbConn, id: PostId| -> i64 {
        post_revisions::table
            .filter(post_revisions::post_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap()
    };
    let now = crate::clock::now();
    assert_eq!(
        purge_deleted_text(conn, &rules, now + TimeDelta::days(29)).unwrap(),
        0
    );
    assert_eq!(
        text_of(conn, w.bea_reply.id),
        "bea's edited words about her cat"
    );
    assert_eq!(revisions_of(conn, w.bea_reply.id), 1);
    assert_eq!(
        purge_deleted_text(conn, &rules, now + TimeDelta::days(31)).unwrap(),
        1
    );
    assert_eq!(text_of(conn, w.bea_reply.id), "");
    let html: String = posts::table
        .find(w.bea_reply.id)
        .select(posts::html)
        .get_result(conn)
        .unwrap();
    assert_eq!(html, "");
    assert_eq!(revisions_of(conn, w.bea_reply.id), 0);
    assert_eq!(text_of(conn, hidden.id), "words the moderators hid");
    // Nothing is left to purge.
    assert_eq!(
        purge_deleted_text(conn, &rules, now + TimeDelta::days(60)).unwrap(),
        0
    );
}

/// The only two admins ask to leave at once, each on their own connection: on PostgreSQL
/// (READ COMMITTED) each would count the other as staying, unless they take turns.
#[test]
fn two_admins_asking_at_once_cannot_both_leave() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let cy = member(conn, "cyd", SiteRole::Admin);
    let now = crate::clock::now();
    let departure = Departure {
        mode: LeavingMode::Delete,
        requested_at: now,
        due_at: now + TimeDelta::days(7),
    };
    let mut first = pool.get().unwrap();
    let second = write_tx(&mut first, |conn| {
        record(conn, ada.id, &departure)?;
        // While ada's request is not committed yet, cy's is sent.
        let (pool, departure, cy) = (pool.clone(), departure.clone(), cy.id);
        let second = std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            write_tx(&mut conn, |conn| record(conn, cy, &departure))
        });
        std::thread::sleep(std::time::Duration::from_millis(400));
        Ok(second)
    })
    .unwrap();
    match second.join().unwrap() {
        Err(Error::Invalid(invalid)) => assert!(invalid
            .message_for("mode")
            .unwrap()
            .contains("only administrator")),
        other => panic!("the second admin's request passed: {other:?}"),
    }
    assert!(pending(conn, ada.id).unwrap().is_some());
    assert_eq!(pending(conn, cy.id).unwrap(), None);
}

fn last_admin_notices(conn: &mut DbConn, who: MemberId) -> i64 {
    notifications::table
        .filter(notifications::member_id.eq(who))
        .filter(notifications::body.eq(LAST_ADMIN_NOTICE))
        .select(notifications::count)
        .load::<i32>(conn)
        .unwrap()
        .into_iter()
        .map(i64::from)
        .sum()
}

/// An admin whose departure became impossible (the other admin lost the role since) keeps
/// their request, is told once why it waits, and leaves once another admin exists.
#[test]
fn the_last_admins_departure_waits_and_they_are_told_once() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let cy = member(conn, "cyd", SiteRole::Admin);
    let now = crate::clock::now();
    ask(
        conn,
        &w.ada,
        LeavingMode::Anonymise,
        PASSWORD,
        &rules(),
        now,
    )
    .unwrap();
    let set_cy_role = |conn: &mut DbConn, role: SiteRole| {
        use crate::db::schema::members as member_rows;
        diesel::update(member_rows::table.find(cy.id))
            .set(member_rows::site_role.eq(role.as_str()))
            .execute(conn)
            .unwrap();
    };
    set_cy_role(conn, SiteRole::Member);
    for day in [8, 9] {
        assert_eq!(
            carry_out_due(conn, &rules(), now + TimeDelta::days(day)).unwrap(),
            0
        );
        assert!(pending(conn, w.ada.id).unwrap().is_some(), "day {day}");
        assert_eq!(last_admin_notices(conn, w.ada.id), 1, "day {day}");
        assert!(members::by_id(conn, w.ada.id).unwrap().is_admin());
    }
    set_cy_role(conn, SiteRole::Admin);
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(10)).unwrap(),
        1
    );
    assert_eq!(pending(conn, w.ada.id).unwrap(), None);
    assert_eq!(
        members::by_id(conn, w.ada.id).unwrap().status,
        MemberStatus::Deleted
    );
}

fn queue(
    conn: &mut DbConn,
    to: &MemberActor,
    kind: MailKind,
    text: &str,
    at: NaiveDateTime,
) -> i64 {
    let mail = crate::mail::Mail {
        member_id: Some(to.id),
        to: format!("{}@example.org", to.member.username),
        kind,
        subject: "News".to_owned(),
        text: text.to_owned(),
        html: String::new(),
        unsubscribe_url: None,
    };
    crate::mail::enqueue(conn, &mail, at, at).unwrap().0
}

/// Under delete, what else she wrote goes too: the title and slug of her thread that nothing
/// is left in, the subject of the conversation she started, her group proposal, and unsent
/// notification mail to others that may quote her. Read from the tables themselves.
#[test]
fn delete_takes_her_titles_subjects_proposals_and_unsent_mail_quoting_her() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let now = crate::clock::now();
    let sent = crate::conversations::start(
        conn,
        &crate::conversations::ConversationRules::default(),
        &posting(),
        &w.bea,
        &crate::conversations::StartForm {
            to: crate::conversations::StartQuery {
                group: w.board.slug.clone(),
                ..Default::default()
            },
            subject: "bea's private subject".to_owned(),
            body: "bea's private words".to_owned(),
            submission_key: crate::forum::posts::new_submission_key(),
        },
    )
    .unwrap();
    diesel::insert_into(group_proposals::table)
        .values((
            group_proposals::proposer_id.eq(w.bea.id),
            group_proposals::name.eq("bea's group name"),
            group_proposals::slug.eq("beas-group"),
            group_proposals::description.eq("bea's description"),
            group_proposals::ground_rules.eq("bea's rules"),
            group_proposals::meeting_format.eq("online"),
            group_proposals::why.eq("bea's reasons"),
            group_proposals::created_at.eq(now),
        ))
        .execute(conn)
        .unwrap();
    // Mail to ada: one quoting bea, not sent yet (goes); one queued before bea wrote anything
    // (stays); one already sent (stays); a verification link (stays).
    let quoting = queue(
        conn,
        &w.ada,
        MailKind::Notification,
        "bea's first words",
        now,
    );
    let digest = queue(conn, &w.ada, MailKind::Digest, "bea's first words", now);
    let older = queue(
        conn,
        &w.ada,
        MailKind::Digest,
        "before bea",
        now - TimeDelta::days(2),
    );
    let already_sent = queue(conn, &w.ada, MailKind::Notification, "bea's words", now);
    diesel::update(outbox::table.find(already_sent))
        .set(outbox::sent_at.eq(now))
        .execute(conn)
        .unwrap();
    let verify = queue(conn, &w.ada, MailKind::Verify, "a link", now);
    // Mail to ada about someone else, queued after bea wrote: stays.
    let others = queue(conn, &w.ada, MailKind::Notification, "cal's words", now);

    ask(conn, &w.bea, LeavingMode::Delete, PASSWORD, &rules(), now).unwrap();
    assert_eq!(
        carry_out_due(conn, &rules(), now + TimeDelta::days(8)).unwrap(),
        1
    );

    let lonely: (String, String, String) = threads::table
        .find(w.lonely.id)
        .select((threads::title, threads::slug, threads::state))
        .get_result(conn)
        .unwrap();
    assert_eq!(lonely, (String::new(), String::new(), "deleted".to_owned()));
    // Her answered thread stays, with its title (the thread's shape, answered by others).
    let beas: String = threads::table
        .find(w.beas.id)
        .select(threads::title)
        .get_result(conn)
        .unwrap();
    assert_eq!(beas, "Bea asks");
    let subject: String = conversations::table
        .find(sent.conversation_id)
        .select(conversations::subject)
        .get_result(conn)
        .unwrap();
    assert_eq!(subject, REMOVED_SUBJECT);
    let proposals: i64 = group_proposals::table
        .filter(group_proposals::proposer_id.eq(w.bea.id))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(proposals, 0);
    let left: Vec<i64> = outbox::table
        .order(outbox::id)
        .select(outbox::id)
        .load::<crate::ids::MailId>(conn)
        .unwrap()
        .into_iter()
        .map(|id| id.0)
        .collect();
    assert_eq!(left, [older, already_sent, verify, others]);
    assert!(!left.contains(&quoting) && !left.contains(&digest));
}

/// A deleted thread whose posts were all purged loses its title and slug too.
#[test]
fn the_purge_empties_the_title_of_a_deleted_thread_with_nothing_left() {
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let opening: PostId = posts::table
        .filter(posts::thread_id.eq(w.lonely.id))
        .select(posts::id)
        .first(conn)
        .unwrap();
    forum_posts::delete_own(conn, &w.bea, opening).unwrap();
    let thread = |conn: &mut DbConn| -> (String, String, String) {
        threads::table
            .find(w.lonely.id)
            .select((threads::title, threads::slug, threads::state))
            .get_result(conn)
            .unwrap()
    };
    assert_eq!(thread(conn).2, "deleted");
    assert_eq!(thread(conn).0, "Nobody answers");
    let now = crate::clock::now();
    assert_eq!(
        purge_deleted_text(conn, &rules(), now + TimeDelta::days(31)).unwrap(),
        1
    );
    assert_eq!(
        thread(conn),
        (String::new(), String::new(), "deleted".to_owned())
    );
    // A thread with text left keeps its title.
    let adas: String = threads::table
        .find(w.adas.id)
        .select(threads::title)
        .get_result(conn)
        .unwrap();
    assert_eq!(adas, "Ada asks");
}

/// Asking to leave retires the member's mailed links: a reset link in their inbox no longer
/// sets a password (and signs in) during the cooling-off period.
#[test]
fn asking_to_leave_retires_the_members_mailed_links() {
    use crate::mail::links::{self, Purpose};
    let (_db, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let w = world(conn);
    let now = crate::clock::now();
    for purpose in [Purpose::Reset, Purpose::Verify] {
        write_tx(conn, |conn| {
            links::issue(conn, w.bea.id, purpose, None, TimeDelta::hours(1), now)
        })
        .unwrap();
    }
    write_tx(conn, |conn| {
        links::issue(
            conn,
            w.ada.id,
            Purpose::Reset,
            None,
            TimeDelta::hours(1),
            now,
        )
    })
    .unwrap();
    let unused = |conn: &mut DbConn, who: MemberId| -> i64 {
        mail_links::table
            .filter(mail_links::member_id.eq(who))
            .filter(mail_links::used_at.is_null())
            .count()
            .get_result(conn)
            .unwrap()
    };
    assert_eq!(unused(conn, w.bea.id), 2);
    ask(conn, &w.bea, LeavingMode::Delete, PASSWORD, &rules(), now).unwrap();
    assert_eq!(unused(conn, w.bea.id), 0);
    // Nobody else's.
    assert_eq!(unused(conn, w.ada.id), 1);
}
