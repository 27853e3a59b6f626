//! Documents of clients and matters (seeds 000, 002, 003): streamed uploads (a raw body for
//! SDKs, `multipart/form-data` for browsers), listing, renaming, moving, client visibility
//! (also in bulk), soft delete, and downloads with `Range`. Staff see the documents of the
//! matters they may see.

use crate::routing::Routes;
use actix_web::http::header::RANGE;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::{AccessLinkId, ClientId, ContactId, DocumentId, FolderId, MatterId};
use vestibule_domain::principal::Principal;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::documents::{self, DocumentFilter, DocumentRow};
use vestibule_storage::{DbConnection, access_links, signatures, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::download::{self, ArchiveDownload, Download, FileDownload};
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, RangeNotSatisfiable,
    Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::state::AppState;
use crate::upload::{self, Limits};
use vestibule_app::places::{Place, Selection, folder_in, visible_documents};

/// Documents changed by one bulk request, at most.
pub(crate) const BULK_LIMIT: usize = 200;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_documents)
        .service(download_archive)
        .service(upload_document)
        .service(set_documents_visibility)
        .service(get_document)
        .service(update_document)
        .service(delete_document)
        .service(download_document)
        .service(list_download_receipts);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    pub id: DocumentId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub folder_id: Option<FolderId>,
    /// The filename as uploaded, for display and downloads only.
    pub name: String,
    /// Detected from the file's bytes, not from its name.
    pub content_type: String,
    pub size: i64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// Whether the client sees it in the portal (seed 002's "make visible to the client").
    pub visible_to_client: bool,
    /// The staff member (`stf_…`), contact (`con_…`), API key (`key_…`) or access link
    /// (`alk_…`: uploaded through the link) it came from.
    pub uploaded_by: String,
    pub version: i64,
    /// When it was first downloaded by a client contact or through an access link (seed 002's
    /// confirmation icon); see the receipts for who and how often.
    pub first_client_download_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a document reached the client.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptVia {
    /// A contact signed in to the portal (`contact_id`, `contact_name`).
    Portal,
    /// Someone with an access link and its code (`access_link_id`).
    AccessLink,
}

/// The downloads of a document by one contact through the portal, or through one access link.
#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadReceipt {
    pub via: ReceiptVia,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    pub access_link_id: Option<AccessLinkId>,
    pub first_downloaded_at: DateTime<Utc>,
    pub last_downloaded_at: DateTime<Utc>,
    pub downloads: i64,
}

/// Documents with their first client download (portal or access link), in two extra queries.
pub fn present(conn: &mut DbConnection, rows: Vec<DocumentRow>) -> Result<Vec<Document>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut first = documents::first_downloads(conn, &ids)?;
    for (id, at) in access_links::first_downloads(conn, &ids)? {
        first.entry(id).and_modify(|earliest| *earliest = (*earliest).min(at)).or_insert(at);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let at = first.get(&row.id).copied().map(utc);
            Document { first_client_download_at: at, ..Document::from(row) }
        })
        .collect())
}

fn present_one(conn: &mut DbConnection, row: DocumentRow) -> Result<Document, ApiError> {
    present(conn, vec![row])?.pop().ok_or(ApiError::NotFound)
}

impl From<DocumentRow> for Document {
    fn from(row: DocumentRow) -> Self {
        Self {
            id: DocumentId::from_trusted(row.id),
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            folder_id: row.folder_id.map(FolderId::from_trusted),
            name: row.name,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            visible_to_client: row.visible_to_client,
            uploaded_by: row.uploaded_by,
            version: row.version,
            first_client_download_at: None,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// Where the upload goes and what it is called. Give a `client_id`, `matter_id` or
/// `folder_id` (the others follow from it).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub folder_id: Option<FolderId>,
    /// The filename to show. Required for a raw body; a multipart upload defaults to the
    /// `file` part's filename. Any path is dropped.
    pub name: Option<String>,
    /// Show it to the client at once (default `false`).
    pub visible_to_client: Option<bool>,
}

/// A file's bytes.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// A browser upload: the file in a part named `file`.
#[derive(Debug, ToSchema)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentListQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub folder_id: Option<FolderId>,
    /// `true`: only documents outside any folder.
    pub top_level: Option<bool>,
    pub visible_to_client: Option<bool>,
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    /// Who uploaded it: a staff member, contact, API key or access link id (`alk_…`: the
    /// files uploaded through that link).
    pub uploaded_by: Option<String>,
}

/// Rename, move (`folder_id: null` moves out of any folder) or show/hide. Absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDocument {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FolderId>)]
    pub folder_id: Option<Option<FolderId>>,
    pub visible_to_client: Option<bool>,
}

