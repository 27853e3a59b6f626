//! Staff invitations: owners and admins invite a person by email with a role and portal
//! permission; the person accepts the one-time link by choosing a password.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::staff_invitations::{self, NewInvitation};
use vestibule_domain::authz::{Action, may_change_staff};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::StaffInvitationId;
use vestibule_domain::password::NewPassword;
use vestibule_domain::roles::StaffRole;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::staff_invitations::{StaffInvitationFilter, StaffInvitationRow};

use crate::audit::Origin;
use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::created;
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::staff::StaffMember;
use crate::views::staff_invitation::{StaffInvitation, StaffInvitationStatus};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_staff_invitations)
        .service(create_staff_invitation)
        .service(accept_staff_invitation)
        .service(get_staff_invitation)
        .service(resend_staff_invitation)
        .service(revoke_staff_invitation);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffInvitation {
    #[schema(example = "ann@harbor-law.example")]
    pub email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: StaffRole,
    #[serde(default)]
    pub portal_permission: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffInvitationListQuery {
    pub status: Option<StaffInvitationStatus>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptStaffInvitation {
    /// The `token` of the invitation link.
    pub token: String,
    /// The new member's password: 8–128 characters, not a commonly used one.
    #[schema(format = Password)]
    pub password: String,
}

impl CreateStaffInvitation {
    fn command(self) -> Result<NewInvitation, ApiError> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("/email", EmailAddress::parse(&self.email));
        let name = errors.check("/name", text::required(&self.name, 200));
        errors.into_result()?;
        let (Some(email), Some(name)) = (email, name) else {
            return Err(anyhow::anyhow!("validated fields missing").into());
        };
        Ok(NewInvitation { email, name, role: self.role, portal_permission: self.portal_permission })
    }
}

fn answer(row: StaffInvitationRow) -> HttpResponse {
    created(format!("/v1/staff-invitations/{}", row.id), &StaffInvitation::from(row))
}

/// Staff invitations, oldest first, with their status.
#[utoipa::path(
    tag = "staff",
    params(StaffInvitationListQuery, PageQuery),
    responses((status = 200, body = Paginated<StaffInvitation>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/staff-invitations")]
pub async fn list_staff_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<StaffInvitationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<StaffInvitation>>, ApiError> {
    let page = page.page()?;
    let filter = StaffInvitationFilter { state: query.into_inner().status.map(Into::into) };
    let listed = caller
        .must(Action::ManageStaff)
        .call(&state, move |conn, ctx| staff_invitations::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, StaffInvitation::from)))
}

/// Invites a person to join the staff by email (owners and admins; only an owner may invite
/// an owner). The email carries a one-time link; earlier open invitations to the address stop
/// working.
#[utoipa::path(
    tag = "staff",
    request_body = CreateStaffInvitation,
    responses(
        (status = 201, body = StaffInvitation, headers(("Location" = String, description = "URL of the invitation"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/staff-invitations")]
pub async fn create_staff_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateStaffInvitation>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    may_change_staff(&ctx.principal, None, Some(body.role), false)?;
    let new = body.command()?;
    Ok(answer(db::call(&state, move |conn| staff_invitations::create(conn, &ctx, new)).await?))
}

/// One staff invitation.
#[utoipa::path(
    tag = "staff",
    params(("staff_invitation_id" = StaffInvitationId, Path)),
    responses((status = 200, body = StaffInvitation), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/staff-invitations/{staff_invitation_id}")]
pub async fn get_staff_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<StaffInvitationId>,
) -> Result<web::Json<StaffInvitation>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(
        caller
            .must(Action::ManageStaff)
            .call(&state, move |conn, ctx| staff_invitations::get(conn, ctx, &id))
            .await?
            .into(),
    ))
}

/// Sends a pending or expired invitation again: a new invitation with a new link and expiry
/// replaces it, and the old link answers `410 invitation_revoked`.
#[utoipa::path(
    tag = "staff",
    params(("staff_invitation_id" = StaffInvitationId, Path)),
    responses(
        (status = 201, body = StaffInvitation, headers(("Location" = String, description = "URL of the new invitation"))),
        Unauthorized, Forbidden, NotFound, Conflict, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/staff-invitations/{staff_invitation_id}/resend")]
pub async fn resend_staff_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<StaffInvitationId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(answer(
        caller
            .must(Action::ManageStaff)
            .call(&state, move |conn, ctx| staff_invitations::resend(conn, ctx, &id))
            .await?,
    ))
}

/// Withdraws an invitation: its link stops working.
#[utoipa::path(
    tag = "staff",
    params(("staff_invitation_id" = StaffInvitationId, Path)),
    responses((status = 200, body = StaffInvitation), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/staff-invitations/{staff_invitation_id}/revoke")]
pub async fn revoke_staff_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<StaffInvitationId>,
) -> Result<web::Json<StaffInvitation>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(
        caller
            .must(Action::ManageStaff)
            .call(&state, move |conn, ctx| staff_invitations::revoke(conn, ctx, &id))
            .await?
            .into(),
    ))
}

/// Accepts a staff invitation: creates the member with the password they chose. The link
/// works once; the new member then signs in as usual.
#[utoipa::path(
    tag = "staff",
    request_body = AcceptStaffInvitation,
    responses(
        (status = 201, body = StaffMember, headers(("Location" = String, description = "URL of the new member"))),
        BadRequest, NotFound, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    )
)]
#[post("/staff-invitations/accept")]
pub async fn accept_staff_invitation(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<AcceptStaffInvitation>,
) -> Result<HttpResponse, ApiError> {
    let password = NewPassword::parse(&body.password).map_err(|e| ApiError::from(e.at("/password")))?;
    let member =
        db::call(&state, move |conn| staff_invitations::accept(conn, &origin.0, &body.token, &password)).await?;
    Ok(created(format!("/v1/staff/{}", member.id), &StaffMember::from(member)))
}
