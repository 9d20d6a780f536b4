//! The queue's order and pages, report limits, and dismissing every report of one member, on
//! both backends.

use super::*;
use crate::db::schema::moderation_log;
use crate::forum::boards::NewBoardForm;
use crate::forum::posts::ReplyForm;
use crate::forum::publish::Posted;
use crate::forum::threads::NewThreadForm;
use crate::model::SiteRole;
use crate::moderation::actions;
use crate::safety::gate::PostingRules;
use crate::safety::limits::PostingLimits;
use crate::test_support::{admin_board_thread, any_pool, member};

/// Rules that let a test post as fast as it likes.
fn unlimited() -> PostingRules {
    PostingRules {
        limits: PostingLimits::NONE,
        same_reply_minutes: 0,
        ..PostingRules::default()
    }
}

fn crisis_reply(conn: &mut DbConn, who: &MemberActor, thread: ThreadId) -> Posted {
    let form = ReplyForm {
        body: "Since Milo died I want to end my life.".to_owned(),
        submission_key: "crisis-reply-key-0001".to_owned(),
        ..Default::default()
    };
    posts::reply(conn, &unlimited(), who, thread, &form).unwrap()
}

/// `n` replies by `who`, each with its own words.
fn replies(conn: &mut DbConn, who: &MemberActor, thread: ThreadId, n: usize) -> Vec<PostId> {
    (0..n)
        .map(|i| {
            let form = ReplyForm {
                body: format!("An ordinary reply, number {i}."),
                submission_key: format!("{}-{thread}-reply-key-{i:08}", who.id),
                ..Default::default()
            };
            posts::reply(conn, &unlimited(), who, thread, &form)
                .unwrap()
                .post
                .id
        })
        .collect()
}

fn report_all(conn: &mut DbConn, who: &MemberActor, posts: &[PostId], reason: &str) {
    for post in posts {
        assert!(report(conn, &ReportLimits::NONE, who, *post, reason, "").unwrap());
    }
}

/// Every post of every page of `member`'s queue, in order, walking the pages one by one.
fn walk(conn: &mut DbConn, member: &MemberActor, board: Option<&Board>) -> Vec<PostId> {
    let first = queue(conn, member, board, 1).unwrap();
    let mut seen = Vec::new();
    for page in 1..=first.n_pages {
        let got = queue(conn, member, board, page).unwrap();
        assert_eq!(got.page, page);
        assert!(got.entries.len() as i64 <= ENTRIES_PER_PAGE);
        seen.extend(got.entries.iter().map(|e| e.post.id));
    }
    seen
}

fn open_reports_of(conn: &mut DbConn, reporter: MemberId) -> Vec<PostId> {
    review_items::table
        .filter(review_items::reporter_id.eq(reporter))
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .order(review_items::post_id)
        .select(review_items::post_id.assume_not_null())
        .load(conn)
        .unwrap()
}

#[test]
fn a_check_in_comes_first_above_106_at_risk_reports_and_every_post_is_on_one_page() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, _board, thread) = admin_board_thread(conn, "Welcome");
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    let cat = member(conn, "cat", SiteRole::Member);
    let ordinary = replies(conn, &ana, thread.id, 106);
    report_all(conn, &ben, &ordinary, ReportReason::AtRisk.as_str());
    // The real one comes last, after every fake "at risk" report.
    let crisis = crisis_reply(conn, &cat, thread.id);
    assert!(crisis.check_in);

    let first = queue(conn, &admin, None, 1).unwrap();
    assert_eq!((first.n_posts, first.n_items), (107, 107));
    assert_eq!(
        first.n_pages,
        (107 + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE
    );
    assert_eq!(
        first.entries[0].post.id, crisis.post.id,
        "the check-in is first"
    );
    assert!(first.entries[0].check_in);

    let seen = walk(conn, &admin, None);
    let mut expected = ordinary.clone();
    expected.insert(0, crisis.post.id);
    assert_eq!(
        seen, expected,
        "every post once, check-in first, then oldest first"
    );

    // Page numbers out of range are the nearest page.
    for (asked, got) in [(0, 1), (-5, 1), (i64::MIN, 1), (i64::MAX, first.n_pages)] {
        assert_eq!(
            queue(conn, &admin, None, asked).unwrap().page,
            got,
            "{asked}"
        );
    }
    let last = queue(conn, &admin, None, i64::MAX).unwrap();
    assert_eq!(
        last.entries.last().map(|e| e.post.id),
        ordinary.last().copied()
    );
}

