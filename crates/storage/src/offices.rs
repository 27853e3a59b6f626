use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::offices;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offices)]
pub struct OfficeRow {
    pub id: String,
    pub firm_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = offices)]
pub struct OfficeChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &OfficeRow) -> StorageResult<()> {
    diesel::insert_into(offices::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<OfficeRow> {
    Ok(offices::table
        .filter(offices::firm_id.eq(firm_id).and(offices::id.eq(id)))
        .select(OfficeRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn list(conn: &mut DbConnection, firm_id: &str, after: Option<&str>, limit: i64) -> StorageResult<Vec<OfficeRow>> {
    let mut query = offices::table.filter(offices::firm_id.eq(firm_id)).into_boxed();
    if let Some(after) = after {
        query = query.filter(offices::id.gt(after));
    }
    Ok(query.order(offices::id.asc()).select(OfficeRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn update(conn: &mut DbConnection, firm_id: &str, id: &str, changes: &OfficeChanges) -> StorageResult<OfficeRow> {
    let updated = diesel::update(offices::table.filter(offices::firm_id.eq(firm_id).and(offices::id.eq(id))))
        .set(changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    get(conn, firm_id, id)
}

/// Fails with [`StorageError::ForeignKey`] while staff or contacts still belong to the office.
pub fn delete(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<()> {
    let deleted =
        diesel::delete(offices::table.filter(offices::firm_id.eq(firm_id).and(offices::id.eq(id)))).execute(conn)?;
    if deleted == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}
