//! Both backends: the same migrations for each, and the suite on the one it was asked for.

use std::collections::BTreeSet;
use std::path::Path;

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration needs a SQLite and a PostgreSQL version of the same name"
    );
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../migrations")
                    .join(backend)
                    .join(name)
                    .join(file);
                assert!(path.exists(), "{} is missing", path.display());
            }
        }
    }
}

#[test]
fn the_suite_runs_on_the_backend_it_was_asked_for() {
    let app = hearth_tests::TestApp::new();
    let postgres_asked =
        std::env::var(hearth_tests::POSTGRES_VARIABLE).is_ok_and(|url| !url.is_empty());
    assert_eq!(app.is_postgres(), postgres_asked);
    eprintln!(
        "end-to-end suite backend: {}",
        if postgres_asked {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
}