#[test]
fn reports_of_one_post_are_one_entry_and_at_risk_reports_come_before_other_items() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, _board, thread) = admin_board_thread(conn, "Welcome");
    let ana = member(conn, "ana", SiteRole::Member);
    let posts = replies(conn, &ana, thread.id, 3);
    let reporters: Vec<MemberActor> = ["ben", "cat", "dan"]
        .iter()
        .map(|name| member(conn, name, SiteRole::Member))
        .collect();
    for who in &reporters {
        report_all(conn, who, &posts[..1], ReportReason::Spam.as_str());
    }
    report_all(
        conn,
        &reporters[0],
        &posts[2..],
        ReportReason::AtRisk.as_str(),
    );
    let got = queue(conn, &admin, None, 1).unwrap();
    let order: Vec<PostId> = got.entries.iter().map(|e| e.post.id).collect();
    assert_eq!(order, [posts[2], posts[0]]);
    assert_eq!((got.n_posts, got.n_items), (2, 4));
    assert_eq!(got.entries[1].items.len(), 3, "three reports, one entry");
}

#[test]
fn a_member_over_the_report_limit_is_refused_and_dismissed_reports_still_count() {
    let (_database, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let (admin, _board, thread) = admin_board_thread(conn, "Welcome");
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    let posts = replies(conn, &ana, thread.id, 8);
    let limits = ReportLimits {
        per_hour: 3,
        per_day: 5,
    };
    let spam = ReportReason::Spam.as_str();
    for post in &posts[..3] {
        assert!(report(conn, &limits, &ben, *post, spam, "").unwrap());
    }
    // Reporting an open report again is still accepted and changes nothing.
    assert!(!report(conn, &limits, &ben, posts[0], spam, "").unwrap());
    let refused = report(conn, &limits, &ben, posts[3], spam, "please look");
    let Err(Error::RateLimited {
        retry_after_seconds,
        reason,
    }) = refused
    else {
        panic!("the fourth report in an hour is refused: {refused:?}");
    };
    assert!(reason.contains("limit of 3 reports an hour"), "{reason}");
    assert!(
        (3000..=3600).contains(&retry_after_seconds),
        "{retry_after_seconds}"
    );

    // Dismissing them does not give the allowance back.
    let up_to = queue(conn, &admin, None, 1).unwrap().entries[0].items[0]
        .from_reporter
        .unwrap()
        .up_to;
    assert_eq!(
        dismiss_reports_from(conn, &admin, ben.id, None, up_to).unwrap(),
        3
    );
    assert!(matches!(
        report(conn, &limits, &ben, posts[3], spam, ""),
        Err(Error::RateLimited { .. })
    ));

    // An hour later the hourly limit frees up, until the daily one is reached.
    diesel::update(review_items::table)
        .set(review_items::created_at.eq(clock::now() - TimeDelta::minutes(61)))
        .execute(conn)
        .unwrap();
    for post in &posts[3..5] {
        assert!(report(conn, &limits, &ben, *post, spam, "").unwrap());
    }
    let refused = report(conn, &limits, &ben, posts[5], spam, "");
    assert!(
        matches!(&refused, Err(Error::RateLimited { reason, .. }) if reason.contains("5 reports a day")),
        "{refused:?}"
    );
    // Someone may be at risk: that report has an allowance of its own, which spam reports
    // did not use up (and which is limited in the same way).
    let at_risk = ReportReason::AtRisk.as_str();
    for post in &posts[5..8] {
        assert!(report(conn, &limits, &ben, *post, at_risk, "").unwrap());
    }
    let fourth = report(conn, &limits, &ben, posts[0], at_risk, "");
    assert!(
        matches!(fourth, Err(Error::RateLimited { .. })),
        "{fourth:?}"
    );
    // Another member has their own allowance.
    let cat = member(conn, "cat", SiteRole::Member);
    assert!(report(conn, &limits, &cat, posts[5], spam, "").unwrap());
    let stored: i64 = review_items::table
        .filter(review_items::reporter_id.eq(ben.id))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(stored, 5 + 3, "nothing refused was stored");
}

#[test]
fn reports_sent_at_once_cannot_pass_the_limit_together() {
    let (_database, pool) = any_pool();
    let (ben, posts) = {
        let conn = &mut *pool.get().unwrap();
        let (_admin, _board, thread) = admin_board_thread(conn, "Welcome");
        let ana = member(conn, "ana", SiteRole::Member);
        let ben = member(conn, "ben", SiteRole::Member);
        (ben, replies(conn, &ana, thread.id, 8))
    };
    let limits = ReportLimits {
        per_hour: 2,
        per_day: 0,
    };
    let start = std::sync::Arc::new(std::sync::Barrier::new(posts.len()));
    let senders: Vec<_> = posts
        .iter()
        .map(|post| {
            let (pool, ben, post, start) = (pool.clone(), ben.clone(), *post, start.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                start.wait();
                report(
                    &mut conn,
                    &limits,
                    &ben,
                    post,
                    ReportReason::Spam.as_str(),
                    "",
                )
            })
        })
        .collect();
    let outcomes: Vec<Result<bool>> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let accepted = outcomes.iter().filter(|o| matches!(o, Ok(true))).count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Error::RateLimited { .. })))
        .count();
    assert_eq!((accepted, refused), (2, 6), "{outcomes:?}");
    let conn = &mut *pool.get().unwrap();
    assert_eq!(open_reports_of(conn, ben.id).len(), 2);
}

