//! Invites from the settings (seed 004): owners and admins invite a contact, chosen or entered
//! by email, to the portal of the client it pertains to; and see, resend or revoke invites.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{ClientId, ContactId, InvitationId, PortalId, StaffId};
use vestibule_domain::portal::{InvitationSource, PortalKind};
use vestibule_domain::principal::Principal;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::contacts::{self, ContactRow};
use vestibule_storage::invitations::{self, InvitationFilter, InvitationRow};
use vestibule_storage::{DbConnection, clients, portals, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::state::AppState;
use vestibule_app::portal_access::{self, Invitee};

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

fn admin(principal: &Principal) -> Result<(), ApiError> {
    Ok(authorize(principal, Action::InviteFromSettings)?)
}

/// The contact named by id, or found or created by email as a contact of `client_id`.
pub fn contact_for(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    email: &str,
    names: Option<(String, String)>,
) -> Result<ContactRow, ApiError> {
    if let Some(existing) = contacts::find_by_email(conn, firm_id, email)? {
        return Ok(existing);
    }
    let (first_name, last_name) =
        names.ok_or_else(|| ApiError::field("/first_name", "required", "a new contact needs a first and last name"))?;
    let now = vestibule_storage::now();
    let row = ContactRow {
        id: ContactId::generate().into(),
        firm_id: firm_id.to_owned(),
        external_id: None,
        first_name,
        last_name,
        email: Some(email.to_owned()),
        phone: None,
        client_id: Some(client_id.to_owned()),
        staff_id: None,
        office_id: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    contacts::insert(conn, &row)?;
    Ok(row)
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
    Authenticated(principal): Authenticated,
    query: Query<InvitationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Invitation>>, ApiError> {
    admin(&principal)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = InvitationFilter {
        invited_by: query.invited_by.map(String::from),
        portal_id: query.portal_id.map(String::from),
    };
    db::run(&state, move |conn| {
        let rows = invitations::list(conn, principal.firm_id().as_str(), &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Invitation::from)))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateInvitation>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let mut errors = ValidationErrors::default();
    let email = body.email.as_deref().and_then(|e| errors.check("/email", EmailAddress::parse(e)));
    let first = body.first_name.as_deref().and_then(|n| errors.check("/first_name", text::required(n, 100)));
    let last = body.last_name.as_deref().and_then(|n| errors.check("/last_name", text::required(n, 100)));
    errors.into_result()?;
    if body.contact_id.is_some() == email.is_some() {
        return Err(ApiError::field("/contact_id", "one_of", "choose a contact or enter an email address, not both"));
    }
    let settings = state.settings.clone();
    let invitation = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            if !clients::exists(conn, firm_id, body.client_id.as_str())? {
                return Err(ApiError::field("/client_id", "unknown_reference", "no such client in this firm"));
            }
            let contact = match (&body.contact_id, &email) {
                (Some(id), _) => contacts::get(conn, firm_id, id.as_str())
                    .or_unknown("/contact_id", "no such contact in this firm")?,
                (None, Some(email)) => {
                    contact_for(conn, firm_id, body.client_id.as_str(), email.as_str(), first.zip(last))?
                }
                (None, None) => return Err(ApiError::NotFound),
            };
            let (portal, _) = portal_access::ensure_portal(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                &contact,
                PortalKind::Full,
                None,
            )?;
            portal_access::grant(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                &portal,
                Some(body.client_id.as_str()),
                None,
            )?;
            let invitee = Invitee {
                portal: &portal,
                contact: &contact,
                client_id: Some(body.client_id.as_str()),
                source: InvitationSource::Settings,
            };
            Ok(portal_access::invite(conn, &crate::audit::context(&principal, &origin, &settings), invitee)?)
        })
    })
    .await?;
    Ok(created(format!("/v1/invitations/{}", invitation.id), &Invitation::from(invitation)))
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
    Authenticated(principal): Authenticated,
    path: web::Path<InvitationId>,
) -> Result<web::Json<Invitation>, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        Ok(web::Json(invitations::get(conn, principal.firm_id().as_str(), id.as_str())?.into()))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let renewed = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let old = invitations::get(conn, firm_id, id.as_str())?;
            if old.accepted_at.is_some() || old.revoked_at.is_some() {
                return Err(ApiError::conflict("invitation_closed", "this invitation was accepted or revoked"));
            }
            let portal = portals::get(conn, firm_id, &old.portal_id)?;
            let contact = contacts::get(conn, firm_id, &old.contact_id)?;
            let invitee = Invitee {
                portal: &portal,
                contact: &contact,
                client_id: old.client_id.as_deref(),
                source: InvitationSource::from_stored(&old.source),
            };
            Ok(portal_access::invite(conn, &crate::audit::context(&principal, &origin, &settings), invitee)?)
        })
    })
    .await?;
    Ok(created(format!("/v1/invitations/{}", renewed.id), &Invitation::from(renewed)))
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<InvitationId>,
) -> Result<web::Json<Invitation>, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row = invitations::revoke(conn, principal.firm_id().as_str(), id.as_str(), vestibule_storage::now())
                .map_err(|e| match e {
                    vestibule_storage::StorageError::Conflict(_) => {
                        ApiError::conflict("invitation_closed", "this invitation was accepted or revoked already")
                    }
                    other => other.into(),
                })?;
            audit::record(conn, &origin, &principal, Entry::success("invitation.revoked", "invitation", id.as_str()))?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}
