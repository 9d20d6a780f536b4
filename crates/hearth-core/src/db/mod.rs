//! The one module that knows which database is underneath.
//!
//! Everything else in Hearth talks to [`DbConn`], a diesel `MultiConnection` over SQLite and
//! PostgreSQL. Backend-specific behaviour — connection pragmas, `BEGIN IMMEDIATE`, dialect SQL —
//! lives here and nowhere else.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use diesel::connection::{
    AnsiTransactionManager, DefaultLoadingMode, SimpleConnection, TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::query_dsl::methods::LimitDsl;
use diesel::query_dsl::LoadQuery;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};

/// A connection to whichever database the operator configured.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs select PostgreSQL; anything else is a SQLite file path.
    pub fn of_url(database_url: &str) -> Backend {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Runs the same diesel statement on whichever connection `conn` holds.
///
/// diesel's `MultiConnection` cannot send a multi-row INSERT to SQLite (SQLite has no `DEFAULT`
/// keyword, and diesel's SQLite batch insert is only implemented for `SqliteConnection`
/// itself), nor a UNION or an ON CONFLICT to either backend, so such statements are compiled once
/// per connection type. Same code, same SQL semantics: no dialect-specific SQL here.
///
/// The statements every page sends go this way too: `MultiConnection` writes a statement's
/// whole SQL text again each time diesel walks it (to check it may be cached, to collect its
/// binds), several times a statement, even when the connection has it prepared. Sent to the
/// inner connection, a prepared statement is found by its type and only its values are bound:
/// a fifth of a signed-in thread page's CPU was SQL written and thrown away
/// (docs/performance.md, "Eighth session").
macro_rules! per_connection {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use per_connection;

/// A statement diesel would prepare afresh on every run — every UPDATE, every upsert, every
/// `sql_query` — kept among the connection's prepared statements like a SELECT, found by its
/// SQL text. A reply sent ten such statements, each parsed and planned again by SQLite
/// (50,000 instructions an UPDATE; docs/performance.md, "Tenth session").
///
/// Only for a statement whose text is the same on every run (no `eq_any` list, no changeset
/// field that may be `None`), or the cache keeps one statement for each variant — unless the
/// variants are few and bounded (search's hits: an `eq_any` of at most a page's ids). Run it on the
/// inner connection ([`per_connection!`]; the multi-backend connection checks the statement it
/// wraps this in, not this one), by value: `get_result`, `load`, or [`Cached::run`] for a
/// statement that returns no rows (diesel's `execute` passes a reference, which it never caches).
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(pub Q);

impl<Q> diesel::query_builder::QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Cached<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    /// Diesel refuses to cache these statements because their text may vary between runs
    /// (it caches them by type); cached by text instead, a variant is a statement of its own.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, C> RunQueryDsl<C> for Cached<Q> {}

/// A statement run for its effect, read as a query that returns no rows.
struct NoRows<Q>(Cached<Q>);

impl<Q> diesel::query_builder::QueryId for NoRows<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> diesel::query_builder::Query for NoRows<Q> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for NoRows<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, backend: &DB) -> diesel::QueryResult<bool> {
        self.0.is_safe_to_cache_prepared(backend)
    }
}

