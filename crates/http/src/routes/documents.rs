//! Documents of clients and matters (seeds 000, 002, 003): streamed uploads (a raw body for
//! SDKs, `multipart/form-data` for browsers), listing, renaming, moving, client visibility
//! (also in bulk), soft delete, and downloads with `Range`. Staff see the documents of the
//! matters they may see.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::documents::{self, Audience, DocumentChanges, NewDocument, Receipt, Via};
use vestibule_app::scanning;
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::{AccessLinkId, ClientId, ContactId, DocumentId, FolderId, MatterId};
use vestibule_domain::scan::ScanStatus;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::documents::DocumentFilter;

use crate::auth::principal::Caller;
use crate::db;
use crate::download::{self, ArchiveDownload, FileDownload};
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, RangeNotSatisfiable,
    Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;
use crate::upload::{self, Limits};
use crate::views::document::Document;
use crate::views::document::FileBytes;

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
        .service(rescan_document)
        .service(list_download_receipts);
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

impl From<Receipt> for DownloadReceipt {
    fn from(receipt: Receipt) -> Self {
        let (via, contact_id, contact_name, access_link_id) = match receipt.via {
            Via::Portal { contact_id, contact_name } => {
                (ReceiptVia::Portal, Some(ContactId::from_trusted(contact_id)), Some(contact_name), None)
            }
            Via::AccessLink { access_link_id } => {
                (ReceiptVia::AccessLink, None, None, Some(AccessLinkId::from_trusted(access_link_id)))
            }
        };
        Self {
            via,
            contact_id,
            contact_name,
            access_link_id,
            first_downloaded_at: utc(receipt.first_at),
            last_downloaded_at: utc(receipt.last_at),
            downloads: receipt.downloads,
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
    /// Only documents with this scan status (`infected`: the quarantine).
    pub scan_status: Option<ScanStatus>,
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
    caller: Caller,
    query: Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    authorize(&ctx.principal, Action::WriteDocuments)?;
    let query = query.into_inner();
    upload::require_name(&req, query.name.as_deref())?;
    let (place, limit) = {
        let (ctx, query_place) =
            (ctx.clone(), (query.client_id.clone(), query.matter_id.clone(), query.folder_id.clone()));
        db::call(&state, move |conn| {
            let (client, matter, folder) = &query_place;
            documents::upload_target(conn, &ctx, (client.as_ref(), matter.as_ref(), folder.as_ref()))
        })
        .await?
    };
    let limits = Limits { files: 1, bytes: limit };
    let firm_id = ctx.firm_id().to_owned();
    let mut files = upload::receive(&req, &state, payload, &firm_id, query.name.as_deref(), limits).await?;
    let Some(file) = files.pop() else {
        return Err(anyhow::anyhow!("an upload received no file").into());
    };
    let new = NewDocument {
        id: file.id.clone(),
        blob_key: file.blob_key.clone(),
        name: file.name.clone(),
        content_type: file.content_type(),
        size: file.size(),
        sha256: file.stored.sha256.clone(),
        place,
        visible_to_client: query.visible_to_client.unwrap_or(false),
    };
    match db::call(&state, move |conn| documents::record_upload(conn, &ctx, new)).await {
        Ok(row) => {
            let version = row.version;
            Ok(with_etag(created(format!("/v1/documents/{}", row.id), &Document::from(row)), version))
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
    caller: Caller,
    query: Query<DocumentListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Document>>, ApiError> {
    let page = page.page()?;
    let filter = list_filter(query.into_inner());
    let listed = caller
        .must(Action::ReadDocuments)
        .call(&state, move |conn, ctx| documents::list(conn, ctx, Audience::Firm, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Document::from)))
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
        scan_status: query.scan_status.map(|s| s.as_str().to_owned()),
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
    caller: Caller,
    query: Query<DocumentListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    authorize(&ctx.principal, Action::ReadDocuments)?;
    download::archive(&state, ctx, Audience::Firm, list_filter(query.into_inner())).await
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
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| documents::get(conn, ctx, Audience::Firm, &id)).await?;
    let version = record.row.version;
    Ok(with_etag(HttpResponse::Ok().json(Document::from(record)), version))
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
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<web::Json<Vec<DownloadReceipt>>, ApiError> {
    let id = path.into_inner();
    let receipts = caller.call(&state, move |conn, ctx| documents::receipts(conn, ctx, &id)).await?;
    Ok(web::Json(receipts.into_iter().map(DownloadReceipt::from).collect()))
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
    caller: Caller,
    path: web::Path<DocumentId>,
    ApiJson(body): ApiJson<UpdateDocument>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let mut errors = ValidationErrors::default();
    let name =
        body.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 255)).map(|n| text::file_name(&n)));
    errors.into_result()?;
    let changes = DocumentChanges { name, folder: body.folder_id, visible_to_client: body.visible_to_client };
    let id = path.into_inner();
    let record = caller
        .must(Action::WriteDocuments)
        .call(&state, move |conn, ctx| documents::update(conn, ctx, &id, expected, changes))
        .await?;
    let version = record.row.version;
    Ok(with_etag(HttpResponse::Ok().json(Document::from(record)), version))
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
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = path.into_inner();
    caller
        .must(Action::WriteDocuments)
        .call(&state, move |conn, ctx| documents::delete(conn, ctx, &id, expected))
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
    caller: Caller,
    ApiJson(body): ApiJson<SetVisibility>,
) -> Result<web::Json<VisibilitySet>, ApiError> {
    if body.document_ids.is_empty() || body.document_ids.len() > BULK_LIMIT {
        return Err(ApiError::field("/document_ids", "out_of_range", format!("give 1–{BULK_LIMIT} documents")));
    }
    let SetVisibility { document_ids, visible_to_client } = body;
    let changed = caller
        .must(Action::WriteDocuments)
        .call(&state, move |conn, ctx| documents::set_visibility(conn, ctx, &document_ids, visible_to_client))
        .await?;
    Ok(web::Json(VisibilitySet { changed }))
}

/// Has the malware scanner check a document again (one it could not judge, say); owners and
/// admins only. The document is `pending` until the new verdict.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path)),
    responses((status = 202, body = Document), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/documents/{document_id}/rescan")]
pub async fn rescan_document(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row =
        caller.must(Action::ManageQuarantine).call(&state, move |conn, ctx| scanning::rescan(conn, ctx, &id)).await?;
    Ok(HttpResponse::Accepted().json(Document::from(row)))
}

/// Downloads the file as an attachment (`Content-Disposition`, `X-Content-Type-Options:
/// nosniff`), whole or the single `Range` asked for (206).
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path), ("Range" = Option<String>, Header, description = "One range, e.g. `bytes=0-1023`")),
    responses(
        FileDownload,
        Unauthorized, Forbidden, NotFound, Conflict, RangeNotSatisfiable, InternalError
    ),
    security(("bearer" = []))
)]
#[get("/documents/{document_id}/content")]
pub async fn download_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    authorize(&ctx.principal, Action::ReadDocuments)?;
    download::document(&req, &state, ctx, Audience::Firm, path.into_inner()).await
}
