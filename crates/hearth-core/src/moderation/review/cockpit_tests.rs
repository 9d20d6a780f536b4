//! The facilitator's cockpit on both backends: the at-risk lane first with its counts, join
//! requests counted with the queue in the header, and beside each post its author's recent
//! posts and earlier warnings, only from the groups the reader moderates.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::forum::boards::NewBoardForm;
use crate::forum::posts::ReplyForm;
use crate::forum::threads::NewThreadForm;
use crate::groups::memberships::{self, Standing};
use crate::model::SiteRole;
use crate::moderation::actions;
use crate::safety::limits::PostingLimits;
use crate::test_support::{admin_board_thread, any_pool, member};

fn unlimited() -> PostingRules {
    PostingRules {
        limits: PostingLimits::NONE,
        same_reply_minutes: 0,
        ..PostingRules::default()
    }
}

static KEYS: AtomicUsize = AtomicUsize::new(0);

fn say(conn: &mut DbConn, who: &MemberActor, thread: ThreadId, body: &str) -> PostId {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: format!("say-key-{:012}", KEYS.fetch_add(1, Ordering::Relaxed)),
        ..Default::default()
    };
    posts::reply(conn, &unlimited(), who, thread, &form)
        .unwrap()
        .post
        .id
}

fn new_board(conn: &mut DbConn, admin: &MemberActor, slug: &str, visibility: &str) -> Board {
    boards::create(
        conn,
        admin,
        &NewBoardForm {
            slug: slug.to_owned(),
            name: slug.to_uppercase(),
            visibility: visibility.to_owned(),
            ..Default::default()
        },
    )
    .unwrap()
}

fn thread_on(conn: &mut DbConn, admin: &MemberActor, board: &Board) -> ThreadId {
    crate::forum::threads::start(
        conn,
        &unlimited(),
        admin,
        board,
        &NewThreadForm {
            title: format!("Welcome to {}", board.name),
            body: "Hello there".to_owned(),
            submission_key: format!("thread-key-{:012}", KEYS.fetch_add(1, Ordering::Relaxed)),
            ..Default::default()
        },
    )
    .unwrap()
    .thread
    .id
}

#[test]
fn the_at_risk_lane_comes_first_and_the_header_counts_join_requests_and_check_ins() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, first, thread) = admin_board_thread(conn, "Welcome");
    let circle = new_board(conn, &admin, "circle", "private");
    let elsewhere = new_board(conn, &admin, "elsewhere", "public");
    let elsewhere_thread = thread_on(conn, &admin, &elsewhere);
    member(conn, "fran", SiteRole::Member);
    actions::set_facilitator(conn, &admin, &first, "fran", true).unwrap();
    actions::set_facilitator(conn, &admin, &circle, "fran", true).unwrap();
    let fran = members::by_username(conn, "fran").unwrap();
    let fran = crate::accounts::actors::actor_for(conn, fran).unwrap();
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    let cat = member(conn, "cat", SiteRole::Member);

    // Oldest first: a spam report, then a report that someone may be at risk, then words of
    // crisis; and a crisis post in a group Fran does not facilitate.
    let spam = say(conn, &ana, thread.id, "Buy my course, link in bio.");
    let low = say(conn, &ana, thread.id, "I have not eaten in days.");
    assert!(report(conn, &ReportLimits::NONE, &ben, spam, "spam", "").unwrap());
    assert!(report(conn, &ReportLimits::NONE, &ben, low, "at_risk", "worried").unwrap());
    let crisis = say(
        conn,
        &cat,
        thread.id,
        "Since Milo died I want to end my life.",
    );
    say(
        conn,
        &cat,
        elsewhere_thread,
        "I keep thinking about suicide.",
    );
    // Two people ask to join the private circle.
    for name in ["joe", "kim"] {
        let who = member(conn, name, SiteRole::Member);
        let standing = memberships::join(conn, &who, &circle, "Hello").unwrap();
        assert_eq!(standing, Standing::Requested);
    }

    let cockpit = queue(conn, &fran, None, 1).unwrap();
    let order: Vec<PostId> = cockpit.entries.iter().map(|e| e.post.id).collect();
    assert_eq!(order, [crisis, low, spam], "the at-risk lane first");
    let lanes: Vec<bool> = cockpit.entries.iter().map(|e| e.at_risk).collect();
    assert_eq!(lanes, [true, true, false]);
    assert_eq!((cockpit.n_posts, cockpit.n_at_risk), (3, 2));
    assert_eq!(
        cockpit.join_requests,
        [beside::JoinRequestsWaiting {
            board_slug: "circle".to_owned(),
            board_name: "CIRCLE".to_owned(),
            waiting: 2,
        }]
    );
    // The header: three posts and two join requests wait for Fran; the staff see the
    // crisis post elsewhere too.
    assert_eq!(open_count(conn, &fran).unwrap(), 5);
    assert_eq!(open_count(conn, &admin).unwrap(), 6);
    let staff = queue(conn, &admin, None, 1).unwrap();
    assert_eq!((staff.n_posts, staff.n_at_risk), (4, 3));

    // An answered request leaves the count.
    memberships::answer_request(conn, &fran, &circle, "joe", true, "").unwrap();
    assert_eq!(open_count(conn, &fran).unwrap(), 4);
}