impl<Q> Cached<Q> {
    /// Runs the statement (an UPDATE, an upsert, raw SQL; no RETURNING) for its effect, on an
    /// inner connection: `per_connection!(conn, |c| Cached(update).run(c))`.
    pub fn run<C>(self, conn: &mut C) -> diesel::QueryResult<()>
    where
        C: diesel::connection::LoadConnection<DefaultLoadingMode>,
        Q: diesel::query_builder::QueryFragment<C::Backend>,
    {
        for row in conn.load(NoRows(self))? {
            row?;
        }
        Ok(())
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a SQLite connection waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// Opens connections for the pool, choosing the backend by URL and preparing each SQLite
/// connection the way Hearth needs it (WAL, durable commits, foreign keys, busy timeout).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    database_url: String,
    backend: Backend,
}

impl ConnectionManager {
    pub fn new(database_url: &str) -> ConnectionManager {
        ConnectionManager {
            database_url: database_url.to_owned(),
            backend: Backend::of_url(database_url),
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> std::result::Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.database_url)
                    .map_err(r2d2::Error::ConnectionError)?;
                prepare_postgres(&mut conn).map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(conn))
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.database_url)
                    .map_err(r2d2::Error::ConnectionError)?;
                prepare_sqlite(&mut conn).map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> std::result::Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Hearth's statements are prepared once per connection (diesel caches them) and are all
/// index lookups and index walks, which one generic plan serves for every bound value. Left to
/// choose, PostgreSQL planned a listing ending in `LIMIT $n` again on every run (its generic
/// plan cannot know n, so it looks dearer than a custom one): a board page cost a millisecond
/// of planning, a third of its throughput (docs/performance.md, "Third session").
fn prepare_postgres(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("SET plan_cache_mode = force_generic_plan")
}

/// `synchronous = FULL`: a reply we acknowledged survives a power cut, not only a crash.
fn prepare_sqlite(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;"
    ))
}

/// What [`open`] needs to know.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub database_url: String,
    pub pool_size: u32,
}

/// Opens the pool and brings the schema up to date. For SQLite the file's folder is created.
pub fn open(config: &DbConfig) -> Result<Pool> {
    if Backend::of_url(&config.database_url) == Backend::Sqlite {
        create_parent_dir(&config.database_url)?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(config.pool_size.max(1))
        .connection_timeout(Duration::from_secs(30))
        // A SQLite connection is a file handle and cannot drop, so the `SELECT 1` check on every
        // checkout is pure cost there; a PostgreSQL connection can die with its server, so it
        // keeps the check.
        .test_on_check_out(Backend::of_url(&config.database_url) == Backend::Postgres)
        // Each checkout's wait and each timeout, for `/metrics` (nothing without a recorder).
        .event_handler(Box::new(crate::telemetry::PoolEvents))
        .build(ConnectionManager::new(&config.database_url))
        .map_err(|e| Error::Unavailable(format!("cannot open the database: {e}")))?;
    run_migrations(&mut *pool.get()?)?;
    Ok(pool)
}

/// One connection, prepared as the pool's are, without migrating anything: for tools such
/// as `hearth backup` that must not change the schema under a running server.
pub fn connect(database_url: &str) -> Result<DbConn> {
    ConnectionManager::new(database_url)
        .connect()
        .map_err(|e| Error::Unavailable(format!("cannot open the database: {e}")))
}

/// Creates the SQLite file's folder (`0700`: the members' words are in it) and the file itself
/// (`0600`, before SQLite opens it, so it is never readable by others; SQLite gives its `-wal`
/// and `-shm` files the same mode). Existing folders and files keep the mode they have.
fn create_parent_dir(database_path: &str) -> Result<()> {
    let unavailable = |what: &str, path: &Path, e: std::io::Error| {
        Error::Unavailable(format!("cannot create the {what} {}: {e}", path.display()))
    };
    let path = Path::new(database_path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder
            .create(dir)
            .map_err(|e| unavailable("data directory", dir, e))?;
    }
    if database_path != ":memory:" && !database_path.starts_with("file:") && !path.exists() {
        let mut file = std::fs::OpenOptions::new();
        file.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        match file.open(path) {
            Ok(_) => {}
            // Another process made it first: it is theirs to have made right.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(unavailable("database file", path, e)),
        }
    }
    Ok(())
}

/// Applies every embedded migration not yet applied; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConn::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    };
    applied.map_err(|e| Error::Unavailable(format!("database migration failed: {e}")))
}

/// Whether this version of Hearth has migrations the database has not had yet (a database
/// restored from an older version, or one nobody migrated): `/readyz` is not ready then.
/// Reads only the migrations table (diesel creates it first if it is missing, which on a
/// migrated database is a no-op).
pub fn pending_migrations(conn: &mut DbConn) -> Result<bool> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map_err(|e| Error::Unavailable(format!("cannot read the applied migrations: {e}")))
}

/// How many migrations the database has had.
pub fn applied_migrations(conn: &mut DbConn) -> Result<usize> {
    Ok(applied_versions(conn)?.len())
}

