//! Documents of clients and matters (seeds 000, 002, 003): recording uploads, listing,
//! renaming, moving, client visibility, soft delete, and reading them for a download, by
//! staff (the documents of the matters they may see) or by a contact in the portal (what the
//! firm made visible or shared), whose downloads are receipts the firm sees.

use chrono::NaiveDateTime;
use serde_json::json;
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, DocumentId, FolderId, MatterId};
use vestibule_domain::principal::{ContactPrincipal, Principal};
use vestibule_domain::range::counts_as_download;
use vestibule_storage::documents::{self, DocumentFilter, DocumentRow};
use vestibule_storage::{DbConnection, access_links, firms, signatures, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;
use crate::places::{Place, Selection, folder_in, visible_documents};
use crate::portal_access::portal_of;
use crate::scanning;

/// The most documents one archive holds.
pub const ARCHIVE_LIMIT: usize = 1000;

/// Who reads documents: the firm, or the signed-in contact in their portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Firm,
    Portal,
}

/// A document as staff see it, with when a client first downloaded it (through the portal
/// or an access link); the portal is not told.
#[derive(Debug, Clone)]
pub struct DocumentRecord {
    pub row: DocumentRow,
    pub first_client_download_at: Option<NaiveDateTime>,
}

/// How a document reached the client.
#[derive(Debug, Clone)]
pub enum Via {
    Portal { contact_id: String, contact_name: String },
    AccessLink { access_link_id: String },
}

/// The downloads of a document by one contact through the portal, or through one link.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub via: Via,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
    pub downloads: i64,
}

/// A stored upload to record as a document.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: DocumentId,
    pub blob_key: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub place: Place,
    pub visible_to_client: bool,
}

/// A file received and stored for an upload, not yet a document.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub id: DocumentId,
    pub blob_key: String,
    /// The sender's filename, for display only.
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// Fields to change: `None` keeps; `folder: Some(None)` moves out of any folder.
#[derive(Debug, Clone, Default)]
pub struct DocumentChanges {
    pub name: Option<String>,
    pub folder: Option<Option<FolderId>>,
    pub visible_to_client: Option<bool>,
}

/// The signed-in contact; anyone else is refused what is meant for the portal.
pub fn portal_contact(ctx: &Context) -> AppResult<&ContactPrincipal> {
    match &ctx.principal {
        Principal::Contact(me) => Ok(me),
        _ => Err(AppError::Forbidden("this endpoint is for portal contacts".to_owned())),
    }
}

/// Where the caller's upload goes, and the firm's largest accepted file in bytes, asked
/// before any byte is received. `(client, matter, folder)` as given in the query.
#[tracing::instrument(skip(conn, ctx))]
pub fn upload_target(
    conn: &mut DbConnection,
    ctx: &Context,
    (client, matter, folder): (Option<&ClientId>, Option<&MatterId>, Option<&FolderId>),
) -> AppResult<(Place, u64)> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    let place = Place::resolve(conn, &ctx.principal, client, matter, ("folder_id", folder), "#/query")?;
    Ok((place, upload_limit(conn, ctx.firm_id())?))
}

/// The firm's largest accepted file, in bytes.
pub fn upload_limit(conn: &mut DbConnection, firm_id: &str) -> AppResult<u64> {
    Ok(u64::try_from(firms::get(conn, firm_id)?.upload_limit_bytes).unwrap_or(0))
}

/// Marks a blob key as an upload under way, so the sweep removes it if it never becomes a
/// document.
pub fn begin_upload(conn: &mut DbConnection, firm_id: &str, blob_key: &str) -> AppResult<()> {
    write_tx(conn, |conn| Ok(documents::begin_upload(conn, firm_id, blob_key)?))
}

/// The upload under this key is over: a document now, or removed.
pub fn end_upload(conn: &mut DbConnection, blob_key: &str) -> AppResult<()> {
    Ok(documents::end_upload(conn, blob_key)?)
}

