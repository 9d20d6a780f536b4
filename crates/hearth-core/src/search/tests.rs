//! Search on both backends: relevance, phrases, filters, pages, snippets; every leak (a private
//! group, hidden, awaiting, deleted, muted, conversations); the index after each write path;
//! a rebuild; the limits.

use super::*;
use crate::accounts::{actors, members, mutes};
use crate::conversations::{self as writing, StartForm};
use crate::conversations::{ConversationRules, StartQuery};
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::Board;
use crate::model::{Moderation, SiteRole};
use crate::moderation::actions::{self, ThreadChange};
use crate::moderation::review::{self, Decision, Seen};
use crate::policy::MemberActor;
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

fn start(
    conn: &mut DbConn,
    author: &MemberActor,
    board: &Board,
    title: &str,
    body: &str,
) -> Thread {
    let form = NewThreadForm {
        title: title.to_owned(),
        body: body.to_owned(),
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    threads::start(conn, &PostingRules::default(), author, board, &form)
        .unwrap()
        .thread
}

fn reply_as(
    conn: &mut DbConn,
    rules: &PostingRules,
    author: &MemberActor,
    thread: ThreadId,
    body: &str,
) -> Post {
    let form = ReplyForm {
        body: body.to_owned(),
        submission_key: posts::new_submission_key(),
        ..Default::default()
    };
    posts::reply(conn, rules, author, thread, &form)
        .unwrap()
        .post
}

/// A reply under limits no test reaches.
fn reply(conn: &mut DbConn, author: &MemberActor, thread: ThreadId, body: &str) -> Post {
    let generous = crate::safety::limits::PostingLimits {
        per_minute: 1000,
        new_account_per_minute: 1000,
        ..Default::default()
    };
    let rules = PostingRules {
        limits: generous,
        ..PostingRules::default()
    };
    reply_as(conn, &rules, author, thread, body)
}

fn again(conn: &mut DbConn, username: &str) -> MemberActor {
    let account = members::by_username(conn, username).unwrap();
    actors::actor_for(conn, account).unwrap()
}

/// Limits that never refuse, for tests about what is found.
fn open_limits() -> SearchLimits {
    SearchLimits {
        per_minute: 10_000,
        visitor_per_minute: 10_000,
        ..SearchLimits::default()
    }
}

fn find_as(conn: &mut DbConn, actor: &Actor, query: SearchQuery) -> SearchPage {
    let searcher = match actor.member() {
        Some(m) => Searcher::Member(m.id),
        None => Searcher::Visitor("192.0.2.7".parse().unwrap()),
    };
    search(conn, actor, &searcher, &open_limits(), &query).unwrap()
}

fn words(q: &str) -> SearchQuery {
    SearchQuery {
        q: q.to_owned(),
        ..Default::default()
    }
}

fn found(conn: &mut DbConn, actor: &Actor, q: &str) -> Vec<PostId> {
    find_as(conn, actor, words(q))
        .hits
        .into_iter()
        .map(|h| h.post_id)
        .collect()
}

fn opening(conn: &mut DbConn, thread: &Thread) -> Post {
    threads::opening_post(conn, thread).unwrap().unwrap()
}

#[test]
fn a_title_match_ranks_above_a_body_match_and_phrases_keep_their_order() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    // The body match is newer, so ordering by time alone would put it first.
    let titled = start(
        conn,
        &ada,
        &pets,
        "Vet bills after a long illness",
        "We paid them off slowly.",
    );
    let bodied = start(
        conn,
        &ada,
        &pets,
        "A hard month",
        "The vet bills keep coming and I cannot sleep.",
    );
    let titled_post = opening(conn, &titled);
    let bodied_post = opening(conn, &bodied);
    let visitor = Actor::Visitor;
    assert_eq!(
        found(conn, &visitor, "vet bills"),
        vec![titled_post.id, bodied_post.id]
    );

    // A phrase in quotes: the words next to each other, in that order.
    let third = start(
        conn,
        &ada,
        &pets,
        "Bills",
        "Bills from the vet, then more bills.",
    );
    let third_post = opening(conn, &third);
    assert_eq!(
        found(conn, &visitor, "\"vet bills\""),
        vec![titled_post.id, bodied_post.id]
    );
    assert_eq!(found(conn, &visitor, "\"bills vet\""), Vec::<PostId>::new());

    // Stemmed: the plural finds the singular.
    assert_eq!(found(conn, &visitor, "illnesses"), vec![titled_post.id]);

    // Newest first when asked.
    let newest = find_as(
        conn,
        &visitor,
        SearchQuery {
            sort: Sort::Newest,
            ..words("vet")
        },
    );
    let ids: Vec<PostId> = newest.hits.iter().map(|h| h.post_id).collect();
    assert_eq!(ids, vec![third_post.id, bodied_post.id, titled_post.id]);

    // Apostrophes, quotes and SQL in what a person types are words or nothing, never SQL
    // (PostgreSQL's query has them as constants, `backend::pg_literal`).
    let apostrophe = start(
        conn,
        &ada,
        &pets,
        "Biscuit's last day",
        "Night after night, Biscuit’s blanket on the sofa.",
    );
    let apostrophe_post = opening(conn, &apostrophe);
    assert_eq!(found(conn, &visitor, "biscuit's"), vec![apostrophe_post.id]);
    assert_eq!(
        found(conn, &visitor, "\"Biscuit’s blanket\""),
        vec![apostrophe_post.id]
    );
    for hostile in [
        "'; DROP TABLE posts; --",
        "vet\\' OR '1'='1",
        "$$ vet $$",
        "\"it''s\" E'\\x'",
    ] {
        let hits = found(conn, &visitor, hostile);
        assert!(
            hits.iter()
                .all(|id| [titled_post.id, bodied_post.id, third_post.id].contains(id)),
            "{hostile:?}: {hits:?}"
        );
    }
    assert_eq!(
        found(conn, &visitor, "vet bills").len(),
        3,
        "the posts are all there"
    );
}

