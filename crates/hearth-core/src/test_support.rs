//! What the core's own tests need again and again: a fresh SQLite file, an account, a board
//! with a thread. Real operations, real database; nothing here is a mock.

use crate::accounts::actors;
use crate::accounts::members::{self, Registration};
use crate::db::testing::TestDatabase;
use crate::db::{self, DbConfig, DbConn, Pool};
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::model::{Board, SiteRole, Thread};
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;

pub const PASSWORD: &str = "lantern meadow orbit kettle";

/// A migrated database of its own: SQLite, or PostgreSQL when `HEARTH_TEST_POSTGRES_URL` is
/// set (as `.ci/run` does), for tests that must hold on both backends. The pool has room for
/// a second connection, for another member acting meanwhile.
pub fn any_pool() -> (TestDatabase, Pool) {
    let database = TestDatabase::create();
    let pool = db::open(&database.config()).unwrap();
    (database, pool)
}

/// A migrated SQLite database in a temporary folder (kept alive by the returned `TempDir`).
pub fn sqlite_pool() -> (tempfile::TempDir, Pool) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = dir.path().join("hearth.db").to_string_lossy().into_owned();
    let pool = db::open(&DbConfig {
        database_url,
        pool_size: 2,
    })
    .unwrap();
    (dir, pool)
}

pub fn registration(username: &str) -> Registration {
    Registration {
        username: username.to_owned(),
        display_name: String::new(),
        password: PASSWORD.to_owned(),
        time_zone: "UTC".to_owned(),
    }
}

/// A registered member as the policy sees them.
pub fn member(conn: &mut DbConn, username: &str, role: SiteRole) -> MemberActor {
    let member = members::register(conn, &registration(username), role).unwrap();
    actors::actor_for(conn, member).unwrap()
}

/// An administrator, a public board of theirs and a thread on it with `body` as opening post.
pub fn admin_board_thread(conn: &mut DbConn, body: &str) -> (MemberActor, Board, Thread) {
    let admin = member(conn, "ada", SiteRole::Admin);
    let form = NewBoardForm {
        slug: "board".to_owned(),
        name: "Board".to_owned(),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    let board = boards::create(conn, &admin, &form).unwrap();
    let thread_form = NewThreadForm {
        title: "A thread".to_owned(),
        body: body.to_owned(),
        submission_key: "k".repeat(16),
        ..Default::default()
    };
    let thread = threads::start(conn, &PostingRules::default(), &admin, &board, &thread_form)
        .unwrap()
        .thread;
    (admin, board, thread)
}
