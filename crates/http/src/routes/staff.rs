//! Staff members of the firm.

use actix_web::{get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::staff::{self, StaffUpdate};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{OfficeId, StaffId};
use vestibule_domain::roles::StaffRole;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::staff::StaffFilter;

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;
// Until routes/auth.rs names the view itself.
use crate::views::staff::StaffMember;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_staff).service(get_staff).service(update_staff).service(disable_staff).service(enable_staff);
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
    caller: Caller,
    query: Query<StaffListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<StaffMember>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = StaffFilter {
        role: query.role.map(|r| r.as_str().to_owned()),
        office_id: query.office_id.map(String::from),
        include_disabled: query.include_disabled,
    };
    let listed =
        caller.must(Action::ReadStaff).call(&state, move |conn, ctx| staff::list(conn, ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, StaffMember::from)))
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
    caller: Caller,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let id = path.into_inner();
    let row = caller.call(&state, move |conn, ctx| staff::get(conn, ctx, &id)).await?;
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
    caller: Caller,
    path: web::Path<StaffId>,
    ApiJson(body): ApiJson<UpdateStaff>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let id = path.into_inner();
    let update = body.command()?;
    let row =
        caller.must(Action::ManageStaff).call(&state, move |conn, ctx| staff::update(conn, ctx, &id, update)).await?;
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
    caller: Caller,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let ctx = caller.context(&state).await?;
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
    caller: Caller,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    let ctx = caller.context(&state).await?;
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