#[test]
fn filters_narrow_by_group_author_thread_and_dates_and_pages_follow_on() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let bea = member(conn, "bea", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let city = group(conn, &ada, "city", "public");
    let in_pets = start(conn, &ada, &pets, "Quiet house", "the garden is quiet");
    let in_city = start(conn, &bea, &city, "New flat", "the garden here is small");
    let by_bea = reply(conn, &bea, in_pets.id, "our garden helps");
    let v = Actor::Visitor;
    let ids = |page: SearchPage| page.hits.into_iter().map(|h| h.post_id).collect::<Vec<_>>();

    let only_city = find_as(
        conn,
        &v,
        SearchQuery {
            group: "city".into(),
            ..words("garden")
        },
    );
    assert_eq!(ids(only_city), vec![opening(conn, &in_city).id]);
    let only_bea = find_as(
        conn,
        &v,
        SearchQuery {
            author: "bea".into(),
            sort: Sort::Newest,
            ..words("garden")
        },
    );
    assert_eq!(ids(only_bea), vec![by_bea.id, opening(conn, &in_city).id]);
    let in_thread = find_as(
        conn,
        &v,
        SearchQuery {
            thread: Some(in_pets.id.0),
            sort: Sort::Newest,
            ..words("garden")
        },
    );
    assert_eq!(ids(in_thread), vec![by_bea.id, opening(conn, &in_pets).id]);
    let nobody = find_as(
        conn,
        &v,
        SearchQuery {
            author: "nobody".into(),
            ..words("garden")
        },
    );
    assert!(nobody.hits.is_empty());

    let today = crate::clock::now().date();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let from_today = find_as(
        conn,
        &v,
        SearchQuery {
            from: day(today),
            to: day(today),
            ..words("garden")
        },
    );
    assert_eq!(from_today.hits.len(), 3);
    let tomorrow = today + TimeDelta::days(1);
    let later = find_as(
        conn,
        &v,
        SearchQuery {
            from: day(tomorrow),
            ..words("garden")
        },
    );
    assert!(later.hits.is_empty());
    let before = find_as(
        conn,
        &v,
        SearchQuery {
            to: day(today - TimeDelta::days(1)),
            ..words("garden")
        },
    );
    assert!(before.hits.is_empty());

    // Pages of HITS_PER_PAGE, newest first, the last page saying so.
    for i in 0..HITS_PER_PAGE {
        reply(conn, &ada, in_city.id, &format!("lanterns, number {i}"));
    }
    let first = find_as(
        conn,
        &v,
        SearchQuery {
            sort: Sort::Newest,
            ..words("lanterns")
        },
    );
    assert_eq!(
        (first.hits.len() as i64, first.has_more),
        (HITS_PER_PAGE - 1 + 1, false)
    );
    reply(conn, &ada, in_city.id, "lanterns again");
    let first = find_as(
        conn,
        &v,
        SearchQuery {
            sort: Sort::Newest,
            ..words("lanterns")
        },
    );
    assert!(first.has_more);
    let second = find_as(
        conn,
        &v,
        SearchQuery {
            sort: Sort::Newest,
            page: Some(2),
            ..words("lanterns")
        },
    );
    assert_eq!((second.hits.len(), second.has_more), (1, false));
    assert!(second.hits[0]
        .snippet
        .iter()
        .any(|p| p.text.contains("number 0")));
}

