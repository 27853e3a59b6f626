//! Documents in the portal: what the firm made visible to the client, of the clients and
//! matters the portal grants. Every download is recorded as a receipt staff can see.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use vestibule_app::documents::{self, Audience, portal_contact};
use vestibule_app::portal_uploads;
use vestibule_domain::ids::{ClientId, DocumentId, FolderId, MatterId};
use vestibule_storage::documents::DocumentFilter;

use crate::auth::principal::Caller;
use crate::db;
use crate::download::{self, ArchiveDownload, FileDownload};
use crate::error::ApiError;
use crate::json::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, RangeNotSatisfiable, Unauthorized,
    Unprocessable,
};
use crate::routing::Routes;
use crate::state::AppState;
use crate::upload::{self, FilesForm, Limits};
use crate::views::document::{Document, FileBytes};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_my_documents)
        .service(download_my_archive)
        .service(upload_my_documents)
        .service(get_my_document)
        .service(remove_my_document)
        .service(download_my_document);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortalDocumentQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub folder_id: Option<FolderId>,
}

/// The documents the firm has made visible, of the clients and matters the portal shows.
#[utoipa::path(
    tag = "portal",
    params(PortalDocumentQuery, PageQuery),
    responses((status = 200, body = Paginated<Document>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/documents")]
pub async fn list_my_documents(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PortalDocumentQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Document>>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let page = page.page()?;
    let filter = filter(query.into_inner());
    let listed = db::call(&state, move |conn| documents::list(conn, &ctx, Audience::Portal, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Document::from)))
}

/// "Download All" in the portal: the visible documents (with the list's filters) as one
/// ZIP; each download is recorded.
#[utoipa::path(
    tag = "portal",
    params(PortalDocumentQuery),
    responses(
        ArchiveDownload,
        BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[get("/portal/documents/archive")]
pub async fn download_my_archive(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PortalDocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    download::archive(&state, ctx, Audience::Portal, filter(query.into_inner())).await
}

/// Where the contact's upload goes: a client or matter the portal shows, optionally one of
/// its folders.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortalUploadQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub folder_id: Option<FolderId>,
    /// The filename, for a raw body (a multipart body takes each part's filename).
    pub name: Option<String>,
}

/// Uploads files for the firm: a raw body with `name`, or up to 20 `file` parts of a
/// `multipart/form-data` body, streamed, each within the firm's upload limit (413). They are
/// the contact's documents, visible to them and to staff at once; staff are told. Either
/// every file is kept or none.
#[utoipa::path(
    tag = "portal",
    params(PortalUploadQuery),
    request_body(content(
        (FileBytes = "application/octet-stream"),
        (FilesForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = Vec<Document>),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/documents")]
pub async fn upload_my_documents(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PortalUploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let query = query.into_inner();
    upload::require_name(&req, query.name.as_deref())?;
    let (place, limit) = {
        let (ctx, at) = (ctx.clone(), (query.client_id, query.matter_id, query.folder_id));
        db::call(&state, move |conn| {
            let (client, matter, folder) = &at;
            portal_uploads::upload_target(conn, &ctx, (client.as_ref(), matter.as_ref(), folder.as_ref()))
        })
        .await?
    };
    let limits = Limits { files: upload::FILES_PER_REQUEST, bytes: limit };
    let firm_id = ctx.firm_id().to_owned();
    let received = upload::receive(&req, &state, payload, &firm_id, query.name.as_deref(), limits).await?;
    let files = received.iter().map(upload::Received::uploaded).collect();
    match db::call(&state, move |conn| portal_uploads::save(conn, &ctx, &place, files)).await {
        Ok(rows) => Ok(HttpResponse::Created().json(rows.into_iter().map(Document::from).collect::<Vec<_>>())),
        Err(error) => {
            upload::abandon(&state, received).await;
            Err(error)
        }
    }
}

/// Removes a file the contact uploaded (403 for others' documents), unless staff accepted
/// the request item it answers (409 `item_accepted`).
#[utoipa::path(
    tag = "portal",
    params(("document_id" = DocumentId, Path)),
    responses((status = 204), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[delete("/portal/documents/{document_id}")]
pub async fn remove_my_document(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let id = path.into_inner();
    db::call(&state, move |conn| portal_uploads::remove(conn, &ctx, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn filter(query: PortalDocumentQuery) -> DocumentFilter {
    DocumentFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        folder_id: query.folder_id.map(|f| Some(f.to_string())),
        ..DocumentFilter::default()
    }
}

/// One document visible in the signed-in contact's portal.
#[utoipa::path(
    tag = "portal",
    params(("document_id" = DocumentId, Path)),
    responses((status = 200, body = Document), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/documents/{document_id}")]
pub async fn get_my_document(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<web::Json<Document>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let id = path.into_inner();
    let record = db::call(&state, move |conn| documents::get(conn, &ctx, Audience::Portal, &id)).await?;
    Ok(web::Json(record.into()))
}

/// Downloads the file (whole or one `Range`) and records the download for the firm (a range
/// counts when it starts at the first byte).
#[utoipa::path(
    tag = "portal",
    params(("document_id" = DocumentId, Path), ("Range" = Option<String>, Header, description = "One range, e.g. `bytes=0-1023`")),
    responses(
        FileDownload,
        Unauthorized, Forbidden, NotFound, Conflict, RangeNotSatisfiable, InternalError
    ),
    security(("bearer" = []))
)]
#[get("/portal/documents/{document_id}/content")]
pub async fn download_my_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    download::document(&req, &state, ctx, Audience::Portal, path.into_inner()).await
}
