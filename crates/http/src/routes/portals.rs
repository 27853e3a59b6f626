//! Client portals, managed by staff with the portal permission (seed 000): create a full or
//! temporary portal for a contact, find existing ones, grant clients and matters, disable.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::portals::{self, Availability, NewPortal};
use vestibule_app::{Context, portals::GrantTarget as Target};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::{ClientId, ContactId, InvitationId, MatterId, PortalGrantId, PortalId};
use vestibule_domain::portal::{PortalKind, PortalStatus};
use vestibule_storage::portals::{PortalFilter, StatusFilter};

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::portal::{Portal, PortalGrant};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_portals)
        .service(create_portal)
        .service(get_portal)
        .service(update_portal)
        .service(disable_portal)
        .service(enable_portal)
        .service(add_portal_grant)
        .service(remove_portal_grant)
        .service(invite_to_portal);
}

/// What to grant: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantTarget {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortal {
    pub contact_id: ContactId,
    pub kind: PortalKind,
    /// Required for `temporary`, in the future; not allowed for `full`.
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub grants: Vec<GrantTarget>,
    /// Email the contact an invitation to register (default true).
    #[serde(default = "yes")]
    pub invite: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePortal {
    pub kind: PortalKind,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortalListQuery {
    pub contact_id: Option<ContactId>,
    /// The contact's email address (seed 000: find an existing portal).
    pub email: Option<String>,
    /// Portals of the client's contacts or with access to the client.
    pub client_id: Option<ClientId>,
    pub status: Option<PortalStatus>,
}

/// The invitation that was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentInvitation {
    pub id: InvitationId,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

fn manage(ctx: &Context) -> Result<(), ApiError> {
    Ok(authorize(&ctx.principal, Action::ManagePortals)?)
}

/// A portal's expiry as stored (`domain::portal::expiry`), refused at `pointer`.
fn expiry(
    kind: PortalKind,
    expires_at: Option<DateTime<Utc>>,
    pointer: &str,
) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    let at = expires_at.map(|at| at.naive_utc());
    vestibule_domain::portal::expiry(kind, at, vestibule_storage::now()).map_err(|e| ApiError::from(e.at(pointer)))
}

impl From<GrantTarget> for Target {
    fn from(target: GrantTarget) -> Self {
        Self { client_id: target.client_id, matter_id: target.matter_id }
    }
}

impl PortalListQuery {
    fn filter(self) -> PortalFilter {
        PortalFilter {
            contact_id: self.contact_id.map(String::from),
            email: self.email.map(|e| e.trim().to_lowercase()),
            client_id: self.client_id.map(String::from),
            status: self.status.map(|s| match s {
                PortalStatus::Invited => StatusFilter::Invited,
                PortalStatus::Active => StatusFilter::Active,
                PortalStatus::Disabled => StatusFilter::Disabled,
                PortalStatus::Expired => StatusFilter::Expired,
            }),
        }
    }
}