#[test]
fn snippets_are_plain_text_with_the_matched_words_marked() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let body = "**Bold** words, then <script>alert(1)</script> & the cats' bowls";
    start(conn, &ada, &pets, "Markup", body);
    let page = find_as(conn, &Actor::Visitor, words("cat bowl"));
    let snippet = &page.hits[0].snippet;
    let whole: String = snippet.iter().map(|p| p.text.as_str()).collect();
    // Markdown's markup is gone; raw HTML stays text (the template escapes it).
    assert_eq!(
        whole,
        "Bold words, then <script>alert(1)</script> & the cats' bowls"
    );
    let marked: Vec<&str> = snippet
        .iter()
        .filter(|p| p.marked)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, vec!["cats", "bowls"]);
}

#[test]
fn nothing_leaks_from_private_groups_hidden_awaiting_deleted_muted_posts_or_conversations() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let joan = member(conn, "joan", SiteRole::Member);
    let olga = member(conn, "olga", SiteRole::Member);
    let pets = group(conn, &ada, "pets", "public");
    let circle = group(conn, &ada, "circle", "private");
    memberships::join(conn, &joan, &circle, "").unwrap();
    memberships::answer_request(conn, &ada, &circle, "joan", true, "").unwrap();
    memberships::join(conn, &joan, &pets, "").unwrap();
    memberships::join(conn, &olga, &pets, "").unwrap();
    let joan = again(conn, "joan");
    let olga = again(conn, "olga");

    let private = start(
        conn,
        &ada,
        &circle,
        "Vet bills last year",
        "we found a payment plan",
    );
    let public = start(conn, &ada, &pets, "Vet bills too", "a public word on it");
    let private_post = opening(conn, &private);
    let public_post = opening(conn, &public);
    // A member of the private group finds it; a visitor and another member find only public.
    assert_eq!(
        found(conn, &joan.actor(), "vet bills"),
        vec![public_post.id, private_post.id]
    );
    assert_eq!(
        found(conn, &Actor::Visitor, "vet bills"),
        vec![public_post.id]
    );
    assert_eq!(
        found(conn, &olga.actor(), "vet bills"),
        vec![public_post.id]
    );
    // Not even by naming the group or the thread.
    let named = find_as(
        conn,
        &olga.actor(),
        SearchQuery {
            group: "circle".into(),
            ..words("vet")
        },
    );
    assert!(named.hits.is_empty());
    let thread = find_as(
        conn,
        &Actor::Visitor,
        SearchQuery {
            thread: Some(private.id.0),
            ..words("vet")
        },
    );
    assert!(thread.hits.is_empty());
    assert!(!groups_for(conn, &olga.actor())
        .unwrap()
        .iter()
        .any(|g| g.slug == "circle"));

    // Hidden: found by nobody, its author and the moderators included.
    let hidden = reply(conn, &olga, public.id, "a hidden kettle");
    review::decide(
        conn,
        &PostingRules::default(),
        &ada,
        hidden.id,
        Seen::of(&hidden),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    for reader in [Actor::Visitor, olga.actor(), ada.actor()] {
        assert!(found(conn, &reader, "kettle").is_empty());
    }

    // Awaiting approval: nobody finds it until approved.
    let newcomer = member(conn, "nell", SiteRole::Member);
    memberships::join(conn, &newcomer, &pets, "").unwrap();
    let newcomer = again(conn, "nell");
    let premod = PostingRules {
        new_account_premod_posts: 5,
        ..PostingRules::default()
    };
    let awaiting = reply_as(conn, &premod, &newcomer, public.id, "an awaiting teapot");
    assert_eq!(awaiting.moderation, Moderation::Awaiting);
    assert!(!is_indexed(conn, awaiting.id).unwrap());
    for reader in [Actor::Visitor, newcomer.actor(), ada.actor()] {
        assert!(found(conn, &reader, "teapot").is_empty());
    }

    // Deleted by its author: gone.
    let deleted = reply(conn, &olga, public.id, "a deleted saucepan");
    assert_eq!(found(conn, &Actor::Visitor, "saucepan"), vec![deleted.id]);
    posts::delete_own(conn, &olga, deleted.id).unwrap();
    assert!(found(conn, &Actor::Visitor, "saucepan").is_empty());
    assert!(!is_indexed(conn, deleted.id).unwrap());

    // Muted: left out unless the reader asks for it.
    let muted = reply(conn, &olga, public.id, "a muted colander");
    let olga_member = members::by_username(conn, "olga").unwrap();
    mutes::mute(conn, &joan, &olga_member).unwrap();
    let joan = again(conn, "joan");
    assert!(found(conn, &joan.actor(), "colander").is_empty());
    let asked = find_as(
        conn,
        &joan.actor(),
        SearchQuery {
            muted: true,
            ..words("colander")
        },
    );
    assert_eq!(
        asked.hits.iter().map(|h| h.post_id).collect::<Vec<_>>(),
        vec![muted.id]
    );

    // A private conversation's words are never found, by either side.
    let form = StartForm {
        to: StartQuery {
            group: "pets".into(),
            with: String::new(),
            post: None,
        },
        subject: "A private word".into(),
        body: "my secret marmalade recipe".into(),
        submission_key: crate::forum::posts::new_submission_key(),
    };
    writing::start(
        conn,
        &ConversationRules::default(),
        &PostingRules::default(),
        &joan,
        &form,
    )
    .unwrap();
    for reader in [joan.actor(), ada.actor(), Actor::Visitor] {
        assert!(found(conn, &reader, "marmalade").is_empty());
    }
}

