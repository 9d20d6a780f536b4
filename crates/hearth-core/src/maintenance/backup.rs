//! Backups and restores (`hearth backup`, `hearth restore`, the daily backups of `hearth
//! serve`).
//!
//! On SQLite a backup is `VACUUM INTO` a new file: one read transaction on the live database,
//! so the copy is the database exactly as one moment left it, while the server goes on writing
//! (in WAL mode readers and the writer do not wait for each other). The copy is then opened
//! and checked (`PRAGMA integrity_check`, Hearth's migrations table). A restore checks its file
//! the same way, migrates a copy of it next to the database, and only then renames it into
//! place, keeping the database it replaces.
//!
//! A running `hearth serve` holds a shared lock on `hearth.db.lock` beside the database
//! ([`DatabaseLock`]); a restore takes it exclusively, so it refuses while a server runs (and a
//! server does not start while a restore runs). The operating system releases the lock when
//! the process ends, however it ends, so no stale lock is left behind by a crash.
//!
//! PostgreSQL has its own tools: for it this module only says how to use `pg_dump` and
//! `pg_restore` ([`postgres_advice`]).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde::Deserialize;

use crate::db::{self, DbConn};
use crate::error::{Error, Result};

/// What a SQLite file begins with (the first 16 bytes of its header).
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How long a backup's connection waits for a lock the server holds for a moment.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// A checked copy: its size and how many of Hearth's migrations it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub path: PathBuf,
    pub bytes: u64,
    pub migrations: usize,
}

/// `hearth-YYYYMMDD-HHMMSS.db` (UTC): the name of a backup made at `now`.
pub fn default_file_name(now: DateTime<Utc>) -> String {
    format!("hearth-{}.db", now.format("%Y%m%d-%H%M%S"))
}

/// Whether `name` is one that [`default_file_name`] makes (what [`prune`] may delete).
fn is_backup_name(name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix("hearth-")
        .and_then(|rest| rest.strip_suffix(".db"))
    else {
        return false;
    };
    let bytes = stamp.as_bytes();
    bytes.len() == 15
        && bytes[8] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 8 || b.is_ascii_digit())
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    Error::Unavailable(format!("cannot {what} {}: {error}", path.display()))
}

fn refused(message: String) -> Error {
    Error::invalid("file", message)
}

/// Opens an existing SQLite database (never creating one) for a backup.
fn open_existing(database: &Path) -> Result<SqliteConnection> {
    if !database.is_file() {
        return Err(refused(format!(
            "there is no database at {} (is --data-dir or database_url right?)",
            database.display()
        )));
    }
    let path = database.to_string_lossy();
    let mut conn = SqliteConnection::establish(&path)
        .map_err(|e| Error::Unavailable(format!("cannot open {}: {e}", database.display())))?;
    conn.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"))?;
    Ok(conn)
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    text: String,
}

/// About how many bytes a backup of `database` will take (its pages in use), for a progress
/// bar: `VACUUM INTO` leaves out the free pages.
pub fn estimated_size(database: &Path) -> Result<u64> {
    let mut conn = open_existing(database)?;
    let used: Number = diesel::sql_query(
        "SELECT (page_count - freelist_count) * page_size AS n \
         FROM pragma_page_count, pragma_freelist_count, pragma_page_size",
    )
    .get_result(&mut conn)?;
    Ok(u64::try_from(used.n).unwrap_or(0))
}

/// Creates the empty file a backup goes into: never over an existing file, readable by its
/// owner only (the members' words are in it), its folder made `0700` if it is missing.
fn create_target(to: &Path) -> Result<()> {
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder
            .create(dir)
            .map_err(|e| io_error("create the folder", dir, e))?;
    }
    let mut file = OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(to) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(refused(format!(
            "{} already exists: a backup never overwrites a file (choose another name with --to)",
            to.display()
        ))),
        Err(e) => Err(io_error("create", to, e)),
    }
}

/// Copies the live SQLite database `database` into the new file `to` and checks the copy.
/// `to` must not exist. A copy that failed, or failed its check, is deleted.
pub fn back_up(database: &Path, to: &Path) -> Result<Verified> {
    copy(database, to)?;
    let verified = verify(to);
    if verified.is_err() {
        let _ = std::fs::remove_file(to);
    }
    verified
}

/// The copy alone (`VACUUM INTO`, then flushed to disk), without [`verify`]: for a caller
/// that shows the two steps apart. `to` must not exist; a copy that failed is deleted.
pub fn copy(database: &Path, to: &Path) -> Result<()> {
    let mut conn = open_existing(database)?;
    create_target(to)?;
    let copied = vacuum_into(&mut conn, to).and_then(|()| {
        drop(conn);
        sync_file(to)
    });
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied
}

