//! Crash safety: clients post replies while the server is killed with SIGKILL at random
//! moments and restarted. Every reply the server acknowledged must be there afterwards, the
//! database must pass its integrity check, and every stored counter must match the posts.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use hearth_core::accounts::sessions;
use hearth_core::db::{self, DbConfig, DbConn};
use hearth_core::forum::boards::{self, NewBoardForm};
use hearth_core::forum::threads::{self, NewThreadForm};
use hearth_core::model::SiteRole;
use hearth_core::policy::MemberActor;
use hearth_core::safety::gate::PostingRules;

use hearth_tests::{register_member, Browser};

use crate::served::Served;

const CYCLES: usize = 20;
const CLIENTS: usize = 4;

/// A member's session prepared before the server starts, reused across restarts.
pub struct Client {
    pub token: String,
    pub csrf_token: String,
}

pub struct Community {
    pub clients: Vec<Client>,
    pub thread_ids: Vec<i64>,
}

/// Two threads on a public board and `CLIENTS` members with sessions, in a new database.
pub fn prepare(database_path: &str) -> Community {
    let pool = db::open(&DbConfig {
        database_url: database_path.to_owned(),
        pool_size: 1,
    })
    .unwrap();
    let conn = &mut *pool.get().unwrap();
    let admin = MemberActor::plain(register_member(conn, "ada", SiteRole::Admin));
    let board_form = NewBoardForm {
        slug: "crash".to_owned(),
        name: "Crash".to_owned(),
        visibility: "public".to_owned(),
        ..Default::default()
    };
    let board = boards::create(conn, &admin, &board_form).unwrap();
    let mut thread_ids = Vec::new();
    for n in 0..2 {
        let form = NewThreadForm {
            title: format!("Thread {n}"),
            body: format!("opening post {n}"),
            submission_key: format!("opening-post-key-{n:04}"),
            ..Default::default()
        };
        let rules = PostingRules::default();
        let started = threads::start(conn, &rules, &admin, &board, &form).unwrap();
        thread_ids.push(started.thread.id.0);
    }
    let clients = (0..CLIENTS)
        .map(|n| {
            let member = register_member(conn, &format!("client{n}"), SiteRole::Member);
            let started = sessions::start(conn, &member, chrono::TimeDelta::days(1)).unwrap();
            Client {
                token: started.token,
                csrf_token: started.session.csrf_token,
            }
        })
        .collect();
    Community {
        clients,
        thread_ids,
    }
}

/// A small deterministic generator, seeded from the clock and printed, so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// Posts replies until the server stops answering; returns the bodies it acknowledged.
fn post_until_refused(
    browser: &Browser,
    client: &Client,
    thread_id: i64,
    label: &str,
) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let body = format!("{label} reply {n}");
        let key = format!("{label}-key-{n:06}").replace(' ', "-");
        let fields = [
            ("csrf_token", client.csrf_token.as_str()),
            ("submission_key", key.as_str()),
            ("body", body.as_str()),
        ];
        match browser.try_post(&format!("/t/{thread_id}/reply"), &fields) {
            Some(reply) if reply.status == 303 => acknowledged.push(body),
            Some(reply) if reply.status >= 500 => continue,
            Some(reply) => panic!("unexpected {} for {label}: {}", reply.status, reply.body),
            None => break,
        }
    }
    acknowledged
}

#[test]
fn acknowledged_replies_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database_path = data.join("hearth.db").to_string_lossy().into_owned();
    let community = prepare(&database_path);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("crash test seed: {seed}");
    let mut random = Lcg(seed);
    let acknowledged = Mutex::new(Vec::new());
    let data_arg = data.to_string_lossy().into_owned();
    for cycle in 0..CYCLES {
        let mut served = Served::start(
            dir.path(),
            &["--data-dir", &data_arg],
            &[("RUST_LOG", "warn")],
        );
        let running = AtomicBool::new(true);
        let kill_after = Duration::from_millis(50 + random.next(450));
        std::thread::scope(|scope| {
            for (n, client) in community.clients.iter().enumerate() {
                let browser = served.browser();
                browser.set_cookie("hearth_session", &client.token);
                let thread_id = community.thread_ids[n % community.thread_ids.len()];
                let (acknowledged, running) = (&acknowledged, &running);
                scope.spawn(move || {
                    let label = format!("cycle {cycle} client {n}");
                    let bodies = post_until_refused(&browser, client, thread_id, &label);
                    assert!(
                        !running.load(Ordering::SeqCst),
                        "{label} lost the server before it was killed"
                    );
                    acknowledged.lock().unwrap().extend(bodies);
                });
            }
            std::thread::sleep(kill_after);
            running.store(false, Ordering::SeqCst);
            served.kill();
        });
    }
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() > CYCLES * CLIENTS,
        "the clients got replies in: {}",
        acknowledged.len()
    );
    eprintln!(
        "{} replies acknowledged across {CYCLES} SIGKILLs",
        acknowledged.len()
    );
    check_database(&database_path, &acknowledged);
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    text: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn check_database(database_path: &str, acknowledged: &[String]) {
    assert!(Path::new(database_path).exists());
    let pool = db::open(&DbConfig {
        database_url: database_path.to_owned(),
        pool_size: 1,
    })
    .unwrap();
    let conn = &mut *pool.get().unwrap();
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("the crash test runs on SQLite")
    };
    let integrity: Vec<Row> =
        diesel::sql_query("SELECT integrity_check AS text FROM pragma_integrity_check")
            .load(sqlite)
            .unwrap();
    assert_eq!(
        integrity
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["ok"]
    );

    let stored: Vec<Row> = diesel::sql_query("SELECT source AS text FROM posts")
        .load(sqlite)
        .unwrap();
    let stored: Vec<&str> = stored.iter().map(|r| r.text.as_str()).collect();
    let unique: HashSet<&str> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "no reply was stored twice");
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|body| !unique.contains(body.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged replies are missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );

    // Every stored counter agrees with the rows it counts.
    let disagreements = [
        "SELECT count(*) AS n FROM threads t WHERE reply_count != (SELECT count(*) FROM posts p WHERE p.thread_id = t.id AND p.state = 'published' AND p.moderation = 'visible' AND p.position > 1)",
        "SELECT count(*) AS n FROM threads t WHERE last_position != (SELECT count(*) FROM posts p WHERE p.thread_id = t.id)",
        "SELECT count(*) AS n FROM threads t WHERE last_position != (SELECT max(position) FROM posts p WHERE p.thread_id = t.id)",
        "SELECT count(*) AS n FROM threads t WHERE last_activity_at != (SELECT max(created_at) FROM posts p WHERE p.thread_id = t.id)",
        "SELECT count(*) AS n FROM boards b WHERE post_count != (SELECT count(*) FROM posts p JOIN threads t ON t.id = p.thread_id WHERE t.board_id = b.id AND p.state = 'published' AND p.moderation = 'visible' AND t.state = 'published' AND t.moderation = 'visible')",
        "SELECT count(*) AS n FROM boards b WHERE thread_count != (SELECT count(*) FROM threads t WHERE t.board_id = b.id AND t.state = 'published' AND t.moderation = 'visible')",
        "SELECT count(*) AS n FROM members m WHERE post_count != (SELECT count(*) FROM posts p WHERE p.author_id = m.id AND p.state = 'published' AND p.moderation = 'visible')",
    ];
    for query in disagreements {
        let count: Count = diesel::sql_query(query).get_result(sqlite).unwrap();
        assert_eq!(count.n, 0, "counter mismatch: {query}");
    }
}
