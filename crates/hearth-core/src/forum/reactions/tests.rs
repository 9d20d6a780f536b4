//! Reactions, on both backends: one of each kind per member and post, taken back by the same
//! toggle, the hourly limit, who may react, the author's one grouped notification, mutes; and
//! the thread page's roles loaded with its posts.

use diesel::prelude::*;

use super::{for_page, toggle, ReactionCount, ReactionKind, Toggled};
use crate::accounts::{actors, mutes};
use crate::db::schema::{notifications as rows, reactions};
use crate::db::Pool;
use crate::error::{Denied, Error};
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::{Badge, Board, Post, SiteRole, Thread};
use crate::moderation::actions;
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;
use crate::safety::limits::PostingLimits;
use crate::test_support::{any_pool, member};

struct Site {
    _db: crate::db::testing::TestDatabase,
    pool: Pool,
    admin: MemberActor,
    rules: PostingRules,
}

fn site() -> Site {
    let (db, pool) = any_pool();
    let admin = member(&mut pool.get().unwrap(), "ada", SiteRole::Admin);
    let rules = PostingRules {
        limits: PostingLimits::NONE,
        same_reply_minutes: 0,
        ..PostingRules::default()
    };
    Site {
        _db: db,
        pool,
        admin,
        rules,
    }
}

impl Site {
    fn conn(&self) -> crate::db::PooledConn {
        self.pool.get().unwrap()
    }

    fn board(&self, slug: &str, visibility: &str) -> Board {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: format!("The {slug} group"),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        boards::create(&mut self.conn(), &self.admin, &form).unwrap()
    }

    fn member(&self, name: &str) -> MemberActor {
        member(&mut self.conn(), name, SiteRole::Member)
    }

    fn insider(&self, name: &str, board: &Board) -> MemberActor {
        let who = self.member(name);
        let conn = &mut self.conn();
        memberships::join(conn, &who, board, "").unwrap();
        memberships::answer_request(conn, &self.admin, board, &who.username, true, "").unwrap();
        diesel::delete(rows::table.filter(rows::member_id.eq(who.id)))
            .execute(conn)
            .unwrap();
        actors::actor_for(conn, who.member.clone()).unwrap()
    }

    fn start(&self, who: &MemberActor, board: &Board) -> (Thread, Post) {
        let form = NewThreadForm {
            title: "Cannot sleep again".to_owned(),
            body: "The nights are long.".to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            ..Default::default()
        };
        let posted = threads::start(&mut self.conn(), &self.rules, who, board, &form).unwrap();
        (posted.thread, posted.post)
    }

    fn reply(&self, who: &MemberActor, thread: &Thread) -> Post {
        let form = ReplyForm {
            body: "Same here.".to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            accept_rules_version: None,
        };
        posts::reply(&mut self.conn(), &self.rules, who, thread.id, &form)
            .unwrap()
            .post
    }

    fn react(&self, who: &MemberActor, post: &Post, kind: ReactionKind) -> crate::Result<Toggled> {
        toggle(
            &mut self.conn(),
            who,
            post.id,
            kind,
            60,
            crate::clock::now(),
        )
        .map(|r| r.toggled)
    }

    /// The author's reaction notifications: `(count, post)`.
    fn told(&self, who: &MemberActor) -> Vec<(i32, Option<i64>)> {
        rows::table
            .filter(rows::member_id.eq(who.id))
            .filter(rows::kind.eq("reaction"))
            .select((rows::count, rows::post_id))
            .load::<(i32, Option<crate::ids::PostId>)>(&mut self.conn())
            .unwrap()
            .into_iter()
            .map(|(count, post)| (count, post.map(|p| p.0)))
            .collect()
    }

    /// The reactions standing (not taken back).
    fn stored(&self) -> i64 {
        reactions::table
            .filter(reactions::taken_back_at.is_null())
            .count()
            .get_result(&mut self.conn())
            .unwrap()
    }

    fn counts(&self, thread: &Thread, post: &Post, reader: &MemberActor) -> Vec<ReactionCount> {
        for_page(&mut self.conn(), thread.id, 1, 20, Some(reader.id))
            .unwrap()
            .remove(&post.id)
            .unwrap_or_default()
    }
}

