//! In-app notifications of staff members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::schema::notifications;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub firm_id: String,
    pub staff_id: String,
    pub kind: String,
    pub client_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &NotificationRow) -> StorageResult<()> {
    diesel::insert_into(notifications::table).values(row).execute(conn)?;
    Ok(())
}

/// Newest first; the cursor is the last row's id.
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    staff_id: &str,
    unread_only: bool,
    before: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<NotificationRow>> {
    let mut query = notifications::table
        .filter(notifications::firm_id.eq(firm_id).and(notifications::staff_id.eq(staff_id)))
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    Ok(query.order(notifications::id.desc()).limit(limit + 1).select(NotificationRow::as_select()).load(conn)?)
}

pub fn unread_count(conn: &mut DbConnection, firm_id: &str, staff_id: &str) -> StorageResult<i64> {
    Ok(notifications::table
        .filter(notifications::firm_id.eq(firm_id).and(notifications::staff_id.eq(staff_id)))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Marks one of the staff member's notifications read (again: the first time counts).
pub fn mark_read(conn: &mut DbConnection, firm_id: &str, staff_id: &str, id: &str) -> StorageResult<NotificationRow> {
    let mine = notifications::table
        .filter(notifications::firm_id.eq(firm_id).and(notifications::staff_id.eq(staff_id)))
        .filter(notifications::id.eq(id));
    let row: NotificationRow = mine.select(NotificationRow::as_select()).first(conn).map_err(StorageError::from)?;
    if row.read_at.is_some() {
        return Ok(row);
    }
    let now = crate::now();
    diesel::update(notifications::table.find(id)).set(notifications::read_at.eq(now)).execute(conn)?;
    Ok(NotificationRow { read_at: Some(now), ..row })
}

/// Marks every unread notification of the staff member read; returns how many.
pub fn mark_all_read(conn: &mut DbConnection, firm_id: &str, staff_id: &str) -> StorageResult<usize> {
    Ok(diesel::update(
        notifications::table
            .filter(notifications::firm_id.eq(firm_id).and(notifications::staff_id.eq(staff_id)))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(crate::now()))
    .execute(conn)?)
}