/// Seed 002's "Client Visibility" on a selection of documents.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVisibility {
    #[schema(min_items = 1, max_items = 200)]
    pub document_ids: Vec<DocumentId>,
    pub visible_to_client: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisibilitySet {
    /// How many documents changed (those already so are left as they are).
    pub changed: usize,
}

/// Uploads one file, streamed to the blob store while its SHA-256 is computed; nothing is
/// kept if it breaks off or exceeds the firm's upload limit (413). Send the bytes as the
/// body (any content type but JSON), or as the part `file` of a `multipart/form-data` body.
#[utoipa::path(
    tag = "documents",
    params(UploadQuery),
    request_body(content(
        (FileBytes = "application/octet-stream"),
        (UploadForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = Document, headers(("Location" = String), ("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/documents")]
pub async fn upload_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    query: Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let query = query.into_inner();
    upload::require_name(&req, query.name.as_deref())?;
    let firm_id = principal.firm_id().to_string();
    let (place, limit) = {
        let principal = principal.clone();
        let query_place = (query.client_id.clone(), query.matter_id.clone(), query.folder_id.clone());
        db::run(&state, move |conn| {
            let (client, matter, folder) = &query_place;
            let place = Place::resolve(
                conn,
                &principal,
                client.as_ref(),
                matter.as_ref(),
                ("folder_id", folder.as_ref()),
                "#/query",
            )?;
            Ok((place, upload::firm_limit(conn, principal.firm_id().as_str())?))
        })
        .await?
    };
    let limits = Limits { files: 1, bytes: limit };
    let mut files = upload::receive(&req, &state, payload, &firm_id, query.name.as_deref(), limits).await?;
    let Some(file) = files.pop() else {
        return Err(anyhow::anyhow!("an upload received no file").into());
    };
    let now = vestibule_storage::now();
    let row = DocumentRow {
        id: file.id.to_string(),
        firm_id,
        client_id: place.client_id,
        matter_id: place.matter_id,
        folder_id: place.folder_id,
        name: file.name.clone(),
        content_type: file.content_type(),
        size: file.size(),
        sha256: file.stored.sha256.clone(),
        blob_key: file.blob_key.clone(),
        visible_to_client: query.visible_to_client.unwrap_or(false),
        uploaded_by: principal.actor().1.to_owned(),
        version: 1,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    };
    let saved = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            documents::insert(conn, &row)?;
            documents::end_upload(conn, &row.blob_key)?;
            let entry = Entry::success("document.created", "document", &row.id)
                .with_details(serde_json::json!({ "size": row.size, "sha256": row.sha256 }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(row)
        })
    })
    .await;
    match saved {
        Ok(row) => {
            Ok(with_etag(created(format!("/v1/documents/{}", row.id), &Document::from(row.clone())), row.version))
        }
        Err(error) => {
            upload::abandon(&state, vec![file]).await;
            Err(error)
        }
    }
}

/// Documents of a client or matter, with filters.
#[utoipa::path(
    tag = "documents",
    params(DocumentListQuery, PageQuery),
    responses((status = 200, body = Paginated<Document>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/documents")]
pub async fn list_documents(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<DocumentListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Document>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let page = page.page()?;
    let filter = list_filter(query.into_inner());
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let rows = documents::list(
            conn,
            principal.firm_id().as_str(),
            &visibility,
            &filter,
            page.after.as_deref(),
            page.limit,
        )?;
        let (rows, next_cursor) = page.finish(rows, |r| r.id.clone());
        Ok(web::Json(Paginated { data: present(conn, rows)?, next_cursor }))
    })
    .await
}