#[test]
fn one_of_each_kind_per_member_toggled_and_counted_for_the_page() {
    let site = site();
    let board = site.board("night", "public");
    let (mia, sam, lee) = (site.member("mia"), site.member("sam"), site.member("lee"));
    let (thread, post) = site.start(&mia, &board);
    assert_eq!(
        site.react(&sam, &post, ReactionKind::HearYou).unwrap(),
        Toggled::Added
    );
    assert_eq!(
        site.react(&lee, &post, ReactionKind::HearYou).unwrap(),
        Toggled::Added
    );
    assert_eq!(
        site.react(&sam, &post, ReactionKind::MeToo).unwrap(),
        Toggled::Added
    );
    assert_eq!(
        site.counts(&thread, &post, &sam),
        [
            ReactionCount {
                kind: ReactionKind::HearYou,
                count: 2,
                mine: true
            },
            ReactionCount {
                kind: ReactionKind::MeToo,
                count: 1,
                mine: true
            },
        ]
    );
    // The same kind again takes it back: never two of one kind from one member.
    assert_eq!(
        site.react(&sam, &post, ReactionKind::HearYou).unwrap(),
        Toggled::Removed
    );
    assert_eq!(
        site.counts(&thread, &post, &lee),
        [
            ReactionCount {
                kind: ReactionKind::HearYou,
                count: 1,
                mine: true
            },
            ReactionCount {
                kind: ReactionKind::MeToo,
                count: 1,
                mine: false
            },
        ]
    );
    assert_eq!(site.stored(), 2);
    // The thread page carries them under the post, in one statement for the page.
    let page = threads::page_for(&mut site.conn(), &lee.actor(), thread.id, 1).unwrap();
    assert_eq!(page.posts[0].reactions.len(), 2);
    assert!(page.posts[0].can_react);
    let own = threads::page_for(&mut site.conn(), &mia.actor(), thread.id, 1).unwrap();
    assert!(!own.posts[0].can_react, "not on one's own post");
}

#[test]
fn the_author_gets_one_notification_per_post_never_from_a_muted_member() {
    let site = site();
    let board = site.board("night", "public");
    let (mia, sam, lee, kim) = (
        site.member("mia"),
        site.member("sam"),
        site.member("lee"),
        site.member("kim"),
    );
    let (thread, post) = site.start(&mia, &board);
    mutes::mute(&mut site.conn(), &mia, &kim.member).unwrap();
    site.react(&sam, &post, ReactionKind::HearYou).unwrap();
    // A second kind from the same member is not a second person.
    site.react(&sam, &post, ReactionKind::Strength).unwrap();
    site.react(&lee, &post, ReactionKind::ThankYou).unwrap();
    site.react(&kim, &post, ReactionKind::MeToo).unwrap();
    assert_eq!(site.told(&mia), [(2, Some(post.id.0))]);
    // Another post of hers is another notification.
    let second = site.reply(&mia, &thread);
    site.react(&lee, &second, ReactionKind::HearYou).unwrap();
    assert_eq!(
        site.told(&mia),
        [(2, Some(post.id.0)), (1, Some(second.id.0))]
    );
    // Nobody else is told.
    assert!(site.told(&sam).is_empty());
}

#[test]
fn only_readers_react_and_never_to_their_own_or_a_hidden_post() {
    let site = site();
    let private = site.board("circle", "private");
    let insider = site.insider("mia", &private);
    let outsider = site.member("sam");
    let (_, post) = site.start(&insider, &private);
    let err = site
        .react(&outsider, &post, ReactionKind::HearYou)
        .unwrap_err();
    assert!(matches!(err, Error::NotFound), "{err:?}");
    let err = site
        .react(&insider, &post, ReactionKind::HearYou)
        .unwrap_err();
    assert!(matches!(err, Error::Denied(Denied::OwnPost)), "{err:?}");
    assert_eq!(site.stored(), 0);
    assert!(site.told(&insider).is_empty());

    let public = site.board("night", "public");
    let (mia, lee) = (site.member("mia2"), site.member("lee"));
    let (thread, _) = site.start(&lee, &public);
    let post = site.reply(&mia, &thread);
    crate::moderation::review::decide(
        &mut site.conn(),
        &site.rules,
        &site.admin,
        post.id,
        crate::moderation::review::Seen::of(&post),
        &crate::moderation::review::Decision::Hide {
            reason: "off topic".to_owned(),
        },
    )
    .unwrap();
    let err = site.react(&lee, &post, ReactionKind::HearYou).unwrap_err();
    assert!(
        matches!(err, Error::Denied(Denied::HiddenByModerators)),
        "{err:?}"
    );
    let err = site
        .react(&site.admin, &post, ReactionKind::HearYou)
        .unwrap_err();
    assert!(
        matches!(err, Error::Denied(Denied::HiddenByModerators)),
        "{err:?}"
    );
    assert_eq!(site.stored(), 0);
}

#[test]
fn the_hourly_limit_is_counted_in_the_database() {
    let site = site();
    let board = site.board("night", "public");
    let (mia, sam) = (site.member("mia"), site.member("sam"));
    let (_, post) = site.start(&mia, &board);
    let now = crate::clock::now();
    for kind in [ReactionKind::HearYou, ReactionKind::Strength] {
        toggle(&mut site.conn(), &sam, post.id, kind, 2, now).unwrap();
    }
    let err = toggle(&mut site.conn(), &sam, post.id, ReactionKind::MeToo, 2, now).unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    // Taking one back is always allowed, and does not free the hour.
    let back = toggle(
        &mut site.conn(),
        &sam,
        post.id,
        ReactionKind::HearYou,
        2,
        now,
    )
    .unwrap();
    assert_eq!(back.toggled, Toggled::Removed);
    // Giving it again is a give like any other: refused within the hour.
    let again = toggle(
        &mut site.conn(),
        &sam,
        post.id,
        ReactionKind::HearYou,
        2,
        now,
    )
    .unwrap_err();
    assert!(matches!(again, Error::RateLimited { .. }), "{again:?}");
    let later = now + chrono::TimeDelta::minutes(61);
    toggle(
        &mut site.conn(),
        &sam,
        post.id,
        ReactionKind::MeToo,
        2,
        later,
    )
    .unwrap();
    assert_eq!(site.stored(), 2);
}

