//! Invites from the settings (seed 004): owners and admins invite a contact, chosen or entered
//! by email, to the portal of the client it pertains to; and see, resend or revoke invites.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::Context;
use vestibule_app::invitations::{self, Whom};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{ClientId, ContactId, InvitationId, PortalId, StaffId};
use vestibule_domain::portal::InvitationSource;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::invitations::{InvitationFilter, InvitationRow};

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

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_invitations)
        .service(create_invitation)
        .service(get_invitation)
        .service(resend_invitation)
        .service(revoke_invitation);
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub contact_id: ContactId,
    pub portal_id: PortalId,
    pub client_id: Option<ClientId>,
    pub source: InvitationSource,
    pub invited_by: Option<StaffId>,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_sent_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<InvitationRow> for Invitation {
    fn from(row: InvitationRow) -> Self {
        let status = if row.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if row.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if row.expires_at <= vestibule_storage::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        Self {
            id: InvitationId::from_trusted(row.id),
            email: row.email,
            contact_id: ContactId::from_trusted(row.contact_id),
            portal_id: PortalId::from_trusted(row.portal_id),
            client_id: row.client_id.map(ClientId::from_trusted),
            source: InvitationSource::from_stored(&row.source),
            invited_by: row.invited_by.map(StaffId::from_trusted),
            status,
            created_at: utc(row.created_at),
            expires_at: utc(row.expires_at),
            last_sent_at: utc(row.last_sent_at),
            accepted_at: row.accepted_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}

/// A contact chosen (`contact_id`) or entered (`email`, with names when it is new), and the
/// client the invitation pertains to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    pub client_id: ClientId,
    pub contact_id: Option<ContactId>,
    pub email: Option<String>,
    /// For a new contact.
    pub first_name: Option<String>,
    /// For a new contact.
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationListQuery {
    pub invited_by: Option<StaffId>,
    pub portal_id: Option<PortalId>,
}

fn admin(ctx: &Context) -> Result<(), ApiError> {
    Ok(authorize(&ctx.principal, Action::InviteFromSettings)?)
}

impl CreateInvitation {
    fn command(self) -> Result<(ClientId, Whom), ApiError> {
        let mut errors = ValidationErrors::default();
        let email = self.email.as_deref().and_then(|e| errors.check("/email", EmailAddress::parse(e)));
        let first = self.first_name.as_deref().and_then(|n| errors.check("/first_name", text::required(n, 100)));
        let last = self.last_name.as_deref().and_then(|n| errors.check("/last_name", text::required(n, 100)));
        errors.into_result()?;
        let whom = match (self.contact_id, email) {
            (Some(id), None) => Whom::Contact(id),
            (None, Some(email)) => Whom::Email { email: email.into(), names: first.zip(last) },
            _ => {
                return Err(ApiError::field(
                    "/contact_id",
                    "one_of",
                    "choose a contact or enter an email address, not both",
                ));
            }
        };
        Ok((self.client_id, whom))
    }
}

/// Invitations, oldest first, with their status and who sent them.
#[utoipa::path(
    tag = "portals",
    params(InvitationListQuery, PageQuery),
    responses((status = 200, body = Paginated<Invitation>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<InvitationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Invitation>>, ApiError> {
    let ctx = caller.context(&state).await?;
    admin(&ctx)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = InvitationFilter {
        invited_by: query.invited_by.map(String::from),
        portal_id: query.portal_id.map(String::from),
    };
    let listed = db::call(&state, move |conn| invitations::list(conn, &ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Invitation::from)))
}

/// Invites a contact to the client's portal (owners and admins). The contact gets a full
/// portal with access to the client if it has none, and an email with a one-time link.
#[utoipa::path(
    tag = "portals",
    request_body = CreateInvitation,
    responses(
        (status = 201, body = Invitation, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateInvitation>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    admin(&ctx)?;
    let (client_id, whom) = body.command()?;
    let invitation = db::call(&state, move |conn| invitations::create(conn, &ctx, &client_id, whom)).await?;
    Ok(answer(invitation))
}

fn answer(invitation: InvitationRow) -> HttpResponse {
    created(format!("/v1/invitations/{}", invitation.id), &Invitation::from(invitation))
}

/// One portal invitation.
#[utoipa::path(
    tag = "portals",
    params(("invitation_id" = InvitationId, Path)),
    responses((status = 200, body = Invitation), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/invitations/{invitation_id}")]
pub async fn get_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<InvitationId>,
) -> Result<web::Json<Invitation>, ApiError> {
    let ctx = caller.context(&state).await?;
    admin(&ctx)?;
    let id = path.into_inner();
    Ok(web::Json(db::call(&state, move |conn| invitations::get(conn, &ctx, &id)).await?.into()))
}

/// Sends a pending or expired invitation again: a new invitation with a new link and expiry
/// replaces it, and the old link answers `410 invitation_revoked`.
#[utoipa::path(
    tag = "portals",
    params(("invitation_id" = InvitationId, Path)),
    responses((status = 201, body = Invitation, headers(("Location" = String))), Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[post("/invitations/{invitation_id}/resend")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    admin(&ctx)?;
    let id = path.into_inner();
    Ok(answer(db::call(&state, move |conn| invitations::resend(conn, &ctx, &id)).await?))
}

/// Withdraws an invitation: its link stops working.
#[utoipa::path(
    tag = "portals",
    params(("invitation_id" = InvitationId, Path)),
    responses((status = 200, body = Invitation), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/invitations/{invitation_id}/revoke")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<InvitationId>,
) -> Result<web::Json<Invitation>, ApiError> {
    let ctx = caller.context(&state).await?;
    admin(&ctx)?;
    let id = path.into_inner();
    Ok(web::Json(db::call(&state, move |conn| invitations::revoke(conn, &ctx, &id)).await?.into()))
}