fn list_filter(query: DocumentListQuery) -> DocumentFilter {
    let folder_id = match (query.folder_id, query.top_level) {
        (Some(folder), _) => Some(Some(folder.to_string())),
        (None, Some(true)) => Some(None),
        (None, _) => None,
    };
    DocumentFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        folder_id,
        visible_to_client: query.visible_to_client,
        name_contains: query.q.filter(|q| !q.trim().is_empty()),
        uploaded_by: query.uploaded_by,
    }
}

/// "Download All": the documents of a client, matter or folder (with the list's other
/// filters) as one ZIP, streamed. At most 1,000 documents.
#[utoipa::path(
    tag = "documents",
    params(DocumentListQuery),
    responses(
        ArchiveDownload,
        BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[get("/documents/archive")]
pub async fn download_archive(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<DocumentListQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let filter = list_filter(query.into_inner());
    if filter.client_id.is_none() && filter.matter_id.is_none() && !matches!(filter.folder_id, Some(Some(_))) {
        return Err(ApiError::field("#/query/client_id", "required", "name a client, matter or folder"));
    }
    let rows = db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let limit = download::ARCHIVE_LIMIT as i64;
        Ok(documents::list(conn, principal.firm_id().as_str(), &visibility, &filter, None, limit)?)
    })
    .await?;
    if rows.len() > download::ARCHIVE_LIMIT {
        return Err(ApiError::field(
            "#/query",
            "too_many",
            format!("more than {} documents; narrow it to a folder", download::ARCHIVE_LIMIT),
        ));
    }
    Ok(download::send_archive(&state.blobs, rows, "documents"))
}

/// A signed document stays as it was signed.
fn refuse_if_signed(conn: &mut DbConnection, row: &DocumentRow) -> Result<(), ApiError> {
    if signatures::is_signed(conn, &row.id)? {
        return Err(ApiError::conflict("document_signed", "the document has been signed and can no longer be changed"));
    }
    Ok(())
}

fn visible_document(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<DocumentRow, ApiError> {
    Ok(documents::get(conn, principal.firm_id().as_str(), id, &matter_visibility(principal))?)
}

/// One document's metadata.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path)),
    responses((status = 200, body = Document, headers(("ETag" = String))), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/documents/{document_id}")]
pub async fn get_document(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    let document = db::run(&state, move |conn| {
        let row = visible_document(conn, &principal, id.as_str())?;
        present_one(conn, row)
    })
    .await?;
    let version = document.version;
    Ok(with_etag(HttpResponse::Ok().json(document), version))
}

/// Who downloaded the document, through the portal or an access link: first and last time
/// and how often.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path)),
    responses((status = 200, body = Vec<DownloadReceipt>), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/documents/{document_id}/receipts")]
pub async fn list_download_receipts(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
) -> Result<web::Json<Vec<DownloadReceipt>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let row = visible_document(conn, &principal, id.as_str())?;
        let portal = documents::receipts(conn, &row.id)?.into_iter().map(|r| DownloadReceipt {
            via: ReceiptVia::Portal,
            contact_id: Some(ContactId::from_trusted(r.contact_id)),
            contact_name: Some(format!("{} {}", r.first_name, r.last_name)),
            access_link_id: None,
            first_downloaded_at: utc(r.first_at),
            last_downloaded_at: utc(r.last_at),
            downloads: r.downloads,
        });
        let links = access_links::receipts(conn, &row.id)?.into_iter().map(|r| DownloadReceipt {
            via: ReceiptVia::AccessLink,
            contact_id: None,
            contact_name: None,
            access_link_id: Some(AccessLinkId::from_trusted(r.access_link_id)),
            first_downloaded_at: utc(r.first_at),
            last_downloaded_at: utc(r.last_at),
            downloads: r.downloads,
        });
        let mut receipts: Vec<DownloadReceipt> = portal.chain(links).collect();
        receipts.sort_by_key(|r| r.first_downloaded_at);
        Ok(web::Json(receipts))
    })
    .await
}