/// Records a stored upload as the caller's document.
#[tracing::instrument(skip(conn, ctx, new), fields(document_id = %new.id))]
pub fn record_upload(conn: &mut DbConnection, ctx: &Context, new: NewDocument) -> AppResult<DocumentRow> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    let now = vestibule_storage::now();
    let row = DocumentRow {
        id: new.id.into(),
        firm_id: ctx.firm_id().to_owned(),
        client_id: new.place.client_id,
        matter_id: new.place.matter_id,
        folder_id: new.place.folder_id,
        name: new.name,
        content_type: new.content_type,
        size: new.size,
        sha256: new.sha256,
        blob_key: new.blob_key,
        visible_to_client: new.visible_to_client,
        uploaded_by: ctx.principal.actor().1.to_owned(),
        version: 1,
        deleted_at: None,
        created_at: now,
        updated_at: now,
        scan_status: scanning::on_upload(&ctx.settings).as_str().to_owned(),
        scan_threat: None,
        scanned_at: None,
    };
    write_tx(conn, |conn| {
        store(conn, &row)?;
        let entry = Entry::success("document.created", "document", &row.id)
            .with_details(json!({ "size": row.size, "sha256": row.sha256 }))
            .publishes(EventType::DocumentCreated);
        audit::record(conn, ctx, entry)?;
        Ok(row)
    })
}

/// Makes a stored upload a document: its row, the end of its pending upload, and its place
/// in the scanner's queue when it waits for one.
pub(crate) fn store(conn: &mut DbConnection, row: &DocumentRow) -> AppResult<()> {
    documents::insert(conn, row)?;
    documents::end_upload(conn, &row.blob_key)?;
    scanning::queue(conn, row)
}

/// Documents the audience sees, with the filter (the portal heeds its place only).
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    audience: Audience,
    filter: &DocumentFilter,
    page: &Page,
) -> AppResult<Listed<DocumentRecord>> {
    let rows = read(conn, ctx, audience, filter, page.after.as_deref(), page.limit)?;
    let listed = Listed::finish(page, rows, |r| r.id.clone());
    let items = match audience {
        Audience::Firm => present(conn, listed.items)?,
        Audience::Portal => {
            listed.items.into_iter().map(|row| DocumentRecord { row, first_client_download_at: None }).collect()
        }
    };
    Ok(Listed { items, next_cursor: listed.next_cursor })
}

fn read(
    conn: &mut DbConnection,
    ctx: &Context,
    audience: Audience,
    filter: &DocumentFilter,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<DocumentRow>> {
    Ok(match audience {
        Audience::Firm => {
            authorize(&ctx.principal, Action::ReadDocuments)?;
            let visibility = matter_visibility(&ctx.principal);
            documents::list(conn, ctx.firm_id(), &visibility, filter, after, limit)?
        }
        Audience::Portal => {
            let portal = portal_of(conn, portal_contact(ctx)?)?;
            documents::list_for_portal(conn, &portal, filter, after, limit)?
        }
    })
}

/// One document the audience sees.
#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, audience: Audience, id: &DocumentId) -> AppResult<DocumentRecord> {
    match audience {
        Audience::Firm => {
            authorize(&ctx.principal, Action::ReadDocuments)?;
            let row = visible(conn, &ctx.principal, id.as_str())?;
            present_one(conn, row)
        }
        Audience::Portal => {
            let row = in_portal(conn, portal_contact(ctx)?, id.as_str())?;
            Ok(DocumentRecord { row, first_client_download_at: None })
        }
    }
}

/// The document to send for a download with this `Range`; a contact's download from the
/// first byte is recorded as a receipt.
#[tracing::instrument(skip(conn, ctx))]
pub fn download(
    conn: &mut DbConnection,
    ctx: &Context,
    audience: Audience,
    id: &DocumentId,
    range: Option<&str>,
) -> AppResult<DocumentRow> {
    if audience == Audience::Firm {
        authorize(&ctx.principal, Action::ReadDocuments)?;
        let row = visible(conn, &ctx.principal, id.as_str())?;
        scanning::downloadable(&row)?;
        return Ok(row);
    }
    let me = portal_contact(ctx)?;
    write_tx(conn, |conn| {
        let row = in_portal(conn, me, id.as_str())?;
        scanning::downloadable(&row)?;
        if counts_as_download(range, row.size) {
            documents::record_download(conn, &row, me.contact_id.as_str())?;
            audit::record(conn, ctx, Entry::success("document.downloaded", "document", &row.id))?;
        }
        Ok(row)
    })
}

