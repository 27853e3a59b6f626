use actix_web::web;
use anyhow::Context;
use vestibule_storage::DbConnection;

use crate::error::ApiError;
use crate::state::AppState;

/// Runs blocking database work on actix's blocking pool, never on an async worker.
pub async fn run<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get().context("no database connection available")?;
        work(&mut conn)
    })
    .await
    .context("database task was cancelled")?
}
