use super::*;
use crate::boards::{self, NewBoardForm};
use crate::db::{self, DbConfig};
use crate::members::{self, Registration, SiteRole};
use crate::threads::{self, NewThreadForm};

#[test]
fn old_posts_are_brought_to_the_current_renderer_and_new_ones_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("t.db").to_string_lossy().into_owned();
    let pool = db::open(&DbConfig {
        database_url: url,
        pool_size: 1,
    })
    .unwrap();
    let conn = &mut *pool.get().unwrap();
    let registration = Registration {
        username: "ada".to_owned(),
        display_name: String::new(),
        password: "lantern meadow orbit kettle".to_owned(),
        time_zone: "UTC".to_owned(),
    };
    let admin = members::register(conn, &registration, SiteRole::Admin).unwrap();
    let form = NewBoardForm {
        slug: "bb".to_owned(),
        name: "B".to_owned(),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    let board = boards::create(conn, &admin, &form).unwrap();
    let thread_form = NewThreadForm {
        title: "Title".to_owned(),
        body: "**bold**".to_owned(),
        submission_key: "k".repeat(20),
    };
    let thread = threads::start(conn, &admin, &board, &thread_form).unwrap();
    // Pretend the post was written by an older renderer that produced something else.
    diesel::update(posts::table.filter(posts::thread_id.eq(thread.id)))
        .set((posts::html.eq("<p>stale</p>"), posts::render_version.eq(0)))
        .execute(conn)
        .unwrap();
    let done = rerender_all(conn).unwrap();
    assert_eq!(done.posts, 1);
    assert_eq!(done.ground_rules, 1);
    let (html, version): (String, i32) = posts::table
        .filter(posts::thread_id.eq(thread.id))
        .select((posts::html, posts::render_version))
        .first(conn)
        .unwrap();
    assert_eq!(html, hearth_markdown::render("**bold**").as_str());
    assert_eq!(version, hearth_markdown::RENDERER_VERSION);
    assert_eq!(rerender_all(conn).unwrap().posts, 0, "nothing left to do");
}
