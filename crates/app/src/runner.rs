//! Database work for the use cases that wait on the network between their transactions (the
//! card processor): each step runs on the blocking pool, never on an async worker, inside the
//! caller's span.

use anyhow::Context as _;
use vestibule_storage::{DbConnection, DbPool};

use crate::error::AppResult;

#[derive(Debug, Clone)]
pub struct Db(DbPool);

impl Db {
    pub fn new(pool: DbPool) -> Self {
        Self(pool)
    }

    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.0.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().context("no database connection available")?;
            work(&mut conn)
        })
        .await
        .context("database task was cancelled")?
    }
}