/// "Download All": the documents of a client, matter or folder the audience sees, at most
/// [`ARCHIVE_LIMIT`]; a contact's archive is a receipt for each.
#[tracing::instrument(skip(conn, ctx))]
pub fn archive(
    conn: &mut DbConnection,
    ctx: &Context,
    audience: Audience,
    filter: &DocumentFilter,
) -> AppResult<Vec<DocumentRow>> {
    if audience == Audience::Firm {
        authorize(&ctx.principal, Action::ReadDocuments)?;
        if filter.client_id.is_none() && filter.matter_id.is_none() && !matches!(filter.folder_id, Some(Some(_))) {
            return Err(AppError::field("#/query/client_id", "required", "name a client, matter or folder"));
        }
        return bounded(read(conn, ctx, audience, filter, None, ARCHIVE_LIMIT as i64)?)
            .map(scanning::only_downloadable);
    }
    let me = portal_contact(ctx)?;
    write_tx(conn, |conn| {
        let portal = portal_of(conn, me)?;
        let rows = bounded(documents::list_for_portal(conn, &portal, filter, None, ARCHIVE_LIMIT as i64)?)?;
        let rows = scanning::only_downloadable(rows);
        for row in &rows {
            documents::record_download(conn, row, me.contact_id.as_str())?;
        }
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let entry = Entry::success("document.archive_downloaded", "portal", &portal)
            .with_details(json!({ "document_ids": ids }));
        audit::record(conn, ctx, entry)?;
        Ok(rows)
    })
}

fn bounded(rows: Vec<DocumentRow>) -> AppResult<Vec<DocumentRow>> {
    if rows.len() > ARCHIVE_LIMIT {
        return Err(AppError::field(
            "#/query",
            "too_many",
            format!("more than {ARCHIVE_LIMIT} documents; narrow it to a folder"),
        ));
    }
    Ok(rows)
}

/// Who downloaded the document, through the portal or an access link, first download first.
#[tracing::instrument(skip(conn, ctx))]
pub fn receipts(conn: &mut DbConnection, ctx: &Context, id: &DocumentId) -> AppResult<Vec<Receipt>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let row = visible(conn, &ctx.principal, id.as_str())?;
    let portal = documents::receipts(conn, &row.id)?.into_iter().map(|r| Receipt {
        via: Via::Portal { contact_id: r.contact_id, contact_name: format!("{} {}", r.first_name, r.last_name) },
        first_at: r.first_at,
        last_at: r.last_at,
        downloads: r.downloads,
    });
    let links = access_links::receipts(conn, &row.id)?.into_iter().map(|r| Receipt {
        via: Via::AccessLink { access_link_id: r.access_link_id },
        first_at: r.first_at,
        last_at: r.last_at,
        downloads: r.downloads,
    });
    let mut receipts: Vec<Receipt> = portal.chain(links).collect();
    receipts.sort_by_key(|r| r.first_at);
    Ok(receipts)
}

