//! Document requests in the portal: what the firm asks the signed-in contact for, and
//! uploading into an item.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use vestibule_app::documents::portal_contact;
use vestibule_app::portal_requests;
use vestibule_domain::document_request::RequestStatus;
use vestibule_domain::ids::{DocumentRequestId, RequestItemId};

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
};
use crate::routing::Routes;
use crate::state::AppState;
use crate::upload::{self, FilesForm, Limits, UploadName};
use crate::views::document::FileBytes;
use crate::views::document_request::DocumentRequest;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_my_document_requests).service(get_my_document_request).service(upload_into_request_item);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyRequestQuery {
    pub status: Option<RequestStatus>,
}

/// What the firm asks the contact for, of the clients and matters the portal shows, oldest
/// first.
#[utoipa::path(
    tag = "portal",
    params(MyRequestQuery, PageQuery),
    responses((status = 200, body = Paginated<DocumentRequest>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/document-requests")]
pub async fn list_my_document_requests(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<MyRequestQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<DocumentRequest>>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let page = page.page()?;
    let status = query.status;
    let listed = db::call(&state, move |conn| portal_requests::list(conn, &ctx, status, &page)).await?;
    Ok(web::Json(Paginated::of(listed, DocumentRequest::for_contact)))
}

/// One request addressed to the contact, with its items and the files they uploaded.
#[utoipa::path(
    tag = "portal",
    params(("document_request_id" = DocumentRequestId, Path)),
    responses((status = 200, body = DocumentRequest), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/document-requests/{document_request_id}")]
pub async fn get_my_document_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentRequestId>,
) -> Result<web::Json<DocumentRequest>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let id = path.into_inner();
    let record = db::call(&state, move |conn| portal_requests::get(conn, &ctx, &id)).await?;
    Ok(web::Json(DocumentRequest::for_contact(record)))
}

/// Uploads one or more files into an item (a raw body with `name`, or up to 20 `file` parts
/// of a `multipart/form-data` body), streamed, each within the firm's upload limit (413).
/// The item becomes `uploaded` and the firm is told; 409 `item_accepted`,
/// `request_completed` or `request_cancelled` when it takes nothing more. Either every file
/// is kept or none.
#[utoipa::path(
    tag = "portal",
    params(("document_request_id" = DocumentRequestId, Path), ("item_id" = RequestItemId, Path), UploadName),
    request_body(content(
        (FileBytes = "application/octet-stream"),
        (FilesForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = DocumentRequest),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/document-requests/{document_request_id}/items/{item_id}/uploads")]
pub async fn upload_into_request_item(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(DocumentRequestId, RequestItemId)>,
    query: Query<UploadName>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let name = query.into_inner().name;
    upload::require_name(&req, name.as_deref())?;
    let (id, item) = path.into_inner();
    let limit = {
        let (ctx, id, item) = (ctx.clone(), id.clone(), item.clone());
        db::call(&state, move |conn| portal_requests::upload_target(conn, &ctx, &id, &item)).await?.1
    };
    let limits = Limits { files: upload::FILES_PER_REQUEST, bytes: limit };
    let firm_id = ctx.firm_id().to_owned();
    let received = upload::receive(&req, &state, payload, &firm_id, name.as_deref(), limits).await?;
    let files = received.iter().map(upload::Received::uploaded).collect();
    match db::call(&state, move |conn| portal_requests::upload(conn, &ctx, &id, &item, files)).await {
        Ok(record) => Ok(HttpResponse::Created().json(DocumentRequest::for_contact(record))),
        Err(error) => {
            upload::abandon(&state, received).await;
            Err(error)
        }
    }
}