#[test]
fn the_index_follows_edits_hides_restores_moves_and_deletes() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let circle = group(conn, &ada, "circle", "private");
    let thread = start(conn, &ada, &pets, "Evenings", "the evenings are long");
    let post = reply(conn, &ada, thread.id, "a word about lanterns");
    let v = Actor::Visitor;
    // Written: in the index from its own commit, the reply and the opening post.
    assert!(is_indexed(conn, post.id).unwrap());
    assert_eq!(found(conn, &v, "Evenings"), vec![opening(conn, &thread).id]);

    // Edit: found by the new words, not the old.
    posts::edit(
        conn,
        &PostingRules::default(),
        &ada,
        post.id,
        "a word about candles",
    )
    .unwrap();
    assert!(found(conn, &v, "lanterns").is_empty());
    assert_eq!(found(conn, &v, "candles"), vec![post.id]);

    // Hide, then restore.
    let post = posts::readable_by_id(conn, &ada.actor(), post.id)
        .unwrap()
        .2;
    review::decide(
        conn,
        &PostingRules::default(),
        &ada,
        post.id,
        Seen::of(&post),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    assert!(found(conn, &v, "candles").is_empty());
    assert!(!is_indexed(conn, post.id).unwrap());
    let post = posts::readable_by_id(conn, &ada.actor(), post.id)
        .unwrap()
        .2;
    review::decide(
        conn,
        &PostingRules::default(),
        &ada,
        post.id,
        Seen::of(&post),
        &Decision::Restore,
    )
    .unwrap();
    assert_eq!(found(conn, &v, "candles"), vec![post.id]);

    // Hiding the opening post hides its thread: its replies are not found either.
    let first = opening(conn, &thread);
    review::decide(
        conn,
        &PostingRules::default(),
        &ada,
        first.id,
        Seen::of(&first),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    assert!(found(conn, &v, "candles").is_empty());
    let first = posts::readable_by_id(conn, &ada.actor(), first.id)
        .unwrap()
        .2;
    review::decide(
        conn,
        &PostingRules::default(),
        &ada,
        first.id,
        Seen::of(&first),
        &Decision::Restore,
    )
    .unwrap();
    assert_eq!(found(conn, &v, "candles"), vec![post.id]);

    // Moved into a private group: the visitor no longer finds it; a moderator there does.
    actions::change_thread(conn, &ada, thread.id, ThreadChange::Move(circle.id), "").unwrap();
    assert!(found(conn, &v, "candles").is_empty());
    assert_eq!(found(conn, &ada.actor(), "candles"), vec![post.id]);
    actions::change_thread(conn, &ada, thread.id, ThreadChange::Move(pets.id), "").unwrap();
    assert_eq!(found(conn, &v, "candles"), vec![post.id]);

    // Deleted: gone.
    posts::delete_own(conn, &ada, post.id).unwrap();
    assert!(found(conn, &v, "candles").is_empty());
}

#[test]
fn a_groups_new_language_parses_its_posts_again() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let thread = start(conn, &ada, &pets, "Abends", "die Katzen schlafen im Garten");
    let first = opening(conn, &thread);
    let v = Actor::Visitor;
    let postgres = matches!(conn, DbConn::Pg(_));
    // Parsed as English: "Katze" (katz) is not "Katzen" (katzen).
    assert!(found(conn, &v, "Katze").is_empty());
    let german = crate::groups::GroupEdit {
        description: String::new(),
        ground_rules: String::new(),
        profile: crate::groups::GroupProfile {
            language: "de".to_owned(),
            ..Default::default()
        },
    };
    let pets = crate::groups::edit(conn, &ada, &pets, &german).unwrap();
    assert_eq!(pets.language, "de");
    assert!(is_indexed(conn, first.id).unwrap());
    assert_eq!(found(conn, &v, "Katzen"), vec![first.id]);
    // PostgreSQL parses the group's posts in German now, as it does the query: both are
    // "katz". SQLite's FTS5 stems every language as English, before and after.
    let expected = if postgres { vec![first.id] } else { vec![] };
    assert_eq!(found(conn, &v, "Katze"), expected);
}