/// Renames, moves or shows/hides a document that is not signed.
#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &DocumentId,
    expected_version: Option<i64>,
    changes: DocumentChanges,
) -> AppResult<DocumentRecord> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let mut row = visible(conn, &ctx.principal, id.as_str())?;
        let version = row.version;
        if expected_version.is_some_and(|e| e != version) {
            return Err(AppError::PreconditionFailed);
        }
        refuse_if_signed(conn, &row)?;
        if let Some(folder) = changes.folder {
            let place = (row.client_id.as_str(), row.matter_id.as_deref());
            row.folder_id = match folder {
                Some(folder) => Some(folder_in(conn, &ctx.principal, &folder, place, "/folder_id")?.id),
                None => None,
            };
        }
        if let Some(name) = changes.name {
            row.name = name;
        }
        if let Some(visible) = changes.visible_to_client {
            row.visible_to_client = visible;
        }
        row.updated_at = vestibule_storage::now();
        documents::update(conn, &row, version)?;
        row.version = version + 1;
        let entry = Entry::success("document.updated", "document", &row.id).publishes(EventType::DocumentUpdated);
        audit::record(conn, ctx, entry)?;
        present_one(conn, row)
    })
}

/// Deletes a document that is not signed: it leaves lists and downloads, its record stays
/// for the audit trail. A file in quarantine, or one the scanner could not judge, is for
/// owners and admins to delete.
#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &DocumentId, expected_version: Option<i64>) -> AppResult<()> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let row = visible(conn, &ctx.principal, id.as_str())?;
        if expected_version.is_some_and(|e| e != row.version) {
            return Err(AppError::PreconditionFailed);
        }
        refuse_if_signed(conn, &row)?;
        if !scanning::status_of(&row).shown_to_clients() {
            authorize(&ctx.principal, Action::ManageQuarantine)?;
        }
        documents::soft_delete(conn, &row.id, vestibule_storage::now())?;
        crate::document_requests::upload_removed(conn, &row.id)?;
        let entry = Entry::success("document.deleted", "document", &row.id).publishes(EventType::DocumentDeleted);
        audit::record(conn, ctx, entry)?;
        Ok(())
    })
}

/// Shows a selection of documents to the client, or hides them, all or nothing; returns how
/// many changed (those already so stay as they are).
#[tracing::instrument(skip(conn, ctx))]
pub fn set_visibility(conn: &mut DbConnection, ctx: &Context, ids: &[DocumentId], visible: bool) -> AppResult<usize> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let mut changed = 0;
        let rows = visible_documents(conn, &ctx.principal, ids, Selection::IDS)?;
        for mut row in rows.into_iter().filter(|r| r.visible_to_client != visible) {
            let version = row.version;
            row.visible_to_client = visible;
            row.updated_at = vestibule_storage::now();
            documents::update(conn, &row, version)?;
            let entry = Entry::success("document.updated", "document", &row.id)
                .with_details(json!({ "visible_to_client": visible }))
                .publishes(EventType::DocumentUpdated);
            audit::record(conn, ctx, entry)?;
            changed += 1;
        }
        Ok(changed)
    })
}

/// Documents with their first client download (portal or access link), in two queries.
fn present(conn: &mut DbConnection, rows: Vec<DocumentRow>) -> AppResult<Vec<DocumentRecord>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut first = documents::first_downloads(conn, &ids)?;
    for (id, at) in access_links::first_downloads(conn, &ids)? {
        first.entry(id).and_modify(|earliest| *earliest = (*earliest).min(at)).or_insert(at);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let first_client_download_at = first.get(&row.id).copied();
            DocumentRecord { row, first_client_download_at }
        })
        .collect())
}

fn present_one(conn: &mut DbConnection, row: DocumentRow) -> AppResult<DocumentRecord> {
    present(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// A signed document stays as it was signed.
fn refuse_if_signed(conn: &mut DbConnection, row: &DocumentRow) -> AppResult<()> {
    if signatures::is_signed(conn, &row.id)? {
        return Err(AppError::conflict("document_signed", "the document has been signed and can no longer be changed"));
    }
    Ok(())
}

fn visible(conn: &mut DbConnection, principal: &Principal, id: &str) -> AppResult<DocumentRow> {
    Ok(documents::get(conn, principal.firm_id().as_str(), id, &matter_visibility(principal))?)
}

fn in_portal(conn: &mut DbConnection, me: &ContactPrincipal, id: &str) -> AppResult<DocumentRow> {
    let portal = portal_of(conn, me)?;
    Ok(documents::get_for_portal(conn, &portal, id)?)
}
