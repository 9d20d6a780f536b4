//! Shared state of the running server and the two ways handlers reach the core.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use hearth_core::accounts::tokens;
use hearth_core::db::{DbConn, Pool, Readers};
use hearth_core::forum::reads::{self, PendingReads};
use tera::Tera;
use tokio::sync::Semaphore;

use crate::config::WebConfig;
use crate::errors::WebError;
use crate::visitor_pages::VisitorPages;

pub struct AppState {
    pub pool: Pool,
    /// SQLite connections for page loads on the async threads; `None` on PostgreSQL.
    readers: Option<Readers>,
    pub templates: Tera,
    pub config: WebConfig,
    /// Bounds concurrent argon2 runs so a burst of sign-ins cannot exhaust memory.
    password_permits: Semaphore,
    /// The threads that run [`db`] operations: one per pooled connection, shared by every
    /// worker. Each worker's own blocking pool would start a thread per waiting operation (64
    /// concurrent replies made 40 threads waiting for 16 connections, each with an allocator
    /// heap of its own: 200 MB, and 315 MB without a limit); here operations beyond the pool's
    /// size queue instead.
    db_threads: Option<tokio::runtime::Runtime>,
    /// Pages every visitor sees alike, kept until the next [`db`] operation that writes what
    /// they show (SQLite only).
    pub visitor_pages: VisitorPages,
    /// Signs visitors' CSRF tokens (a site secret, the same on every node), so a token's value
    /// cannot be chosen by anyone but this server: a made-up one (the same one planted in many
    /// browsers, say) is ignored. Planting a real one is what the `__Host-` prefix stops on
    /// https; `Sec-Fetch-Site` and the `Origin` check stop the cross-site form itself.
    pub visitor_csrf_key: Vec<u8>,
    /// Keys the rows sign-in and registration throttling keep (`accounts::throttle`), so an
    /// address cannot be read back from them without the database's secret.
    pub throttle_key: Vec<u8>,
    /// Read markers waiting to be written (`reads::PendingReads`): a thread writes them once
    /// a second, and dropping the state writes what is left.
    pub pending_reads: Arc<PendingReads>,
    /// `/metrics`, when the operator turned it on (`[metrics]`).
    pub metrics: Option<crate::telemetry::Exporter>,
}

impl Drop for AppState {
    fn drop(&mut self) {
        // The server may stop on one of its own async threads, where a runtime cannot be
        // dropped the ordinary (waiting) way.
        if let Some(runtime) = self.db_threads.take() {
            runtime.shutdown_background();
        }
        write_pending_reads(&self.pool, &self.pending_reads);
    }
}

/// How often waiting read markers are written.
const PENDING_READS_EVERY: Duration = Duration::from_secs(1);

/// Writes the read markers waiting in `pending`; they are lost (with a warning, and written
/// again by the next reading) if the database refuses.
fn write_pending_reads(pool: &Pool, pending: &PendingReads) {
    let marks = pending.take_all();
    if marks.is_empty() {
        return;
    }
    let written = pool
        .get()
        .map_err(hearth_core::Error::from)
        .and_then(|mut conn| reads::record_pending(&mut conn, &marks));
    if written.is_err() {
        tracing::warn!(markers = marks.len(), "read markers could not be written");
    }
}

/// Starts the thread that writes waiting read markers every [`PENDING_READS_EVERY`], for as
/// long as the server's state lives.
fn write_pending_reads_every_second(
    pool: Pool,
    pending: &Arc<PendingReads>,
) -> std::io::Result<()> {
    let pending = Arc::downgrade(pending);
    std::thread::Builder::new()
        .name("hearth-reads".to_owned())
        .spawn(move || loop {
            std::thread::sleep(PENDING_READS_EVERY);
            let Some(pending) = pending.upgrade() else {
                return;
            };
            write_pending_reads(&pool, &pending);
        })
        .map(drop)
}

pub type State = web::Data<AppState>;

