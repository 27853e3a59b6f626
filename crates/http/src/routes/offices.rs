//! Offices of the firm (a contact may belong to one: the *of* field of seed 000).

use crate::routing::Routes;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::ValidationErrors;
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::OfficeId;
use vestibule_domain::text;
use vestibule_storage::offices::{self, OfficeChanges, OfficeRow};
use vestibule_storage::write_tx;

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::fields::{optional_email, optional_phone};
use crate::routes::{created, utc};
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_offices).service(create_office).service(get_office).service(update_office).service(delete_office);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Office {
    pub id: OfficeId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OfficeRow> for Office {
    fn from(row: OfficeRow) -> Self {
        Self {
            id: OfficeId::from_trusted(row.id),
            name: row.name,
            email: row.email,
            phone: row.phone,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOffice {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOffice {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
}

/// The firm's offices.
#[utoipa::path(
    tag = "offices",
    params(PageQuery),
    responses((status = 200, body = Paginated<Office>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/offices")]
pub async fn list_offices(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Office>>, ApiError> {
    authorize(&principal, Action::ReadOffices)?;
    let page = page.page()?;
    db::run(&state, move |conn| {
        let rows = offices::list(conn, principal.firm_id().as_str(), page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Office::from)))
    })
    .await
}

/// Create an office.
#[utoipa::path(
    tag = "offices",
    request_body = CreateOffice,
    responses(
        (status = 201, body = Office, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/offices")]
pub async fn create_office(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateOffice>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ManageOffices)?;
    let mut errors = ValidationErrors::default();
    let name = errors.check("/name", text::required(&body.name, 200));
    let email = optional_email(&mut errors, "/email", body.email.as_deref());
    let phone = optional_phone(&mut errors, "/phone", body.phone.as_deref());
    errors.into_result()?;
    let now = vestibule_storage::now();
    let row = OfficeRow {
        id: OfficeId::generate().into(),
        firm_id: principal.firm_id().to_string(),
        name: name.unwrap_or_default(),
        email,
        phone,
        created_at: now,
        updated_at: now,
    };
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            offices::insert(conn, &row)?;
            audit::record(conn, &origin, &principal, Entry::success("office.created", "office", &row.id))?;
            Ok(row)
        })
    })
    .await?;
    Ok(created(format!("/v1/offices/{}", row.id), &Office::from(row)))
}

/// One office.
#[utoipa::path(
    tag = "offices",
    params(("office_id" = OfficeId, Path)),
    responses((status = 200, body = Office), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/offices/{office_id}")]
pub async fn get_office(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<OfficeId>,
) -> Result<web::Json<Office>, ApiError> {
    authorize(&principal, Action::ReadOffices)?;
    let id = path.into_inner();
    db::run(&state, move |conn| Ok(web::Json(offices::get(conn, principal.firm_id().as_str(), id.as_str())?.into())))
        .await
}

/// Change an office.
#[utoipa::path(
    tag = "offices",
    params(("office_id" = OfficeId, Path)),
    request_body = UpdateOffice,
    responses(
        (status = 200, body = Office),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/offices/{office_id}")]
pub async fn update_office(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<OfficeId>,
    ApiJson(body): ApiJson<UpdateOffice>,
) -> Result<web::Json<Office>, ApiError> {
    authorize(&principal, Action::ManageOffices)?;
    let id = path.into_inner();
    let mut errors = ValidationErrors::default();
    let changes = OfficeChanges {
        name: body.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 200))),
        email: body.email.map(|e| optional_email(&mut errors, "/email", e.as_deref())),
        phone: body.phone.map(|p| optional_phone(&mut errors, "/phone", p.as_deref())),
        updated_at: vestibule_storage::now(),
    };
    errors.into_result()?;
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row = offices::update(conn, principal.firm_id().as_str(), id.as_str(), &changes)?;
            audit::record(conn, &origin, &principal, Entry::success("office.updated", "office", id.as_str()))?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}

/// Deletes an office no staff member or contact belongs to (409 `in_use` otherwise).
#[utoipa::path(
    tag = "offices",
    params(("office_id" = OfficeId, Path)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[delete("/offices/{office_id}")]
pub async fn delete_office(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<OfficeId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ManageOffices)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            offices::delete(conn, principal.firm_id().as_str(), id.as_str())?;
            audit::record(conn, &origin, &principal, Entry::success("office.deleted", "office", id.as_str()))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
