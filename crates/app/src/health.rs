//! Whether this instance can serve: the database answers.

use vestibule_storage::DbConnection;

use crate::error::AppResult;

#[tracing::instrument(skip_all)]
pub fn ready(conn: &mut DbConnection) -> AppResult<()> {
    Ok(vestibule_storage::db::ping(conn)?)
}
