//! A fresh database per test, so tests run in parallel and never share state: a SQLite file in
//! a temporary folder, or, when `HEARTH_TEST_POSTGRES_URL` is set, a new PostgreSQL database
//! dropped afterwards. For the core's own tests and the end-to-end suite (feature `testing`).

use crate::accounts::tokens::random_token;
use crate::db::DbConfig;
use diesel::{Connection, RunQueryDsl};

/// The variable that switches the suite onto PostgreSQL: a URL of a role that may create
/// databases, e.g. `postgres://hearth:secret@127.0.0.1/postgres`.
pub const POSTGRES_VARIABLE: &str = "HEARTH_TEST_POSTGRES_URL";

pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        path: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        match std::env::var(POSTGRES_VARIABLE) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let template = postgres_template(&admin_url);
                TestDatabase::postgres_from(admin_url, Some(template))
            }
            _ => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("hearth.db").to_string_lossy().into_owned();
                TestDatabase::Sqlite { _dir: dir, path }
            }
        }
    }

    /// An empty PostgreSQL database (nothing migrated), for tests of migrating itself.
    pub fn create_postgres(admin_url: String) -> TestDatabase {
        TestDatabase::postgres_from(admin_url, None)
    }

    fn postgres_from(admin_url: String, template: Option<&str>) -> TestDatabase {
        let suffix: String = random_token()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        let name = format!("hearth_test_{}", suffix.to_lowercase());
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .expect("the PostgreSQL test server answers");
        let copied = template.map_or(String::new(), |t| format!(" TEMPLATE {t}"));
        diesel::sql_query(format!("CREATE DATABASE {name}{copied}"))
            .execute(&mut admin)
            .expect("CREATE DATABASE");
        let url = database_url(&admin_url, &name);
        TestDatabase::Postgres {
            admin_url,
            name,
            url,
        }
    }

    pub fn config(&self) -> DbConfig {
        let database_url = match self {
            TestDatabase::Sqlite { path, .. } => path.clone(),
            TestDatabase::Postgres { url, .. } => url.clone(),
        };
        DbConfig {
            database_url,
            pool_size: 8,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// A SQLite database at `path` as an older Hearth left it: every migration but the newest.
/// `hearth restore` and `hearth serve` must bring it up to date; until then it has a
/// migration pending.
pub fn sqlite_one_version_behind(path: &str) {
    use diesel::migration::MigrationSource;
    use diesel_migrations::MigrationHarness;
    let mut conn = diesel::SqliteConnection::establish(path).expect("the SQLite file opens");
    let mut all = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&super::SQLITE_MIGRATIONS)
        .expect("the embedded migrations");
    all.sort_by_key(|m| m.name().version().to_string());
    all.pop();
    // Creates the migrations table, as running the first migration through diesel would.
    conn.applied_migrations().expect("the migrations table");
    for migration in &all {
        conn.run_migration(migration)
            .expect("an older migration runs");
    }
}

/// The URL of database `name` on the server of `admin_url`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("the URL names a database");
    format!("{base}/{name}")
}

/// A migrated PostgreSQL database that each test of this process copies (`CREATE DATABASE …
/// TEMPLATE`): migrating every test's database anew was most of the PostgreSQL suite's time
/// (31 migrations, each its own commit). Made once per test process, under its process id, so
/// a migration changed in another checkout never meets it; a later process drops the
/// templates of processes that have ended (the server is taken to be on this machine, as it
/// is for `.ci/run`: a process id is looked up in `/proc`).
fn postgres_template(admin_url: &str) -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        #[derive(diesel::QueryableByName)]
        struct Named {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        const PREFIX: &str = "hearth_template_";
        let mut admin =
            diesel::PgConnection::establish(admin_url).expect("the PostgreSQL test server answers");
        let others: Vec<Named> = diesel::sql_query(format!(
            "SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"
        ))
        .load(&mut admin)
        .expect("the databases are listed");
        let name = format!("{PREFIX}{}", std::process::id());
        for other in others {
            let ended = other
                .datname
                .strip_prefix(PREFIX)
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
            if ended || other.datname == name {
                let _ = diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    other.datname
                ))
                .execute(&mut admin);
            }
        }
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("CREATE DATABASE for the template");
        let url = database_url(admin_url, &name);
        let mut conn = crate::db::DbConn::Pg(
            diesel::PgConnection::establish(&url).expect("the template database answers"),
        );
        crate::db::run_migrations(&mut conn).expect("the template database is migrated");
        // Disconnected here: a database someone is connected to cannot be copied.
        drop(conn);
        name
    })
}
