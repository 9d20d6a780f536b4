//! Two `hearth serve` processes on one PostgreSQL database, as behind a load balancer:
//! whatever one node does, the other sees at once. Runs when `HEARTH_TEST_POSTGRES_URL` is set.

use hearth_core::accounts::members;
use hearth_core::forum::boards::{self, NewBoardForm};
use hearth_core::model::SiteRole;
use hearth_core::policy::MemberActor;
use hearth_tests::{register_member, Browser, TestDatabase, PASSWORD, POSTGRES_VARIABLE};

use crate::served::Served;

struct TwoNodes {
    _database: TestDatabase,
    _dir: tempfile::TempDir,
    a: Served,
    b: Served,
}

fn two_nodes() -> Option<TwoNodes> {
    two_nodes_with(&[])
}

/// Two nodes with extra settings (as `HEARTH_…` variables) on both.
fn two_nodes_with(settings: &[(&str, &str)]) -> Option<TwoNodes> {
    let Ok(admin_url) = std::env::var(POSTGRES_VARIABLE) else {
        eprintln!("{POSTGRES_VARIABLE} is not set: the two-node PostgreSQL test did not run");
        return None;
    };
    let database = TestDatabase::create_postgres(admin_url);
    let url = database.config().database_url;
    let pool = hearth_core::db::open(&database.config()).unwrap();
    let conn = &mut *pool.get().unwrap();
    for (name, role) in [("ada", SiteRole::Admin), ("ana", SiteRole::Member)] {
        register_member(conn, name, role);
    }
    let admin = MemberActor::plain(members::by_username(conn, "ada").unwrap());
    let form = NewBoardForm {
        slug: "shared".to_owned(),
        name: "Shared".to_owned(),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    boards::create(conn, &admin, &form).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![("DATABASE_URL", url.as_str()), ("RUST_LOG", "warn")];
    env.extend_from_slice(settings);
    let a = Served::start(dir.path(), &[], &env);
    let b = Served::start(dir.path(), &[], &env);
    Some(TwoNodes {
        _database: database,
        _dir: dir,
        a,
        b,
    })
}

/// A browser on node B carrying the cookie a browser got from node A (one site, two nodes).
fn same_person_on(node: &Served, from: &Browser) -> Browser {
    let browser = node.browser();
    browser.set_cookie(
        "hearth_session",
        &from.cookie("hearth_session").expect("signed in"),
    );
    browser
}

#[test]
fn two_nodes_share_sessions_posts_and_sign_outs() {
    let Some(nodes) = two_nodes() else { return };
    let on_a = nodes.a.browser();
    on_a.sign_in("ana", PASSWORD).assert_redirect();
    let on_b = same_person_on(&nodes.b, &on_a);
    // A session made on A is valid on B.
    on_b.visit("/settings").assert_status(200);

    // A thread started on B and a reply posted through A show on the other node at once.
    let thread = on_b.start_thread("shared", "Across nodes", "Started on B");
    let path = thread.path();
    on_a.reply_to(&path, "Replied on A").assert_redirect();
    let seen_on_b = nodes.b.browser().visit(&path);
    assert_eq!(
        seen_on_b.texts(".post .post-body"),
        ["Started on B", "Replied on A"]
    );

    // A form sent twice, once to each node, still makes one post.
    let page = on_a.visit(&path);
    let action = page.attrs("section.reply form", "action").remove(0);
    let first = on_a.submit(&page, &action, &[("body", "Sent to both")]);
    let second = on_b.submit(&page, &action, &[("body", "Sent to both")]);
    assert_eq!(first.assert_redirect(), second.assert_redirect());
    let bodies = nodes.a.browser().visit(&path).texts(".post .post-body");
    assert_eq!(bodies, ["Started on B", "Replied on A", "Sent to both"]);

    // Signing out on A ends the session on B too.
    let home = on_a.visit("/");
    on_a.submit(&home, "/signout", &[]).assert_redirect();
    on_b.get("/settings").assert_status(401);
}

#[test]
fn limits_hold_across_nodes() {
    let Some(nodes) = two_nodes_with(&[
        // ana's account is new, so the new-account number applies.
        ("HEARTH_POSTING_LIMITS__NEW_ACCOUNT_PER_MINUTE", "2"),
        ("HEARTH_SIGN_IN_THROTTLE__SLOW_AFTER", "10"),
        ("HEARTH_SIGN_IN_THROTTLE__ACCOUNT_LIMIT", "3"),
    ]) else {
        return;
    };
    // Posting: two posts through A, the third through B is over the limit.
    let on_a = nodes.a.browser();
    on_a.sign_in("ana", PASSWORD).assert_redirect();
    let on_b = same_person_on(&nodes.b, &on_a);
    let thread = on_a.start_thread("shared", "Limits", "one");
    let path = thread.path();
    on_a.reply_to(&path, "two").assert_redirect();
    on_b.reply_to(&path, "three").assert_status(429);

    // Sign-in: failures on either node count together.
    let wrong = "not the right password at all";
    nodes.a.browser().sign_in("ada", wrong).assert_status(401);
    nodes.b.browser().sign_in("ada", wrong).assert_status(401);
    nodes.a.browser().sign_in("ada", wrong).assert_status(401);
    nodes
        .b
        .browser()
        .sign_in("ada", PASSWORD)
        .assert_status(429);
}
