//! Document requests, staff side: ask a contact for a list of documents, follow progress,
//! accept or return each item, remind the contact now, cancel.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::document_requests::{self, NewItem, NewRequest};
use vestibule_domain::ValidationErrors;
use vestibule_domain::authz::Action;
use vestibule_domain::document_request::{self as rules, RequestStatus};
use vestibule_domain::ids::{ClientId, ContactId, DocumentRequestId, FolderId, MatterId, RequestItemId};
use vestibule_storage::document_requests::RequestFilter;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::created;
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::document_request::DocumentRequest;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(create_document_request)
        .service(list_document_requests)
        .service(get_document_request)
        .service(cancel_document_request)
        .service(remind_document_request)
        .service(accept_request_item)
        .service(return_request_item);
}

/// What to ask for. Name a `client_id` or a `matter_id` (of that client); the contact's
/// portal must show it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDocumentRequest {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub contact_id: ContactId,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Shown to the contact in the portal (never in emails).
    #[schema(max_length = 5000)]
    pub message: Option<String>,
    /// The due date of items without their own; today or later.
    pub due_on: Option<NaiveDate>,
    /// Where uploads go, unless an item names its own folder.
    pub folder_id: Option<FolderId>,
    #[schema(min_items = 1, max_items = 50)]
    pub items: Vec<CreateRequestItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestItem {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub folder_id: Option<FolderId>,
}

impl CreateDocumentRequest {
    fn command(self) -> Result<NewRequest, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.check("/title", rules::title(&self.title));
        let message = errors.check("/message", rules::description(self.message.as_deref()));
        let items: Vec<NewItem> = self
            .items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let name = errors.check(&format!("/items/{i}/name"), rules::item_name(&item.name));
                let description =
                    errors.check(&format!("/items/{i}/description"), rules::description(item.description.as_deref()));
                Some(NewItem { name: name?, description: description?, due_on: item.due_on, folder_id: item.folder_id })
            })
            .collect();
        errors.into_result()?;
        Ok(NewRequest {
            client_id: self.client_id,
            matter_id: self.matter_id,
            contact_id: self.contact_id,
            title: title.unwrap_or_default(),
            message: message.flatten(),
            due_on: self.due_on,
            folder_id: self.folder_id,
            items,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentRequestQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub contact_id: Option<ContactId>,
    pub status: Option<RequestStatus>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItem {
    /// Why, for the contact: shown in the portal (never in the email).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Asks a contact for documents. The contact's portal must show the client or matter (409
/// `portal_required`, `portal_inactive`, `portal_lacks_access`, as for sharing); they are
/// told in the portal and by an email that names no document.
#[utoipa::path(
    tag = "document-requests",
    request_body = CreateDocumentRequest,
    responses(
        (status = 201, body = DocumentRequest, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/document-requests")]
pub async fn create_document_request(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateDocumentRequest>,
) -> Result<HttpResponse, ApiError> {
    let command = body.command()?;
    let record = caller
        .must(Action::RequestDocuments)
        .call(&state, move |conn, ctx| document_requests::create(conn, ctx, command))
        .await?;
    let location = format!("/v1/document-requests/{}", record.row.id);
    Ok(created(location, &DocumentRequest::for_staff(record)))
}

/// The requests of the clients and matters the caller may see, oldest first.
#[utoipa::path(
    tag = "document-requests",
    params(DocumentRequestQuery, PageQuery),
    responses((status = 200, body = Paginated<DocumentRequest>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/document-requests")]
pub async fn list_document_requests(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<DocumentRequestQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<DocumentRequest>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = RequestFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        contact_id: query.contact_id.map(String::from),
        status: query.status.map(|s| s.as_str().to_owned()),
    };
    let listed = caller.call(&state, move |conn, ctx| document_requests::list(conn, ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, DocumentRequest::for_staff)))
}

/// One request with its items and their files.
#[utoipa::path(
    tag = "document-requests",
    params(("document_request_id" = DocumentRequestId, Path)),
    responses((status = 200, body = DocumentRequest), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/document-requests/{document_request_id}")]
pub async fn get_document_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentRequestId>,
) -> Result<web::Json<DocumentRequest>, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| document_requests::get(conn, ctx, &id)).await?;
    Ok(web::Json(DocumentRequest::for_staff(record)))
}

/// Withdraws an open request (409 `request_completed`, `request_cancelled` otherwise):
/// nothing more can be uploaded into it and no reminder goes out.
#[utoipa::path(
    tag = "document-requests",
    params(("document_request_id" = DocumentRequestId, Path)),
    responses((status = 200, body = DocumentRequest), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/document-requests/{document_request_id}/cancel")]
pub async fn cancel_document_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentRequestId>,
) -> Result<web::Json<DocumentRequest>, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| document_requests::cancel(conn, ctx, &id)).await?;
    Ok(web::Json(DocumentRequest::for_staff(record)))
}

/// Emails the contact a reminder of the items still waiting for them, now. At most one
/// reminder per item and day, scheduled or not (409 `already_reminded`); 409
/// `nothing_waiting` when every item was uploaded, `request_closed` when it is not open.
#[utoipa::path(
    tag = "document-requests",
    params(("document_request_id" = DocumentRequestId, Path)),
    responses((status = 200, body = DocumentRequest), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/document-requests/{document_request_id}/remind")]
pub async fn remind_document_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<DocumentRequestId>,
) -> Result<web::Json<DocumentRequest>, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| document_requests::remind(conn, ctx, &id)).await?;
    Ok(web::Json(DocumentRequest::for_staff(record)))
}

/// Accepts what the contact uploaded into the item (409 `nothing_uploaded`,
/// `item_accepted`, or the request's state); accepting the last item completes the request.
#[utoipa::path(
    tag = "document-requests",
    params(("document_request_id" = DocumentRequestId, Path), ("item_id" = RequestItemId, Path)),
    responses((status = 200, body = DocumentRequest), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/document-requests/{document_request_id}/items/{item_id}/accept")]
pub async fn accept_request_item(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(DocumentRequestId, RequestItemId)>,
) -> Result<web::Json<DocumentRequest>, ApiError> {
    let (id, item) = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| document_requests::accept_item(conn, ctx, &id, &item)).await?;
    Ok(web::Json(DocumentRequest::for_staff(record)))
}

/// Returns the item to the contact with a reason, so they upload again; they are told in
/// the portal and by email.
#[utoipa::path(
    tag = "document-requests",
    params(("document_request_id" = DocumentRequestId, Path), ("item_id" = RequestItemId, Path)),
    request_body = ReturnItem,
    responses(
        (status = 200, body = DocumentRequest),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/document-requests/{document_request_id}/items/{item_id}/return")]
pub async fn return_request_item(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(DocumentRequestId, RequestItemId)>,
    ApiJson(body): ApiJson<ReturnItem>,
) -> Result<web::Json<DocumentRequest>, ApiError> {
    let reason = rules::return_reason(&body.reason).map_err(|e| ApiError::Validation(e.at("/reason").into()))?;
    let (id, item) = path.into_inner();
    let record =
        caller.call(&state, move |conn, ctx| document_requests::return_item(conn, ctx, &id, &item, &reason)).await?;
    Ok(web::Json(DocumentRequest::for_staff(record)))
}
