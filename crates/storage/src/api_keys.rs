use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::api_keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub firm_id: String,
    pub name: String,
    pub secret_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &ApiKeyRow) -> StorageResult<()> {
    diesel::insert_into(api_keys::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<ApiKeyRow> {
    Ok(api_keys::table
        .filter(api_keys::firm_id.eq(firm_id).and(api_keys::id.eq(id)))
        .select(ApiKeyRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// The key as authentication sees it: by id alone, since the id is what the caller presents.
pub fn find_active(conn: &mut DbConnection, id: &str) -> StorageResult<Option<ApiKeyRow>> {
    Ok(api_keys::table
        .filter(api_keys::id.eq(id).and(api_keys::revoked_at.is_null()))
        .select(ApiKeyRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    include_revoked: bool,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<ApiKeyRow>> {
    let mut query = api_keys::table.filter(api_keys::firm_id.eq(firm_id)).into_boxed();
    if !include_revoked {
        query = query.filter(api_keys::revoked_at.is_null());
    }
    if let Some(after) = after {
        query = query.filter(api_keys::id.gt(after));
    }
    Ok(query.order(api_keys::id.asc()).select(ApiKeyRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn revoke(conn: &mut DbConnection, firm_id: &str, id: &str, now: NaiveDateTime) -> StorageResult<ApiKeyRow> {
    let updated = diesel::update(
        api_keys::table
            .filter(api_keys::firm_id.eq(firm_id).and(api_keys::id.eq(id)).and(api_keys::revoked_at.is_null())),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    get(conn, firm_id, id)
}

pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> StorageResult<()> {
    diesel::update(api_keys::table.find(id)).set(api_keys::last_used_at.eq(now)).execute(conn)?;
    Ok(())
}
