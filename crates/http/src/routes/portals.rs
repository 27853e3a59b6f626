//! Client portals, managed by staff with the portal permission (seed 000): create a full or
//! temporary portal for a contact, find existing ones, grant clients and matters, disable.

use std::collections::HashMap;

use crate::routing::Routes;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::{ClientId, ContactId, InvitationId, MatterId, PortalGrantId, PortalId};
use vestibule_domain::portal::{InvitationSource, PortalKind, PortalStatus};
use vestibule_domain::principal::Principal;
use vestibule_storage::contacts::{self, ContactRow};
use vestibule_storage::portals::{self, GrantRow, PortalFilter, PortalRow, StatusFilter};
use vestibule_storage::{DbConnection, clients, matters, sessions, write_tx};

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

#[derive(Debug, Serialize, ToSchema)]
pub struct Portal {
    pub id: PortalId,
    pub contact: PortalContact,
    pub kind: PortalKind,
    pub status: PortalStatus,
    /// When a temporary portal stops working.
    pub expires_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub grants: Vec<PortalGrant>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalContact {
    pub id: ContactId,
    pub name: String,
    pub email: Option<String>,
}

/// Access to one client (and all its matters) or one matter.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalGrant {
    pub id: PortalGrantId,
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub created_at: DateTime<Utc>,
}

impl From<GrantRow> for PortalGrant {
    fn from(row: GrantRow) -> Self {
        Self {
            id: PortalGrantId::from_trusted(row.id),
            client_id: row.client_id.map(ClientId::from_trusted),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            created_at: utc(row.created_at),
        }
    }
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

fn manage(principal: &Principal) -> Result<(), ApiError> {
    Ok(authorize(principal, Action::ManagePortals)?)
}

/// A portal's expiry as stored: required and in the future for a temporary portal, absent
/// for a full one; refused at `pointer`.
pub fn expiry(
    kind: PortalKind,
    expires_at: Option<DateTime<Utc>>,
    pointer: &str,
) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    match (kind, expires_at) {
        (PortalKind::Temporary, Some(at)) if at > Utc::now() => Ok(Some(at.naive_utc())),
        (PortalKind::Temporary, _) => {
            Err(ApiError::field(pointer, "required", "a temporary portal needs an expiry in the future"))
        }
        (PortalKind::Full, None) => Ok(None),
        (PortalKind::Full, Some(_)) => Err(ApiError::field(pointer, "not_allowed", "a full portal does not expire")),
    }
}

/// Checks a grant target against what the caller may see: a restricted matter can only be
/// granted by its members and the firm's admins, like any other use of it.
fn check_target(
    conn: &mut DbConnection,
    principal: &Principal,
    target: &GrantTarget,
    pointer: &str,
) -> Result<(), ApiError> {
    let firm_id = principal.firm_id().as_str();
    const UNKNOWN: &str = "no such record visible to you";
    match (&target.client_id, &target.matter_id) {
        (Some(client), None) => {
            if !clients::exists(conn, firm_id, client.as_str())? {
                return Err(ApiError::field(&format!("{pointer}/client_id"), "unknown_reference", UNKNOWN));
            }
        }
        (None, Some(matter)) => {
            matters::get(conn, firm_id, matter.as_str(), &matter_visibility(principal))
                .or_unknown(&format!("{pointer}/matter_id"), UNKNOWN)?;
        }
        _ => return Err(ApiError::field(pointer, "one_of", "name exactly one of client_id and matter_id")),
    }
    Ok(())
}

/// Portals with their grants and contacts, in three queries for a whole page.
fn describe(conn: &mut DbConnection, rows: Vec<PortalRow>) -> Result<Vec<Portal>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
    let mut grants: HashMap<String, Vec<PortalGrant>> = HashMap::new();
    for grant in portals::grants(conn, &ids)? {
        grants.entry(grant.portal_id.clone()).or_default().push(grant.into());
    }
    let contact_ids: Vec<String> = rows.iter().map(|p| p.contact_id.clone()).collect();
    let people: HashMap<String, ContactRow> =
        contacts::by_ids(conn, &contact_ids)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let now = vestibule_storage::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let person = people.get(&row.contact_id);
            Portal {
                contact: PortalContact {
                    id: ContactId::from_trusted(row.contact_id.clone()),
                    name: person.map(|c| format!("{} {}", c.first_name, c.last_name)).unwrap_or_default(),
                    email: person.and_then(|c| c.email.clone()),
                },
                kind: PortalKind::from_stored(&row.kind),
                status: PortalStatus::of(&row.status, row.disabled_at, row.expires_at, now),
                expires_at: row.expires_at.map(utc),
                activated_at: row.activated_at.map(utc),
                disabled_at: row.disabled_at.map(utc),
                grants: grants.remove(&row.id).unwrap_or_default(),
                created_at: utc(row.created_at),
                id: PortalId::from_trusted(row.id),
            }
        })
        .collect())
}

