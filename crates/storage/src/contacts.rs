use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::clients::lower;
use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::contacts;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts)]
pub struct ContactRow {
    pub id: String,
    pub firm_id: String,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub client_id: Option<String>,
    pub staff_id: Option<String>,
    pub office_id: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// `of` is replaced as a whole: exactly one of the three links is set.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = contacts, treat_none_as_null = false)]
pub struct ContactChanges {
    pub external_id: Option<Option<String>>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub client_id: Option<Option<String>>,
    pub staff_id: Option<Option<String>>,
    pub office_id: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct ContactFilter {
    pub client_id: Option<String>,
    pub staff_id: Option<String>,
    pub office_id: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub name_contains: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &ContactRow) -> StorageResult<()> {
    diesel::insert_into(contacts::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<ContactRow> {
    Ok(contacts::table
        .filter(contacts::firm_id.eq(firm_id).and(contacts::id.eq(id)))
        .select(ContactRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn find_by_email(conn: &mut DbConnection, firm_id: &str, email: &str) -> StorageResult<Option<ContactRow>> {
    Ok(contacts::table
        .filter(contacts::firm_id.eq(firm_id).and(contacts::email.eq(email)))
        .select(ContactRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn find_by_external_id(
    conn: &mut DbConnection,
    firm_id: &str,
    external_id: &str,
) -> StorageResult<Option<ContactRow>> {
    Ok(contacts::table
        .filter(contacts::firm_id.eq(firm_id).and(contacts::external_id.eq(external_id)))
        .select(ContactRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &ContactFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<ContactRow>> {
    let mut query = contacts::table.filter(contacts::firm_id.eq(firm_id)).into_boxed();
    if let Some(client) = &filter.client_id {
        query = query.filter(contacts::client_id.eq(client));
    }
    if let Some(staff) = &filter.staff_id {
        query = query.filter(contacts::staff_id.eq(staff));
    }
    if let Some(office) = &filter.office_id {
        query = query.filter(contacts::office_id.eq(office));
    }
    if let Some(email) = &filter.email {
        query = query.filter(contacts::email.eq(email));
    }
    if let Some(external_id) = &filter.external_id {
        query = query.filter(contacts::external_id.eq(external_id));
    }
    if let Some(needle) = &filter.name_contains {
        let pattern = crate::like_pattern(needle);
        query = query.filter(
            lower(contacts::first_name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(contacts::last_name).like(pattern).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(contacts::id.gt(after));
    }
    Ok(query.order(contacts::id.asc()).select(ContactRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn update(conn: &mut DbConnection, firm_id: &str, id: &str, changes: &ContactChanges) -> StorageResult<ContactRow> {
    let updated = diesel::update(contacts::table.filter(contacts::firm_id.eq(firm_id).and(contacts::id.eq(id))))
        .set(changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    get(conn, firm_id, id)
}

/// Deletes the contact with its password and sessions. Call inside a transaction.
pub fn delete(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<()> {
    get(conn, firm_id, id)?;
    diesel::delete(crate::schema::sessions::table.filter(crate::schema::sessions::contact_id.eq(id))).execute(conn)?;
    diesel::delete(crate::schema::credentials::table.find(id)).execute(conn)?;
    let deleted =
        diesel::delete(contacts::table.filter(contacts::firm_id.eq(firm_id).and(contacts::id.eq(id)))).execute(conn)?;
    if deleted == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

pub fn by_ids(conn: &mut DbConnection, ids: &[String]) -> StorageResult<Vec<ContactRow>> {
    Ok(contacts::table.filter(contacts::id.eq_any(ids)).select(ContactRow::as_select()).load(conn)?)
}
