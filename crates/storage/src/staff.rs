use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::staff;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff)]
pub struct StaffRow {
    pub id: String,
    pub firm_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub portal_permission: bool,
    pub office_id: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = staff)]
pub struct StaffChanges {
    pub name: Option<String>,
    pub role: Option<String>,
    pub portal_permission: Option<bool>,
    pub office_id: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct StaffFilter {
    pub role: Option<String>,
    pub office_id: Option<String>,
    pub include_disabled: bool,
}

pub fn insert(conn: &mut DbConnection, row: &StaffRow) -> StorageResult<()> {
    diesel::insert_into(staff::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<StaffRow> {
    Ok(staff::table
        .filter(staff::firm_id.eq(firm_id).and(staff::id.eq(id)))
        .select(StaffRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn find_by_email(conn: &mut DbConnection, firm_id: &str, email: &str) -> StorageResult<Option<StaffRow>> {
    Ok(staff::table
        .filter(staff::firm_id.eq(firm_id).and(staff::email.eq(email)))
        .select(StaffRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// How many of `ids` are active staff of the firm: lets callers check a whole list of
/// references (assignees, members) in one query.
pub fn count_active(conn: &mut DbConnection, firm_id: &str, ids: &[String]) -> StorageResult<i64> {
    Ok(staff::table
        .filter(staff::firm_id.eq(firm_id).and(staff::id.eq_any(ids)).and(staff::disabled_at.is_null()))
        .count()
        .get_result(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &StaffFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<StaffRow>> {
    let mut query = staff::table.filter(staff::firm_id.eq(firm_id)).into_boxed();
    if let Some(role) = &filter.role {
        query = query.filter(staff::role.eq(role));
    }
    if let Some(office) = &filter.office_id {
        query = query.filter(staff::office_id.eq(office));
    }
    if !filter.include_disabled {
        query = query.filter(staff::disabled_at.is_null());
    }
    if let Some(after) = after {
        query = query.filter(staff::id.gt(after));
    }
    Ok(query.order(staff::id.asc()).select(StaffRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn update(conn: &mut DbConnection, firm_id: &str, id: &str, changes: &StaffChanges) -> StorageResult<StaffRow> {
    let updated = diesel::update(staff::table.filter(staff::firm_id.eq(firm_id).and(staff::id.eq(id))))
        .set(changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    get(conn, firm_id, id)
}

pub fn set_disabled(conn: &mut DbConnection, firm_id: &str, id: &str, at: Option<NaiveDateTime>) -> StorageResult<()> {
    diesel::update(staff::table.filter(staff::firm_id.eq(firm_id).and(staff::id.eq(id))))
        .set((staff::disabled_at.eq(at), staff::updated_at.eq(crate::now())))
        .execute(conn)?;
    Ok(())
}

/// The addresses of the firm's active owners and admins, who hear about operational problems.
pub fn admin_emails(conn: &mut DbConnection, firm_id: &str) -> StorageResult<Vec<String>> {
    Ok(staff::table
        .filter(staff::firm_id.eq(firm_id))
        .filter(staff::role.eq_any(["owner", "admin"]))
        .filter(staff::disabled_at.is_null())
        .order(staff::id.asc())
        .select(staff::email)
        .load(conn)?)
}

/// The active staff who may see a conversation about `matter_id` (or about the client
/// alone): everyone, unless the matter is restricted, then its members and the admins.
pub fn with_access(conn: &mut DbConnection, firm_id: &str, matter_id: Option<&str>) -> StorageResult<Vec<StaffRow>> {
    use crate::schema::{matter_members, matters};
    let mut query = staff::table.filter(staff::firm_id.eq(firm_id).and(staff::disabled_at.is_null())).into_boxed();
    if let Some(matter_id) = matter_id {
        let restricted: bool = matters::table
            .filter(matters::firm_id.eq(firm_id).and(matters::id.eq(matter_id)))
            .select(matters::restricted)
            .limit_literal(1)
            .get_result(conn)?;
        if restricted {
            let members =
                matter_members::table.filter(matter_members::matter_id.eq(matter_id)).select(matter_members::staff_id);
            query = query.filter(staff::role.eq_any(["owner", "admin"]).or(staff::id.eq_any(members)));
        }
    }
    Ok(query.order(staff::id.asc()).select(StaffRow::as_select()).load(conn)?)
}
