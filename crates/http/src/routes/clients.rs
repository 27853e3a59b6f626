//! Clients: people and organisations the firm works for. Integrations keep them in step
//! with their own records through `PUT /clients/external/{external_id}`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::clients::{self, ClientUpdate, MAX_EMAILS, NewClient};
use vestibule_app::upsert::Upserted;
use vestibule_domain::authz::Action;
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{ClientId, FolderId, StaffId};
use vestibule_domain::roles::ClientKind;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::clients::{ClientFilter, ClientRecord};

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::{upsert_external_id, utc};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_clients)
        .service(create_client)
        .service(get_client)
        .service(update_client)
        .service(delete_client)
        .service(upsert_client)
        .service(get_client_outstanding);
}

/// What is outstanding with a client, for a dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOutstanding {
    pub client_id: ClientId,
    /// Document requests still open.
    pub open_requests: i64,
    /// Items of open requests the client has yet to upload (requested or returned).
    pub items_waiting_for_client: i64,
    /// Items the client uploaded that staff have yet to accept or return.
    pub items_to_review: i64,
    /// Signature requests the client has neither signed nor declined.
    pub unsigned_signature_requests: i64,
    /// Conversations with client messages the caller has not read.
    pub unread_conversations: i64,
    /// Documents shown or shared to the client that nobody on the client side downloaded yet
    /// (in the portal or through an access link).
    pub documents_never_downloaded: i64,
}

/// Counts of what is outstanding with the client, within the matters the caller may see.
#[utoipa::path(
    tag = "clients",
    params(("client_id" = ClientId, Path)),
    responses((status = 200, body = ClientOutstanding), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/clients/{client_id}/outstanding")]
pub async fn get_client_outstanding(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ClientId>,
) -> Result<web::Json<ClientOutstanding>, ApiError> {
    let id = path.into_inner();
    let counted = {
        let id = id.clone();
        caller.call(&state, move |conn, ctx| vestibule_app::outstanding::of_client(conn, ctx, &id)).await?
    };
    Ok(web::Json(ClientOutstanding {
        client_id: id,
        open_requests: counted.open_requests,
        items_waiting_for_client: counted.items_waiting_for_client,
        items_to_review: counted.items_to_review,
        unsigned_signature_requests: counted.unsigned_signature_requests,
        unread_conversations: counted.unread_conversations,
        documents_never_downloaded: counted.documents_never_downloaded,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Client {
    pub id: ClientId,
    pub kind: ClientKind,
    pub name: String,
    /// In order of preference; the first is the primary address.
    pub emails: Vec<String>,
    /// The id of this client in the firm's practice-management software.
    pub external_id: Option<String>,
    /// The staff member responsible for the client.
    pub owner_staff_id: Option<StaffId>,
    /// Staff members assigned to the client.
    pub assignee_staff_ids: Vec<StaffId>,
    /// Where the contact's portal uploads go when they name no folder.
    pub portal_inbox_folder_id: Option<FolderId>,
    /// Increases with every change; also sent as `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRecord> for Client {
    fn from(record: ClientRecord) -> Self {
        let row = record.row;
        Self {
            id: ClientId::from_trusted(row.id),
            kind: ClientKind::from_stored(&row.kind).unwrap_or(ClientKind::Person),
            name: row.name,
            emails: record.emails,
            external_id: row.external_id,
            owner_staff_id: row.owner_staff_id.map(StaffId::from_trusted),
            assignee_staff_ids: record.assignees.into_iter().map(StaffId::from_trusted).collect(),
            portal_inbox_folder_id: row.portal_inbox_folder_id.map(FolderId::from_trusted),
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub kind: ClientKind,
    #[schema(example = "Ada Lovelace", min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub emails: Vec<String>,
    pub external_id: Option<String>,
    pub owner_staff_id: Option<StaffId>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub assignee_staff_ids: Vec<StaffId>,
}

/// Fields to change; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub kind: Option<ClientKind>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Replaces the whole list.
    #[schema(max_items = 20)]
    pub emails: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<StaffId>)]
    pub owner_staff_id: Option<Option<StaffId>>,
    /// Replaces the whole list.
    #[schema(max_items = 50)]
    pub assignee_staff_ids: Option<Vec<StaffId>>,
    /// A folder of the client itself (not of a matter) that the contact's portal uploads go
    /// to when they name no folder; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FolderId>)]
    pub portal_inbox_folder_id: Option<Option<FolderId>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientListQuery {
    pub kind: Option<ClientKind>,
    pub owner_staff_id: Option<StaffId>,
    pub assignee_staff_id: Option<StaffId>,
    /// Clients with this email address (exact, case-insensitive).
    pub email: Option<String>,
    pub external_id: Option<String>,
    /// Clients whose name contains this text (case-insensitive).
    pub q: Option<String>,
}

fn parse_emails(errors: &mut ValidationErrors, raw: &[String]) -> Vec<String> {
    if raw.len() > MAX_EMAILS {
        errors.push(FieldError::new("/emails", "too_many", format!("at most {MAX_EMAILS} addresses")));
    }
    let mut emails: Vec<String> = Vec::with_capacity(raw.len());
    for (index, email) in raw.iter().enumerate() {
        if let Some(email) = errors.check(&format!("/emails/{index}"), EmailAddress::parse(email)) {
            let email = String::from(email);
            if !emails.contains(&email) {
                emails.push(email);
            }
        }
    }
    emails
}

fn parse_external_id(errors: &mut ValidationErrors, raw: Option<&str>) -> Option<String> {
    raw.and_then(|id| errors.check("/external_id", text::external_id(id)))
}

impl CreateClient {
    fn command(self) -> Result<NewClient, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.check("/name", text::required(&self.name, 200));
        let emails = parse_emails(&mut errors, &self.emails);
        let external_id = parse_external_id(&mut errors, self.external_id.as_deref());
        errors.into_result()?;
        let mut assignees = self.assignee_staff_ids;
        assignees.sort();
        assignees.dedup();
        Ok(NewClient {
            kind: self.kind,
            name: name.unwrap_or_default(),
            emails,
            external_id,
            owner: self.owner_staff_id,
            assignees,
        })
    }
}

impl UpdateClient {
    fn command(self) -> Result<ClientUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = self.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 200)));
        let emails = self.emails.as_deref().map(|e| parse_emails(&mut errors, e));
        let external_id = self.external_id.map(|e| parse_external_id(&mut errors, e.as_deref()));
        errors.into_result()?;
        Ok(ClientUpdate {
            kind: self.kind,
            name,
            emails,
            external_id,
            owner: self.owner_staff_id,
            assignees: self.assignee_staff_ids,
            portal_inbox: self.portal_inbox_folder_id,
        })
    }
}

