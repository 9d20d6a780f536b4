use super::*;
use crate::test_support::{admin_board_thread, sqlite_pool};

#[test]
fn old_posts_are_brought_to_the_current_renderer_and_new_ones_left_alone() {
    let (_dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let (_, _, thread) = admin_board_thread(conn, "**bold**");
    // Pretend the post was written by an older renderer that produced something else.
    diesel::update(posts::table.filter(posts::thread_id.eq(thread.id)))
        .set((posts::html.eq("<p>stale</p>"), posts::render_version.eq(0)))
        .execute(conn)
        .unwrap();
    assert_eq!(work(conn).unwrap().posts, 1);
    let mut reported = 0;
    let done = rerender_all_with(conn, &mut |n| reported += n).unwrap();
    assert_eq!(done.posts, 1);
    assert_eq!(done.ground_rules, 1);
    assert_eq!(
        done.changed,
        Changed {
            posts: 1,
            bios: 0,
            ground_rules: 0
        },
        "the stale post changed; the ground rules were already current"
    );
    assert_eq!(
        reported, 2,
        "the post and the ground rules were reported done"
    );
    assert_eq!(work(conn).unwrap().posts, 0);
    let (html, version): (String, i32) = posts::table
        .filter(posts::thread_id.eq(thread.id))
        .select((posts::html, posts::render_version))
        .first(conn)
        .unwrap();
    assert_eq!(html, hearth_markdown::render("**bold**").as_str());
    assert_eq!(version, hearth_markdown::RENDERER_VERSION);
    let again = rerender_all(conn).unwrap();
    assert_eq!(again.posts, 0, "nothing left to do");
    assert_eq!(again.changed, Changed::default());
}

#[test]
fn a_rerender_links_the_names_that_belong_to_members_now() {
    let (_db, pool) = crate::test_support::any_pool();
    let conn = &mut *pool.get().unwrap();
    let (_, _, thread) = admin_board_thread(conn, "hello @later and @nobody");
    let stored = |conn: &mut DbConn| -> String {
        posts::table
            .filter(posts::thread_id.eq(thread.id))
            .select(posts::html)
            .first(conn)
            .unwrap()
    };
    assert!(!stored(conn).contains("/u/"), "nobody is called later yet");
    crate::test_support::member(conn, "Later", crate::model::SiteRole::Member);
    diesel::update(posts::table.filter(posts::thread_id.eq(thread.id)))
        .set(posts::render_version.eq(hearth_markdown::RENDERER_VERSION - 1))
        .execute(conn)
        .unwrap();
    assert_eq!(rerender_all(conn).unwrap().posts, 1);
    let html = stored(conn);
    let mut known = hearth_markdown::KnownNames::new();
    known.insert("Later");
    assert_eq!(
        html,
        hearth_markdown::render_post("hello @later and @nobody", &known).as_str()
    );
    assert!(html.contains("href=\"/u/Later\""), "{html}");
}
