//! What a link session opens: the documents of the work that the firm made visible to the
//! client (download links), each download recorded for the firm; or uploads into the work
//! (upload links), counted against the link's limit. An upload touches the link, which also
//! takes its row lock, so counting work runs one request at a time; reading notes the use
//! once a minute, so that a list is no write and a download one short one (its receipt).

use chrono::NaiveDateTime;
use serde_json::json;
use vestibule_domain::access_link::LinkUse;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{DocumentId, FolderId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::scan::ScanStatus;
use vestibule_domain::usage;
use vestibule_storage::access_links::{self, Link};
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::{DbConnection, firms, write_tx};

use crate::audit::{self, Entry};
use crate::context::{Origin, Settings};
use crate::documents::{Uploaded, store};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::links::{allowed, notify_staff, session_link};
use crate::page::Listed;
use crate::portal_uploads::Uploader;
use crate::scanning;

/// Records what the link's recipient did.
fn by_link(conn: &mut DbConnection, origin: &Origin, link: &Link, entry: Entry<'_>) -> AppResult<()> {
    audit::record_as(conn, origin, &link.row.firm_id, ActorKind::AccessLink, Some(&link.row.id), entry)?;
    Ok(())
}

fn touch(conn: &mut DbConnection, link: &Link) -> AppResult<()> {
    Ok(access_links::touch(conn, &link.row.id, vestibule_storage::now())?)
}

/// Whether a read is to write the link's `last_accessed_at`.
fn touch_due(link: &Link, now: NaiveDateTime) -> bool {
    usage::due(link.row.last_accessed_at, now, usage::TOUCH_EVERY)
}

#[tracing::instrument(skip(conn, link), fields(link = %link.row.id))]
pub fn list(
    conn: &mut DbConnection,
    link: &Link,
    folder: Option<&FolderId>,
    page: &Page,
) -> AppResult<Listed<DocumentRow>> {
    allowed(link, LinkUse::ReadDocuments)?;
    if touch_due(link, vestibule_storage::now()) {
        write_tx(conn, |conn| touch(conn, link))?;
    }
    let folder = folder.map(FolderId::as_str);
    let rows = access_links::documents(conn, &link.row, folder, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

/// "Download All": the visible documents (of one folder, if asked), at most `limit`; each
/// one's download is recorded.
#[tracing::instrument(skip(conn, origin, link), fields(link = %link.row.id))]
pub fn archive(
    conn: &mut DbConnection,
    origin: &Origin,
    link: &Link,
    folder: Option<&FolderId>,
    limit: usize,
) -> AppResult<Vec<DocumentRow>> {
    allowed(link, LinkUse::ReadDocuments)?;
    let now = vestibule_storage::now();
    write_tx(conn, |conn| {
        touch(conn, link)?;
        let folder = folder.map(FolderId::as_str);
        let rows = access_links::documents(conn, &link.row, folder, None, i64::try_from(limit).unwrap_or(i64::MAX))?;
        if rows.len() > limit {
            return Err(AppError::field("#/query", "too_many", "too many documents; narrow it to a folder"));
        }
        let rows = scanning::only_downloadable(rows);
        for row in &rows {
            access_links::record_download(conn, row, &link.row.id, now)?;
        }
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let entry = Entry::success("document.archive_downloaded", "access_link", &link.row.id)
            .with_details(json!({ "document_ids": ids }));
        by_link(conn, origin, link, entry)?;
        Ok(rows)
    })
}

/// One visible document to send; `counts` says whether what is asked of it (the whole, or
/// which range) is a download worth a receipt.
#[tracing::instrument(skip(conn, origin, link, counts), fields(link = %link.row.id))]
pub fn download(
    conn: &mut DbConnection,
    origin: &Origin,
    link: &Link,
    id: &DocumentId,
    counts: impl FnOnce(&DocumentRow) -> bool,
) -> AppResult<DocumentRow> {
    allowed(link, LinkUse::ReadDocuments)?;
    let row = access_links::document(conn, &link.row, id.as_str())?;
    scanning::downloadable(&row)?;
    let now = vestibule_storage::now();
    let (counted, touching) = (counts(&row), touch_due(link, now));
    if counted || touching {
        write_tx(conn, |conn| {
            if touching {
                touch(conn, link)?;
            }
            if counted {
                let before = access_links::record_download(conn, &row, &link.row.id, now)?;
                if usage::due(before, now, usage::DOWNLOAD_VISIT) {
                    let entry = Entry::success("document.downloaded", "document", &row.id)
                        .with_details(json!({ "access_link_id": link.row.id }));
                    by_link(conn, origin, link, entry)?;
                }
            }
            Ok::<_, AppError>(())
        })?;
    }
    Ok(row)
}

/// How much an upload through the link may bring, checked before any byte is read.
pub struct UploadRoom {
    /// Files the link still accepts.
    pub files: i64,
    /// The firm's limit per file.
    pub bytes_per_file: u64,
}

#[tracing::instrument(skip(conn, link), fields(link = %link.row.id))]
pub fn upload_room(conn: &mut DbConnection, link: &Link) -> AppResult<UploadRoom> {
    allowed(link, LinkUse::Upload)?;
    let files = remaining(conn, link)?;
    if files == 0 {
        return Err(limit_reached());
    }
    let bytes_per_file = u64::try_from(firms::get(conn, &link.row.firm_id)?.upload_limit_bytes).unwrap_or(0);
    Ok(UploadRoom { files, bytes_per_file })
}

pub struct Uploads {
    pub documents: Vec<DocumentRow>,
    /// Files the link still accepts.
    pub remaining: i64,
}

/// Makes the received files documents of the link's work, all or none, and tells the firm.
/// The link and session are read again: while the files streamed the link may have been
/// disabled, re-keyed or given another folder, and concurrent uploads must not pass the
/// limit together.
#[tracing::instrument(skip(conn, origin, settings, link, session_digest, files), fields(link = %link.row.id))]
pub fn save_uploads(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    link: &Link,
    session_digest: &str,
    files: Vec<Uploaded>,
) -> AppResult<Uploads> {
    write_tx(conn, |conn| {
        touch(conn, link)?;
        let link = session_link(conn, session_digest)?;
        allowed(&link, LinkUse::Upload)?;
        if remaining(conn, &link)? < files.len() as i64 {
            return Err(limit_reached());
        }
        let scan_status = scanning::on_upload(settings);
        let rows: Vec<DocumentRow> = files.into_iter().map(|file| document_of(&link, file, scan_status)).collect();
        for row in &rows {
            store(conn, row)?;
            let entry = Entry::success("document.created", "document", &row.id)
                .with_details(json!({ "size": row.size, "sha256": row.sha256, "access_link_id": link.row.id }))
                .publishes(EventType::DocumentCreated);
            by_link(conn, origin, &link, entry)?;
            let uploaded_by = Uploader::AccessLink(&link.row.id);
            events::publish_data(conn, &row.firm_id, EventType::DocumentUploaded, &uploaded_by.event_data(row, None))?;
        }
        let files = rows.iter().map(|r| r.name.clone()).collect();
        notify_staff(conn, settings, &link, |alert| Email::AccessLinkUploaded(mail::LinkUpload { alert, files }))?;
        let remaining = remaining(conn, &link)?;
        Ok(Uploads { documents: rows, remaining })
    })
}

fn remaining(conn: &mut DbConnection, link: &Link) -> AppResult<i64> {
    Ok((i64::from(link.row.max_uploads) - access_links::uploads(conn, &link.row)?).max(0))
}

fn limit_reached() -> AppError {
    AppError::conflict("upload_limit_reached", "this link accepts no more files; ask the firm to raise its limit")
}

/// An uploaded file as a document of the link's work, in its folder, hidden from the client
/// until staff decide, and marked as uploaded through the link.
fn document_of(link: &Link, file: Uploaded, scan_status: ScanStatus) -> DocumentRow {
    let now = vestibule_storage::now();
    DocumentRow {
        id: file.id.into(),
        firm_id: link.row.firm_id.clone(),
        client_id: link.row.client_id.clone(),
        matter_id: link.row.matter_id.clone(),
        folder_id: link.row.folder_id.clone(),
        name: file.name,
        content_type: file.content_type,
        size: file.size,
        sha256: file.sha256,
        blob_key: file.blob_key,
        visible_to_client: false,
        uploaded_by: link.row.id.clone(),
        version: 1,
        deleted_at: None,
        created_at: now,
        updated_at: now,
        scan_status: scan_status.as_str().to_owned(),
        scan_threat: None,
        scanned_at: None,
    }
}