/// Two groups, `fran` facilitating the first only; `ben` reports posts in both, `cat` one.
struct Reach {
    _database: crate::db::testing::TestDatabase,
    pool: crate::db::Pool,
    admin: MemberActor,
    fran: MemberActor,
    ben: MemberActor,
    cat: MemberActor,
    first: Board,
    second: Board,
    in_first: Vec<PostId>,
    in_second: Vec<PostId>,
}

fn reach() -> Reach {
    let (database, pool) = any_pool();
    let mut pooled = pool.get().unwrap();
    let conn = &mut *pooled;
    let (admin, first, thread) = admin_board_thread(conn, "Welcome");
    let second = boards::create(
        conn,
        &admin,
        &NewBoardForm {
            slug: "second".to_owned(),
            name: "Second".to_owned(),
            visibility: "public".to_owned(),
            ..Default::default()
        },
    )
    .unwrap();
    let other_thread = crate::forum::threads::start(
        conn,
        &unlimited(),
        &admin,
        &second,
        &NewThreadForm {
            title: "Elsewhere".to_owned(),
            body: "Hello there".to_owned(),
            submission_key: "other-thread-key-0001".to_owned(),
            ..Default::default()
        },
    )
    .unwrap()
    .thread;
    member(conn, "fran", SiteRole::Member);
    actions::set_facilitator(conn, &admin, &first, "fran", true).unwrap();
    let fran = members::by_username(conn, "fran").unwrap();
    let fran = crate::accounts::actors::actor_for(conn, fran).unwrap();
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    let cat = member(conn, "cat", SiteRole::Member);
    let in_first = replies(conn, &ana, thread.id, 4);
    let in_second = replies(conn, &ana, other_thread.id, 2);
    report_all(conn, &ben, &in_first[..3], ReportReason::AtRisk.as_str());
    report_all(conn, &ben, &in_second, ReportReason::Spam.as_str());
    report_all(conn, &cat, &in_first[..1], ReportReason::Spam.as_str());
    drop(pooled);
    Reach {
        _database: database,
        pool,
        admin,
        fran,
        ben,
        cat,
        first,
        second,
        in_first,
        in_second,
    }
}

/// The `up_to` a queue page offers for dismissing `reporter`'s reports.
fn offered(conn: &mut DbConn, who: &MemberActor, reporter: MemberId) -> (i64, ReviewItemId) {
    let page = queue(conn, who, None, 1).unwrap();
    let found = page
        .entries
        .iter()
        .flat_map(|e| &e.items)
        .find(|i| i.reporter.as_ref().map(|r| r.id) == Some(reporter))
        .and_then(|i| i.from_reporter)
        .unwrap();
    (found.open, found.up_to)
}

