//! The end-to-end harness: a real Hearth server on a free port, over a fresh database — a SQLite
//! file, or (when `HEARTH_TEST_POSTGRES_URL` is set) a new PostgreSQL database — and browsers
//! that speak real HTTP to it with their own cookie jars.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod smtp;
mod world;

use std::net::TcpListener;
use std::sync::{mpsc, OnceLock};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use hearth_core::accounts::members::{self, Registration};
use hearth_core::db::{DbConn, Pool};
use hearth_core::model::{Member, SiteRole};

pub use browser::{Browser, Page, Reply};
pub use hearth_core::db::testing::{TestDatabase, POSTGRES_VARIABLE};
pub use smtp::{ReceivedMail, SmtpSink};
pub use world::{GroupBuilder, World};

/// The password every test account uses: long and unguessable enough for the rules.
pub const PASSWORD: &str = "lantern meadow orbit kettle";

/// A running server over its own database; stopped and cleaned up when dropped.
pub struct TestApp {
    pub base_url: String,
    pub pool: Pool,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    admin: OnceLock<Browser>,
    // The outbox's delivery worker, when the configuration sends e-mail (stopped before the
    // database goes).
    _mail_worker: Option<hearth_core::mail::delivery::Worker>,
    // Dropped last: the database outlives the server that uses it.
    _database: TestDatabase,
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with_config(test_config())
    }

    /// A server that sends its e-mail to `sink`, with the outbox's delivery worker running as
    /// in `hearth serve`.
    pub fn with_email(sink: &SmtpSink) -> TestApp {
        let mut config = test_config();
        config.email = sink.email_settings();
        TestApp::with_config(config)
    }

    /// A server with `config`; when `config.email` names an SMTP host (see
    /// [`SmtpSink::email_settings`]) the delivery worker runs beside it.
    pub fn with_config(mut config: hearth_web::WebConfig) -> TestApp {
        let database = TestDatabase::create();
        let pool = hearth_core::db::open(&database.config()).expect("the test database opens");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        // A test may ask for an https public address (to see Secure cookies); otherwise the
        // server's own address is its public one.
        if !config.public_url.starts_with("https://") {
            config.public_url = base_url.clone();
        }
        config.password_hash_concurrency = 2;
        let mail_worker = hearth_core::mail::sender::Sender::from_settings(
            &config.email,
            &config.site_name,
            &config.public_url,
        )
        .expect("the test's e-mail settings are usable")
        .map(|sender| {
            hearth_core::mail::delivery::Worker::spawn(pool.clone(), sender, config.email.clone())
        });
        let (sender, receiver) = mpsc::channel();
        let server_pool = pool.clone();
        // As `hearth serve` does: page loads on SQLite run on the server's own threads.
        let readers = hearth_core::db::Readers::for_url(&database.config().database_url, 2048);
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = hearth_web::server(server_pool, readers, config, listener, 2)
                    .expect("the server starts");
                sender.send(server.handle()).unwrap();
                let _ = server.await;
            });
        });
        let handle = receiver.recv().expect("the server reports its handle");
        TestApp {
            base_url,
            pool,
            handle,
            thread: Some(thread),
            admin: OnceLock::new(),
            _mail_worker: mail_worker,
            _database: database,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(*self.conn(), DbConn::Pg(_))
    }

    pub fn conn(&self) -> hearth_core::db::PooledConn {
        self.pool.get().expect("a database connection")
    }

    /// Every outbox row (without its words), oldest first.
    pub fn outbox(&self) -> Vec<hearth_core::mail::outbox::Queued> {
        hearth_core::mail::outbox::queued(&mut self.conn()).expect("the outbox reads")
    }

    /// Waits until every outbox row is marked sent (a message reaches the sink a moment before
    /// its row is marked); panics after `timeout`.
    pub fn wait_until_all_mail_sent(&self, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let unsent = self
                .outbox()
                .iter()
                .filter(|row| row.sent_at.is_none())
                .count();
            if unsent == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{unsent} mails still unsent after {timeout:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Gives the member signed in on `browser` the verified address `address`, through the
    /// settings form and the link mailed to `sink` (the app must send to it). Returns the
    /// verification mail.
    pub fn verify_address(
        &self,
        browser: &Browser,
        sink: &SmtpSink,
        address: &str,
    ) -> ReceivedMail {
        // Mail queued earlier reaches the sink first, so the newest message is this one's.
        self.wait_until_all_mail_sent(std::time::Duration::from_secs(20));
        let before = sink.messages_to(address).len();
        browser
            .fill(
                "/settings/email",
                "/settings/email",
                &[("address", address), ("password", crate::PASSWORD)],
            )
            .assert_redirect();
        let mail = sink
            .wait_for_to(address, before + 1, std::time::Duration::from_secs(20))
            .pop()
            .unwrap();
        let link = mail
            .link_containing("/email/verify/")
            .expect("a verification link");
        let path = link.trim_start_matches(&self.base_url).to_owned();
        let page = browser.visit(&path);
        page.assert_status(200);
        browser.submit(&page, &path, &[]).assert_status(200);
        mail
    }

    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base_url)
    }

    /// A new browser that says it comes from `address`, for a server configured with
    /// `trust_x_forwarded_for` (every test browser really comes from 127.0.0.1).
    pub fn browser_from(&self, address: &str) -> Browser {
        Browser::forwarded_for(&self.base_url, address)
    }

    /// Creates an account directly in the database (for tests about something else).
    pub fn member(&self, username: &str, role: SiteRole) -> Member {
        register_member(&mut self.conn(), username, role)
    }

    /// A browser signed in as a new member of the given role, past the first page (which shows
    /// the welcome, so a test's own first page has no confirmation it did not cause).
    pub fn signed_in(&self, username: &str, role: SiteRole) -> Browser {
        self.member(username, role);
        let browser = self.browser();
        let reply = browser.sign_in(username, PASSWORD);
        reply.assert_redirect();
        browser.follow(reply).assert_status(200);
        browser
    }

    /// The site admin's browser, signed in as `admin` the first time it is asked for (the
    /// account is made then, unless the test made it); later calls share that session.
    pub fn admin(&self) -> Browser {
        self.admin
            .get_or_init(|| {
                let exists = members::by_username(&mut self.conn(), "admin").is_ok();
                if !exists {
                    self.member("admin", SiteRole::Admin);
                }
                let browser = self.browser();
                let reply = browser.sign_in("admin", PASSWORD);
                reply.assert_redirect();
                browser.follow(reply).assert_status(200);
                browser
            })
            .clone()
    }

    /// A group for the test's world, made by the admin: `app.group("pet-loss").build()`.
    pub fn group(&self, slug: &str) -> GroupBuilder<'_> {
        GroupBuilder::new(self, slug)
    }

    /// An administrator's browser and a public board they made through the web form.
    pub fn with_board(&self, slug: &str) -> Browser {
        self.group(slug).described("A place to talk").build().admin
    }
}