impl AppState {
    pub fn new(
        pool: Pool,
        readers: Option<Readers>,
        templates: Tera,
        config: WebConfig,
    ) -> std::io::Result<AppState> {
        let connections = usize::try_from(pool.max_size()).unwrap_or(1);
        let secret = |name: &str| {
            pool.get()
                .map_err(hearth_core::Error::from)
                .and_then(|mut conn| tokens::site_secret(&mut conn, name))
                .map_err(|e| std::io::Error::other(format!("reading the site's secret: {e}")))
        };
        let visitor_csrf_key = secret("visitor_csrf")?;
        let throttle_key = secret("throttle")?;
        // A password is checked on a database thread: leave at least half of them to
        // everything else, however many cores the machine has.
        let permits = config.password_hash_concurrency.min(connections / 2).max(1);
        let db_threads = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(connections)
            .thread_name("hearth-db")
            .build()?;
        let pending_reads = Arc::new(PendingReads::default());
        write_pending_reads_every_second(pool.clone(), &pending_reads)?;
        let metrics = match &config.metrics_token {
            Some(token) => Some(crate::telemetry::Exporter::new(token).ok_or_else(|| {
                std::io::Error::other("the metrics recorder cannot be installed")
            })?),
            None => None,
        };
        Ok(AppState {
            metrics,
            pending_reads,
            db_threads: Some(db_threads),
            visitor_pages: VisitorPages::new(
                readers.is_some() && config.cache_visitor_pages,
                config.visitor_pages_budget,
            ),
            pool,
            readers,
            templates,
            config,
            password_permits: Semaphore::new(permits),
            visitor_csrf_key,
            throttle_key,
        })
    }
}

/// Runs a core operation on a pooled connection, off the async threads. Every operation that
/// may write goes through here (page loads use [`read`], which cannot), so this is where the
/// pages kept for visitors are marked out of date: when the operation committed a write
/// transaction that may change what visitors see (`hearth_core::db::seen_commits` moved; a
/// failed or refused form, a sign-in, a session's start or end do not), or panicked.
pub async fn db<T, F>(state: &AppState, operation: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> hearth_core::Result<T> + Send + 'static,
{
    let pool = state.pool.clone();
    let threads = state.db_threads.as_ref().ok_or(WebError::Internal)?;
    let marker = state.visitor_pages.write_marker();
    let outcome = threads
        .spawn_blocking(move || {
            // Pages kept for visitors are out of date when the marker drops here, on this
            // thread (not after the await, which a request that has gone away never reaches),
            // unless the operation is known to have committed nothing visitors could see; a
            // panic leaves it armed, since the operation may have committed before panicking.
            let mut marker = marker;
            let commits_before = hearth_core::db::seen_commits();
            let outcome = pool
                .get()
                .map_err(hearth_core::Error::from)
                .and_then(|mut conn| operation(&mut conn));
            if hearth_core::db::seen_commits() == commits_before {
                marker.disarm();
            }
            outcome
        })
        .await
        .map_err(|_| WebError::Internal)?;
    outcome.map_err(WebError::from)
}

/// Runs a core operation that only reads. On SQLite it runs right here, on this async thread,
/// with one of [`Readers`]' connections: a read is a little CPU work on cached pages, cheaper
/// to do than to hand to another thread. On PostgreSQL it goes through [`db`]. An operation
/// that writes fails here (see [`Readers`]), so page loads must not write.
pub async fn read<T, F>(state: &AppState, operation: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> hearth_core::Result<T> + Send + 'static,
{
    match &state.readers {
        // A panic inside is a 500 for this request, as it is on the database threads, not an
        // abandoned connection.
        Some(readers) => {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| readers.run(operation)))
                .map_err(|_| WebError::Internal)?
                .map_err(WebError::from)
        }
        // Read-only there too, so a write sent here fails on both backends alike.
        None => {
            db(state, move |conn| {
                hearth_core::db::read_only(conn, operation)
            })
            .await
        }
    }
}

/// Like [`db`], for operations that hash a password: waits for one of a few permits first.
pub async fn db_with_password<T, F>(state: &AppState, operation: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> hearth_core::Result<T> + Send + 'static,
{
    let _permit = state
        .password_permits
        .acquire()
        .await
        .map_err(|_| WebError::Internal)?;
    db(state, operation).await
}

pub fn shared(state: AppState) -> State {
    web::Data::from(Arc::new(state))
}