#[test]
fn dismissing_a_members_reports_dismisses_exactly_those_within_the_facilitators_groups() {
    let w = reach();
    let conn = &mut *w.pool.get().unwrap();
    let (open, up_to) = offered(conn, &w.fran, w.ben.id);
    assert_eq!(
        open, 3,
        "fran's queue counts ben's reports in her group only"
    );
    assert_eq!(
        offered(conn, &w.admin, w.ben.id).0,
        5,
        "the staff's counts all"
    );

    let dismissed = dismiss_reports_from(conn, &w.fran, w.ben.id, None, up_to).unwrap();
    assert_eq!(dismissed, 3);
    assert_eq!(
        open_reports_of(conn, w.ben.id),
        w.in_second,
        "ben's reports in the other group stay open"
    );
    assert_eq!(
        open_reports_of(conn, w.cat.id),
        w.in_first[..1],
        "cat's stay open"
    );
    let resolved_by: Vec<Option<MemberId>> = review_items::table
        .filter(review_items::reporter_id.eq(w.ben.id))
        .filter(review_items::board_id.eq(w.first.id))
        .select(review_items::resolved_by)
        .load(conn)
        .unwrap();
    assert_eq!(resolved_by, vec![Some(w.fran.id); 3]);
    // The posts stay as they were.
    for post in &w.in_first {
        assert_eq!(
            posts::by_id(conn, *post).unwrap().moderation,
            Moderation::Visible
        );
    }

    // Logged for the moderators, with the reporter; never in the public log.
    let logged: Vec<(String, Option<MemberId>, Option<BoardId>, String)> = moderation_log::table
        .filter(moderation_log::action.ne(LoggedAction::AddFacilitator.as_str()))
        .select((
            moderation_log::action,
            moderation_log::member_id,
            moderation_log::board_id,
            moderation_log::reason,
        ))
        .load(conn)
        .unwrap();
    assert_eq!(
        logged,
        [(
            "dismiss_reports_from".to_owned(),
            Some(w.ben.id),
            Some(w.first.id),
            "3 reports".to_owned()
        )]
    );
    let ana = member(conn, "ana2", SiteRole::Member);
    let (_, public) = log::board_log(conn, &ana.actor(), &w.first, true, None).unwrap();
    assert!(public.is_empty(), "{public:?}");
    let (_, for_moderators) = log::board_log(conn, &w.fran.actor(), &w.first, true, None).unwrap();
    assert_eq!(
        for_moderators
            .iter()
            .filter(|l| l.action == LoggedAction::DismissReportsFrom)
            .count(),
        1
    );

    // Sent again (a double tap), nothing more is dismissed.
    assert_eq!(
        dismiss_reports_from(conn, &w.fran, w.ben.id, None, up_to).unwrap(),
        0
    );
    assert_eq!(open_reports_of(conn, w.ben.id), w.in_second);
}

#[test]
fn a_facilitator_cannot_dismiss_reports_outside_their_groups() {
    let w = reach();
    let conn = &mut *w.pool.get().unwrap();
    let (_, up_to) = offered(conn, &w.admin, w.ben.id);
    // Named explicitly, the other group is refused outright.
    assert!(matches!(
        dismiss_reports_from(conn, &w.fran, w.ben.id, Some(&w.second), up_to),
        Err(Error::Denied(_))
    ));
    // Through her own queue, the other group's reports are out of reach.
    assert_eq!(
        dismiss_reports_from(conn, &w.fran, w.ben.id, Some(&w.first), up_to).unwrap(),
        3
    );
    assert_eq!(
        dismiss_reports_from(conn, &w.fran, w.ben.id, None, up_to).unwrap(),
        0
    );
    assert_eq!(open_reports_of(conn, w.ben.id), w.in_second);
    // A member who moderates nothing dismisses nothing.
    assert!(matches!(
        dismiss_reports_from(conn, &w.cat, w.ben.id, None, up_to),
        Err(Error::Denied(_))
    ));
    assert_eq!(open_reports_of(conn, w.ben.id), w.in_second);
}

#[test]
fn dismissing_all_stops_at_the_newest_report_the_moderator_saw() {
    let w = reach();
    let conn = &mut *w.pool.get().unwrap();
    let (open, up_to) = offered(conn, &w.fran, w.ben.id);
    assert_eq!(open, 3);
    // Ben reports once more after fran opened her queue.
    report_all(conn, &w.ben, &w.in_first[3..], ReportReason::Spam.as_str());
    assert_eq!(
        dismiss_reports_from(conn, &w.fran, w.ben.id, None, up_to).unwrap(),
        3
    );
    let mut still_open = w.in_second.clone();
    still_open.push(w.in_first[3]);
    still_open.sort();
    assert_eq!(open_reports_of(conn, w.ben.id), still_open);
}
