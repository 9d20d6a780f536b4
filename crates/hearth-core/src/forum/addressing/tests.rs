//! Mentions and quotes, on both backends: who is told, who never is, and what the post shows.

use diesel::prelude::*;

use crate::accounts::actors;
use crate::db::schema::notifications as rows;
use crate::db::Pool;
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::{Board, Moderation, Post, SiteRole, Thread};
use crate::moderation::review::{self, Decision, Seen};
use crate::notifications::{self, levels, Level};
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

    /// `name`, a member of the private `board` (their welcome notice read).
    fn insider(&self, name: &str, board: &Board) -> MemberActor {
        let who = self.member(name);
        let conn = &mut self.conn();
        memberships::join(conn, &who, board, "").unwrap();
        memberships::answer_request(conn, &self.admin, board, &who.username, true, "").unwrap();
        notifications::mark_all_read(conn, who.id, crate::clock::now()).unwrap();
        diesel::delete(rows::table.filter(rows::member_id.eq(who.id)))
            .execute(conn)
            .unwrap();
        actors::actor_for(conn, who.member.clone()).unwrap()
    }

    fn start(&self, who: &MemberActor, board: &Board, body: &str) -> (Thread, Post) {
        let form = NewThreadForm {
            title: "Cannot sleep again".to_owned(),
            body: body.to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            ..Default::default()
        };
        let posted = threads::start(&mut self.conn(), &self.rules, who, board, &form).unwrap();
        (posted.thread, posted.post)
    }

    fn reply(&self, who: &MemberActor, thread: &Thread, body: &str) -> Post {
        let form = ReplyForm {
            body: body.to_owned(),
            submission_key: crate::accounts::tokens::random_token(),
            accept_rules_version: None,
        };
        posts::reply(&mut self.conn(), &self.rules, who, thread.id, &form)
            .unwrap()
            .post
    }

    fn edit(&self, who: &MemberActor, post: &Post, body: &str) -> Post {
        posts::edit(&mut self.conn(), &self.rules, who, post.id, body)
            .unwrap()
            .post
    }

    /// Every notification row `who` has, read or not: `(kind, count, post)`.
    fn told(&self, who: &MemberActor) -> Vec<(String, i32, Option<i64>)> {
        rows::table
            .filter(rows::member_id.eq(who.id))
            .order(rows::id.asc())
            .select((rows::kind, rows::count, rows::post_id))
            .load::<(String, i32, Option<crate::ids::PostId>)>(&mut self.conn())
            .unwrap()
            .into_iter()
            .map(|(kind, count, post)| (kind, count, post.map(|p| p.0)))
            .collect()
    }
}

fn mention(post: &Post) -> (String, i32, Option<i64>) {
    ("mention".to_owned(), 1, Some(post.id.0))
}

fn profile_links(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_fragment(html);
    let links = scraper::Selector::parse("a[href^='/u/']").unwrap();
    doc.select(&links)
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect()
}

#[test]
fn a_mention_in_a_public_group_links_the_profile_and_tells_the_member() {
    let site = site();
    let board = site.board("night", "public");
    let (fran, mia) = (site.member("fran"), site.member("Mia"));
    let (_, post) = site.start(&fran, &board, "I hope @mia sees this.");
    assert_eq!(profile_links(&post.html), ["/u/Mia"]);
    assert_eq!(site.told(&mia), [mention(&post)]);
    assert_eq!(
        notifications::unread_count(&mut site.conn(), mia.id).unwrap(),
        1
    );
    // Naming oneself tells nobody.
    let (_, own) = site.start(&fran, &board, "note to self, @fran");
    assert_eq!(profile_links(&own.html), ["/u/fran"]);
    assert!(site.told(&fran).is_empty());
}

#[test]
fn a_mention_of_someone_outside_a_private_group_tells_nobody_and_the_post_still_renders() {
    let site = site();
    let board = site.board("hidden", "private");
    let fran = site.insider("fran", &board);
    let lee = site.member("lee");
    let (thread, post) = site.start(&fran, &board, "@lee would understand this.");
    assert_eq!(post.moderation, Moderation::Visible);
    assert_eq!(profile_links(&post.html), ["/u/lee"], "profiles are public");
    assert!(site.told(&lee).is_empty(), "not a row, read or unread");
    // Nor by an edit, nor once lee watches the group from outside.
    site.edit(&fran, &post, "@lee would understand this, and @lee again.");
    let reply = site.reply(&fran, &thread, "Right, @lee?");
    assert!(site.told(&lee).is_empty());
    // A member of the group is told.
    let kim = site.insider("kim", &board);
    let again = site.reply(&fran, &thread, "@kim, @lee: thoughts?");
    assert_eq!(site.told(&kim), [mention(&again)]);
    assert!(site.told(&lee).is_empty());
    assert_ne!(reply.id, again.id);
}