#[test]
fn a_rebuild_indexes_a_populated_database_in_batches() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let thread = start(conn, &ada, &pets, "Quiet", "the house is quiet");
    let mut replies = Vec::new();
    for i in 0..5 {
        replies.push(reply(
            conn,
            &ada,
            thread.id,
            &format!("reply {i} about the garden"),
        ));
    }
    let hidden = &replies[0];
    review::decide(
        conn,
        &PostingRules::default(),
        &ada,
        hidden.id,
        Seen::of(hidden),
        &Decision::Hide {
            reason: "Off-topic for this group".to_owned(),
        },
    )
    .unwrap();
    // An index lost (or never built: `hearth-bench seed` writes none).
    let all: Vec<PostId> = crate::db::schema::posts::table
        .select(crate::db::schema::posts::id)
        .load(conn)
        .unwrap();
    for id in &all {
        forget_post(conn, *id).unwrap();
    }
    assert!(found(conn, &Actor::Visitor, "garden").is_empty());
    let mut done = index::Rebuilt::default();
    let mut batches = 0;
    while let Some(next) = index::rebuild_batch(conn, done, 2).unwrap() {
        done = next;
        batches += 1;
    }
    index::finish_rebuild(conn).unwrap();
    assert_eq!((done.posts, done.indexed, batches), (6, 5, 3));
    assert_eq!(found(conn, &Actor::Visitor, "garden").len(), 4);
    assert!(!is_indexed(conn, hidden.id).unwrap());
}

