use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;

use crate::clients::lower;
use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::{matter_members, matters};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = matters)]
pub struct MatterRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub title: String,
    pub reference: Option<String>,
    pub email: Option<String>,
    pub restricted: bool,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = matter_members)]
pub struct MemberRow {
    pub matter_id: String,
    pub staff_id: String,
    pub firm_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = matters)]
pub struct MatterChanges {
    pub client_id: Option<String>,
    pub title: Option<String>,
    pub reference: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub restricted: Option<bool>,
    pub external_id: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct MatterFilter {
    pub client_id: Option<String>,
    pub member_staff_id: Option<String>,
    pub restricted: Option<bool>,
    pub external_id: Option<String>,
    pub title_contains: Option<String>,
}

type Boxed<'a> = matters::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

/// Narrows a query to the matters `visibility` allows: one rule for get, list and update.
fn visible<'a>(query: Boxed<'a>, visibility: &'a MatterVisibility) -> Boxed<'a> {
    match visibility {
        MatterVisibility::All => query,
        MatterVisibility::UnrestrictedOrMemberOf(staff_id) => query.filter(
            matters::restricted.eq(false).or(matters::id.eq_any(
                matter_members::table
                    .filter(matter_members::staff_id.eq(staff_id.as_str()))
                    .select(matter_members::matter_id),
            )),
        ),
        MatterVisibility::None => query.filter(matters::id.is_null()),
    }
}

pub fn insert(conn: &mut DbConnection, row: &MatterRow) -> StorageResult<()> {
    diesel::insert_into(matters::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<MatterRow> {
    let query = matters::table.filter(matters::firm_id.eq(firm_id).and(matters::id.eq(id))).into_boxed();
    Ok(visible(query, visibility).select(MatterRow::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn find_by_external_id(
    conn: &mut DbConnection,
    firm_id: &str,
    external_id: &str,
) -> StorageResult<Option<MatterRow>> {
    Ok(matters::table
        .filter(matters::firm_id.eq(firm_id).and(matters::external_id.eq(external_id)))
        .select(MatterRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &MatterFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<MatterRow>> {
    let mut query = visible(matters::table.filter(matters::firm_id.eq(firm_id)).into_boxed(), visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(matters::client_id.eq(client));
    }
    if let Some(restricted) = filter.restricted {
        query = query.filter(matters::restricted.eq(restricted));
    }
    if let Some(external_id) = &filter.external_id {
        query = query.filter(matters::external_id.eq(external_id));
    }
    if let Some(member) = &filter.member_staff_id {
        query = query.filter(matters::id.eq_any(
            matter_members::table.filter(matter_members::staff_id.eq(member)).select(matter_members::matter_id),
        ));
    }
    if let Some(needle) = &filter.title_contains {
        query = query.filter(lower(matters::title).like(crate::like_pattern(needle)).escape('\\'));
    }
    if let Some(after) = after {
        query = query.filter(matters::id.gt(after));
    }
    Ok(query.order(matters::id.asc()).select(MatterRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Applies `changes` to a visible matter if its version is still `expected_version`.
pub fn update(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
    expected_version: Option<i64>,
    changes: &MatterChanges,
) -> StorageResult<MatterRow> {
    let current = get(conn, firm_id, id, visibility)?.version;
    if expected_version.is_some_and(|expected| expected != current) {
        return Err(StorageError::VersionMismatch);
    }
    let updated = diesel::update(matters::table.filter(matters::id.eq(id).and(matters::version.eq(current))))
        .set((changes, matters::version.eq(current + 1)))
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::VersionMismatch);
    }
    get(conn, firm_id, id, visibility)
}

pub fn delete(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
    expected_version: Option<i64>,
) -> StorageResult<()> {
    let current = get(conn, firm_id, id, visibility)?.version;
    if expected_version.is_some_and(|expected| expected != current) {
        return Err(StorageError::VersionMismatch);
    }
    diesel::delete(matters::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn members(conn: &mut DbConnection, firm_id: &str, matter_id: &str) -> StorageResult<Vec<MemberRow>> {
    Ok(matter_members::table
        .filter(matter_members::firm_id.eq(firm_id).and(matter_members::matter_id.eq(matter_id)))
        .order(matter_members::staff_id.asc())
        .select(MemberRow::as_select())
        .load(conn)?)
}

pub fn role_of(
    conn: &mut DbConnection,
    firm_id: &str,
    matter_id: &str,
    staff_id: &str,
) -> StorageResult<Option<String>> {
    Ok(matter_members::table
        .find((matter_id, staff_id))
        .filter(matter_members::firm_id.eq(firm_id))
        .select(matter_members::role)
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// Adds the member or changes their role. Returns whether the member is new.
pub fn put_member(conn: &mut DbConnection, row: &MemberRow) -> StorageResult<bool> {
    let updated = diesel::update(
        matter_members::table.find((&row.matter_id, &row.staff_id)).filter(matter_members::firm_id.eq(&row.firm_id)),
    )
    .set(matter_members::role.eq(&row.role))
    .execute(conn)?;
    if updated > 0 {
        return Ok(false);
    }
    diesel::insert_into(matter_members::table).values(row).execute(conn)?;
    Ok(true)
}

pub fn remove_member(conn: &mut DbConnection, firm_id: &str, matter_id: &str, staff_id: &str) -> StorageResult<()> {
    let deleted =
        diesel::delete(matter_members::table.find((matter_id, staff_id)).filter(matter_members::firm_id.eq(firm_id)))
            .execute(conn)?;
    if deleted == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}
