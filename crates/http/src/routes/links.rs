//! Seed 002's external download and upload links, recipient side, without an account: the
//! landing page's facts, the security code check that opens a short-lived link session, and
//! with that session the documents of the work made visible to the client (one by one or as
//! one ZIP), or uploads into the work. A link that does not open answers `410
//! link_unavailable` whatever the reason; a wrong code says only that it was wrong.

use crate::routing::Routes;
use actix_web::http::header::RANGE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::access_link::{LinkKind, LinkUse, MAX_FAILED_CODES, normalize_code};
use vestibule_domain::audit::{ActorKind, Outcome};
use vestibule_domain::ids::{DocumentId, FolderId};
use vestibule_domain::mail::{self, Email};
use vestibule_storage::access_links::{self, Link};
use vestibule_storage::documents::{self, DocumentRow};
use vestibule_storage::{DbConnection, clients, firms, outbox, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::link::{self as link_auth, LINK_SESSION_PREFIX, LinkUser};
use crate::auth::secrets;
use crate::db;
use crate::download::{self, ArchiveDownload, Download, FileDownload};
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, RangeNotSatisfiable,
    TooManyRequests, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::documents::FileBytes;
use crate::routes::utc;
use crate::state::{AppState, HttpSettings};
use crate::upload::{self, Limits};

/// How long a correct code keeps the link open without asking again.
const SESSION_MINUTES: i64 = 15;

/// Files one upload request may carry.
pub(crate) const FILES_PER_REQUEST: usize = 20;

/// Several files from a browser, each in a part named `file`.
#[derive(Debug, utoipa::ToSchema)]
pub struct LinkUploadForm {
    #[schema(min_items = 1, max_items = 20)]
    pub file: Vec<FileBytes>,
}

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkUploadQuery {
    /// The filename, for a raw body (a multipart body takes each part's filename).
    pub name: Option<String>,
}

fn firm_name(conn: &mut DbConnection, link: &Link) -> Result<String, ApiError> {
    Ok(firms::get(conn, &link.row.firm_id)?.email_display_name)
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
    db::run(&state, move |conn| {
        let link = link_auth::open_link(conn, &token)?;
        Ok(web::Json(LinkLanding {
            firm_name: firm_name(conn, &link)?,
            message: link.row.message,
            kind: LinkKind::from_stored(&link.row.kind),
            expires_at: utc(link.row.expires_at),
        }))
    })
    .await
}

enum Checked {
    Opened(LinkSession),
    Wrong,
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
    let address = origin.ip.clone().unwrap_or_default();
    if let Err(retry_after_secs) = state.link_limiter.check(&address) {
        return Err(ApiError::TooManyRequests { retry_after_secs, detail: "too many codes from this address" });
    }
    let token = path.into_inner();
    let app = state.clone();
    let checked = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let link = link_auth::open_link(conn, &token)?;
            let id = link.row.id.clone();
            let firm_id = link.row.firm_id.clone();
            // Counted before the check, under the row's lock: concurrent guesses wait their turn.
            let guard = access_links::reserve_attempt(conn, &id)?.ok_or_else(link_auth::unavailable)?;
            let now = vestibule_storage::now();
            let right = normalize_code(&body.code)
                .is_some_and(|code| app.links.code_matches(&id, &code, &guard.code_hash))
                && access_links::accept_code(conn, &id, &guard.code_hash, now)?;
            if !right {
                let failures = guard.failed_attempts;
                let entry = Entry {
                    action: "access_link.code_failed",
                    target: Some(("access_link", &id)),
                    outcome: Outcome::Failure,
                    details: json!({ "failed_attempts": failures }),
                };
                audit::record_as(conn, &origin, &firm_id, ActorKind::Anonymous, None, entry)?;
                if failures >= MAX_FAILED_CODES && access_links::lock(conn, &id, now)? {
                    let entry = Entry::success("access_link.locked", "access_link", &id)
                        .with_details(json!({ "failed_attempts": failures }));
                    audit::record_as(conn, &origin, &firm_id, ActorKind::Anonymous, None, entry)?;
                    notify_staff(conn, &app.settings, &link, Email::AccessLinkLocked)?;
                }
                return Ok(Checked::Wrong);
            }
            let session = format!("{LINK_SESSION_PREFIX}{}", secrets::random_secret());
            let expires_at = now + Duration::minutes(SESSION_MINUTES);
            access_links::start_session(conn, &link.row, &secrets::digest(&session), expires_at)?;
            audit::record_as(
                conn,
                &origin,
                &firm_id,
                ActorKind::Anonymous,
                None,
                Entry::success("access_link.opened", "access_link", &id),
            )?;
            Ok(Checked::Opened(LinkSession {
                token: session,
                expires_at: utc(expires_at),
                kind: LinkKind::from_stored(&link.row.kind),
                firm_name: firm_name(conn, &link)?,
                message: link.row.message,
            }))
        })
    })
    .await?;
    match checked {
        Checked::Opened(session) => Ok(HttpResponse::Created().json(session)),
        Checked::Wrong => Err(ApiError::Unauthenticated { code: "invalid_code", detail: "the security code is wrong" }),
    }
}

