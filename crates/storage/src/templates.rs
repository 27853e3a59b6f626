//! Firm-wide message templates.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::message_templates;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = message_templates)]
pub struct TemplateRow {
    pub id: String,
    pub firm_id: String,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = message_templates)]
pub struct TemplateChanges {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &TemplateRow) -> StorageResult<()> {
    diesel::insert_into(message_templates::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<TemplateRow> {
    Ok(message_templates::table
        .filter(message_templates::firm_id.eq(firm_id).and(message_templates::id.eq(id)))
        .select(TemplateRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    name_contains: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<TemplateRow>> {
    let mut query = message_templates::table.filter(message_templates::firm_id.eq(firm_id)).into_boxed();
    if let Some(needle) = name_contains {
        query =
            query.filter(crate::clients::lower(message_templates::name).like(crate::like_pattern(needle)).escape('\\'));
    }
    if let Some(after) = after {
        query = query.filter(message_templates::id.gt(after));
    }
    Ok(query.order(message_templates::id.asc()).select(TemplateRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn update(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    changes: &TemplateChanges,
) -> StorageResult<TemplateRow> {
    diesel::update(
        message_templates::table.filter(message_templates::firm_id.eq(firm_id).and(message_templates::id.eq(id))),
    )
    .set(changes)
    .execute(conn)?;
    get(conn, firm_id, id)
}

pub fn delete(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<()> {
    let deleted = diesel::delete(
        message_templates::table.filter(message_templates::firm_id.eq(firm_id).and(message_templates::id.eq(id))),
    )
    .execute(conn)?;
    if deleted == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}
