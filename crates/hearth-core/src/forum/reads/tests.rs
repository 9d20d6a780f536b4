//! Read markers on both backends: what counts as new after reading, after others post, after a
//! moderator hides a post, and never an awaiting one; `/unread` and its leaks; mark all read;
//! the member's home.

use super::*;
use crate::accounts::actors;
use crate::db::DbConn;
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::{Post, SiteRole};
use crate::moderation::review::{self, Decision, Seen};
use crate::safety::gate::PostingRules;
use crate::test_support::{any_pool, member};

fn group(conn: &mut DbConn, admin: &MemberActor, slug: &str, visibility: &str) -> Board {
    let form = NewBoardForm {
        slug: slug.to_owned(),
        name: format!("Group {slug}"),
        visibility: visibility.to_owned(),
        ..Default::default()
    };
    boards::create(conn, admin, &form).unwrap()
}

fn start(conn: &mut DbConn, author: &MemberActor, board: &Board, title: &str) -> Thread {
    let form = NewThreadForm {
        title: title.to_owned(),
        body: format!("the opening of {title}"),
        submission_key: crate::forum::posts::new_submission_key(),
        ..Default::default()
    };
    threads::start(conn, &PostingRules::default(), author, board, &form)
        .unwrap()
        .thread
}

fn reply_with(
    conn: &mut DbConn,
    rules: &PostingRules,
    author: &MemberActor,
    thread: ThreadId,
) -> Post {
    // A new text each time: the same text again would be the same reply (`same_reply_minutes`).
    let key = crate::forum::posts::new_submission_key();
    let form = ReplyForm {
        body: format!("a reply by {} ({key})", author.username),
        submission_key: key,
        ..Default::default()
    };
    posts::reply(conn, rules, author, thread, &form)
        .unwrap()
        .post
}

/// The member's marker in the thread, as the thread page reads it.
fn marker(conn: &mut DbConn, member: MemberId, thread: ThreadId) -> Option<i32> {
    let thread = threads::by_id(conn, thread).unwrap();
    state_of(conn, member, &thread, 1).unwrap().read_up_to
}

fn reply(conn: &mut DbConn, author: &MemberActor, thread: ThreadId) -> Post {
    reply_with(conn, &PostingRules::default(), author, thread)
}

/// Loads the thread's last page as `reader` does and records what it moved, as the web
/// server does (at once with notifications waiting, else through [`PendingReads`]); returns
/// the position written (`None`: nothing).
fn read_thread(conn: &mut DbConn, reader: &MemberActor, thread: ThreadId) -> Option<i32> {
    let view = threads::page_for(conn, &reader.actor(), thread, i32::MAX).unwrap();
    let mark = view.marks_read?;
    let now = crate::clock::now();
    if mark.notified {
        record(conn, reader.id, thread, mark.up_to, now).unwrap();
    } else {
        let pending = PendingReads::default();
        assert!(pending.add(reader.id, thread, mark.up_to, now));
        record_pending(conn, &pending.take_all()).unwrap();
    }
    Some(mark.up_to)
}

/// What the board page shows `reader` about `thread`.
fn listed(
    conn: &mut DbConn,
    reader: &MemberActor,
    board: &Board,
    thread: ThreadId,
) -> Option<Unread> {
    let page = threads::board_page(conn, board, Some(reader.id), None).unwrap();
    page.threads
        .into_iter()
        .find(|l| l.thread.id == thread)
        .expect("the thread is listed")
        .unread
}

fn unread_titles(conn: &mut DbConn, reader: &MemberActor) -> Vec<(String, i64)> {
    unread_for(conn, reader, None)
        .unwrap()
        .threads
        .into_iter()
        .map(|t| (t.thread.title, t.unread.n_new))
        .collect()
}

fn again(conn: &mut DbConn, member: &MemberActor) -> MemberActor {
    actors::actor_for(conn, member.member.clone()).unwrap()
}

