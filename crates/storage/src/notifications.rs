//! In-app notifications of staff members and portal contacts: the recipient is a kind
//! (`staff` or `contact`, as in `live_events`) and an id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::notifications;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub firm_id: String,
    pub recipient_kind: String,
    pub recipient_id: String,
    pub kind: String,
    pub client_id: String,
    /// What the notification is about: `conversation`, `document`, `document_request`, …
    pub subject_type: String,
    pub subject_id: String,
    /// The message, for notifications about one.
    pub message_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &NotificationRow) -> StorageResult<()> {
    diesel::insert_into(notifications::table).values(row).execute(conn)?;
    Ok(())
}

type Mine = diesel::dsl::And<
    diesel::dsl::And<
        diesel::dsl::Eq<notifications::firm_id, String>,
        diesel::dsl::Eq<notifications::recipient_id, String>,
    >,
    diesel::dsl::Eq<notifications::recipient_kind, String>,
>;

fn mine(firm_id: &str, (kind, id): (&str, &str)) -> Mine {
    notifications::firm_id
        .eq(firm_id.to_owned())
        .and(notifications::recipient_id.eq(id.to_owned()))
        .and(notifications::recipient_kind.eq(kind.to_owned()))
}

/// Newest first; the cursor is the last row's id.
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    recipient: (&str, &str),
    unread_only: bool,
    before: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<NotificationRow>> {
    let mut query = notifications::table.filter(mine(firm_id, recipient)).into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    Ok(query
        .order(notifications::id.desc())
        .select(NotificationRow::as_select())
        .limit_literal(limit + 1)
        .load(conn)?)
}

pub fn unread_count(conn: &mut DbConnection, firm_id: &str, recipient: (&str, &str)) -> StorageResult<i64> {
    Ok(notifications::table
        .filter(mine(firm_id, recipient))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Marks one of the recipient's notifications read (again: the first time counts).
pub fn mark_read(
    conn: &mut DbConnection,
    firm_id: &str,
    recipient: (&str, &str),
    id: &str,
) -> StorageResult<NotificationRow> {
    let mine = notifications::table.filter(mine(firm_id, recipient)).filter(notifications::id.eq(id));
    let row: NotificationRow =
        mine.select(NotificationRow::as_select()).limit_literal(1).get_result(conn).map_err(StorageError::from)?;
    if row.read_at.is_some() {
        return Ok(row);
    }
    let now = crate::now();
    diesel::update(notifications::table.find(id)).set(notifications::read_at.eq(now)).execute(conn)?;
    Ok(NotificationRow { read_at: Some(now), ..row })
}

/// Marks every unread notification of the recipient read; returns how many.
pub fn mark_all_read(conn: &mut DbConnection, firm_id: &str, recipient: (&str, &str)) -> StorageResult<usize> {
    Ok(diesel::update(notifications::table.filter(mine(firm_id, recipient)).filter(notifications::read_at.is_null()))
        .set(notifications::read_at.eq(crate::now()))
        .execute(conn)?)
}