impl ClientListQuery {
    fn filter(self) -> ClientFilter {
        ClientFilter {
            kind: self.kind.map(|k| k.as_str().to_owned()),
            owner_staff_id: self.owner_staff_id.map(String::from),
            assignee_staff_id: self.assignee_staff_id.map(String::from),
            email: self.email.map(|e| e.trim().to_lowercase()),
            external_id: self.external_id,
            name_contains: self.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
        }
    }
}

fn answer(mut status: HttpResponseBuilder, record: ClientRecord) -> HttpResponse {
    let version = record.row.version;
    with_etag(status.json(Client::from(record)), version)
}

/// Clients, oldest first, with filters.
#[utoipa::path(
    tag = "clients",
    params(ClientListQuery, PageQuery),
    responses((status = 200, body = Paginated<Client>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ClientListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Client>>, ApiError> {
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = caller.call(&state, move |conn, ctx| clients::list(conn, ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Client::from)))
}

/// Create a client.
#[utoipa::path(
    tag = "clients",
    request_body = CreateClient,
    responses(
        (status = 201, body = Client, headers(("Location" = String), ("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let record =
        caller.must(Action::WriteClients).call(&state, move |conn, ctx| clients::create(conn, ctx, new)).await?;
    let mut status = HttpResponse::Created();
    status.insert_header((LOCATION, format!("/v1/clients/{}", record.row.id)));
    Ok(answer(status, record))
}

/// One client, with its ETag.
#[utoipa::path(
    tag = "clients",
    params(("client_id" = ClientId, Path)),
    responses((status = 200, body = Client, headers(("ETag" = String))), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/clients/{client_id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| clients::get(conn, ctx, &id)).await?;
    Ok(answer(HttpResponse::Ok(), record))
}

/// Changes a client. Send `If-Match` with the `ETag` you read to avoid overwriting a
/// concurrent change (412 if it no longer matches).
#[utoipa::path(
    tag = "clients",
    params(("client_id" = ClientId, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateClient,
    responses(
        (status = 200, body = Client, headers(("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/clients/{client_id}")]
pub async fn update_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ClientId>,
    ApiJson(body): ApiJson<UpdateClient>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = path.into_inner();
    let update = body.command()?;
    let record = caller
        .must(Action::WriteClients)
        .call(&state, move |conn, ctx| clients::update(conn, ctx, &id, expected, update))
        .await?;
    Ok(answer(HttpResponse::Ok(), record))
}

/// Deletes a client that has no matters or contacts left (409 `in_use` otherwise).
#[utoipa::path(
    tag = "clients",
    params(("client_id" = ClientId, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 204, description = "Deleted."),
        Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, InternalError
    ),
    security(("bearer" = []))
)]
#[delete("/clients/{client_id}")]
pub async fn delete_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = path.into_inner();
    caller.must(Action::WriteClients).call(&state, move |conn, ctx| clients::delete(conn, ctx, &id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates or replaces the client with this `external_id`: 201 when created, 200 when it
/// existed. Sending the same body again changes nothing (the version stays).
#[utoipa::path(
    tag = "clients",
    params(("external_id" = String, Path, description = "The client's id in the calling system", min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@-]+$")),
    request_body = CreateClient,
    responses(
        (status = 200, body = Client, headers(("ETag" = String))),
        (status = 201, body = Client, headers(("Location" = String), ("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[put("/clients/external/{external_id}")]
pub async fn upsert_client(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.command()?;
    let upserted = caller
        .must(Action::WriteClients)
        .call(&state, move |conn, ctx| clients::upsert(conn, ctx, &external_id, new))
        .await?;
    Ok(match upserted {
        Upserted::Created(record) => {
            let mut status = HttpResponse::Created();
            status.insert_header((LOCATION, format!("/v1/clients/{}", record.row.id)));
            answer(status, record)
        }
        Upserted::Existed(record) => answer(HttpResponse::Ok(), record),
    })
}