#[test]
fn new_posts_count_what_the_reader_can_see_after_their_marker() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let board = group(conn, &admin, "pets", "public");
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    let thread = start(conn, &ben, &board, "Missing Milo").id;
    reply(conn, &admin, thread);

    // Never opened: new as a whole, from its first post. Visitors see no markers.
    let never = listed(conn, &ana, &board, thread).unwrap();
    assert_eq!(
        (never.opened, never.n_new, never.first_new_position),
        (false, 2, 1)
    );
    let visitors = threads::board_page(conn, &board, None, None).unwrap();
    assert!(visitors.threads.iter().all(|l| l.unread.is_none()));

    // Read: nothing new; reading the same page again writes nothing.
    assert_eq!(read_thread(conn, &ana, thread), Some(2));
    assert_eq!(listed(conn, &ana, &board, thread), None);
    assert_eq!(read_thread(conn, &ana, thread), None);

    // Others post (the admin, who no posting limit holds up): two new, starting at the first of them.
    let third = reply(conn, &admin, thread);
    reply(conn, &admin, thread);
    let two = listed(conn, &ana, &board, thread).unwrap();
    assert_eq!(
        (two.opened, two.n_new, two.first_new_position),
        (true, 2, 3)
    );

    // A moderator hides the first: it no longer counts, and reading starts after it.
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &admin,
        third.id,
        Seen::of(&third),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    let one = listed(conn, &ana, &board, thread).unwrap();
    assert_eq!((one.n_new, one.first_new_position), (1, 4));

    // A post awaiting approval never counts.
    let newcomer = member(conn, "cat", SiteRole::Member);
    let premod = PostingRules {
        new_account_premod_posts: 5,
        ..PostingRules::default()
    };
    let awaiting = reply_with(conn, &premod, &newcomer, thread);
    assert_eq!(awaiting.moderation, Moderation::Awaiting);
    assert_eq!(listed(conn, &ana, &board, thread).unwrap().n_new, 1);

    // Reading to the end leaves nothing new; the marker never moves back.
    assert_eq!(read_thread(conn, &ana, thread), Some(4));
    assert_eq!(listed(conn, &ana, &board, thread), None);
    record(conn, ana.id, thread, 1, crate::clock::now()).unwrap();
    assert_eq!(marker(conn, ana.id, thread), Some(4));
}

#[test]
fn unread_lists_the_members_groups_and_nothing_they_may_not_read() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let ana = member(conn, "ana", SiteRole::Member);
    let pets = group(conn, &admin, "pets", "public");
    let elsewhere = group(conn, &admin, "elsewhere", "public");
    let circle = group(conn, &admin, "circle", "private");
    memberships::join(conn, &ana, &pets, "").unwrap();
    memberships::join(conn, &ana, &circle, "").unwrap();
    memberships::answer_request(conn, &admin, &circle, "ana", true, "").unwrap();
    let ana = again(conn, &ana);

    let in_pets = start(conn, &admin, &pets, "In her group").id;
    let read_elsewhere = start(conn, &admin, &elsewhere, "Opened elsewhere").id;
    start(conn, &admin, &elsewhere, "Never opened elsewhere");
    let in_circle = start(conn, &admin, &circle, "Inside the circle").id;
    let outside = group(conn, &admin, "closed", "private");
    start(conn, &admin, &outside, "Not hers to read");

    // Her groups' threads are new as a whole; a public group's only once she opened one.
    assert_eq!(read_thread(conn, &ana, read_elsewhere), Some(1));
    assert_eq!(read_thread(conn, &ana, in_circle), Some(1));
    let mut titles = unread_titles(conn, &ana);
    titles.sort();
    assert_eq!(titles, vec![("In her group".to_owned(), 1)]);

    reply(conn, &admin, read_elsewhere);
    let circle_reply = reply(conn, &admin, in_circle);
    reply(conn, &admin, in_pets);
    assert_eq!(
        unread_titles(conn, &ana),
        vec![
            ("In her group".to_owned(), 2),
            ("Inside the circle".to_owned(), 1),
            ("Opened elsewhere".to_owned(), 1),
        ]
    );

    // A hidden post is not new.
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &admin,
        circle_reply.id,
        Seen::of(&circle_reply),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    assert!(!unread_titles(conn, &ana)
        .iter()
        .any(|(title, _)| title == "Inside the circle"));

    // Out of the private group, her marker there shows nothing of it, new posts or not.
    reply(conn, &admin, in_circle);
    memberships::remove(conn, &admin, &circle, "ana", "").unwrap();
    let ana = again(conn, &ana);
    let titles = unread_titles(conn, &ana);
    assert!(
        titles
            .iter()
            .all(|(title, _)| title != "Inside the circle" && title != "Not hers to read"),
        "{titles:?}"
    );
    assert_eq!(titles.len(), 2, "{titles:?}");
}

#[test]
fn marking_a_group_read_clears_it_until_someone_posts_again() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let ana = member(conn, "ana", SiteRole::Member);
    let pets = group(conn, &admin, "pets", "public");
    let other = group(conn, &admin, "other", "public");
    memberships::join(conn, &ana, &pets, "").unwrap();
    memberships::join(conn, &ana, &other, "").unwrap();
    let ana = again(conn, &ana);
    let first = start(conn, &admin, &pets, "First").id;
    let second = start(conn, &admin, &pets, "Second").id;
    start(conn, &admin, &other, "In the other group");
    assert_eq!(read_thread(conn, &ana, first), Some(1));
    reply(conn, &admin, first);
    reply(conn, &admin, second);
    assert_eq!(unread_titles(conn, &ana).len(), 3);

    assert_eq!(mark_group_read(conn, &ana, &pets).unwrap(), 2);
    assert_eq!(
        unread_titles(conn, &ana),
        vec![("In the other group".to_owned(), 1)]
    );
    // Nothing moved: nothing written.
    assert_eq!(mark_group_read(conn, &ana, &pets).unwrap(), 0);
    reply(conn, &admin, second);
    assert_eq!(unread_titles(conn, &ana)[0], ("Second".to_owned(), 1));

    // Not a group she may read: not found.
    let closed = group(conn, &admin, "closed", "private");
    assert!(matches!(
        mark_group_read(conn, &ana, &closed),
        Err(crate::Error::NotFound)
    ));
}

