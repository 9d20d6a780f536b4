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
            Ok(admin_url) if !admin_url.is_empty() => TestDatabase::create_postgres(admin_url),
            _ => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("hearth.db").to_string_lossy().into_owned();
                TestDatabase::Sqlite { _dir: dir, path }
            }
        }
    }

    pub fn create_postgres(admin_url: String) -> TestDatabase {
        let suffix: String = random_token()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        let name = format!("hearth_test_{}", suffix.to_lowercase());
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .expect("the PostgreSQL test server answers");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("CREATE DATABASE");
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("the URL names a database");
        let url = format!("{base}/{name}");
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
