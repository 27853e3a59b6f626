//! Documents shared to a contact's portal (seed 003), and documents attached to messages.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{documents, message_attachments, shares};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = shares)]
pub struct ShareRow {
    pub id: String,
    pub firm_id: String,
    pub document_id: String,
    pub portal_id: String,
    pub contact_id: String,
    pub folder_id: Option<String>,
    pub message_id: Option<String>,
    pub shared_by: String,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_by: Option<String>,
}

#[derive(Debug, Default)]
pub struct ShareFilter {
    pub document_id: Option<String>,
    pub contact_id: Option<String>,
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    /// `Some(true)`: not ended; `Some(false)`: ended.
    pub active: Option<bool>,
}

pub fn insert(conn: &mut DbConnection, row: &ShareRow) -> StorageResult<()> {
    diesel::insert_into(shares::table).values(row).execute(conn)?;
    Ok(())
}

/// Shares of documents the caller may see, with each document's name, newest first.
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &ShareFilter,
    before: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<(ShareRow, String)>> {
    let query = shares::table
        .inner_join(documents::table.on(documents::id.eq(shares::document_id)))
        .filter(shares::firm_id.eq(firm_id))
        .into_boxed();
    let mut query = matter_visible!(query, documents::matter_id, documents::id, visibility);
    if let Some(document) = &filter.document_id {
        query = query.filter(shares::document_id.eq(document));
    }
    if let Some(contact) = &filter.contact_id {
        query = query.filter(shares::contact_id.eq(contact));
    }
    if let Some(client) = &filter.client_id {
        query = query.filter(documents::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(documents::matter_id.eq(matter));
    }
    match filter.active {
        Some(true) => query = query.filter(shares::ended_at.is_null()),
        Some(false) => query = query.filter(shares::ended_at.is_not_null()),
        None => {}
    }
    if let Some(before) = before {
        query = query.filter(shares::id.lt(before));
    }
    Ok(query
        .order(shares::id.desc())
        .select((ShareRow::as_select(), documents::name))
        .limit_literal(limit + 1)
        .load(conn)?)
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<(ShareRow, String)> {
    let query = shares::table
        .inner_join(documents::table.on(documents::id.eq(shares::document_id)))
        .filter(shares::firm_id.eq(firm_id).and(shares::id.eq(id)))
        .into_boxed();
    let query = matter_visible!(query, documents::matter_id, documents::id, visibility);
    Ok(query.select((ShareRow::as_select(), documents::name)).limit_literal(1).get_result(conn)?)
}

pub fn end(conn: &mut DbConnection, id: &str, by: &str, at: NaiveDateTime) -> StorageResult<()> {
    diesel::update(shares::table.find(id))
        .set((shares::ended_at.eq(Some(at)), shares::ended_by.eq(Some(by))))
        .execute(conn)?;
    Ok(())
}

pub fn attach(conn: &mut DbConnection, firm_id: &str, message_id: &str, document_id: &str) -> StorageResult<()> {
    diesel::insert_into(message_attachments::table)
        .values((
            message_attachments::message_id.eq(message_id),
            message_attachments::document_id.eq(document_id),
            message_attachments::firm_id.eq(firm_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// A document attached to a message, as the message shows it.
#[derive(Debug, Clone, Queryable)]
pub struct AttachmentRow {
    pub message_id: String,
    pub document_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// The attachments of these messages (deleted documents left out), by message.
pub fn attachments(
    conn: &mut DbConnection,
    message_ids: &[&str],
) -> StorageResult<HashMap<String, Vec<AttachmentRow>>> {
    let rows: Vec<AttachmentRow> = message_attachments::table
        .inner_join(documents::table.on(documents::id.eq(message_attachments::document_id)))
        .filter(message_attachments::message_id.eq_any(message_ids).and(documents::deleted_at.is_null()))
        .order((message_attachments::message_id.asc(), documents::id.asc()))
        .select((
            message_attachments::message_id,
            documents::id,
            documents::name,
            documents::content_type,
            documents::size,
        ))
        .load(conn)?;
    let mut by_message: HashMap<String, Vec<AttachmentRow>> = HashMap::new();
    for row in rows {
        by_message.entry(row.message_id.clone()).or_default().push(row);
    }
    Ok(by_message)
}