/// Portals, oldest first; filter by contact, email, client or status to find an existing one.
#[utoipa::path(
    tag = "portals",
    params(PortalListQuery, PageQuery),
    responses((status = 200, body = Paginated<Portal>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portals")]
pub async fn list_portals(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PortalListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Portal>>, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = db::call(&state, move |conn| portals::list(conn, &ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Portal::from)))
}

/// Creates a portal for a contact, with grants, and (by default) emails an invitation.
/// A contact has at most one portal: 409 `portal_exists` names it otherwise.
#[utoipa::path(
    tag = "portals",
    request_body = CreatePortal,
    responses(
        (status = 201, body = Portal, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portals")]
pub async fn create_portal(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreatePortal>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let new = NewPortal {
        expires_at: expiry(body.kind, body.expires_at, "/expires_at")?,
        contact_id: body.contact_id,
        kind: body.kind,
        grants: body.grants.into_iter().map(Target::from).collect(),
        invite: body.invite,
    };
    let portal = Portal::from(db::call(&state, move |conn| portals::create(conn, &ctx, &new)).await?);
    Ok(created(format!("/v1/portals/{}", portal.id), &portal))
}

/// One portal, with its grants.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path)),
    responses((status = 200, body = Portal), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portals/{portal_id}")]
pub async fn get_portal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PortalId>,
) -> Result<web::Json<Portal>, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let id = path.into_inner();
    Ok(web::Json(db::call(&state, move |conn| portals::get(conn, &ctx, &id)).await?.into()))
}

/// Makes a temporary portal full, or changes a temporary portal's expiry.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path)),
    request_body = UpdatePortal,
    responses(
        (status = 200, body = Portal),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/portals/{portal_id}")]
pub async fn update_portal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PortalId>,
    ApiJson(body): ApiJson<UpdatePortal>,
) -> Result<web::Json<Portal>, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let expires_at = expiry(body.kind, body.expires_at, "/expires_at")?;
    let id = path.into_inner();
    let record = db::call(&state, move |conn| portals::update(conn, &ctx, &id, body.kind, expires_at)).await?;
    Ok(web::Json(record.into()))
}

async fn set_availability(
    state: web::Data<AppState>,
    ctx: Context,
    id: PortalId,
    target: Availability,
) -> Result<web::Json<Portal>, ApiError> {
    manage(&ctx)?;
    let record = db::call(&state, move |conn| portals::set_availability(conn, &ctx, &id, target)).await?;
    Ok(web::Json(record.into()))
}

/// Disables the portal: the contact is signed out everywhere and cannot sign in.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path)),
    responses((status = 200, body = Portal), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[post("/portals/{portal_id}/disable")]
pub async fn disable_portal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PortalId>,
) -> Result<web::Json<Portal>, ApiError> {
    let ctx = caller.context(&state).await?;
    set_availability(state, ctx, path.into_inner(), Availability::Disabled).await
}

/// Enable a disabled portal again.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path)),
    responses((status = 200, body = Portal), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[post("/portals/{portal_id}/enable")]
pub async fn enable_portal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PortalId>,
) -> Result<web::Json<Portal>, ApiError> {
    let ctx = caller.context(&state).await?;
    set_availability(state, ctx, path.into_inner(), Availability::Enabled).await
}

/// Gives the portal access to a client (with its matters) or to one matter.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path)),
    request_body = GrantTarget,
    responses(
        (status = 201, body = PortalGrant),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portals/{portal_id}/grants")]
pub async fn add_portal_grant(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PortalId>,
    ApiJson(body): ApiJson<GrantTarget>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let id = path.into_inner();
    let grant = db::call(&state, move |conn| portals::add_grant(conn, &ctx, &id, &body.into())).await?;
    Ok(HttpResponse::Created().json(PortalGrant::from(grant)))
}

/// Withdraw a grant from a portal.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path), ("grant_id" = PortalGrantId, Path)),
    responses((status = 204, description = "Removed."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/portals/{portal_id}/grants/{grant_id}")]
pub async fn remove_portal_grant(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(PortalId, PortalGrantId)>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let (portal_id, grant_id) = path.into_inner();
    db::call(&state, move |conn| portals::remove_grant(conn, &ctx, &portal_id, &grant_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Emails the contact a (new) invitation; earlier links stop working.
#[utoipa::path(
    tag = "portals",
    params(("portal_id" = PortalId, Path)),
    responses((status = 201, body = SentInvitation), Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[post("/portals/{portal_id}/invitation")]
pub async fn invite_to_portal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PortalId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    manage(&ctx)?;
    let id = path.into_inner();
    let invitation = db::call(&state, move |conn| portals::invite(conn, &ctx, &id)).await?;
    Ok(HttpResponse::Created().json(SentInvitation {
        id: InvitationId::from_trusted(invitation.id),
        email: invitation.email,
        expires_at: utc(invitation.expires_at),
    }))
}