#[test]
fn an_unknown_name_stays_text_and_code_is_never_a_mention() {
    let site = site();
    let board = site.board("words", "public");
    let (fran, mia) = (site.member("fran"), site.member("mia"));
    let (_, post) = site.start(
        &fran,
        &board,
        "@nobody is here. `@mia` in code,\n\n```\n@mia\n```\n\nmail mia@example.org",
    );
    assert!(profile_links(&post.html).is_empty(), "{}", post.html);
    assert!(post.html.contains("@nobody is here"), "{}", post.html);
    assert!(site.told(&mia).is_empty());
}

#[test]
fn a_post_tells_at_most_the_first_so_many_it_mentions() {
    let mut site = site();
    site.rules.mentions_notified = 2;
    let board = site.board("crowd", "public");
    let fran = site.member("fran");
    let named: Vec<MemberActor> = ["ann", "bea", "cal"]
        .iter()
        .map(|n| site.member(n))
        .collect();
    let (_, post) = site.start(&fran, &board, "@cal @ann @bea @cal: hello all");
    assert_eq!(profile_links(&post.html).len(), 4, "every name is linked");
    let told: Vec<usize> = named.iter().map(|m| site.told(m).len()).collect();
    assert_eq!(told, [1, 0, 1], "cal and ann, named first");
}

#[test]
fn a_name_only_inside_a_quote_is_not_told() {
    let site = site();
    let board = site.board("echo", "public");
    let (fran, mia, sam) = (site.member("fran"), site.member("mia"), site.member("sam"));
    let (thread, _) = site.start(&fran, &board, "hello");
    site.reply(&sam, &thread, "> thanks @mia, said someone\n\nso true");
    assert!(site.told(&mia).is_empty());
}

#[test]
fn a_quote_tells_the_quoted_author_when_they_may_read_it() {
    let site = site();
    let board = site.board("quotes", "public");
    let (fran, mia, sam) = (site.member("fran"), site.member("mia"), site.member("sam"));
    let (thread, _) = site.start(&fran, &board, "Anyone awake?");
    let answer = site.reply(&mia, &thread, "I am. Can't sleep either.");
    let quoting = format!(
        "> **mia** [wrote](/p/{}):\n> I am. Can't sleep either.\n\nSame here.",
        answer.id.0
    );
    let reply = site.reply(&sam, &thread, &quoting);
    assert_eq!(
        site.told(&mia),
        [("reply_to_you".to_owned(), 1, Some(reply.id.0))]
    );
    assert!(reply.html.contains(&format!("href=\"/p/{}\"", answer.id.0)));

    // A member who set the thread to "mentions only" is not told of a quote…
    let conn = &mut site.conn();
    let t = threads::by_id(conn, thread.id).unwrap();
    levels::set_for_thread(conn, &mia, &board, &t, Level::Normal).unwrap();
    notifications::mark_all_read(conn, mia.id, crate::clock::now()).unwrap();
    site.reply(&sam, &thread, &quoting.replace("Same", "Still the same"));
    assert_eq!(site.told(&mia).len(), 1, "nothing new");
}

#[test]
fn quoting_a_post_the_author_may_not_read_tells_nobody() {
    let site = site();
    let private = site.board("inner", "private");
    let public = site.board("outer", "public");
    let mia = site.insider("mia", &private);
    let (_, secret) = site.start(&mia, &private, "only for us");
    let sam = site.member("sam");
    let (thread, _) = site.start(&site.admin, &public, "open thread");
    site.reply(
        &sam,
        &thread,
        &format!("> **mia** [wrote](/p/{}):\n> guessed\n\nhm", secret.id.0),
    );
    assert!(
        site.told(&mia).is_empty(),
        "sam may not read the quoted post"
    );
}

#[test]
fn an_edit_tells_only_those_it_newly_mentions() {
    let site = site();
    let board = site.board("edits", "public");
    let (fran, mia, sam) = (site.member("fran"), site.member("mia"), site.member("sam"));
    let (_, post) = site.start(&fran, &board, "hello");
    let post = site.edit(&fran, &post, "hello @mia");
    assert_eq!(site.told(&mia), [mention(&post)]);
    assert_eq!(profile_links(&post.html), ["/u/mia"]);
    let post = site.edit(&fran, &post, "hello @mia and @sam");
    assert_eq!(site.told(&mia), [mention(&post)], "not again");
    assert_eq!(site.told(&sam), [mention(&post)]);
}

#[test]
fn a_held_post_tells_whom_it_mentions_when_approved() {
    let site = site();
    let board = site.board("held", "public");
    let settings = crate::moderation::actions::BoardSettings {
        premod_first_posts: 3,
    };
    let conn = &mut site.conn();
    crate::moderation::actions::set_board_settings(conn, &site.admin, &board, &settings).unwrap();
    let (newcomer, mia) = (site.member("newcomer"), site.member("mia"));
    let (_, post) = site.start(&newcomer, &board, "hi @mia");
    assert_eq!(post.moderation, Moderation::Awaiting);
    assert!(site.told(&mia).is_empty());
    review::decide(
        conn,
        &site.rules,
        &site.admin,
        post.id,
        Seen::of(&post),
        &Decision::Approve,
    )
    .unwrap();
    assert_eq!(site.told(&mia), [mention(&post)]);
}