#[test]
fn searches_are_bounded_and_counted_per_minute() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let limits = SearchLimits {
        visitor_per_minute: 2,
        max_terms: 3,
        ..SearchLimits::default()
    };
    let visitor: Searcher = Searcher::Visitor("192.0.2.9".parse().unwrap());
    let long = SearchQuery {
        q: "x".repeat(limits.max_query_chars + 1),
        ..Default::default()
    };
    let many = words("one two three four");
    for query in [
        long,
        many,
        words("  \" \" "),
        SearchQuery {
            from: "yesterday".into(),
            ..words("cat")
        },
    ] {
        match search(conn, &Actor::Visitor, &visitor, &limits, &query) {
            Err(Error::Invalid(_)) => {}
            other => panic!("expected a form error, got {other:?}"),
        }
    }
    // Refused queries cost nothing: two searches still go through, the third is refused.
    for _ in 0..2 {
        search(conn, &Actor::Visitor, &visitor, &limits, &words("cat")).unwrap();
    }
    assert!(matches!(
        search(conn, &Actor::Visitor, &visitor, &limits, &words("cat")),
        Err(Error::RateLimited { .. })
    ));
    // Another address, and a member, have their own counts.
    let other = Searcher::Visitor("192.0.2.10".parse().unwrap());
    search(conn, &Actor::Visitor, &other, &limits, &words("cat")).unwrap();
    search(
        conn,
        &ada.actor(),
        &Searcher::Member(ada.id),
        &limits,
        &words("cat"),
    )
    .unwrap();
}

/// "Best matches": title matches first, newest first, then every other match, newest first,
/// and pages follow on across the two without losing or repeating a hit.
#[test]
fn best_matches_page_through_title_matches_then_the_rest() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let old = start(conn, &ada, &pets, "Lanterns long ago", "An old one.");
    let old_titled = opening(conn, &old);
    let mut titled = Vec::new();
    let mut bodied = Vec::new();
    // Interleaved in time: 25 title matches, 30 body matches (their threads' titles do not
    // have the word).
    for i in 0..30 {
        if i < 25 {
            let t = start(
                conn,
                &ada,
                &pets,
                &format!("Lanterns {i}"),
                "Paper and light.",
            );
            let post = opening(conn, &t);
            titled.push(post.id);
        }
        let b = start(
            conn,
            &ada,
            &pets,
            &format!("Evening {i}"),
            "We lit lanterns.",
        );
        let post = opening(conn, &b);
        bodied.push(post.id);
    }
    titled.reverse();
    bodied.reverse();
    let limits = open_limits();
    let searcher = Searcher::Visitor("192.0.2.7".parse().unwrap());
    let page = |conn: &mut DbConn, n: i64| {
        let query = SearchQuery {
            page: Some(n),
            ..words("lantern")
        };
        let found = search(conn, &Actor::Visitor, &searcher, &limits, &query).unwrap();
        let ids: Vec<PostId> = found.hits.iter().map(|h| h.post_id).collect();
        (ids, found.has_more)
    };
    let mut expected: Vec<PostId> = titled.clone();
    expected.push(old_titled.id);
    expected.extend(&bodied);
    let (first, more) = page(conn, 1);
    assert_eq!(first, expected[..20].to_vec());
    assert!(more);
    let (second, more) = page(conn, 2);
    assert_eq!(
        second,
        expected[20..40].to_vec(),
        "5 title matches, then bodies"
    );
    assert!(more);
    let (third, more) = page(conn, 3);
    assert_eq!(third, expected[40..].to_vec());
    assert!(!more);
}