fn vacuum_into(conn: &mut SqliteConnection, to: &Path) -> Result<()> {
    let target = to.to_string_lossy().replace('\'', "''");
    conn.batch_execute(&format!("VACUUM INTO '{target}'"))
        .map_err(|e| Error::Unavailable(format!("the copy into {} failed: {e}", to.display())))
}

fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("write", path, e))
}

fn sync_folder_of(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("write the folder", dir, e))
}

/// Checks that `path` is a whole SQLite database of Hearth's that this version can run: a
/// SQLite header, `PRAGMA integrity_check` saying ok, Hearth's migrations table, and no
/// migration this version does not know (a file from a newer Hearth). Each refusal says which.
pub fn verify(path: &Path) -> Result<Verified> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| io_error("read", path, e))?
        .len();
    let mut header = [0u8; 16];
    let read = File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut header));
    match read {
        Ok(16) if &header == SQLITE_HEADER => {}
        Ok(_) => {
            return Err(refused(format!(
                "{} is not a SQLite database (a Hearth backup is one)",
                path.display()
            )))
        }
        Err(e) => return Err(io_error("read", path, e)),
    }
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|e| Error::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    let damaged = |detail: String| {
        refused(format!(
            "{} is damaged: SQLite's integrity check says {detail}",
            path.display()
        ))
    };
    let lines: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS text FROM pragma_integrity_check")
            .load(&mut conn)
            .map_err(|e| damaged(e.to_string()))?;
    let said: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    if said != ["ok"] {
        let first = said.first().copied().unwrap_or("nothing");
        return Err(damaged(format!("{first:?} ({} problems)", said.len())));
    }
    let has_table: Number = diesel::sql_query(
        "SELECT count(*) AS n FROM sqlite_master \
         WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result(&mut conn)?;
    if has_table.n == 0 {
        return Err(refused(format!(
            "{} is a SQLite database, but not Hearth's (it has no migrations table)",
            path.display()
        )));
    }
    let mut conn = DbConn::Sqlite(conn);
    let unknown = db::unknown_migrations(&mut conn)?;
    if let Some(first) = unknown.first() {
        return Err(refused(format!(
            "{} comes from a newer version of Hearth (this one does not know its migration \
             {first}): restore it with that version",
            path.display()
        )));
    }
    Ok(Verified {
        path: path.to_owned(),
        bytes,
        migrations: db::applied_migrations(&mut conn)?,
    })
}

/// The lock a running server holds on `hearth.db.lock` beside its SQLite database. Released
/// when dropped, and by the operating system when the process ends in any way.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    /// `hearth.db.lock` for `hearth.db`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    fn open(database: &Path) -> Result<File> {
        let path = DatabaseLock::path_for(database);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut folder = std::fs::DirBuilder::new();
            folder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
            folder
                .create(dir)
                .map_err(|e| io_error("create the data directory", dir, e))?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&path)
            .map_err(|e| io_error("open the lock file", &path, e))
    }

    /// For `hearth serve`: a shared lock (several servers may share one database), refused
    /// while a restore replaces the database.
    pub fn for_serving(database: &Path) -> Result<DatabaseLock> {
        let file = DatabaseLock::open(database)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Unavailable(format!(
                "{} is being restored (hearth restore holds {}): start the server when it has \
                 finished",
                database.display(),
                DatabaseLock::path_for(database).display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(io_error("lock", &DatabaseLock::path_for(database), e))
            }
        }
    }

    /// For a restore: the lock alone, or `None` while a server holds it.
    pub fn try_exclusive(database: &Path) -> Result<Option<DatabaseLock>> {
        let file = DatabaseLock::open(database)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DatabaseLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(io_error("lock", &DatabaseLock::path_for(database), e))
            }
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub source: Verified,
    /// Where the database it replaced was kept (`hearth.db.before-restore-…`).
    pub kept: Option<PathBuf>,
    /// Migrations run on the restored copy to bring it to this version.
    pub migrations_run: usize,
    /// A server was running on the database (restored anyway, with `force`).
    pub was_live: bool,
}

