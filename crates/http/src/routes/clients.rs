//! Clients: people and organisations the firm works for. Integrations keep them in step
//! with their own records through `PUT /clients/external/{external_id}`.

use crate::routing::Routes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{ClientId, StaffId};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::ClientKind;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::clients::{self, ClientChanges, ClientFilter, ClientRecord, ClientRow};
use vestibule_storage::{DbConnection, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, upsert_external_id, upserted, utc};
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_clients)
        .service(create_client)
        .service(get_client)
        .service(update_client)
        .service(delete_client)
        .service(upsert_client);
}

pub(crate) const MAX_EMAILS: usize = 20;
pub(crate) const MAX_ASSIGNEES: usize = 50;

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

/// Every referenced staff member must be an active member of the caller's firm.
fn check_staff(
    conn: &mut DbConnection,
    firm_id: &str,
    owner: Option<&StaffId>,
    assignees: Option<&[StaffId]>,
) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::default();
    if let Some(owner) = owner
        && staff::count_active(conn, firm_id, &[owner.to_string()])? != 1
    {
        errors.push(FieldError::new(
            "/owner_staff_id",
            "unknown_reference",
            "no such active staff member in this firm",
        ));
    }
    if let Some(assignees) = assignees {
        let mut ids: Vec<String> = assignees.iter().map(ToString::to_string).collect();
        ids.sort();
        ids.dedup();
        if ids.len() > MAX_ASSIGNEES {
            errors.push(FieldError::new("/assignee_staff_ids", "too_many", format!("at most {MAX_ASSIGNEES}")));
        } else if staff::count_active(conn, firm_id, &ids)? != ids.len() as i64 {
            errors.push(FieldError::new(
                "/assignee_staff_ids",
                "unknown_reference",
                "each must be an active staff member of this firm",
            ));
        }
    }
    errors.into_result().map_err(ApiError::from)
}

struct NewClient {
    kind: ClientKind,
    name: String,
    emails: Vec<String>,
    external_id: Option<String>,
    owner: Option<StaffId>,
    assignees: Vec<StaffId>,
}

impl CreateClient {
    fn validate(self) -> Result<NewClient, ValidationErrors> {
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

fn insert_client(
    conn: &mut DbConnection,
    origin: &Origin,
    principal: &Principal,
    new: NewClient,
) -> Result<ClientRecord, ApiError> {
    let firm_id = principal.firm_id().as_str();
    check_staff(conn, firm_id, new.owner.as_ref(), Some(&new.assignees))?;
    let now = vestibule_storage::now();
    let row = ClientRow {
        id: ClientId::generate().into(),
        firm_id: firm_id.to_owned(),
        kind: new.kind.as_str().to_owned(),
        name: new.name,
        external_id: new.external_id,
        owner_staff_id: new.owner.map(String::from),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let assignees: Vec<String> = new.assignees.into_iter().map(String::from).collect();
    clients::insert(conn, &row, &new.emails, &assignees)?;
    audit::record(conn, origin, principal, Entry::success("client.created", "client", &row.id))?;
    Ok(clients::get(conn, firm_id, &row.id)?)
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
    Authenticated(principal): Authenticated,
    query: Query<ClientListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Client>>, ApiError> {
    authorize(&principal, Action::ReadClients)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = ClientFilter {
        kind: query.kind.map(|k| k.as_str().to_owned()),
        owner_staff_id: query.owner_staff_id.map(String::from),
        assignee_staff_id: query.assignee_staff_id.map(String::from),
        email: query.email.map(|e| e.trim().to_lowercase()),
        external_id: query.external_id,
        name_contains: query.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
    };
    db::run(&state, move |conn| {
        let rows = clients::list(conn, principal.firm_id().as_str(), &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.row.id.clone(), Client::from)))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteClients)?;
    let new = body.validate()?;
    let record =
        db::run(&state, move |conn| write_tx(conn, |conn| insert_client(conn, &origin, &principal, new))).await?;
    let version = record.row.version;
    Ok(with_etag(created(format!("/v1/clients/{}", record.row.id), &Client::from(record)), version))
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
    Authenticated(principal): Authenticated,
    path: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ReadClients)?;
    let id = path.into_inner();
    let record =
        db::run(&state, move |conn| Ok(clients::get(conn, principal.firm_id().as_str(), id.as_str())?)).await?;
    let version = record.row.version;
    Ok(with_etag(HttpResponse::Ok().json(Client::from(record)), version))
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<ClientId>,
    ApiJson(body): ApiJson<UpdateClient>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteClients)?;
    let expected = if_match(&req)?;
    let id = path.into_inner();
    let mut errors = ValidationErrors::default();
    let name = body.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 200)));
    let emails = body.emails.as_deref().map(|e| parse_emails(&mut errors, e));
    let external_id = body.external_id.map(|e| parse_external_id(&mut errors, e.as_deref()));
    errors.into_result()?;
    let record = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let owner = body.owner_staff_id.clone().flatten();
            check_staff(conn, firm_id, owner.as_ref(), body.assignee_staff_ids.as_deref())?;
            let changes = ClientChanges {
                kind: body.kind.map(|k| k.as_str().to_owned()),
                name,
                external_id,
                owner_staff_id: body.owner_staff_id.map(|o| o.map(String::from)),
                updated_at: vestibule_storage::now(),
            };
            let assignees: Option<Vec<String>> =
                body.assignee_staff_ids.map(|a| a.into_iter().map(String::from).collect());
            let record = clients::update(
                conn,
                firm_id,
                id.as_str(),
                expected,
                &changes,
                emails.as_deref(),
                assignees.as_deref(),
            )?;
            audit::record(conn, &origin, &principal, Entry::success("client.updated", "client", id.as_str()))?;
            Ok(record)
        })
    })
    .await?;
    let version = record.row.version;
    Ok(with_etag(HttpResponse::Ok().json(Client::from(record)), version))
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteClients)?;
    let expected = if_match(&req)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            clients::delete(conn, principal.firm_id().as_str(), id.as_str(), expected)?;
            audit::record(conn, &origin, &principal, Entry::success("client.deleted", "client", id.as_str()))?;
            Ok(())
        })
    })
    .await?;
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteClients)?;
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.validate()?;
    let (record, was_created) = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let Some(existing) = clients::find_by_external_id(conn, firm_id, &external_id)? else {
                return Ok((insert_client(conn, &origin, &principal, new)?, true));
            };
            let mut assignees: Vec<String> = new.assignees.iter().map(ToString::to_string).collect();
            assignees.sort();
            let unchanged = existing.row.kind == new.kind.as_str()
                && existing.row.name == new.name
                && existing.emails == new.emails
                && existing.row.owner_staff_id.as_deref() == new.owner.as_ref().map(StaffId::as_str)
                && existing.assignees == assignees;
            if unchanged {
                return Ok((existing, false));
            }
            check_staff(conn, firm_id, new.owner.as_ref(), Some(&new.assignees))?;
            let changes = ClientChanges {
                kind: Some(new.kind.as_str().to_owned()),
                name: Some(new.name),
                external_id: None,
                owner_staff_id: Some(new.owner.map(String::from)),
                updated_at: vestibule_storage::now(),
            };
            let record =
                clients::update(conn, firm_id, &existing.row.id, None, &changes, Some(&new.emails), Some(&assignees))?;
            audit::record(conn, &origin, &principal, Entry::success("client.updated", "client", &record.row.id))?;
            Ok((record, false))
        })
    })
    .await?;
    let version = record.row.version;
    let location = format!("/v1/clients/{}", record.row.id);
    Ok(with_etag(upserted(was_created, location, &Client::from(record)), version))
}