/// Migrations the database has had that this version of Hearth does not know: the database
/// comes from a newer version.
pub fn unknown_migrations(conn: &mut DbConn) -> Result<Vec<String>> {
    use diesel::migration::MigrationSource;
    let known = match conn {
        DbConn::Sqlite(_) => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS).map(|all| {
                all.iter()
                    .map(|m| m.name().version().to_string())
                    .collect::<Vec<_>>()
            })
        }
        DbConn::Pg(_) => {
            MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS).map(|all| {
                all.iter()
                    .map(|m| m.name().version().to_string())
                    .collect::<Vec<_>>()
            })
        }
    }
    .map_err(|e| Error::Internal(format!("the embedded migrations cannot be read: {e}")))?;
    let applied = applied_versions(conn)?;
    Ok(applied.into_iter().filter(|v| !known.contains(v)).collect())
}

fn applied_versions(conn: &mut DbConn) -> Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => MigrationHarness::applied_migrations(c),
        DbConn::Pg(c) => MigrationHarness::applied_migrations(c),
    };
    applied
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| Error::Unavailable(format!("cannot read the applied migrations: {e}")))
}

pub fn backend(conn: &DbConn) -> Backend {
    match conn {
        DbConn::Sqlite(_) => Backend::Sqlite,
        DbConn::Pg(_) => Backend::Postgres,
    }
}

/// What a claim's row selection ends with so that claimers running at once take different
/// rows: on PostgreSQL `FOR UPDATE SKIP LOCKED` (rows another transaction is claiming are
/// passed over, not waited for or taken twice); nothing on SQLite, where a write transaction
/// holds the database's one write lock from its start.
pub fn claim_lock_clause(conn: &DbConn) -> &'static str {
    match conn {
        DbConn::Pg(_) => " FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    }
}

/// Loads the rows `query` (a SELECT from one table) selects that no other transaction holds, and
/// holds them until this one ends: a claim of several rows that never waits, so two claimers
/// running at once take different rows, and neither waits for rows the other holds while it
/// holds rows the other waits for (a deadlock PostgreSQL ends by aborting one of them). On
/// PostgreSQL `FOR UPDATE SKIP LOCKED`; on SQLite the query as it is, a write transaction
/// holding the database's one write lock from its start. Sent to the inner connection.
macro_rules! load_unclaimed {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConn::Pg(c) => diesel::RunQueryDsl::load(
                diesel::QueryDsl::skip_locked(diesel::QueryDsl::for_update($query)),
                c,
            ),
            $crate::db::DbConn::Sqlite(c) => diesel::RunQueryDsl::load($query, c),
        }
    };
}
pub(crate) use load_unclaimed;

/// Locks the rows `query` (an ordered SELECT from one table) selects, in its order, until the
/// transaction ends: for a statement that will change many rows another transaction may be
/// changing too, which would lock them in whatever order it finds them. Two transactions that
/// lock the same rows in one order never deadlock. On PostgreSQL `FOR UPDATE`; nothing on SQLite
/// (no statement is sent), whose write transaction holds the database's one write lock.
macro_rules! lock_in_order {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConn::Pg(c) => {
                diesel::RunQueryDsl::execute(diesel::QueryDsl::for_update($query), c).map(|_| ())
            }
            $crate::db::DbConn::Sqlite(_) => diesel::QueryResult::Ok(()),
        }
    };
}
pub(crate) use lock_in_order;

/// The first `n` rows of an ordered listing, such as a board's first page.
///
/// SQLite built without the query planner stability guarantee (Hearth's build has it,
/// `.cargo/config.toml`; an operator's own `LIBSQLITE3_FLAGS` replace ours) compiles a statement
/// again every time a value is bound to its `LIMIT ?`, so a cached listing statement with a
/// LIMIT is recompiled on every request: a tenth of a board page's CPU. On SQLite the statement
/// therefore has no LIMIT and only `n` rows are stepped (SQLite produces rows as it walks the
/// index, so the rest are never read).
/// PostgreSQL keeps the LIMIT: its planner needs it to choose an index walk, and its server
/// would otherwise send every row.
pub fn first_rows<'q, Q, U>(conn: &mut DbConn, query: Q, n: i64) -> Result<Vec<U>>
where
    Q: LimitDsl + LoadQuery<'q, DbConn, U>,
    Q::Output: LoadQuery<'q, DbConn, U>,
{
    if matches!(conn, DbConn::Pg(_)) {
        return Ok(query.limit(n).load(conn)?);
    }
    let wanted = usize::try_from(n).unwrap_or(0);
    let rows = query
        .load_iter::<U, DefaultLoadingMode>(conn)?
        .take(wanted)
        .collect::<diesel::QueryResult<Vec<U>>>()?;
    Ok(rows)
}

