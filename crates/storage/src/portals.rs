//! Portals and their grants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::{clients, contacts, matters, portal_grants, portals};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = portals)]
pub struct PortalRow {
    pub id: String,
    pub firm_id: String,
    pub contact_id: String,
    pub kind: String,
    pub expires_at: Option<NaiveDateTime>,
    /// `invited` or `active`; disabled and expired are derived from the timestamps.
    pub status: String,
    pub created_by: Option<String>,
    pub activated_at: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = portal_grants)]
pub struct GrantRow {
    pub id: String,
    pub firm_id: String,
    pub portal_id: String,
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    pub granted_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Effective status filter, evaluated at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Invited,
    Active,
    Disabled,
    Expired,
}

#[derive(Debug, Default)]
pub struct PortalFilter {
    pub contact_id: Option<String>,
    pub email: Option<String>,
    pub client_id: Option<String>,
    pub status: Option<StatusFilter>,
}

pub fn insert(conn: &mut DbConnection, row: &PortalRow) -> StorageResult<()> {
    diesel::insert_into(portals::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<PortalRow> {
    Ok(portals::table
        .filter(portals::firm_id.eq(firm_id).and(portals::id.eq(id)))
        .select(PortalRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn for_contact(conn: &mut DbConnection, firm_id: &str, contact_id: &str) -> StorageResult<Option<PortalRow>> {
    Ok(portals::table
        .filter(portals::firm_id.eq(firm_id).and(portals::contact_id.eq(contact_id)))
        .select(PortalRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &PortalFilter,
    now: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<PortalRow>> {
    let mut query = portals::table.filter(portals::firm_id.eq(firm_id)).into_boxed();
    if let Some(contact) = &filter.contact_id {
        query = query.filter(portals::contact_id.eq(contact));
    }
    if let Some(email) = &filter.email {
        query = query.filter(portals::contact_id.eq_any(
            contacts::table.filter(contacts::firm_id.eq(firm_id).and(contacts::email.eq(email))).select(contacts::id),
        ));
    }
    if let Some(client) = &filter.client_id {
        let of_client = contacts::table.filter(contacts::client_id.eq(client)).select(contacts::id);
        let granted = portal_grants::table.filter(portal_grants::client_id.eq(client)).select(portal_grants::portal_id);
        query = query.filter(portals::contact_id.eq_any(of_client).or(portals::id.eq_any(granted)));
    }
    let not_expired = portals::expires_at.is_null().or(portals::expires_at.gt(now));
    query = match filter.status {
        None => query,
        Some(StatusFilter::Disabled) => query.filter(portals::disabled_at.is_not_null()),
        Some(StatusFilter::Expired) => query.filter(portals::disabled_at.is_null().and(portals::expires_at.le(now))),
        Some(StatusFilter::Active) => {
            query.filter(portals::disabled_at.is_null().and(portals::status.eq("active")).and(not_expired))
        }
        Some(StatusFilter::Invited) => {
            query.filter(portals::disabled_at.is_null().and(portals::status.eq("invited")).and(not_expired))
        }
    };
    if let Some(after) = after {
        query = query.filter(portals::id.gt(after));
    }
    Ok(query.order(portals::id.asc()).select(PortalRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn set_disabled(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    at: Option<NaiveDateTime>,
) -> StorageResult<PortalRow> {
    let updated = diesel::update(portals::table.filter(portals::firm_id.eq(firm_id).and(portals::id.eq(id))))
        .set((portals::disabled_at.eq(at), portals::updated_at.eq(crate::now())))
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    get(conn, firm_id, id)
}

/// Changes the kind and expiry (a temporary portal made full, or given more time).
pub fn set_kind(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    kind: &str,
    expires_at: Option<NaiveDateTime>,
) -> StorageResult<PortalRow> {
    diesel::update(portals::table.filter(portals::firm_id.eq(firm_id).and(portals::id.eq(id))))
        .set((portals::kind.eq(kind), portals::expires_at.eq(expires_at), portals::updated_at.eq(crate::now())))
        .execute(conn)?;
    get(conn, firm_id, id)
}

pub fn activate(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> StorageResult<()> {
    diesel::update(portals::table.find(id))
        .set((portals::status.eq("active"), portals::activated_at.eq(now), portals::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub fn grants(conn: &mut DbConnection, portal_ids: &[&str]) -> StorageResult<Vec<GrantRow>> {
    Ok(portal_grants::table
        .filter(portal_grants::portal_id.eq_any(portal_ids))
        .order(portal_grants::id.asc())
        .select(GrantRow::as_select())
        .load(conn)?)
}

/// Adds the grant unless the portal has it already; returns the grant either way.
pub fn add_grant(conn: &mut DbConnection, row: &GrantRow) -> StorageResult<GrantRow> {
    let mut existing = portal_grants::table.filter(portal_grants::portal_id.eq(&row.portal_id)).into_boxed();
    existing = match (&row.client_id, &row.matter_id) {
        (Some(client), _) => existing.filter(portal_grants::client_id.eq(client)),
        (_, Some(matter)) => existing.filter(portal_grants::matter_id.eq(matter)),
        _ => existing,
    };
    if let Some(found) = existing.select(GrantRow::as_select()).limit_literal(1).get_result(conn).optional()? {
        return Ok(found);
    }
    diesel::insert_into(portal_grants::table).values(row).execute(conn)?;
    Ok(row.clone())
}

pub fn remove_grant(conn: &mut DbConnection, firm_id: &str, portal_id: &str, grant_id: &str) -> StorageResult<()> {
    let deleted = diesel::delete(
        portal_grants::table
            .filter(portal_grants::firm_id.eq(firm_id))
            .filter(portal_grants::portal_id.eq(portal_id))
            .filter(portal_grants::id.eq(grant_id)),
    )
    .execute(conn)?;
    if deleted == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

/// What a portal shows: granted clients with all their matters, and granted single matters.
#[derive(Debug, Clone, Default)]
pub struct Visible {
    pub clients: Vec<(String, String)>,
    pub matters: Vec<(String, String, String)>,
}

pub fn visible(conn: &mut DbConnection, portal_id: &str) -> StorageResult<Visible> {
    let granted_clients = portal_grants::table
        .filter(portal_grants::portal_id.eq(portal_id).and(portal_grants::client_id.is_not_null()))
        .select(portal_grants::client_id.assume_not_null());
    let granted_matters = portal_grants::table
        .filter(portal_grants::portal_id.eq(portal_id).and(portal_grants::matter_id.is_not_null()))
        .select(portal_grants::matter_id.assume_not_null());
    let clients: Vec<(String, String)> = clients::table
        .filter(clients::id.eq_any(granted_clients))
        .order(clients::id.asc())
        .select((clients::id, clients::name))
        .load(conn)?;
    let client_ids: Vec<&str> = clients.iter().map(|(id, _)| id.as_str()).collect();
    let matters: Vec<(String, String, String)> = matters::table
        .filter(matters::client_id.eq_any(&client_ids).or(matters::id.eq_any(granted_matters)))
        .order(matters::id.asc())
        .select((matters::id, matters::title, matters::client_id))
        .load(conn)?;
    Ok(Visible { clients, matters })
}
