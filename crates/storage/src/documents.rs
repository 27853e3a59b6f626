//! Documents: what is known of a stored file. The bytes live in the blob store under
//! `blob_key`; deleted documents keep their row (soft delete) and are hidden from reads.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::scan::ScanStatus;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::{contacts, documents, download_receipts, pending_blobs, shares};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub folder_id: Option<String>,
    /// The user's filename, for display and downloads only.
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub blob_key: String,
    pub visible_to_client: bool,
    pub uploaded_by: String,
    pub version: i64,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub scan_status: String,
    /// What the scanner found, for an infected file; why it could not judge one that failed.
    pub scan_threat: Option<String>,
    pub scanned_at: Option<NaiveDateTime>,
}

#[derive(Debug, Default)]
pub struct DocumentFilter {
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    /// `Some(None)`: documents outside any folder.
    pub folder_id: Option<Option<String>>,
    pub visible_to_client: Option<bool>,
    pub name_contains: Option<String>,
    pub uploaded_by: Option<String>,
    pub scan_status: Option<String>,
}

type Boxed<'a> = documents::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

fn visible<'a>(query: Boxed<'a>, firm_id: &'a str, visibility: &'a MatterVisibility) -> Boxed<'a> {
    let query = query.filter(documents::firm_id.eq(firm_id).and(documents::deleted_at.is_null()));
    matter_visible!(query, documents::matter_id, documents::id, visibility)
}