pub fn one(conn: &mut DbConnection, row: PortalRow) -> Result<Portal, ApiError> {
    describe(conn, vec![row])?.pop().ok_or(ApiError::NotFound)
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
    Authenticated(principal): Authenticated,
    query: Query<PortalListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Portal>>, ApiError> {
    manage(&principal)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = PortalFilter {
        contact_id: query.contact_id.map(String::from),
        email: query.email.map(|e| e.trim().to_lowercase()),
        client_id: query.client_id.map(String::from),
        status: query.status.map(|s| match s {
            PortalStatus::Invited => StatusFilter::Invited,
            PortalStatus::Active => StatusFilter::Active,
            PortalStatus::Disabled => StatusFilter::Disabled,
            PortalStatus::Expired => StatusFilter::Expired,
        }),
    };
    db::run(&state, move |conn| {
        let firm_id = principal.firm_id().as_str();
        let rows = portals::list(conn, firm_id, &filter, vestibule_storage::now(), page.after.as_deref(), page.limit)?;
        let (rows, next_cursor) = page.finish(rows, |r| r.id.clone());
        Ok(web::Json(Paginated { data: describe(conn, rows)?, next_cursor }))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreatePortal>,
) -> Result<HttpResponse, ApiError> {
    manage(&principal)?;
    let expires_at = expiry(body.kind, body.expires_at, "/expires_at")?;
    let settings = state.settings.clone();
    let portal = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let contact = contacts::get(conn, firm_id, body.contact_id.as_str())
                .or_unknown("/contact_id", "no such contact in this firm")?;
            for (index, target) in body.grants.iter().enumerate() {
                check_target(conn, &principal, target, &format!("/grants/{index}"))?;
            }
            let (portal, created) = portal_access::ensure_portal(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                &contact,
                body.kind,
                expires_at,
            )?;
            if !created {
                return Err(ApiError::conflict(
                    "portal_exists",
                    format!("the contact already has portal {}; use it", portal.id),
                ));
            }
            for target in &body.grants {
                let client = target.client_id.as_ref().map(ClientId::as_str);
                let matter = target.matter_id.as_ref().map(MatterId::as_str);
                portal_access::grant(
                    conn,
                    &crate::audit::context(&principal, &origin, &settings),
                    &portal,
                    client,
                    matter,
                )?;
            }
            if body.invite {
                let client = contact.client_id.clone();
                portal_access::invite(
                    conn,
                    &crate::audit::context(&principal, &origin, &settings),
                    Invitee {
                        portal: &portal,
                        contact: &contact,
                        client_id: client.as_deref(),
                        source: InvitationSource::Portal,
                    },
                )?;
            }
            one(conn, portal)
        })
    })
    .await?;
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
    Authenticated(principal): Authenticated,
    path: web::Path<PortalId>,
) -> Result<web::Json<Portal>, ApiError> {
    manage(&principal)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let row = portals::get(conn, principal.firm_id().as_str(), id.as_str())?;
        Ok(web::Json(one(conn, row)?))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<PortalId>,
    ApiJson(body): ApiJson<UpdatePortal>,
) -> Result<web::Json<Portal>, ApiError> {
    manage(&principal)?;
    let expires_at = expiry(body.kind, body.expires_at, "/expires_at")?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row =
                portals::set_kind(conn, principal.firm_id().as_str(), id.as_str(), body.kind.as_str(), expires_at)?;
            audit::record(conn, &origin, &principal, Entry::success("portal.updated", "portal", id.as_str()))?;
            Ok(web::Json(one(conn, row)?))
        })
    })
    .await
}

async fn set_disabled(
    state: web::Data<AppState>,
    origin: Origin,
    principal: Principal,
    id: PortalId,
    disable: bool,
) -> Result<web::Json<Portal>, ApiError> {
    manage(&principal)?;
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let now = vestibule_storage::now();
            let row = portals::set_disabled(conn, firm_id, id.as_str(), disable.then_some(now))?;
            if disable {
                sessions::revoke_all_of(conn, &row.contact_id, now)?;
            }
            let action = if disable { "portal.disabled" } else { "portal.enabled" };
            audit::record(conn, &origin, &principal, Entry::success(action, "portal", id.as_str()))?;
            Ok(web::Json(one(conn, row)?))
        })
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<PortalId>,
) -> Result<web::Json<Portal>, ApiError> {
    set_disabled(state, origin, principal, path.into_inner(), true).await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<PortalId>,
) -> Result<web::Json<Portal>, ApiError> {
    set_disabled(state, origin, principal, path.into_inner(), false).await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<PortalId>,
    ApiJson(body): ApiJson<GrantTarget>,
) -> Result<HttpResponse, ApiError> {
    manage(&principal)?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let grant = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let portal = portals::get(conn, principal.firm_id().as_str(), id.as_str())?;
            check_target(conn, &principal, &body, "")?;
            let client = body.client_id.as_ref().map(ClientId::as_str);
            let matter = body.matter_id.as_ref().map(MatterId::as_str);
            let grant = portal_access::grant(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                &portal,
                client,
                matter,
            )?;
            let entry = Entry::success("portal.granted", "portal", id.as_str())
                .with_details(serde_json::json!({ "client_id": grant.client_id, "matter_id": grant.matter_id }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(PortalGrant::from(grant))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(grant))
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<(PortalId, PortalGrantId)>,
) -> Result<HttpResponse, ApiError> {
    manage(&principal)?;
    let (portal_id, grant_id) = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            portals::remove_grant(conn, principal.firm_id().as_str(), portal_id.as_str(), grant_id.as_str())?;
            let entry = Entry::success("portal.grant_removed", "portal", portal_id.as_str())
                .with_details(serde_json::json!({ "grant_id": grant_id }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(())
        })
    })
    .await?;
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<PortalId>,
) -> Result<HttpResponse, ApiError> {
    manage(&principal)?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let sent = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let portal = portals::get(conn, firm_id, id.as_str())?;
            let contact = contacts::get(conn, firm_id, &portal.contact_id)?;
            let client = contact.client_id.clone();
            let invitation = portal_access::invite(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                Invitee {
                    portal: &portal,
                    contact: &contact,
                    client_id: client.as_deref(),
                    source: InvitationSource::Portal,
                },
            )?;
            Ok(SentInvitation {
                id: InvitationId::from_trusted(invitation.id),
                email: invitation.email,
                expires_at: utc(invitation.expires_at),
            })
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(sent))
}
