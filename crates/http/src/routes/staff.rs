//! Staff members of the firm.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::staff::{self, NewStaff, StaffUpdate};
use vestibule_domain::authz::{Action, authorize, may_change_staff};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{OfficeId, StaffId};
use vestibule_domain::password::NewPassword;
use vestibule_domain::roles::StaffRole;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::staff::StaffFilter;

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::created;
use crate::routing::Routes;
use crate::state::AppState;
// Until routes/auth.rs names the view itself.
use crate::views::staff::StaffMember;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_staff)
        .service(create_staff)
        .service(get_staff)
        .service(update_staff)
        .service(disable_staff)
        .service(enable_staff);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    #[schema(example = "ann@harbor-law.example")]
    pub email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: StaffRole,
    #[serde(default)]
    pub portal_permission: bool,
    pub office_id: Option<OfficeId>,
    /// The initial password: 8–128 characters, not a common one.
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStaff {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    pub role: Option<StaffRole>,
    pub portal_permission: Option<bool>,
    /// `null` removes the office.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<OfficeId>)]
    pub office_id: Option<Option<OfficeId>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffListQuery {
    pub role: Option<StaffRole>,
    pub office_id: Option<OfficeId>,
    /// Include disabled members (default false).
    #[serde(default)]
    pub include_disabled: bool,
}

impl CreateStaff {
    fn command(self) -> Result<NewStaff, ApiError> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("/email", EmailAddress::parse(&self.email));
        let name = errors.check("/name", text::required(&self.name, 200));
        let password = errors.check("/password", NewPassword::parse(&self.password));
        errors.into_result()?;
        let (Some(email), Some(name), Some(password)) = (email, name, password) else {
            return Err(anyhow::anyhow!("validated fields missing").into());
        };
        Ok(NewStaff {
            email,
            name,
            role: self.role,
            portal_permission: self.portal_permission,
            office: self.office_id,
            password,
        })
    }
}

impl UpdateStaff {
    fn command(self) -> Result<StaffUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = self.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 200)));
        errors.into_result()?;
        Ok(StaffUpdate { name, role: self.role, portal_permission: self.portal_permission, office: self.office_id })
    }
}

/// Staff members, oldest first.
#[utoipa::path(
    tag = "staff",
    params(StaffListQuery, PageQuery),
    responses((status = 200, body = Paginated<StaffMember>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: Query<StaffListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<StaffMember>>, ApiError> {
    authorize(&ctx.principal, Action::ReadStaff)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = StaffFilter {
        role: query.role.map(|r| r.as_str().to_owned()),
        office_id: query.office_id.map(String::from),
        include_disabled: query.include_disabled,
    };
    let listed = db::call(&state, move |conn| staff::list(conn, &ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, StaffMember::from)))
}

/// Adds a staff member (owners and admins; only an owner may add an owner).
#[utoipa::path(
    tag = "staff",
    request_body = CreateStaff,
    responses(
        (status = 201, body = StaffMember, headers(("Location" = String, description = "URL of the new member"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CreateStaff>,
) -> Result<HttpResponse, ApiError> {
    may_change_staff(&ctx.principal, None, Some(body.role), false)?;
    let new = body.command()?;
    let row = db::call(&state, move |conn| staff::create(conn, &ctx, new)).await?;
    Ok(created(format!("/v1/staff/{}", row.id), &StaffMember::from(row)))
}

/// One staff member.
#[utoipa::path(
    tag = "staff",
    params(("staff_id" = StaffId, Path)),
    responses((status = 200, body = StaffMember), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/staff/{staff_id}")]
pub async fn get_staff(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let id = path.into_inner();
    let row = db::call(&state, move |conn| staff::get(conn, &ctx, &id)).await?;
    Ok(web::Json(row.into()))
}

/// Changes a member's name, role, portal permission or office.
#[utoipa::path(
    tag = "staff",
    params(("staff_id" = StaffId, Path)),
    request_body = UpdateStaff,
    responses(
        (status = 200, body = StaffMember),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/staff/{staff_id}")]
pub async fn update_staff(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    path: web::Path<StaffId>,
    ApiJson(body): ApiJson<UpdateStaff>,
) -> Result<web::Json<StaffMember>, ApiError> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    let id = path.into_inner();
    let update = body.command()?;
    let row = db::call(&state, move |conn| staff::update(conn, &ctx, &id, update)).await?;
    Ok(web::Json(row.into()))
}

/// Disables a member: they can no longer sign in, and every session of theirs ends now.
#[utoipa::path(
    tag = "staff",
    params(("staff_id" = StaffId, Path)),
    responses((status = 200, body = StaffMember), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[post("/staff/{staff_id}/disable")]
pub async fn disable_staff(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    set_disabled(state, ctx, path.into_inner(), true).await
}

/// Re-enables a disabled member.
#[utoipa::path(
    tag = "staff",
    params(("staff_id" = StaffId, Path)),
    responses((status = 200, body = StaffMember), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[post("/staff/{staff_id}/enable")]
pub async fn enable_staff(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    set_disabled(state, ctx, path.into_inner(), false).await
}

async fn set_disabled(
    state: web::Data<AppState>,
    ctx: vestibule_app::Context,
    id: StaffId,
    disable: bool,
) -> Result<web::Json<StaffMember>, ApiError> {
    let row = db::call(&state, move |conn| staff::set_disabled(conn, &ctx, &id, disable)).await?;
    Ok(web::Json(row.into()))
}