/// Tells the link's creator and the client's assignees (those who may see the work), by
/// `email`, and integrations, by webhook (the email's event).
fn notify_staff(
    conn: &mut DbConnection,
    settings: &HttpSettings,
    link: &Link,
    email: impl FnOnce(mail::LinkAlert) -> Email,
) -> Result<(), ApiError> {
    let firm_id = link.row.firm_id.as_str();
    let client = clients::get(conn, firm_id, &link.row.client_id)?;
    let link_url = format!("{}/access-links/{}", settings.public_base_url.trim_end_matches('/'), link.row.id);
    let content = email(mail::LinkAlert {
        link: link_url,
        kind: LinkKind::from_stored(&link.row.kind),
        client_name: client.row.name.clone(),
    });
    let event = outbox::publish(conn, firm_id, content.event_type(), &json!({ "id": link.row.id }))?;
    for member in staff::with_access(conn, firm_id, link.row.matter_id.as_deref())? {
        if member.id == link.row.created_by || client.assignees.contains(&member.id) {
            outbox::queue_email(conn, &event, &member.email, &content)?;
        }
    }
    Ok(())
}

fn allowed(link: &Link, use_: LinkUse) -> Result<(), ApiError> {
    LinkKind::from_stored(&link.row.kind)
        .allows(use_)
        .map_err(|detail| ApiError::Refused { code: "wrong_link_kind", detail })
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
    let folder = query.into_inner().folder_id.map(String::from);
    db::run(&state, move |conn| {
        access_links::touch(conn, &link.row.id, vestibule_storage::now())?;
        let rows = access_links::documents(conn, &link.row, folder.as_deref(), page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), LinkDocument::from)))
    })
    .await
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
    let folder = query.into_inner().folder_id.map(String::from);
    let rows = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            access_links::touch(conn, &link.row.id, vestibule_storage::now())?;
            let limit = download::ARCHIVE_LIMIT as i64;
            let rows = access_links::documents(conn, &link.row, folder.as_deref(), None, limit)?;
            if rows.len() > download::ARCHIVE_LIMIT {
                return Err(ApiError::field("#/query", "too_many", "too many documents; narrow it to a folder"));
            }
            for row in &rows {
                access_links::record_download(conn, row, &link.row.id)?;
            }
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let entry = Entry::success("document.archive_downloaded", "access_link", &link.row.id)
                .with_details(json!({ "document_ids": ids }));
            audit::record_as(conn, &origin, &link.row.firm_id, ActorKind::AccessLink, Some(&link.row.id), entry)?;
            Ok(rows)
        })
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
        Unauthorized, Forbidden, NotFound, Gone, RangeNotSatisfiable, InternalError
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
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            access_links::touch(conn, &link.row.id, vestibule_storage::now())?;
            let row = access_links::document(conn, &link.row, id.as_str())?;
            if download::counts_as_download(asked.as_deref(), row.size) {
                access_links::record_download(conn, &row, &link.row.id)?;
                let entry = Entry::success("document.downloaded", "document", &row.id)
                    .with_details(json!({ "access_link_id": link.row.id }));
                audit::record_as(conn, &origin, &link.row.firm_id, ActorKind::AccessLink, Some(&link.row.id), entry)?;
            }
            Ok(row)
        })
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
    params(LinkUploadQuery),
    request_body(content(
        (FileBytes = "application/octet-stream"),
        (LinkUploadForm = "multipart/form-data"),
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
    query: Query<LinkUploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    allowed(&link, LinkUse::Upload)?;
    let name = query.into_inner().name;
    upload::require_name(&req, name.as_deref())?;
    let (left, bytes) = {
        let link = link.clone();
        db::run(&state, move |conn| Ok((remaining(conn, &link)?, upload::firm_limit(conn, &link.row.firm_id)?))).await?
    };
    if left == 0 {
        return Err(limit_reached());
    }
    let files = usize::try_from(left).map_or(FILES_PER_REQUEST, |r| r.min(FILES_PER_REQUEST));
    let limits = Limits { files, bytes };
    let received = upload::receive(&req, &state, payload, &link.row.firm_id, name.as_deref(), limits).await?;
    let mut rows: Vec<DocumentRow> = received.iter().map(|file| document_of(&link, file)).collect();
    let settings = state.settings.clone();
    let saved = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            // The link and session as they are now, under the link's row lock: while the files
            // streamed the link may have been disabled, re-keyed or given another folder, and
            // concurrent uploads must not pass the limit together.
            access_links::touch(conn, &link.row.id, vestibule_storage::now())?;
            let link = link_auth::session_link(conn, &session)?;
            if remaining(conn, &link)? < rows.len() as i64 {
                return Err(limit_reached());
            }
            for row in &mut rows {
                row.folder_id.clone_from(&link.row.folder_id);
            }
            for row in &rows {
                documents::insert(conn, row)?;
                documents::end_upload(conn, &row.blob_key)?;
                let entry = Entry::success("document.created", "document", &row.id)
                    .with_details(json!({ "size": row.size, "sha256": row.sha256, "access_link_id": link.row.id }));
                audit::record_as(conn, &origin, &link.row.firm_id, ActorKind::AccessLink, Some(&link.row.id), entry)?;
            }
            let files = rows.iter().map(|r| r.name.clone()).collect();
            notify_staff(conn, &settings, &link, |alert| Email::AccessLinkUploaded(mail::LinkUpload { alert, files }))?;
            let left = remaining(conn, &link)?;
            Ok(LinkUploads { uploaded: rows.into_iter().map(LinkDocument::from).collect(), remaining: left })
        })
    })
    .await;
    match saved {
        Ok(uploads) => Ok(HttpResponse::Created().json(uploads)),
        Err(error) => {
            upload::abandon(&state, received).await;
            Err(error)
        }
    }
}

fn remaining(conn: &mut DbConnection, link: &Link) -> Result<i64, ApiError> {
    Ok((i64::from(link.row.max_uploads) - access_links::uploads(conn, &link.row)?).max(0))
}

fn limit_reached() -> ApiError {
    ApiError::conflict("upload_limit_reached", "this link accepts no more files; ask the firm to raise its limit")
}

/// An uploaded file as a document of the link's work, in its folder, hidden from the client
/// until staff decide, and marked as uploaded through the link.
fn document_of(link: &Link, file: &upload::Received) -> DocumentRow {
    let now = vestibule_storage::now();
    DocumentRow {
        id: file.id.to_string(),
        firm_id: link.row.firm_id.clone(),
        client_id: link.row.client_id.clone(),
        matter_id: link.row.matter_id.clone(),
        folder_id: link.row.folder_id.clone(),
        name: file.name.clone(),
        content_type: file.content_type(),
        size: file.size(),
        sha256: file.stored.sha256.clone(),
        blob_key: file.blob_key.clone(),
        visible_to_client: false,
        uploaded_by: link.row.id.clone(),
        version: 1,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    }
}
