//! Seed 002's external download and upload links, recipient side, without an account: the
//! landing page's facts, the security code check that opens a short-lived link session, and
//! with that session the documents of the work made visible to the client (one by one or as
//! one ZIP), or uploads into the work. A link that does not open answers `410
//! link_unavailable` whatever the reason; a wrong code says only that it was wrong.

use actix_web::http::header::RANGE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::documents::Uploaded;
use vestibule_app::link_documents;
use vestibule_app::links::{self, Opened, allowed};
use vestibule_domain::access_link::{LinkKind, LinkUse};
use vestibule_domain::ids::{DocumentId, FolderId};
use vestibule_domain::scan::ScanStatus;
use vestibule_storage::documents::DocumentRow;

use crate::audit::Origin;
use crate::auth::link::LinkUser;
use crate::auth::login;
use crate::db;
use crate::download::{self, ArchiveDownload, Download, FileDownload};
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, RangeNotSatisfiable,
    TooManyRequests, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::utc;
use crate::routing::Routes;
use crate::state::AppState;
use crate::upload::{self, FILES_PER_REQUEST, FilesForm, Limits, UploadName};
use crate::views::document::FileBytes;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(open_access_link)
        .service(start_link_session)
        .service(list_link_documents)
        .service(download_link_archive)
        .service(download_link_document)
        .service(upload_link_documents);
}

/// What the landing page may show before the code: nothing of the client or the documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkLanding {
    /// The firm's display name.
    pub firm_name: String,
    pub message: String,
    pub kind: LinkKind,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkCode {
    /// The security code the firm passed on; spaces and dashes are ignored.
    #[schema(example = "4071 8263")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkSession {
    /// Send as `Authorization: Bearer <token>` to the `/v1/link/…` endpoints.
    pub token: String,
    /// 15 minutes from now; then enter the code again.
    pub expires_at: DateTime<Utc>,
    pub kind: LinkKind,
    pub firm_name: String,
    pub message: String,
}

/// A document as a link's recipient sees it: what it is, not who handled it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDocument {
    pub id: DocumentId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// Lowercase hex SHA-256 of the bytes, to check a download.
    pub sha256: String,
    /// `pending` until the malware scanner has checked it; it downloads once `clean` (or
    /// `unscanned`, where the firm runs no scanner).
    pub scan_status: ScanStatus,
    pub created_at: DateTime<Utc>,
}