pub fn insert(conn: &mut DbConnection, row: &DocumentRow) -> StorageResult<()> {
    diesel::insert_into(documents::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<DocumentRow> {
    let query = documents::table.filter(documents::id.eq(id)).into_boxed();
    Ok(visible(query, firm_id, visibility).select(DocumentRow::as_select()).limit_literal(1).get_result(conn)?)
}

/// The documents among `ids` the caller may see, in one query (order not kept).
pub fn get_many(
    conn: &mut DbConnection,
    firm_id: &str,
    ids: &[&str],
    visibility: &MatterVisibility,
) -> StorageResult<Vec<DocumentRow>> {
    let query = documents::table.filter(documents::id.eq_any(ids)).into_boxed();
    Ok(visible(query, firm_id, visibility).select(DocumentRow::as_select()).load(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &DocumentFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<DocumentRow>> {
    let mut query = visible(documents::table.into_boxed(), firm_id, visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(documents::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(documents::matter_id.eq(matter));
    }
    match &filter.folder_id {
        Some(Some(folder)) => query = query.filter(documents::folder_id.eq(folder)),
        Some(None) => query = query.filter(documents::folder_id.is_null()),
        None => {}
    }
    if let Some(visible) = filter.visible_to_client {
        query = query.filter(documents::visible_to_client.eq(visible));
    }
    if let Some(needle) = &filter.name_contains {
        query = query.filter(crate::clients::lower(documents::name).like(crate::like_pattern(needle)).escape('\\'));
    }
    if let Some(uploader) = &filter.uploaded_by {
        query = query.filter(documents::uploaded_by.eq(uploader));
    }
    if let Some(status) = &filter.scan_status {
        query = query.filter(documents::scan_status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(documents::id.gt(after));
    }
    Ok(query.order(documents::id.asc()).select(DocumentRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Writes the row's name, folder and visibility if its version is still `expected`, and
/// bumps the version.
pub fn update(conn: &mut DbConnection, row: &DocumentRow, expected: i64) -> StorageResult<()> {
    let updated =
        diesel::update(documents::table.filter(documents::id.eq(&row.id).and(documents::version.eq(expected))))
            .set((
                documents::name.eq(&row.name),
                documents::folder_id.eq(&row.folder_id),
                documents::visible_to_client.eq(row.visible_to_client),
                documents::version.eq(expected + 1),
                documents::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    if updated == 0 { Err(StorageError::VersionMismatch) } else { Ok(()) }
}

pub fn soft_delete(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> StorageResult<()> {
    diesel::update(documents::table.find(id))
        .set((documents::deleted_at.eq(Some(at)), documents::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// Records that bytes are about to be written under `blob_key`.
pub fn begin_upload(conn: &mut DbConnection, firm_id: &str, blob_key: &str) -> StorageResult<()> {
    diesel::insert_into(pending_blobs::table)
        .values((
            pending_blobs::blob_key.eq(blob_key),
            pending_blobs::firm_id.eq(firm_id),
            pending_blobs::started_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The upload under `blob_key` ended: as a document, or with its blob removed.
pub fn end_upload(conn: &mut DbConnection, blob_key: &str) -> StorageResult<()> {
    diesel::delete(pending_blobs::table.find(blob_key)).execute(conn)?;
    Ok(())
}

/// Uploads begun before `cutoff` that never ended: their process died in between.
pub fn abandoned_uploads(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<Vec<String>> {
    Ok(pending_blobs::table.filter(pending_blobs::started_at.lt(cutoff)).select(pending_blobs::blob_key).load(conn)?)
}

/// Documents a portal shows: not deleted, of a granted client (with its matters) or a
/// granted matter, and either made visible to the client or shared to this portal.
fn of_portal<'a>(portal_id: &'a str) -> Boxed<'a> {
    let shared = shares::table
        .filter(shares::portal_id.eq(portal_id).and(shares::ended_at.is_null()))
        .select(shares::document_id);
    documents::table
        .filter(documents::deleted_at.is_null())
        .filter(granted_to_portal!(documents::client_id, documents::matter_id, portal_id))
        .filter(documents::visible_to_client.eq(true).or(documents::id.eq_any(shared)))
        .filter(documents::scan_status.eq_any(shown_to_clients()))
        .into_boxed()
}

/// The scan statuses of documents clients and link recipients may see.
pub(crate) fn shown_to_clients() -> Vec<&'static str> {
    ScanStatus::SHOWN_TO_CLIENTS.iter().map(|s| s.as_str()).collect()
}

pub fn list_for_portal(
    conn: &mut DbConnection,
    portal_id: &str,
    filter: &DocumentFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<DocumentRow>> {
    let mut query = of_portal(portal_id);
    if let Some(client) = &filter.client_id {
        query = query.filter(documents::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(documents::matter_id.eq(matter));
    }
    if let Some(Some(folder)) = &filter.folder_id {
        query = query.filter(documents::folder_id.eq(folder));
    }
    if let Some(after) = after {
        query = query.filter(documents::id.gt(after));
    }
    Ok(query.order(documents::id.asc()).select(DocumentRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn get_for_portal(conn: &mut DbConnection, portal_id: &str, id: &str) -> StorageResult<DocumentRow> {
    Ok(of_portal(portal_id)
        .filter(documents::id.eq(id))
        .select(DocumentRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Counts a contact's download of a document, keeping the first and last time. One upsert,
/// so two first downloads at once both count.
pub fn record_download(conn: &mut DbConnection, document: &DocumentRow, contact_id: &str) -> StorageResult<()> {
    use diesel::upsert::excluded;
    let now = crate::now();
    let upsert = diesel::insert_into(download_receipts::table)
        .values((
            download_receipts::document_id.eq(&document.id),
            download_receipts::contact_id.eq(contact_id),
            download_receipts::firm_id.eq(&document.firm_id),
            download_receipts::first_at.eq(now),
            download_receipts::last_at.eq(now),
            download_receipts::downloads.eq(1_i64),
        ))
        .on_conflict((download_receipts::document_id, download_receipts::contact_id))
        .do_update()
        .set((
            download_receipts::last_at.eq(excluded(download_receipts::last_at)),
            download_receipts::downloads.eq(download_receipts::downloads + 1),
        ));
    execute_upsert!(conn, upsert)?;
    Ok(())
}

/// One contact's downloads of a document.
#[derive(Debug, Clone, Queryable)]
pub struct Receipt {
    pub contact_id: String,
    pub first_name: String,
    pub last_name: String,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
    pub downloads: i64,
}

pub fn receipts(conn: &mut DbConnection, document_id: &str) -> StorageResult<Vec<Receipt>> {
    Ok(download_receipts::table
        .inner_join(contacts::table.on(contacts::id.eq(download_receipts::contact_id)))
        .filter(download_receipts::document_id.eq(document_id))
        .order(download_receipts::first_at.asc())
        .select((
            download_receipts::contact_id,
            contacts::first_name,
            contacts::last_name,
            download_receipts::first_at,
            download_receipts::last_at,
            download_receipts::downloads,
        ))
        .load(conn)?)
}

/// When the client first downloaded each of these documents, for those downloaded at all.
pub fn first_downloads(
    conn: &mut DbConnection,
    document_ids: &[&str],
) -> StorageResult<std::collections::HashMap<String, NaiveDateTime>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = download_receipts::table
        .filter(download_receipts::document_id.eq_any(document_ids))
        .group_by(download_receipts::document_id)
        .select((download_receipts::document_id, diesel::dsl::min(download_receipts::first_at)))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, at)| at.map(|at| (id, at))).collect())
}