#[test]
fn a_members_home_shows_their_groups_with_new_threads_and_next_meetings() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let ana = member(conn, "ana", SiteRole::Member);
    let pets = group(conn, &admin, "pets", "public");
    let quiet = group(conn, &admin, "quiet", "public");
    group(conn, &admin, "not-hers", "public");
    memberships::join(conn, &ana, &pets, "").unwrap();
    memberships::join(conn, &ana, &quiet, "").unwrap();
    let ana = again(conn, &ana);
    start(conn, &admin, &pets, "One");
    let two = start(conn, &admin, &pets, "Two").id;
    let next_week = (crate::clock::now() + chrono::TimeDelta::days(7)).date();
    let form = meetings::MeetingForm {
        title: "Circle".to_owned(),
        date: next_week.format("%Y-%m-%d").to_string(),
        time: "19:00".to_owned(),
        time_zone: "UTC".to_owned(),
        duration_minutes: "60".to_owned(),
        repeat: "weekly".to_owned(),
        interval_weeks: "1".to_owned(),
        ..Default::default()
    };
    meetings::schedule(conn, &admin, &pets, &form).unwrap();

    let home = home_for(conn, &ana).unwrap();
    let counts: Vec<(&str, i64)> = home
        .groups
        .iter()
        .map(|g| (g.board.slug.as_str(), g.n_unread_threads))
        .collect();
    assert_eq!(counts, vec![("pets", 2), ("quiet", 0)]);
    assert_eq!(home.next_meetings.len(), 1);
    assert_eq!(home.next_meetings[0].0.slug, "pets");
    assert_eq!(home.next_meetings[0].1.meeting.title, "Circle");

    read_thread(conn, &ana, two);
    assert_eq!(home_for(conn, &ana).unwrap().groups[0].n_unread_threads, 1);

    // The threads she watches, with what is new in them; replies to her.
    let (_, thread) = threads::by_id_for(conn, &ana.actor(), two).unwrap();
    crate::notifications::levels::set_for_thread(
        conn,
        &ana,
        &pets,
        &thread,
        crate::notifications::Level::Watching,
    )
    .unwrap();
    let answer = reply(conn, &admin, two);
    let home = home_for(conn, &ana).unwrap();
    let watched: Vec<(&str, Option<i64>)> = home
        .watched
        .iter()
        .map(|w| (w.thread.title.as_str(), w.unread.map(|u| u.n_new)))
        .collect();
    assert_eq!(watched, vec![("Two", Some(1))]);
    assert!(
        home.replies.is_empty(),
        "a watched post is not a reply to her"
    );
    crate::db::write_tx(conn, |conn| {
        let new = crate::notifications::NewNotification {
            kind: crate::notifications::Kind::ReplyToYou,
            group: Some(two.0),
            subject: crate::notifications::Subject {
                board: Some(pets.id),
                thread: Some(two),
                post: Some(answer.id),
                position: Some(answer.position),
                ..Default::default()
            },
            actor: Some(admin.id),
            body: "",
        };
        crate::notifications::notify(conn, &[ana.id], &new, crate::clock::now())
    })
    .unwrap();
    let home = home_for(conn, &ana).unwrap();
    let replies: Vec<&str> = home.replies.iter().map(|n| n.kind).collect();
    assert_eq!(replies, vec!["reply_to_you"]);

    // A reply in a thread she started is a reply to her too: the bell says so, and so does
    // her home.
    let hers = start(conn, &ana, &pets, "Hers").id;
    reply(conn, &admin, hers);
    let home = home_for(conn, &ana).unwrap();
    let replies: Vec<&str> = home.replies.iter().map(|n| n.kind).collect();
    assert_eq!(replies, vec!["reply", "reply_to_you"]);
}

