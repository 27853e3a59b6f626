//! Documents in the portal: what the firm made visible to the client, of the clients and
//! matters the portal grants. Every download is recorded as a receipt staff can see.

use crate::routing::Routes;
use actix_web::http::header::RANGE;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use vestibule_domain::ids::{ClientId, DocumentId, FolderId, MatterId};
use vestibule_domain::principal::Principal;
use vestibule_storage::documents::{self, DocumentFilter};
use vestibule_storage::write_tx;

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::ContactUser;
use crate::db;
use crate::download::{self, ArchiveDownload, Download, FileDownload};
use crate::error::ApiError;
use crate::json::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Forbidden, InternalError, NotFound, RangeNotSatisfiable, Unauthorized, Unprocessable,
};
use crate::routes::documents::Document;
use crate::state::AppState;
use vestibule_app::portal_access::portal_of as my_portal;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_my_documents).service(download_my_archive).service(get_my_document).service(download_my_document);
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
    ContactUser(me): ContactUser,
    query: Query<PortalDocumentQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Document>>, ApiError> {
    let page = page.page()?;
    let filter = filter(query.into_inner());
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        let rows = documents::list_for_portal(conn, &portal, &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Document::from)))
    })
    .await
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
    origin: Origin,
    ContactUser(me): ContactUser,
    query: Query<PortalDocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter(query.into_inner());
    let rows = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let portal = my_portal(conn, &me)?;
            let limit = download::ARCHIVE_LIMIT as i64;
            let rows = documents::list_for_portal(conn, &portal, &filter, None, limit)?;
            if rows.len() > download::ARCHIVE_LIMIT {
                return Err(ApiError::field("#/query", "too_many", "too many documents; narrow it to a folder"));
            }
            for row in &rows {
                documents::record_download(conn, row, me.contact_id.as_str())?;
            }
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let entry = Entry::success("document.archive_downloaded", "portal", &portal)
                .with_details(serde_json::json!({ "document_ids": ids }));
            audit::record(conn, &origin, &Principal::Contact(me.clone()), entry)?;
            Ok(rows)
        })
    })
    .await?;
    Ok(download::send_archive(&state.blobs, rows, "documents"))
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
    ContactUser(me): ContactUser,
    path: web::Path<DocumentId>,
) -> Result<web::Json<Document>, ApiError> {
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        Ok(web::Json(documents::get_for_portal(conn, &portal, id.as_str())?.into()))
    })
    .await
}

/// Downloads the file (whole or one `Range`) and records the download for the firm (a range
/// counts when it starts at the first byte).
#[utoipa::path(
    tag = "portal",
    params(("document_id" = DocumentId, Path), ("Range" = Option<String>, Header, description = "One range, e.g. `bytes=0-1023`")),
    responses(
        FileDownload,
        Unauthorized, Forbidden, NotFound, RangeNotSatisfiable, InternalError
    ),
    security(("bearer" = []))
)]
#[get("/portal/documents/{document_id}/content")]
pub async fn download_my_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    ContactUser(me): ContactUser,
    path: web::Path<DocumentId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let asked = range.clone();
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let portal = my_portal(conn, &me)?;
            let row = documents::get_for_portal(conn, &portal, id.as_str())?;
            if download::counts_as_download(asked.as_deref(), row.size) {
                documents::record_download(conn, &row, me.contact_id.as_str())?;
                let principal = Principal::Contact(me.clone());
                audit::record(conn, &origin, &principal, Entry::success("document.downloaded", "document", &row.id))?;
            }
            Ok(row)
        })
    })
    .await?;
    download::send(Download::of(&state.blobs, &row), range.as_deref()).await
}
