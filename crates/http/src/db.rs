use actix_web::web;
use anyhow::Context;
use vestibule_app::AppResult;
use vestibule_app::runner::Db;
use vestibule_storage::DbConnection;

use crate::error::ApiError;
use crate::state::AppState;

/// Runs blocking database work on actix's blocking pool, never on an async worker, inside
/// the caller's span, so that what it logs carries the request id.
pub async fn run<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        let mut conn = pool.get().context("no database connection available")?;
        work(&mut conn)
    })
    .await
    .context("database task was cancelled")?
}

/// Runs a use case the same way.
pub async fn call<T, F>(state: &AppState, use_case: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    Ok(runner(state).run(use_case).await?)
}

/// The database as a use case that waits on the network between its steps takes it.
pub fn runner(state: &AppState) -> Db {
    Db::new(state.pool.clone())
}
