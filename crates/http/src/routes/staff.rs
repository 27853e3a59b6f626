//! Staff members of the firm.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::ValidationErrors;
use vestibule_domain::authz::{Action, authorize, may_change_staff};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{OfficeId, StaffId};
use vestibule_domain::password::NewPassword;
use vestibule_domain::roles::StaffRole;
use vestibule_domain::text;
use vestibule_storage::staff::{StaffChanges, StaffFilter, StaffRow};
use vestibule_storage::{DbConnection, credentials, offices, sessions, staff, write_tx};

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
use crate::routes::{created, utc};
use crate::state::AppState;
use vestibule_app::password;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_staff)
        .service(create_staff)
        .service(get_staff)
        .service(update_staff)
        .service(disable_staff)
        .service(enable_staff);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub id: StaffId,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    /// May manage client portals.
    pub portal_permission: bool,
    pub office_id: Option<OfficeId>,
    /// Set while the account is disabled; a disabled member cannot sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StaffRow> for StaffMember {
    fn from(row: StaffRow) -> Self {
        Self {
            id: StaffId::from_trusted(row.id),
            email: row.email,
            name: row.name,
            role: StaffRole::from_stored(&row.role).unwrap_or(StaffRole::Member),
            portal_permission: row.portal_permission,
            office_id: row.office_id.map(OfficeId::from_trusted),
            disabled_at: row.disabled_at.map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
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

fn check_office(conn: &mut DbConnection, firm_id: &str, office: Option<&OfficeId>) -> Result<(), ApiError> {
    match office {
        Some(id) if offices::get(conn, firm_id, id.as_str()).is_err() => {
            Err(ApiError::field("/office_id", "unknown_reference", "no such office in this firm"))
        }
        _ => Ok(()),
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
    Authenticated(principal): Authenticated,
    query: Query<StaffListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<StaffMember>>, ApiError> {
    authorize(&principal, Action::ReadStaff)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = StaffFilter {
        role: query.role.map(|r| r.as_str().to_owned()),
        office_id: query.office_id.map(String::from),
        include_disabled: query.include_disabled,
    };
    db::run(&state, move |conn| {
        let rows = staff::list(conn, principal.firm_id().as_str(), &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), StaffMember::from)))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateStaff>,
) -> Result<HttpResponse, ApiError> {
    may_change_staff(&principal, None, Some(body.role), false)?;
    let mut errors = ValidationErrors::default();
    let email = errors.check("/email", EmailAddress::parse(&body.email));
    let name = errors.check("/name", text::required(&body.name, 200));
    let new_password = errors.check("/password", NewPassword::parse(&body.password));
    errors.into_result()?;
    let (Some(email), Some(name), Some(new_password)) = (email, name, new_password) else {
        return Err(anyhow::anyhow!("validated fields missing").into());
    };
    let hash = web::block(move || password::hash(new_password.expose())).await.map_err(anyhow::Error::from)??;
    let now = vestibule_storage::now();
    let firm_id = principal.firm_id().to_string();
    let row = StaffRow {
        id: StaffId::generate().into(),
        firm_id: firm_id.clone(),
        email: email.into(),
        name,
        role: body.role.as_str().to_owned(),
        portal_permission: body.portal_permission,
        office_id: body.office_id.as_ref().map(ToString::to_string),
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            check_office(conn, &firm_id, body.office_id.as_ref())?;
            staff::insert(conn, &row)?;
            credentials::set_password(conn, &firm_id, &row.id, &hash)?;
            let entry =
                Entry::success("staff.created", "staff", &row.id).with_details(serde_json::json!({ "role": row.role }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(row)
        })
    })
    .await?;
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
    Authenticated(principal): Authenticated,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    authorize(&principal, Action::ReadStaff)?;
    let id = path.into_inner();
    db::run(&state, move |conn| Ok(web::Json(staff::get(conn, principal.firm_id().as_str(), id.as_str())?.into())))
        .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<StaffId>,
    ApiJson(body): ApiJson<UpdateStaff>,
) -> Result<web::Json<StaffMember>, ApiError> {
    authorize(&principal, Action::ManageStaff)?;
    let id = path.into_inner();
    let mut errors = ValidationErrors::default();
    let name = body.name.as_deref().and_then(|n| errors.check("/name", text::required(n, 200)));
    errors.into_result()?;
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let current = staff::get(conn, firm_id, id.as_str())?;
            let current_role = StaffRole::from_stored(&current.role).unwrap_or(StaffRole::Member);
            may_change_staff(&principal, Some((&id, current_role)), body.role, false)?;
            if let Some(office) = &body.office_id {
                check_office(conn, firm_id, office.as_ref())?;
            }
            let changes = StaffChanges {
                name,
                role: body.role.map(|r| r.as_str().to_owned()),
                portal_permission: body.portal_permission,
                office_id: body.office_id.map(|o| o.map(String::from)),
                updated_at: vestibule_storage::now(),
            };
            let row = staff::update(conn, firm_id, id.as_str(), &changes)?;
            let entry = Entry::success("staff.updated", "staff", id.as_str()).with_details(
                serde_json::json!({ "role": changes.role, "portal_permission": changes.portal_permission }),
            );
            audit::record(conn, &origin, &principal, entry)?;
            Ok(web::Json(row.into()))
        })
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    set_disabled(state, origin, principal, path.into_inner(), true).await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<StaffId>,
) -> Result<web::Json<StaffMember>, ApiError> {
    set_disabled(state, origin, principal, path.into_inner(), false).await
}

async fn set_disabled(
    state: web::Data<AppState>,
    origin: Origin,
    principal: vestibule_domain::principal::Principal,
    id: StaffId,
    disable: bool,
) -> Result<web::Json<StaffMember>, ApiError> {
    authorize(&principal, Action::ManageStaff)?;
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let current = staff::get(conn, firm_id, id.as_str())?;
            let role = StaffRole::from_stored(&current.role).unwrap_or(StaffRole::Member);
            may_change_staff(&principal, Some((&id, role)), None, disable)?;
            let now = vestibule_storage::now();
            staff::set_disabled(conn, firm_id, id.as_str(), disable.then_some(now))?;
            let action = if disable {
                let ended = sessions::revoke_all_of(conn, id.as_str(), now)?;
                tracing::info!(sessions = ended, "disabled a staff member");
                "staff.disabled"
            } else {
                "staff.enabled"
            };
            audit::record(conn, &origin, &principal, Entry::success(action, "staff", id.as_str()))?;
            Ok(web::Json(staff::get(conn, firm_id, id.as_str())?.into()))
        })
    })
    .await
}
