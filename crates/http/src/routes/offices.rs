//! Offices of the firm (a contact may belong to one: the *of* field of seed 000).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::offices::{self, NewOffice, OfficeUpdate};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::OfficeId;
use vestibule_domain::{ValidationErrors, email, text};
use vestibule_storage::offices::OfficeRow;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
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

impl CreateOffice {
    fn command(self) -> Result<NewOffice, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.check("/name", text::required(&self.name, 200));
        let email = errors.check("/email", email::optional(self.email.as_deref())).flatten();
        let phone = errors.check("/phone", text::optional_phone(self.phone.as_deref())).flatten();
        errors.into_result()?;
        Ok(NewOffice { name: name.unwrap_or_default(), email: email.map(String::from), phone })
    }
}

impl UpdateOffice {
    fn command(self) -> Result<OfficeUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = self.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 200)));
        let email =
            self.email.map(|e| errors.check("/email", email::optional(e.as_deref())).flatten().map(String::from));
        let phone = self.phone.map(|p| errors.check("/phone", text::optional_phone(p.as_deref())).flatten());
        errors.into_result()?;
        Ok(OfficeUpdate { name, email, phone })
    }
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
    caller: Caller,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Office>>, ApiError> {
    let page = page.page()?;
    let listed =
        caller.must(Action::ReadOffices).call(&state, move |conn, ctx| offices::list(conn, ctx, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Office::from)))
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
    caller: Caller,
    ApiJson(body): ApiJson<CreateOffice>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let row = caller.must(Action::ManageOffices).call(&state, move |conn, ctx| offices::create(conn, ctx, new)).await?;
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
    caller: Caller,
    path: web::Path<OfficeId>,
) -> Result<web::Json<Office>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| offices::get(conn, ctx, &id)).await?.into()))
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
    caller: Caller,
    path: web::Path<OfficeId>,
    ApiJson(body): ApiJson<UpdateOffice>,
) -> Result<web::Json<Office>, ApiError> {
    let (id, update) = (path.into_inner(), body.command()?);
    Ok(web::Json(
        caller
            .must(Action::ManageOffices)
            .call(&state, move |conn, ctx| offices::update(conn, ctx, &id, update))
            .await?
            .into(),
    ))
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
    caller: Caller,
    path: web::Path<OfficeId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| offices::delete(conn, ctx, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