#[test]
fn beside_a_post_stand_its_authors_recent_posts_and_warnings_from_the_readers_groups() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, first, thread) = admin_board_thread(conn, "Welcome");
    let elsewhere = new_board(conn, &admin, "elsewhere", "public");
    let elsewhere_thread = thread_on(conn, &admin, &elsewhere);
    member(conn, "fran", SiteRole::Member);
    actions::set_facilitator(conn, &admin, &first, "fran", true).unwrap();
    let fran = members::by_username(conn, "fran").unwrap();
    let fran = crate::accounts::actors::actor_for(conn, fran).unwrap();
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);

    let older: Vec<PostId> = (0..6)
        .map(|i| {
            say(
                conn,
                &ana,
                thread.id,
                &format!("An **ordinary** day, number {i}."),
            )
        })
        .collect();
    let far = say(
        conn,
        &ana,
        elsewhere_thread,
        "Somewhere Fran does not read.",
    );
    let reported = say(conn, &ana, thread.id, "This one gets reported.");
    assert!(report(conn, &ReportLimits::NONE, &ben, reported, "off_topic", "").unwrap());
    let target = members::by_username(conn, "ana").unwrap();
    actions::warn(conn, &admin, &target, Some(&first), "Please stay on topic.").unwrap();
    actions::warn(conn, &admin, &target, Some(&elsewhere), "Not here either.").unwrap();

    let entry = &queue(conn, &fran, None, 1).unwrap().entries[0];
    assert_eq!(entry.post.id, reported);
    let recent: Vec<PostId> = entry
        .history
        .recent_posts
        .iter()
        .map(|p| p.post_id)
        .collect();
    // The last five in Fran's group, newest first: not the reported one itself, nor the one
    // in a group she does not moderate.
    let expected: Vec<PostId> = older.iter().rev().take(5).copied().collect();
    assert_eq!(recent, expected);
    assert!(!recent.contains(&far));
    assert_eq!(
        entry.history.recent_posts[0].excerpt,
        "An ordinary day, number 5."
    );
    let warnings: Vec<&str> = entry
        .history
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(warnings, ["Please stay on topic."]);

    // The staff read every group: both warnings, newest first, and the post elsewhere.
    let entry = &queue(conn, &admin, None, 1).unwrap().entries[0];
    let warnings: Vec<&str> = entry
        .history
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(warnings, ["Not here either.", "Please stay on topic."]);
    assert_eq!(entry.history.recent_posts[0].post_id, far);

    // A hidden post is not shown beside anything.
    let hidden = older[5];
    decide(
        conn,
        &unlimited(),
        &admin,
        hidden,
        Seen { edited_at: None },
        &Decision::Hide {
            reason: "off-topic".to_owned(),
        },
    )
    .unwrap();
    let entry = &queue(conn, &fran, None, 1).unwrap().entries[0];
    assert!(entry
        .history
        .recent_posts
        .iter()
        .all(|p| p.post_id != hidden));
}