/// SQLite has one writer at a time. Writers of this process queue here, and each is woken the
/// moment the one before it commits; left to SQLite, a waiting writer sleeps in its busy
/// handler (1, 2, 5 … 100 ms) and the lock sits idle between holders. Other processes (such as
/// `hearth admin create`) still meet `busy_timeout`.
static SQLITE_WRITERS: Mutex<()> = Mutex::new(());

/// Writers of requests waiting in [`SQLITE_WRITERS`]' queue now. Background work
/// ([`write_tx_background`]) lets them go first.
static REQUESTS_WAITING: AtomicUsize = AtomicUsize::new(0);

/// How long background work lets waiting requests go first before it takes its turn all the
/// same: it is never starved, and a request never waits behind more than one of its
/// transactions.
const BACKGROUND_YIELDS_AT_MOST: Duration = Duration::from_millis(25);

thread_local! {
    static IN_WRITE_TX: Cell<bool> = const { Cell::new(false) };
    /// This thread's write transactions are background work ([`write_tx_background`]).
    static IN_BACKGROUND: Cell<bool> = const { Cell::new(false) };
    static IN_READ: Cell<bool> = const { Cell::new(false) };
    /// Write transactions committed on this thread that may have changed what visitors see.
    static SEEN_COMMITS: Cell<u64> = const { Cell::new(0) };
}

/// How many write transactions that may change what visitors see ([`write_tx`], not
/// [`write_tx_unseen`]) have committed on this thread so far. The web layer compares it
/// before and after an operation: pages kept for visitors stay current unless it moved.
pub fn seen_commits() -> u64 {
    SEEN_COMMITS.with(Cell::get)
}

/// [`write_tx`] for rows no page shows anyone but their owner, or no one: sessions, sign-in
/// throttling. Its commit does not count in [`seen_commits`], so a visitor's failed sign-in
/// does not make every page kept for visitors out of date. A transaction that writes anything
/// else must be a [`write_tx`].
pub fn write_tx_unseen<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T>,
) -> Result<T> {
    let before = seen_commits();
    let outcome = write_tx(conn, f);
    SEEN_COMMITS.with(|count| count.set(before));
    outcome
}

