//! Document requests, their items and the documents uploaded into them.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::documents::DocumentRow;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{document_request_items, document_request_uploads, document_requests, documents};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = document_requests)]
pub struct RequestRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub contact_id: String,
    pub title: String,
    pub message: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub folder_id: Option<String>,
    /// `domain::document_request::RequestStatus`, as stored.
    pub status: String,
    /// The staff member or API key that asked.
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = document_request_items)]
pub struct ItemRow {
    pub id: String,
    pub firm_id: String,
    pub request_id: String,
    pub position: i32,
    pub name: String,
    pub description: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub folder_id: Option<String>,
    /// `domain::document_request::ItemStatus`, as stored.
    pub status: String,
    pub return_reason: Option<String>,
    pub uploaded_at: Option<NaiveDateTime>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reviewed_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// What a step changes on an item; `None` keeps.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = document_request_items)]
pub struct ItemChanges {
    pub status: Option<String>,
    pub return_reason: Option<Option<String>>,
    pub uploaded_at: Option<Option<NaiveDateTime>>,
    pub reviewed_at: Option<Option<NaiveDateTime>>,
    pub reviewed_by: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// The staff list's filters; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    pub contact_id: Option<String>,
    pub status: Option<String>,
}

type Boxed<'a> = document_requests::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

fn visible<'a>(firm_id: &'a str, visibility: &'a MatterVisibility) -> Boxed<'a> {
    let query = document_requests::table.filter(document_requests::firm_id.eq(firm_id)).into_boxed();
    matter_visible!(query, document_requests::matter_id, document_requests::id, visibility)
}

pub fn insert(conn: &mut DbConnection, request: &RequestRow, items: &[ItemRow]) -> StorageResult<()> {
    diesel::insert_into(document_requests::table).values(request).execute(conn)?;
    // One statement per item: batch inserts are not available through `MultiConnection`.
    for item in items {
        diesel::insert_into(document_request_items::table).values(item).execute(conn)?;
    }
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<RequestRow> {
    Ok(visible(firm_id, visibility)
        .filter(document_requests::id.eq(id))
        .select(RequestRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Oldest first; the cursor is the last row's id.
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &RequestFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<RequestRow>> {
    let mut query = visible(firm_id, visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(document_requests::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(document_requests::matter_id.eq(matter));
    }
    if let Some(contact) = &filter.contact_id {
        query = query.filter(document_requests::contact_id.eq(contact));
    }
    if let Some(status) = &filter.status {
        query = query.filter(document_requests::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(document_requests::id.gt(after));
    }
    Ok(query.order(document_requests::id.asc()).select(RequestRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

fn of_contact<'a>(firm_id: &'a str, contact_id: &'a str, portal_id: &'a str) -> Boxed<'a> {
    document_requests::table
        .filter(document_requests::firm_id.eq(firm_id).and(document_requests::contact_id.eq(contact_id)))
        .filter(granted_to_portal!(document_requests::client_id, document_requests::matter_id, portal_id))
        .into_boxed()
}

/// The requests addressed to the contact, of what their portal still shows.
pub fn list_for_contact(
    conn: &mut DbConnection,
    (firm_id, contact_id, portal_id): (&str, &str, &str),
    status: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<RequestRow>> {
    let mut query = of_contact(firm_id, contact_id, portal_id);
    if let Some(status) = status {
        query = query.filter(document_requests::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(document_requests::id.gt(after));
    }
    Ok(query.order(document_requests::id.asc()).select(RequestRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn get_for_contact(
    conn: &mut DbConnection,
    (firm_id, contact_id, portal_id): (&str, &str, &str),
    id: &str,
) -> StorageResult<RequestRow> {
    Ok(of_contact(firm_id, contact_id, portal_id)
        .filter(document_requests::id.eq(id))
        .select(RequestRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// The items of the requests, in their order, in one query.
pub fn items(conn: &mut DbConnection, request_ids: &[&str]) -> StorageResult<Vec<ItemRow>> {
    Ok(document_request_items::table
        .filter(document_request_items::request_id.eq_any(request_ids))
        .order((document_request_items::request_id, document_request_items::position))
        .select(ItemRow::as_select())
        .load(conn)?)
}

pub fn item(conn: &mut DbConnection, request_id: &str, item_id: &str) -> StorageResult<ItemRow> {
    Ok(document_request_items::table
        .filter(document_request_items::request_id.eq(request_id).and(document_request_items::id.eq(item_id)))
        .select(ItemRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn update_item(conn: &mut DbConnection, item_id: &str, changes: &ItemChanges) -> StorageResult<ItemRow> {
    diesel::update(document_request_items::table.find(item_id)).set(changes).execute(conn)?;
    Ok(document_request_items::table.find(item_id).select(ItemRow::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn set_status(
    conn: &mut DbConnection,
    request_id: &str,
    status: &str,
    closed_at: Option<NaiveDateTime>,
) -> StorageResult<()> {
    diesel::update(document_requests::table.find(request_id))
        .set((
            document_requests::status.eq(status),
            document_requests::closed_at.eq(closed_at),
            document_requests::updated_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn attach_upload(conn: &mut DbConnection, firm_id: &str, item_id: &str, document_id: &str) -> StorageResult<()> {
    diesel::insert_into(document_request_uploads::table)
        .values((
            document_request_uploads::document_id.eq(document_id),
            document_request_uploads::item_id.eq(item_id),
            document_request_uploads::firm_id.eq(firm_id),
            document_request_uploads::created_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live documents uploaded into the items, by item, oldest first, in one query.
pub fn uploads(conn: &mut DbConnection, item_ids: &[&str]) -> StorageResult<HashMap<String, Vec<DocumentRow>>> {
    let rows: Vec<(String, DocumentRow)> = document_request_uploads::table
        .inner_join(documents::table.on(documents::id.eq(document_request_uploads::document_id)))
        .filter(document_request_uploads::item_id.eq_any(item_ids).and(documents::deleted_at.is_null()))
        .order((document_request_uploads::item_id, document_request_uploads::created_at, documents::id))
        .select((document_request_uploads::item_id, DocumentRow::as_select()))
        .load(conn)?;
    let mut by_item: HashMap<String, Vec<DocumentRow>> = HashMap::new();
    for (item, document) in rows {
        by_item.entry(item).or_default().push(document);
    }
    Ok(by_item)
}

/// The item a document was uploaded into, if any.
pub fn item_of_document(conn: &mut DbConnection, document_id: &str) -> StorageResult<Option<ItemRow>> {
    Ok(document_request_uploads::table
        .inner_join(document_request_items::table.on(document_request_items::id.eq(document_request_uploads::item_id)))
        .filter(document_request_uploads::document_id.eq(document_id))
        .select(ItemRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// Items still waiting for their contact, of open requests with a due date (the item's or the
/// request's): what the reminder pass looks at, across firms.
pub fn waiting_with_due_date(conn: &mut DbConnection, waiting: &[&str]) -> StorageResult<Vec<(RequestRow, ItemRow)>> {
    Ok(document_request_items::table
        .inner_join(document_requests::table.on(document_requests::id.eq(document_request_items::request_id)))
        .filter(document_request_items::status.eq_any(waiting))
        .filter(document_requests::status.eq(vestibule_domain::document_request::RequestStatus::Open.as_str()))
        .filter(document_request_items::due_on.is_not_null().or(document_requests::due_on.is_not_null()))
        .order((document_requests::id, document_request_items::position))
        .select((RequestRow::as_select(), ItemRow::as_select()))
        .load(conn)?)
}