/// The configuration tests start from: the defaults without posting, edit, report or message limits, because
/// tests post and report far faster than people do. Tests of the limits set their own.
pub fn test_config() -> hearth_web::WebConfig {
    let mut config = hearth_web::WebConfig::default();
    config.posting.limits = hearth_core::safety::limits::PostingLimits::NONE;
    config.posting.edits = hearth_core::safety::limits::EditLimits {
        revisions_kept: hearth_core::safety::limits::EditLimits::default().revisions_kept,
        ..hearth_core::safety::limits::EditLimits::NONE
    };
    config.report_limits = hearth_core::moderation::review::ReportLimits::NONE;
    config.conversations.messages_per_minute = 0;
    config.conversations.messages_per_day = 0;
    config
}

/// The new-meeting form's fields for a weekly series that never ends, from `date` at `time` in
/// `zone`, 90 minutes long; callers add a link or a place.
pub fn weekly_meeting<'a>(
    title: &'a str,
    agenda: &'a str,
    date: &'a str,
    time: &'a str,
    zone: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("agenda", agenda),
        ("date", date),
        ("time", time),
        ("time_zone", zone),
        ("duration_minutes", "90"),
        ("repeat", "weekly"),
        ("interval_weeks", "1"),
        ("end", "never"),
    ]
}

/// Creates an account with [`PASSWORD`] on any connection (tests that run the binary use this
/// before its server starts).
pub fn register_member(conn: &mut DbConn, username: &str, role: SiteRole) -> Member {
    let registration = Registration {
        username: username.to_owned(),
        display_name: String::new(),
        password: PASSWORD.to_owned(),
        time_zone: "UTC".to_owned(),
    };
    members::register(conn, &registration, role).expect("the test member registers")
}

impl Default for TestApp {
    fn default() -> Self {
        TestApp::new()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