/// [`write_tx_unseen`] for background work that can wait, such as telling a post's watchers
/// after the first batch: on SQLite it lets the writers of requests already queued for the
/// write lock go first, for at most [`BACKGROUND_YIELDS_AT_MOST`]. The process's queue is not
/// fair: a thread that lets go of the lock and asks again at once gets it back before a waiting
/// thread has even woken, so a worker going from batch to batch kept replies waiting for
/// seconds (docs/performance.md, "Twelfth session"). PostgreSQL has no such queue: the same as
/// [`write_tx_unseen`].
pub fn write_tx_background<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T>,
) -> Result<T> {
    if matches!(conn, DbConn::Sqlite(_)) {
        let since = std::time::Instant::now();
        while REQUESTS_WAITING.load(Ordering::Acquire) > 0
            && since.elapsed() < BACKGROUND_YIELDS_AT_MOST
        {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let _background = ThreadMark::set(&IN_BACKGROUND);
    write_tx_unseen(conn, f)
}

/// [`write_tx_unseen`] for a counter whose newest counts may be lost in a power cut (never in a
/// crash of Hearth alone: they are in the write-ahead log): a search counted against its limit.
/// Its commit does not wait for the disk (SQLite: `synchronous = NORMAL` for this transaction,
/// safe in WAL mode; PostgreSQL: `synchronous_commit = off`), so a search costs no flush. Every
/// other write keeps the durable commit a reply needs.
pub fn write_tx_counter<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T>,
) -> Result<T> {
    if matches!(conn, DbConn::Pg(_)) {
        return write_tx_unseen(conn, |conn| {
            diesel::sql_query("SET LOCAL synchronous_commit = off").execute(conn)?;
            f(conn)
        });
    }
    /// Puts the connection back to durable commits however the transaction ends.
    struct Durable<'c>(&'c mut DbConn);
    impl Drop for Durable<'_> {
        fn drop(&mut self) {
            if self.0.batch_execute("PRAGMA synchronous = FULL").is_ok() {
                return;
            }
            // SQLite refuses the pragma inside a transaction, which a panic leaves open (the
            // pool then discards the connection as broken): end it, and try once more.
            let _ = self.0.batch_execute("ROLLBACK");
            if let Err(error) = self.0.batch_execute("PRAGMA synchronous = FULL") {
                tracing::error!(%error, "a connection could not be made durable again");
            }
        }
    }
    conn.batch_execute("PRAGMA synchronous = NORMAL")?;
    let guard = Durable(conn);
    write_tx_unseen(&mut *guard.0, f)
}

/// Inside a write transaction: waits until no other transaction holds the lock named `name`,
/// and holds it until this one ends. For checks that count rows and then insert one (a
/// throttle's "fewer than n, so one more"), which must not interleave.
///
/// On SQLite a write transaction already holds the database's one write lock from its start
/// (`BEGIN IMMEDIATE`), so this does nothing; on PostgreSQL it takes a transaction-level
/// advisory lock on the first 8 bytes of the name's SHA-256. Take several in a fixed order.
pub fn lock_name(conn: &mut DbConn, name: &str) -> Result<()> {
    use sha2::{Digest, Sha256};
    let DbConn::Pg(pg) = conn else {
        return Ok(());
    };
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(i64::from_be_bytes(first))
        .execute(pg)?;
    Ok(())
}

/// Runs `f` in a write transaction: all of it commits or none of it does. Write transactions
/// do not nest (an attempt is an error, not a deadlock).
///
/// On SQLite the transaction begins IMMEDIATE, taking the write lock up front, so two writers
/// never deadlock upgrading a read lock (which `busy_timeout` cannot resolve).
pub fn write_tx<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    if IN_READ.with(Cell::get) {
        return Err(Error::Internal(
            "a write inside a read-only operation".to_owned(),
        ));
    }
    let DbConn::Sqlite(_) = conn else {
        let value = conn.transaction(f)?;
        SEEN_COMMITS.with(|count| count.set(count.get() + 1));
        return Ok(value);
    };
    if IN_WRITE_TX.with(Cell::get) {
        return Err(Error::Internal("write transactions do not nest".to_owned()));
    }
    // The wait for the write lock, for `/metrics`: this process's queue, then SQLite's own
    // lock (held by another process, which `busy_timeout` waits out), until BEGIN IMMEDIATE
    // returns. Two clock reads and a histogram that is a no-op without a recorder.
    let waiting_since = std::time::Instant::now();
    let waiting = (!IN_BACKGROUND.with(Cell::get)).then(RequestWaiting::new);
    // A writer that panicked left its transaction on a connection the pool then discards
    // (`has_broken`), so a poisoned lock is still a good lock.
    let _turn = SQLITE_WRITERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    drop(waiting);
    let _marker = ThreadMark::set(&IN_WRITE_TX);
    sqlite_write_tx(conn, waiting_since, f)
}

/// A request's writer counted in [`REQUESTS_WAITING`] until dropped.
struct RequestWaiting;

impl RequestWaiting {
    fn new() -> RequestWaiting {
        REQUESTS_WAITING.fetch_add(1, Ordering::AcqRel);
        RequestWaiting
    }
}