#[test]
fn taking_a_reaction_back_and_giving_it_again_tells_the_author_nothing_new_and_is_counted() {
    let site = site();
    let board = site.board("night", "public");
    let (mia, sam) = (site.member("mia"), site.member("sam"));
    let (thread, post) = site.start(&mia, &board);
    // Ten minutes into an hour, so a minute later is the same hour.
    let now = crate::db::counters::hour_of(crate::clock::now()) + chrono::TimeDelta::minutes(10);
    let toggle_at = |minutes: i64| {
        toggle(
            &mut site.conn(),
            &sam,
            post.id,
            ReactionKind::HearYou,
            5,
            now + chrono::TimeDelta::minutes(minutes),
        )
    };
    assert_eq!(toggle_at(0).unwrap().toggled, Toggled::Added);
    assert_eq!(site.told(&mia), [(1, Some(post.id.0))]);
    // Mia reads it; Sam takes his back and gives it again, and again.
    crate::notifications::mark_all_read(&mut site.conn(), mia.id, now).unwrap();
    for _ in 0..4 {
        assert_eq!(toggle_at(0).unwrap().toggled, Toggled::Removed);
        assert!(site.counts(&thread, &post, &mia).is_empty());
        assert_eq!(toggle_at(0).unwrap().toggled, Toggled::Added);
    }
    // One notification, read, with one person in it: no new one for a give already told.
    assert_eq!(site.told(&mia), [(1, Some(post.id.0))]);
    let unread = crate::notifications::unread_count(&mut site.conn(), mia.id).unwrap();
    assert_eq!(unread, 0);
    assert_eq!(
        site.counts(&thread, &post, &mia),
        [ReactionCount {
            kind: ReactionKind::HearYou,
            count: 1,
            mine: false
        }]
    );
    // Five gives in the hour (the first and four again): the sixth is refused, taking back is not.
    assert_eq!(toggle_at(1).unwrap().toggled, Toggled::Removed);
    let err = toggle_at(1).unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(site.stored(), 0);
    // The refused give changed nothing, and the next hour starts a new count.
    assert_eq!(toggle_at(61).unwrap().toggled, Toggled::Added);
    assert_eq!(site.stored(), 1);
    assert_eq!(site.told(&mia), [(1, Some(post.id.0))]);
}

#[test]
fn the_thread_page_loads_its_authors_roles_with_its_posts() {
    let site = site();
    let board = site.board("night", "public");
    let other = site.board("day", "public");
    let fran = site.member("fran");
    let admin_in_name = site.member("mark_t");
    // A display name is the member's own words: naming oneself "Admin" earns nothing.
    crate::accounts::members::update_profile(
        &mut site.conn(),
        &admin_in_name,
        &crate::accounts::members::ProfileUpdate {
            display_name: "Admin".to_owned(),
            pronouns: String::new(),
            bio: String::new(),
            time_zone: "UTC".to_owned(),
        },
    )
    .unwrap();
    actions::set_facilitator(&mut site.conn(), &site.admin, &board, "fran", true).unwrap();
    let (thread, _) = site.start(&fran, &board);
    site.reply(&admin_in_name, &thread);
    site.reply(&site.admin, &thread);
    let (day_thread, _) = site.start(&fran, &other);
    let badges = |thread: &Thread| {
        threads::page_for(&mut site.conn(), &site.admin.actor(), thread.id, 1)
            .unwrap()
            .posts
            .iter()
            .map(|p| {
                let author = p.author.as_ref().unwrap();
                crate::model::badges(
                    author.site_role,
                    p.facilitator,
                    author.created_at - chrono::TimeDelta::days(30),
                    Some(p.post.created_at),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        badges(&thread),
        [vec![Badge::Facilitator], vec![], vec![Badge::Admin]]
    );
    // Fran facilitates "night", not "day".
    assert_eq!(badges(&day_thread), [Vec::<Badge>::new()]);
    // A member who joined days before writing is new; staff never carry it.
    let joined = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let written = joined + chrono::TimeDelta::days(3);
    assert_eq!(
        crate::model::badges(SiteRole::Member, false, joined, Some(written)),
        [Badge::NewMember]
    );
    assert_eq!(
        crate::model::badges(SiteRole::Moderator, false, joined, Some(written)),
        [Badge::Moderator]
    );
    let much_later = joined + chrono::TimeDelta::days(30);
    assert!(crate::model::badges(SiteRole::Member, false, joined, Some(much_later)).is_empty());
}