/// Renames, moves or shows/hides a document; `If-Match` guards against lost updates.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateDocument,
    responses(
        (status = 200, body = Document, headers(("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/documents/{document_id}")]
pub async fn update_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
    ApiJson(body): ApiJson<UpdateDocument>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let expected = if_match(&req)?;
    let mut errors = ValidationErrors::default();
    let name =
        body.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 255)).map(|n| text::file_name(&n)));
    errors.into_result()?;
    let id = path.into_inner();
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let mut row = visible_document(conn, &principal, id.as_str())?;
            let version = row.version;
            if expected.is_some_and(|e| e != version) {
                return Err(ApiError::PreconditionFailed);
            }
            refuse_if_signed(conn, &row)?;
            if let Some(folder) = body.folder_id {
                let place = (row.client_id.as_str(), row.matter_id.as_deref());
                row.folder_id = match folder {
                    Some(folder) => Some(folder_in(conn, &principal, &folder, place, "/folder_id")?.id),
                    None => None,
                };
            }
            if let Some(name) = name {
                row.name = name;
            }
            if let Some(visible) = body.visible_to_client {
                row.visible_to_client = visible;
            }
            row.updated_at = vestibule_storage::now();
            documents::update(conn, &row, version)?;
            row.version = version + 1;
            audit::record(conn, &origin, &principal, Entry::success("document.updated", "document", &row.id))?;
            present_one(conn, row)
        })
    })
    .await?;
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok().json(row), version))
}

/// Deletes a document: it disappears from lists and downloads; its record stays for the
/// audit trail.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, InternalError),
    security(("bearer" = []))
)]
#[delete("/documents/{document_id}")]
pub async fn delete_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let expected = if_match(&req)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row = visible_document(conn, &principal, id.as_str())?;
            if expected.is_some_and(|e| e != row.version) {
                return Err(ApiError::PreconditionFailed);
            }
            refuse_if_signed(conn, &row)?;
            documents::soft_delete(conn, &row.id, vestibule_storage::now())?;
            audit::record(conn, &origin, &principal, Entry::success("document.deleted", "document", &row.id))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Shows a selection of documents to the client, or hides them; all or nothing.
#[utoipa::path(
    tag = "documents",
    request_body = SetVisibility,
    responses(
        (status = 200, body = VisibilitySet),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/documents/visibility")]
pub async fn set_documents_visibility(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<SetVisibility>,
) -> Result<web::Json<VisibilitySet>, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    if body.document_ids.is_empty() || body.document_ids.len() > BULK_LIMIT {
        return Err(ApiError::field("/document_ids", "out_of_range", format!("give 1–{BULK_LIMIT} documents")));
    }
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let mut changed = 0;
            let rows = visible_documents(conn, &principal, &body.document_ids, Selection::IDS)?;
            for mut row in rows.into_iter().filter(|r| r.visible_to_client != body.visible_to_client) {
                let version = row.version;
                row.visible_to_client = body.visible_to_client;
                row.updated_at = vestibule_storage::now();
                documents::update(conn, &row, version)?;
                let entry = Entry::success("document.updated", "document", &row.id)
                    .with_details(serde_json::json!({ "visible_to_client": body.visible_to_client }));
                audit::record(conn, &origin, &principal, entry)?;
                changed += 1;
            }
            Ok(web::Json(VisibilitySet { changed }))
        })
    })
    .await
}

/// Downloads the file as an attachment (`Content-Disposition`, `X-Content-Type-Options:
/// nosniff`), whole or the single `Range` asked for (206).
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path), ("Range" = Option<String>, Header, description = "One range, e.g. `bytes=0-1023`")),
    responses(
        FileDownload,
        Unauthorized, Forbidden, NotFound, RangeNotSatisfiable, InternalError
    ),
    security(("bearer" = []))
)]
#[get("/documents/{document_id}/content")]
pub async fn download_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    let row = db::run(&state, move |conn| visible_document(conn, &principal, id.as_str())).await?;
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok());
    download::send(Download::of(&state.blobs, &row), range).await
}
