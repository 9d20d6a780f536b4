//! Shared state of the running server and the two ways handlers reach the core.

use std::sync::Arc;

use actix_web::web;
use hearth_core::db::{DbConn, Pool, Readers};
use tera::Tera;
use tokio::sync::Semaphore;

use crate::config::WebConfig;
use crate::errors::WebError;

pub struct AppState {
    pub pool: Pool,
    /// SQLite connections for page loads on the async threads; `None` on PostgreSQL.
    readers: Option<Readers>,
    pub templates: Tera,
    pub config: WebConfig,
    /// Bounds concurrent argon2 runs so a burst of sign-ins cannot exhaust memory.
    password_permits: Semaphore,
}

pub type State = web::Data<AppState>;

impl AppState {
    pub fn new(
        pool: Pool,
        readers: Option<Readers>,
        templates: Tera,
        config: WebConfig,
    ) -> AppState {
        let permits = config.password_hash_concurrency.max(1);
        AppState {
            pool,
            readers,
            templates,
            config,
            password_permits: Semaphore::new(permits),
        }
    }
}

/// Runs a core operation on a pooled connection, off the async threads.
pub async fn db<T, F>(state: &AppState, operation: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> hearth_core::Result<T> + Send + 'static,
{
    let pool = state.pool.clone();
    let outcome = web::block(move || {
        let mut conn = pool.get()?;
        operation(&mut conn)
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
        Some(readers) => readers.run(operation).map_err(WebError::from),
        None => db(state, operation).await,
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