/// Puts the backup `source` in place of the SQLite database `target`.
///
/// Steps: check `source` ([`verify`]); take the [`DatabaseLock`] (refused while a server runs,
/// unless `force`); copy `source` to a file next to `target`, flush it to disk, migrate it to
/// this version; move the old database (with its `-wal` and `-shm`, which belong to it) aside
/// as `hearth.db.before-restore-YYYYMMDD-HHMMSS`; rename the copy to `target`. A failure before
/// that last rename leaves the old database as it was.
pub fn restore(source: &Path, target: &Path, force: bool, now: DateTime<Utc>) -> Result<Restored> {
    let checked = verify(source)?;
    let lock = DatabaseLock::try_exclusive(target)?;
    if lock.is_none() && !force {
        return Err(refused(format!(
            "{} is in use by a running hearth serve (it holds {}): stop the server first \
             (systemctl stop hearth), or pass --force to replace it anyway",
            target.display(),
            DatabaseLock::path_for(target).display()
        )));
    }
    let stamp = now.format("%Y%m%d-%H%M%S");
    let incoming = sibling(target, &format!(".restoring-{stamp}"));
    copy_new(source, &incoming)?;
    let migrated = migrate_copy(&incoming);
    let migrations_run = match migrated {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e);
        }
    };
    let kept = if target.exists() {
        let kept = sibling(target, &format!(".before-restore-{stamp}"));
        rename(target, &kept)?;
        for suffix in ["-wal", "-shm"] {
            let companion = sibling(target, suffix);
            if companion.exists() {
                rename(&companion, &sibling(&kept, suffix))?;
            }
        }
        Some(kept)
    } else {
        None
    };
    rename(&incoming, target)?;
    sync_folder_of(target)?;
    Ok(Restored {
        source: checked,
        kept,
        migrations_run,
        was_live: lock.is_none(),
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| {
        Error::Unavailable(format!(
            "cannot move {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

/// Copies `from` into the new file `to` (`0600`) and flushes it to disk.
fn copy_new(from: &Path, to: &Path) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut output = options.open(to).map_err(|e| io_error("create", to, e))?;
    let copied = File::open(from)
        .and_then(|mut input| std::io::copy(&mut input, &mut output))
        .and_then(|_| output.sync_all());
    if let Err(e) = copied {
        let _ = std::fs::remove_file(to);
        return Err(io_error("copy the backup into", to, e));
    }
    Ok(())
}

/// Migrates the copy being restored, as `hearth serve` would, and closes it (which folds its
/// write-ahead log back into the file, so the file alone is the database).
fn migrate_copy(path: &Path) -> Result<usize> {
    let mut conn = db::connect(&path.to_string_lossy())?;
    let ran = db::run_migrations(&mut conn)?;
    if let DbConn::Sqlite(sqlite) = &mut conn {
        sqlite.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    drop(conn);
    sync_file(path)?;
    Ok(ran)
}

/// `[backups]`: a backup by `hearth serve` every day at `hour` (in the server's
/// `default_time_zone`) into `data_dir/backups`, keeping the newest `keep`. SQLite only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct DailyBackups {
    pub daily: bool,
    pub keep: u32,
    pub hour: u32,
}

impl Default for DailyBackups {
    fn default() -> Self {
        DailyBackups {
            daily: false,
            keep: 7,
            hour: 3,
        }
    }
}

impl DailyBackups {
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.hour > 23 {
            return Err(format!(
                "backups.hour is an hour of the day, 0 to 23 (it is {})",
                self.hour
            ));
        }
        if self.keep == 0 {
            return Err("backups.keep must be at least 1".to_owned());
        }
        Ok(())
    }

    /// [`DailyBackups::next_after`] in the zone named `zone` (an IANA name; UTC if unknown).
    pub fn next_after_in(&self, now: DateTime<Utc>, zone: &str) -> DateTime<Utc> {
        match zone.parse::<chrono_tz::Tz>() {
            Ok(zone) => self.next_after(now, &zone),
            Err(_) => self.next_after(now, &Utc),
        }
    }

    /// The next time after `now` that the clock in `zone` shows `hour`:00. On a day whose
    /// clocks jump over that hour, the first moment after the jump.
    pub fn next_after<Z: TimeZone>(&self, now: DateTime<Utc>, zone: &Z) -> DateTime<Utc> {
        let at = NaiveTime::from_hms_opt(self.hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
        let today = now.with_timezone(zone).date_naive();
        for day in 0..3 {
            let date = today + Duration::days(day);
            let local = date.and_time(at);
            let instant = zone
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| {
                    zone.from_local_datetime(&(local + Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc));
            if let Some(instant) = instant.filter(|t| *t > now) {
                return instant;
            }
        }
        now + Duration::days(1)
    }
}

/// When the newest backup in `dir` (by the time in its name) was made; `None` when there is
/// none (or no folder yet).
pub fn newest_backup_time(dir: &Path) -> Option<DateTime<Utc>> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| is_backup_name(name))
        .filter_map(|name| {
            let stamp = name
                .strip_prefix("hearth-")?
                .strip_suffix(".db")?
                .to_owned();
            chrono::NaiveDateTime::parse_from_str(&stamp, "%Y%m%d-%H%M%S").ok()
        })
        .max()
        .map(|time| time.and_utc())
}

/// Whether a server starting at `now` should back up at once rather than wait for the hour:
/// the newest backup in `dir` is a day old or more, or there is none (a server that is down at
/// the hour, or restarted every day before it, still gets a backup a day).
pub fn overdue(dir: &Path, now: DateTime<Utc>) -> bool {
    newest_backup_time(dir).is_none_or(|newest| now - newest >= Duration::days(1))
}

/// Deletes the oldest backups in `dir` (files named `hearth-YYYYMMDD-HHMMSS.db`, nothing else)
/// beyond the newest `keep`; returns the deleted paths.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error("read the folder", dir, e))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_backup_name(name))
        .collect();
    // The timestamp in the name sorts as the time does.
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut deleted = Vec::new();
    for name in names.into_iter().skip(keep) {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(|e| io_error("delete", &path, e))?;
        deleted.push(path);
    }
    Ok(deleted)
}

/// The PostgreSQL server's version (`SHOW server_version`), e.g. `15.18 (Debian 15.18-0+deb12u1)`.
pub fn postgres_server_version(conn: &mut DbConn) -> Result<String> {
    let DbConn::Pg(pg) = conn else {
        return Err(Error::Internal("not a PostgreSQL database".to_owned()));
    };
    // What `SHOW server_version` says.
    let line: Line =
        diesel::sql_query("SELECT current_setting('server_version') AS text").get_result(pg)?;
    Ok(line.text)
}

/// The major version in a version text: `15` of `15.18 (Debian …)` or of
/// `pg_dump (PostgreSQL) 15.18`.
pub fn major_version(text: &str) -> Option<u32> {
    text.split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
        .and_then(|word| word.split(['.', '-']).next())
        .and_then(|major| major.parse().ok())
}

/// A PostgreSQL URL with its password replaced by `****`, fit to print.
pub fn masked_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:****@{host}"),
            None => format!("{credentials}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=****")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// What `hearth backup` and `hearth restore` say on PostgreSQL: how to use `pg_dump` and
/// `pg_restore` with this database, and whether the `pg_dump` found (its `--version` output,
/// `None` when there is none on PATH) can dump this server.
pub fn postgres_advice(url: &str, server_version: &str, pg_dump: Option<&str>) -> String {
    let shown = masked_url(url);
    let server_major = major_version(server_version);
    let mut advice = format!(
        "Hearth's database is on PostgreSQL (server {server_version}): back it up and restore \
         it with PostgreSQL's own tools.\n\
         \n\
         Back up (a consistent copy while Hearth runs):\n  \
         pg_dump --format=custom --file=hearth-$(date -u +%Y%m%d-%H%M%S).dump '{shown}'\n\
         \n\
         Restore (stop Hearth first; into this database, replacing what it holds):\n  \
         pg_restore --clean --if-exists --no-owner --single-transaction --dbname='{shown}' FILE.dump\n\
         then start Hearth, which migrates the database to this version.\n\
         \n\
         Put the password in ~/.pgpass or PGPASSWORD rather than on the command line (it is \
         masked as **** here).\n"
    );
    let dump_major = pg_dump.and_then(major_version);
    let check = match (pg_dump, dump_major, server_major) {
        (None, _, Some(server)) => format!(
            "pg_dump is not installed (not on PATH): install the client of PostgreSQL \
             {server} or newer (on Debian: apt install postgresql-client-{server})."
        ),
        (None, _, None) => "pg_dump is not installed (not on PATH): install the PostgreSQL \
                            client of the server's version or newer."
            .to_owned(),
        (Some(_), Some(dump), Some(server)) if dump < server => format!(
            "pg_dump on PATH is version {dump}, older than the server ({server}): it refuses \
             to dump a newer server. Install postgresql-client-{server} or newer."
        ),
        (Some(_), Some(dump), Some(server)) => {
            format!("pg_dump on PATH is version {dump}: it can dump this server ({server}).")
        }
        (Some(found), _, _) => format!(
            "pg_dump on PATH said {:?}; check that its version is at least the server's.",
            found.trim()
        ),
    };
    advice.push_str(&check);
    advice
}

#[cfg(test)]
mod tests;