/// PostgreSQL walks the newest posts for common words and gathers a rare word's matches
/// through the GIN index, by its statistics once analysed; either way the same posts are
/// found, and none the reader may not read.
#[test]
fn postgresql_gathers_a_rare_words_matches_and_walks_for_a_common_one() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    if !matches!(conn, DbConn::Pg(_)) {
        return;
    }
    let ada = member(conn, "ada", SiteRole::Admin);
    let pets = group(conn, &ada, "pets", "public");
    let hidden_away = group(conn, &ada, "quiet", "private");
    let thread = start(conn, &ada, &pets, "Evenings", "Every evening is long.");
    let mut rare = Vec::new();
    for i in 0..80 {
        let body = if i % 20 == 7 {
            format!("Every evening I read the leaflet again ({i}).")
        } else {
            format!("Every evening the house is quiet ({i}).")
        };
        let post = reply(conn, &ada, thread.id, &body);
        if i % 20 == 7 {
            rare.push(post.id);
        }
    }
    let private = start(
        conn,
        &ada,
        &hidden_away,
        "Ours",
        "The leaflet from the vet, every evening.",
    );
    diesel::sql_query("ANALYZE post_search")
        .execute(conn)
        .unwrap();

    let (leaflet, evening) = (text::Terms::parse("leaflet"), text::Terms::parse("evening"));
    let DbConn::Pg(c) = conn else { unreachable!() };
    let boards = [pets.id];
    let reach = |c: &mut diesel::PgConnection,
                 terms: &text::Terms,
                 wanted: i64,
                 gathered: backend::Gathered| {
        let plan = backend::Plan {
            terms,
            boards: &boards,
            configs: &["english"],
            author: None,
            thread: None,
            from: None,
            until: None,
            muted_by: None,
            order: backend::Order::Newest,
            limit: HITS_PER_PAGE + 1,
            offset: 0,
        };
        backend::postgres_reach(c, &plan, wanted, gathered).unwrap()
    };
    let joined = backend::Gathered::JoinedToPosts;
    assert_eq!(reach(c, &leaflet, 21, joined), backend::Reach::Gather);
    assert_eq!(reach(c, &evening, 21, joined), backend::Reach::Walk);
    // A window of 2,000 reads every match of these 82 posts either way: gathered.
    assert_eq!(reach(c, &evening, 2000, joined), backend::Reach::Gather);
    // All 82 posts have "evening": for 100 of them, gathering from the index alone reads
    // fewer rows than a walk (82² < 100 × 82); when each match is joined to its post before
    // the sort, a gathered match costs twelve walked rows, and the walk is left to the planner.
    let from_the_index = backend::Gathered::FromTheIndex;
    assert_eq!(
        reach(c, &evening, 100, from_the_index),
        backend::Reach::Gather
    );
    assert_eq!(reach(c, &evening, 100, joined), backend::Reach::Walk);

    let visitor = Actor::Visitor;
    let mut newest_first = rare.clone();
    newest_first.reverse();
    for sort in [Sort::Relevance, Sort::Newest] {
        let hits: Vec<PostId> = find_as(
            conn,
            &visitor,
            SearchQuery {
                sort,
                ..words("leaflet")
            },
        )
        .hits
        .iter()
        .map(|h| h.post_id)
        .collect();
        assert_eq!(hits, newest_first, "{sort:?}");
    }
    let everyone = find_as(
        conn,
        &visitor,
        SearchQuery {
            sort: Sort::Newest,
            ..words("evening")
        },
    );
    assert_eq!(everyone.hits.len() as i64, HITS_PER_PAGE);
    assert!(everyone.has_more);
    // The private group's post is found by those who may read it only.
    let private_post = opening(conn, &private);
    assert!(!found(conn, &visitor, "leaflet").contains(&private_post.id));
    assert!(found(conn, &ada.actor(), "leaflet").contains(&private_post.id));
}