impl From<DocumentRow> for LinkDocument {
    fn from(row: DocumentRow) -> Self {
        Self {
            id: DocumentId::from_trusted(row.id),
            name: row.name,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            scan_status: ScanStatus::parse(&row.scan_status).unwrap_or(ScanStatus::Pending),
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkUploads {
    pub uploaded: Vec<LinkDocument>,
    /// Files the link still accepts.
    pub remaining: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkDocumentQuery {
    pub folder_id: Option<FolderId>,
}

impl From<Opened> for LinkLanding {
    fn from(Opened { link, firm_name }: Opened) -> Self {
        Self {
            firm_name,
            message: link.row.message,
            kind: LinkKind::from_stored(&link.row.kind),
            expires_at: utc(link.row.expires_at),
        }
    }
}

/// The landing page's facts: the firm's name, the message, the kind and the expiry.
#[utoipa::path(
    tag = "links",
    params(("token" = String, Path, description = "The token in the link's URL (`val_…`).")),
    responses((status = 200, body = LinkLanding), Gone, InternalError)
)]
#[get("/links/{token}")]
pub async fn open_access_link(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<LinkLanding>, ApiError> {
    let token = path.into_inner();
    let opened = db::call(&state, move |conn| links::landing(conn, &token)).await?;
    Ok(web::Json(opened.into()))
}

/// Checks the security code and opens a link session. A wrong code is `401 invalid_code`;
/// the fifth wrong code in a row locks the link until the firm regenerates the code (the
/// firm is told). Codes are also limited per client address: `429` with `Retry-After`.
#[utoipa::path(
    tag = "links",
    params(("token" = String, Path, description = "The token in the link's URL (`val_…`).")),
    request_body = LinkCode,
    responses(
        (status = 201, body = LinkSession),
        BadRequest, Unauthorized, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/links/{token}/sessions")]
pub async fn start_link_session(
    state: web::Data<AppState>,
    origin: Origin,
    path: web::Path<String>,
    ApiJson(body): ApiJson<LinkCode>,
) -> Result<HttpResponse, ApiError> {
    login::attempt(&state, state.link_throttle, &origin, "too many codes from this address").await?;
    let token = path.into_inner();
    let (settings, secret) = (state.settings.app.clone(), state.links.clone());
    let session =
        db::call(&state, move |conn| links::start_session(conn, &origin, &settings, &secret, &token, &body.code))
            .await?;
    let Opened { link, firm_name } = session.opened;
    Ok(HttpResponse::Created().json(LinkSession {
        token: session.token,
        expires_at: utc(session.expires_at),
        kind: LinkKind::from_stored(&link.row.kind),
        firm_name,
        message: link.row.message,
    }))
}

/// The documents of the work that the firm made visible to the client.
#[utoipa::path(
    tag = "links",
    params(LinkDocumentQuery, PageQuery),
    responses((status = 200, body = Paginated<LinkDocument>), BadRequest, Unauthorized, Forbidden, Gone, Unprocessable, InternalError),
    security(("link_session" = []))
)]
#[get("/link/documents")]
pub async fn list_link_documents(
    state: web::Data<AppState>,
    LinkUser(link, _): LinkUser,
    query: Query<LinkDocumentQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<LinkDocument>>, ApiError> {
    allowed(&link, LinkUse::ReadDocuments)?;
    let page = page.page()?;
    let folder = query.into_inner().folder_id;
    let listed = db::call(&state, move |conn| link_documents::list(conn, &link, folder.as_ref(), &page)).await?;
    Ok(web::Json(Paginated::of(listed, LinkDocument::from)))
}

/// "Download All": the visible documents (of one folder, if asked) as one ZIP; each
/// download is recorded for the firm.
#[utoipa::path(
    tag = "links",
    params(LinkDocumentQuery),
    responses(
        ArchiveDownload,
        BadRequest, Unauthorized, Forbidden, Gone, Unprocessable, InternalError
    ),
    security(("link_session" = []))
)]
#[get("/link/documents/archive")]
pub async fn download_link_archive(
    state: web::Data<AppState>,
    origin: Origin,
    LinkUser(link, _): LinkUser,
    query: Query<LinkDocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    allowed(&link, LinkUse::ReadDocuments)?;
    let folder = query.into_inner().folder_id;
    let rows = db::call(&state, move |conn| {
        link_documents::archive(conn, &origin, &link, folder.as_ref(), download::ARCHIVE_LIMIT)
    })
    .await?;
    Ok(download::send_archive(&state.blobs, rows, "documents"))
}

/// Downloads one visible document (whole or one `Range`) and records the download.
#[utoipa::path(
    tag = "links",
    params(("document_id" = DocumentId, Path), ("Range" = Option<String>, Header, description = "One range, e.g. `bytes=0-1023`")),
    responses(
        FileDownload,
        Unauthorized, Forbidden, NotFound, Conflict, Gone, RangeNotSatisfiable, InternalError
    ),
    security(("link_session" = []))
)]
#[get("/link/documents/{document_id}/content")]
pub async fn download_link_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    LinkUser(link, _): LinkUser,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    allowed(&link, LinkUse::ReadDocuments)?;
    let id = path.into_inner();
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let asked = range.clone();
    let row = db::call(&state, move |conn| {
        let counts = |row: &DocumentRow| download::counts_as_download(asked.as_deref(), row.size);
        link_documents::download(conn, &origin, &link, &id, counts)
    })
    .await?;
    download::send(Download::of(&state.blobs, &row), range.as_deref()).await
}

/// Uploads files into the work (upload links only): a raw body with `name`, or up to 20
/// parts named `file` of a `multipart/form-data` body. All are kept or none; each is at most
/// the firm's upload limit (413), and the link accepts `max_uploads` files in all (`409
/// upload_limit_reached`). The firm is told by email.
#[utoipa::path(
    tag = "links",
    params(UploadName),
    request_body(content(
        (FileBytes = "application/octet-stream"),
        (FilesForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = LinkUploads),
        BadRequest, Unauthorized, Forbidden, Conflict, Gone, PayloadTooLarge, Unprocessable, InternalError
    ),
    security(("link_session" = []))
)]
#[post("/link/documents")]
pub async fn upload_link_documents(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    LinkUser(link, session): LinkUser,
    query: Query<UploadName>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    allowed(&link, LinkUse::Upload)?;
    let name = query.into_inner().name;
    upload::require_name(&req, name.as_deref())?;
    let room = {
        let link = link.clone();
        db::call(&state, move |conn| link_documents::upload_room(conn, &link)).await?
    };
    let files = usize::try_from(room.files).map_or(FILES_PER_REQUEST, |r| r.min(FILES_PER_REQUEST));
    let limits = Limits { files, bytes: room.bytes_per_file };
    let received = upload::receive(&req, &state, payload, &link.row.firm_id, name.as_deref(), limits).await?;
    let files: Vec<Uploaded> = received.iter().map(upload::Received::uploaded).collect();
    let settings = state.settings.app.clone();
    let saved =
        db::call(&state, move |conn| link_documents::save_uploads(conn, &origin, &settings, &link, &session, files))
            .await;
    match saved {
        Ok(uploads) => Ok(HttpResponse::Created().json(LinkUploads {
            uploaded: uploads.documents.into_iter().map(LinkDocument::from).collect(),
            remaining: uploads.remaining,
        })),
        Err(error) => {
            upload::abandon(&state, received).await;
            Err(error)
        }
    }
}