#[test]
fn reading_a_thread_reads_its_notifications_even_when_the_marker_stays() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let board = group(conn, &admin, "pets", "public");
    let ana = member(conn, "ana", SiteRole::Member);
    let thread = start(conn, &ana, &board, "Can't do this anymore").id;
    let bell = |conn: &mut DbConn| crate::notifications::unread_count(conn, ana.id).unwrap();

    // A reply in her thread: told, and reading it reads what told her.
    reply(conn, &admin, thread);
    assert_eq!(bell(conn), 1);
    assert_eq!(read_thread(conn, &ana, thread), Some(2));
    assert_eq!(bell(conn), 0);

    // A reply approved after a later one was read: her marker is past it already, yet the
    // page that shows it reads its notification, once.
    let newcomer = member(conn, "cat", SiteRole::Member);
    let premod = PostingRules {
        new_account_premod_posts: 5,
        ..PostingRules::default()
    };
    let late = reply_with(conn, &premod, &newcomer, thread);
    reply(conn, &admin, thread);
    assert_eq!(read_thread(conn, &ana, thread), Some(4));
    assert_eq!(bell(conn), 0);
    review::decide(
        conn,
        &crate::safety::gate::PostingRules::default(),
        &admin,
        late.id,
        Seen::of(&late),
        &Decision::Approve,
    )
    .unwrap();
    assert_eq!(bell(conn), 1, "the approved reply is news to her");
    assert_eq!(read_thread(conn, &ana, thread), Some(4));
    assert_eq!(bell(conn), 0);
    assert_eq!(marker(conn, ana.id, thread), Some(4));
    // Read again: nothing to write.
    assert_eq!(read_thread(conn, &ana, thread), None);
}

#[test]
fn waiting_markers_keep_the_furthest_reading_of_each_member() {
    let pending = PendingReads::default();
    let (ana, bea) = (MemberId(1), MemberId(2));
    let (t1, t2) = (ThreadId(10), ThreadId(20));
    let now = crate::clock::now();
    assert!(pending.add(ana, t1, 3, now));
    assert!(pending.add(ana, t1, 7, now));
    // Page 1 read after page 2 does not take the marker back.
    assert!(pending.add(ana, t1, 2, now));
    assert!(pending.add(ana, t2, 1, now));
    assert!(pending.add(bea, t1, 5, now));
    let mut anas = pending.take_for(ana);
    anas.sort_by_key(|m| m.thread);
    assert_eq!(
        anas.iter().map(|m| (m.thread, m.up_to)).collect::<Vec<_>>(),
        vec![(t1, 7), (t2, 1)]
    );
    assert!(pending.take_for(ana).is_empty(), "taken once");
    let rest = pending.take_all();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        (rest[0].member, rest[0].thread, rest[0].up_to),
        (bea, t1, 5)
    );
    assert!(pending.take_all().is_empty());
}

#[test]
fn a_full_buffer_refuses_new_markers_but_still_moves_kept_ones() {
    let pending = PendingReads::default();
    let now = crate::clock::now();
    for n in 0..super::MAX_PENDING_READS {
        let n = i64::try_from(n).unwrap();
        assert!(pending.add(MemberId(n % 100), ThreadId(n), 1, now));
    }
    assert!(
        !pending.add(MemberId(1), ThreadId(-1), 1, now),
        "written at once instead"
    );
    assert!(!pending.add(MemberId(100_000), ThreadId(-1), 1, now));
    assert!(
        pending.add(MemberId(1), ThreadId(1), 9, now),
        "a kept one moves"
    );
    assert_eq!(pending.take_all().len(), super::MAX_PENDING_READS);
}

#[test]
fn waiting_markers_are_written_forward_only_and_leave_notifications_alone() {
    let (_database, pool) = any_pool();
    let conn = &mut pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let board = group(conn, &admin, "pets", "public");
    let ana = member(conn, "ana", SiteRole::Member);
    let thread = start(conn, &admin, &board, "Missing Milo").id;
    reply(conn, &admin, thread);
    reply(conn, &admin, thread);
    let now = crate::clock::now();
    // Read up to 3, then a marker of 2 from an older tab: it stays at 3.
    let first = PendingReads::default();
    first.add(ana.id, thread, 3, now);
    record_pending(conn, &first.take_all()).unwrap();
    let older = PendingReads::default();
    older.add(ana.id, thread, 2, now);
    record_pending(conn, &older.take_all()).unwrap();
    assert_eq!(marker(conn, ana.id, thread), Some(3));
    // A notification about a post she had read, written after her page (an edit naming
    // her), still rings after her waiting marker is written.
    let mention = crate::notifications::NewNotification {
        kind: crate::notifications::Kind::Mention,
        group: None,
        subject: crate::notifications::Subject {
            board: Some(board.id),
            thread: Some(thread),
            post: None,
            position: Some(2),
            conversation: None,
            meeting: None,
        },
        actor: Some(admin.id),
        body: "",
    };
    crate::notifications::notify(conn, &[ana.id], &mention, now).unwrap();
    let again = PendingReads::default();
    again.add(ana.id, thread, 3, now);
    record_pending(conn, &again.take_all()).unwrap();
    assert_eq!(crate::notifications::unread_count(conn, ana.id).unwrap(), 1);
}