impl Drop for RequestWaiting {
    fn drop(&mut self) {
        REQUESTS_WAITING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Marks this thread (as inside a write transaction, or a read) until dropped — also when the
/// code inside panics, so a pooled or worker thread is never left marked.
struct ThreadMark(&'static std::thread::LocalKey<Cell<bool>>);

impl ThreadMark {
    fn set(flag: &'static std::thread::LocalKey<Cell<bool>>) -> ThreadMark {
        flag.with(|f| f.set(true));
        ThreadMark(flag)
    }
}

impl Drop for ThreadMark {
    fn drop(&mut self) {
        self.0.with(|f| f.set(false));
    }
}

fn sqlite_write_tx<T>(
    conn: &mut DbConn,
    waiting_since: std::time::Instant,
    f: impl FnOnce(&mut DbConn) -> Result<T>,
) -> Result<T> {
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("only called for SQLite")
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    crate::telemetry::write_lock_waited(waiting_since.elapsed());
    let outcome = f(conn);
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("a connection does not change its backend")
    };
    match outcome {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => {
                SEEN_COMMITS.with(|count| count.set(count.get() + 1));
                Ok(value)
            }
            Err(commit_error) => {
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(commit_error.into())
            }
        },
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(error)
        }
    }
}

/// SQLite connections for reads that run on the calling thread: as many as reads run at once
/// (at most one per worker thread), taken and put back last-in first-out.
///
/// A SQLite read is CPU work on pages the operating system already caches: handing it to a
/// blocking thread and waking the async thread afterwards costs about as much as the read
/// itself (a fifth of a thread page's CPU, measured). So the web layer runs page loads on its
/// own threads with one of these connections, and only writes (which queue for the write lock
/// and wait for the disk) go to the pool's threads. Each connection keeps a warm page cache
/// of its own (`cache_kib`).
///
/// The connections are `query_only`, and [`write_tx`] refuses to start inside [`Readers::run`],
/// so a write sent here by mistake fails loudly instead of holding up an async thread.
/// PostgreSQL has none: its reads wait on the network and stay on the pool's threads.
pub struct Readers {
    database_url: String,
    cache_kib: u32,
    idle: Mutex<Vec<DbConn>>,
}

impl Readers {
    /// Readers for `database_url` if it is a SQLite database, `None` for PostgreSQL.
    pub fn for_url(database_url: &str, cache_kib: u32) -> Option<Readers> {
        (Backend::of_url(database_url) == Backend::Sqlite).then(|| Readers {
            database_url: database_url.to_owned(),
            cache_kib,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Runs the read `f` on this thread, with an idle reader or a new one.
    pub fn run<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let idle = self.lock_idle().pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let outcome = read_only(&mut conn, f);
        // A panic in `f` drops the connection with the unwinding instead of returning it.
        self.lock_idle().push(conn);
        outcome
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<DbConn>> {
        // Connections are only pushed and popped under the lock, so a poisoned one is whole.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn connect(&self) -> Result<DbConn> {
        let mut conn = SqliteConnection::establish(&self.database_url)
            .map_err(|e| Error::Unavailable(format!("cannot open the database: {e}")))?;
        prepare_sqlite(&mut conn)?;
        // A WAL reader waits only in rare moments (recovery after a crash, another process
        // holding the file exclusively), but it waits on an async thread: not for long.
        conn.batch_execute(&format!(
            "PRAGMA query_only = ON; PRAGMA cache_size = -{}; PRAGMA busy_timeout = {};",
            self.cache_kib, READER_BUSY_TIMEOUT_MS
        ))?;
        Ok(DbConn::Sqlite(conn))
    }
}

/// How long a reader waits for a lock before the page fails.
const READER_BUSY_TIMEOUT_MS: u32 = 1_000;

/// Runs `f` as a read: [`write_tx`] fails inside it. On SQLite's [`Readers`] the connection
/// itself is `query_only` as well; on PostgreSQL this is what keeps page loads read-only.
pub fn read_only<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    let _marker = ThreadMark::set(&IN_READ);
    f(conn)
}

/// Runs the smallest statement: the database answers.
pub fn ping(conn: &mut DbConn) -> Result<()> {
    Ok(conn.batch_execute("SELECT 1")?)
}

pub mod counters;
#[cfg(test)]
mod plan_tests;
pub(crate) mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;
