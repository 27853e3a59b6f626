//! Files sent to a contact in one go (seed 000), and what became of each file.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{documents, download_receipts, file_transfer_files, file_transfers, signature_requests};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = file_transfers)]
pub struct TransferRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub contact_id: String,
    pub portal_id: String,
    pub from_staff_id: String,
    pub sent_by: String,
    pub subject: String,
    pub delivery: String,
    pub conversation_id: String,
    pub message_id: String,
    pub created_at: NaiveDateTime,
}

/// One file of a transfer as staff follow it: the document, its signature request's status,
/// and when the contact first downloaded it.
#[derive(Debug, Clone, Queryable)]
pub struct TransferFileRow {
    pub transfer_id: String,
    pub document_id: String,
    pub name: String,
    pub size: i64,
    pub signature_request_id: Option<String>,
    pub signature_status: Option<String>,
    pub first_downloaded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Default)]
pub struct TransferFilter {
    pub contact_id: Option<String>,
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    pub from_staff_id: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &TransferRow) -> StorageResult<()> {
    diesel::insert_into(file_transfers::table).values(row).execute(conn)?;
    Ok(())
}

pub fn add_file(
    conn: &mut DbConnection,
    transfer: &TransferRow,
    document_id: &str,
    signature_request_id: Option<&str>,
) -> StorageResult<()> {
    diesel::insert_into(file_transfer_files::table)
        .values((
            file_transfer_files::transfer_id.eq(&transfer.id),
            file_transfer_files::document_id.eq(document_id),
            file_transfer_files::firm_id.eq(&transfer.firm_id),
            file_transfer_files::signature_request_id.eq(signature_request_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Transfers the caller may see (restricted matters only for their members), newest first.
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &TransferFilter,
    before: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<TransferRow>> {
    let query = file_transfers::table.filter(file_transfers::firm_id.eq(firm_id)).into_boxed();
    let mut query = matter_visible!(query, file_transfers::matter_id, file_transfers::id, visibility);
    if let Some(contact) = &filter.contact_id {
        query = query.filter(file_transfers::contact_id.eq(contact));
    }
    if let Some(client) = &filter.client_id {
        query = query.filter(file_transfers::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(file_transfers::matter_id.eq(matter));
    }
    if let Some(staff) = &filter.from_staff_id {
        query = query.filter(file_transfers::from_staff_id.eq(staff));
    }
    if let Some(before) = before {
        query = query.filter(file_transfers::id.lt(before));
    }
    Ok(query.order(file_transfers::id.desc()).select(TransferRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<TransferRow> {
    let query =
        file_transfers::table.filter(file_transfers::firm_id.eq(firm_id).and(file_transfers::id.eq(id))).into_boxed();
    let query = matter_visible!(query, file_transfers::matter_id, file_transfers::id, visibility);
    Ok(query.select(TransferRow::as_select()).limit_literal(1).get_result(conn)?)
}

/// The files of these transfers, by transfer, in one query for a whole page. A download
/// counts when the transfer's contact made it.
pub fn files(
    conn: &mut DbConnection,
    transfers: &[TransferRow],
) -> StorageResult<HashMap<String, Vec<TransferFileRow>>> {
    let ids: Vec<&str> = transfers.iter().map(|t| t.id.as_str()).collect();
    let rows: Vec<TransferFileRow> = file_transfer_files::table
        .inner_join(file_transfers::table.on(file_transfers::id.eq(file_transfer_files::transfer_id)))
        .inner_join(documents::table.on(documents::id.eq(file_transfer_files::document_id)))
        .left_join(
            signature_requests::table
                .on(signature_requests::id.nullable().eq(file_transfer_files::signature_request_id)),
        )
        .left_join(
            download_receipts::table.on(download_receipts::document_id
                .eq(file_transfer_files::document_id)
                .and(download_receipts::contact_id.eq(file_transfers::contact_id))),
        )
        .filter(file_transfer_files::transfer_id.eq_any(&ids))
        .order((file_transfer_files::transfer_id.asc(), file_transfer_files::document_id.asc()))
        .select((
            file_transfer_files::transfer_id,
            documents::id,
            documents::name,
            documents::size,
            file_transfer_files::signature_request_id,
            signature_requests::status.nullable(),
            download_receipts::first_at.nullable(),
        ))
        .load(conn)?;
    let mut by_transfer: HashMap<String, Vec<TransferFileRow>> = HashMap::new();
    for row in rows {
        by_transfer.entry(row.transfer_id.clone()).or_default().push(row);
    }
    Ok(by_transfer)
}
