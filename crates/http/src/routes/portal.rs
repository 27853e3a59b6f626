//! Portal contacts' sign-in. Contact accounts are created through portal invitations; the
//! mechanics match staff sign-in, with tokens for the portal audience.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::email::EmailAddress;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId, PortalId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::password::NewPassword;
use vestibule_domain::portal::{PortalKind, PortalStatus, unavailable};
use vestibule_domain::principal::Principal;
use vestibule_storage::{contacts, credentials, firms, invitations, invoices, outbox, portals, sessions, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::login::{self, AccountKind, LoginRequest, RefreshRequest, TokenPair, open_session};
use crate::auth::principal::ContactUser;
use crate::auth::{password, secrets};
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::contacts::Contact;
use crate::routes::invoices::Invoice;
use crate::routes::utc;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(login_contact)
        .service(refresh_contact_token)
        .service(logout_contact)
        .service(get_portal_me)
        .service(accept_invitation)
        .service(request_password_reset)
        .service(confirm_password_reset)
        .service(list_my_invoices)
        .service(get_my_invoice);
}

/// The portal of the signed-in contact.
pub fn my_portal(
    conn: &mut vestibule_storage::DbConnection,
    me: &vestibule_domain::principal::ContactPrincipal,
) -> Result<String, ApiError> {
    Ok(portals::for_contact(conn, me.firm_id.as_str(), me.contact_id.as_str())?.ok_or(ApiError::NotFound)?.id)
}

/// Invoices of the clients and matters the portal grants (drafts excepted).
#[utoipa::path(
    tag = "portal",
    params(PageQuery),
    responses((status = 200, body = Paginated<Invoice>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/invoices")]
pub async fn list_my_invoices(
    state: web::Data<AppState>,
    ContactUser(me): ContactUser,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Invoice>>, ApiError> {
    let page = page.page()?;
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        let rows = invoices::list_for_portal(conn, &portal, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Invoice::from)))
    })
    .await
}

/// One invoice visible in the signed-in contact's portal.
#[utoipa::path(
    tag = "portal",
    params(("invoice_id" = InvoiceId, Path)),
    responses((status = 200, body = Invoice), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/invoices/{invoice_id}")]
pub async fn get_my_invoice(
    state: web::Data<AppState>,
    ContactUser(me): ContactUser,
    path: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        Ok(web::Json(invoices::get_for_portal(conn, &portal, id.as_str())?.into()))
    })
    .await
}

/// Signs a portal contact in.
#[utoipa::path(
    tag = "portal",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/portal/auth/login")]
pub async fn login_contact(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    login::login(&state, origin, AccountKind::Contact, body).await.map(login::token_response)
}

/// Exchanges a portal refresh token for a new pair (single use, reuse ends the session).
#[utoipa::path(
    tag = "portal",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`"))), BadRequest, Unauthorized, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError)
)]
#[post("/portal/auth/refresh")]
pub async fn refresh_contact_token(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    login::refresh(&state, origin, AccountKind::Contact, body).await.map(login::token_response)
}

/// Ends the contact's current session.
#[utoipa::path(
    tag = "portal",
    responses((status = 204, description = "Signed out."), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[post("/portal/auth/logout")]
pub async fn logout_contact(
    state: web::Data<AppState>,
    origin: Origin,
    ContactUser(me): ContactUser,
) -> Result<HttpResponse, ApiError> {
    login::logout(&state, origin, Principal::Contact(me)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What the signed-in contact may see: their details, their portal, and the clients and
/// matters it grants.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalMe {
    pub contact: Contact,
    pub portal: MyPortal,
    pub clients: Vec<VisibleClient>,
    pub matters: Vec<VisibleMatter>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyPortal {
    pub id: PortalId,
    pub kind: PortalKind,
    pub status: PortalStatus,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisibleClient {
    pub id: ClientId,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisibleMatter {
    pub id: MatterId,
    pub title: String,
    pub client_id: ClientId,
}

/// The signed-in contact and what their portal grants.
#[utoipa::path(
    tag = "portal",
    responses((status = 200, body = PortalMe), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/me")]
pub async fn get_portal_me(
    state: web::Data<AppState>,
    ContactUser(me): ContactUser,
) -> Result<web::Json<PortalMe>, ApiError> {
    db::run(&state, move |conn| {
        let firm_id = me.firm_id.as_str();
        let contact = contacts::get(conn, firm_id, me.contact_id.as_str())?;
        let portal = portals::for_contact(conn, firm_id, &contact.id)?.ok_or(ApiError::NotFound)?;
        let visible = portals::visible(conn, &portal.id)?;
        Ok(web::Json(PortalMe {
            contact: contact.into(),
            portal: MyPortal {
                status: PortalStatus::of(
                    &portal.status,
                    portal.disabled_at,
                    portal.expires_at,
                    vestibule_storage::now(),
                ),
                kind: PortalKind::from_stored(&portal.kind),
                expires_at: portal.expires_at.map(utc),
                id: PortalId::from_trusted(portal.id),
            },
            clients: visible
                .clients
                .into_iter()
                .map(|(id, name)| VisibleClient { id: ClientId::from_trusted(id), name })
                .collect(),
            matters: visible
                .matters
                .into_iter()
                .map(|(id, title, client)| VisibleMatter {
                    id: MatterId::from_trusted(id),
                    title,
                    client_id: ClientId::from_trusted(client),
                })
                .collect(),
        }))
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The `token` of the invitation link.
    pub token: String,
    /// The contact's new password: 8–128 characters, not a commonly used one.
    #[schema(format = Password)]
    pub password: String,
}

/// Registers the invited contact: sets their password, activates the portal, sends the
/// welcome email and signs them in. The link works once.
#[utoipa::path(
    tag = "portal",
    request_body = AcceptInvitation,
    responses(
        (status = 200, body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Forbidden, NotFound, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    )
)]
#[post("/portal/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> Result<HttpResponse, ApiError> {
    let password = NewPassword::parse(&body.password).map_err(|e| ApiError::from(e.at("/password")))?;
    let hash = web::block(move || password::hash(password.expose())).await.map_err(anyhow::Error::from)??;
    let refresh_token = secrets::new_refresh_token();
    let refresh_digest = secrets::digest(&refresh_token);
    let settings = state.settings.clone();
    let token_digest = secrets::digest(body.token.trim());
    let (firm_id, contact_id, session) = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let now = vestibule_storage::now();
            let invitation = invitations::find_by_token(conn, &token_digest)?.ok_or(ApiError::NotFound)?;
            if invitation.accepted_at.is_some() {
                return Err(ApiError::conflict("invitation_used", "this invitation was used already; sign in instead"));
            }
            if invitation.revoked_at.is_some() {
                return Err(ApiError::Gone {
                    code: "invitation_revoked",
                    detail: "this invitation was withdrawn or replaced by a newer one",
                });
            }
            if invitation.expires_at <= now {
                return Err(ApiError::Gone {
                    code: "invitation_expired",
                    detail: "this invitation has expired; ask the firm to send a new one",
                });
            }
            let portal = portals::get(conn, &invitation.firm_id, &invitation.portal_id)?;
            let status = PortalStatus::of("active", portal.disabled_at, portal.expires_at, now);
            if let Some((code, detail)) = unavailable(status) {
                return Err(ApiError::Refused { code, detail });
            }
            if !invitations::accept(conn, &invitation.id, now)? {
                return Err(ApiError::conflict("invitation_used", "this invitation was used already; sign in instead"));
            }
            credentials::set_password(conn, &invitation.firm_id, &invitation.contact_id, &hash)?;
            portals::activate(conn, &portal.id, now)?;
            let entry = Entry::success("portal.activated", "portal", &portal.id)
                .with_details(serde_json::json!({ "invitation_id": invitation.id }));
            audit::record_as(
                conn,
                &origin,
                &invitation.firm_id,
                ActorKind::Contact,
                Some(&invitation.contact_id),
                entry,
            )?;
            let event = outbox::publish(
                conn,
                &invitation.firm_id,
                EventType::PortalActivated,
                &serde_json::json!({ "id": portal.id }),
            )?;
            let link = format!("{}/portal", settings.public_base_url.trim_end_matches('/'));
            outbox::queue_email(conn, &event, &invitation.email, &Email::PortalActivated(mail::Welcome { link }))?;
            let session = open_session(
                conn,
                &settings,
                &origin,
                AccountKind::Contact,
                &invitation.firm_id,
                &invitation.contact_id,
                &refresh_digest,
            )?;
            Ok((invitation.firm_id, invitation.contact_id, session))
        })
    })
    .await?;
    let pair = login::token_pair(
        &state,
        AccountKind::Contact,
        &firm_id,
        &contact_id,
        &session.id,
        refresh_token,
        session.expires_at,
    )?;
    Ok(login::token_response(pair))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub firm: String,
    pub email: String,
}

/// Emails a one-time reset link to a registered portal contact. The answer is the same
/// whether or not the address belongs to one, so it reveals nothing.
#[utoipa::path(
    tag = "portal",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address belongs to a registered contact, a link is on its way."),
        BadRequest, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/portal/auth/password-reset")]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    if let Err(retry_after_secs) = state.login_limiter.check(origin.ip.as_deref().unwrap_or_default()) {
        return Err(ApiError::TooManyRequests { retry_after_secs, detail: "too many attempts from this address" });
    }
    let settings = state.settings.clone();
    db::run(&state, move |conn| {
        let Some(firm) = firms::find_by_slug(conn, body.firm.trim())? else { return Ok(()) };
        let email = EmailAddress::parse(&body.email).map(String::from).unwrap_or_default();
        let Some(contact) = contacts::find_by_email(conn, &firm.id, &email)? else { return Ok(()) };
        if contact.disabled_at.is_some() || login::portal_gate(conn, &firm.id, &contact.id).is_err() {
            return Ok(());
        }
        let token = secrets::random_secret();
        let now = vestibule_storage::now();
        write_tx(conn, |conn| {
            invitations::create_reset(conn, &firm.id, &contact.id, &secrets::digest(&token), now, now + RESET_TTL)?;
            let event = outbox::publish(
                conn,
                &firm.id,
                EventType::PortalPasswordReset,
                &serde_json::json!({ "id": contact.id }),
            )?;
            let link =
                format!("{}/portal/reset-password?token={token}", settings.public_base_url.trim_end_matches('/'));
            outbox::queue_email(conn, &event, &email, &Email::PortalPasswordReset(mail::PasswordReset { link }))?;
            let entry = Entry::success("auth.password_reset_requested", "contact", &contact.id);
            audit::record_as(conn, &origin, &firm.id, ActorKind::Contact, Some(&contact.id), entry)?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

const RESET_TTL: chrono::Duration = chrono::Duration::hours(1);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    pub token: String,
    #[schema(format = Password)]
    pub password: String,
}

/// Sets a new password with a reset link's token (valid one hour, once); every session of
/// the contact ends.
#[utoipa::path(
    tag = "portal",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Changed; sign in with the new password."),
        BadRequest, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    )
)]
#[post("/portal/auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let password = NewPassword::parse(&body.password).map_err(|e| ApiError::from(e.at("/password")))?;
    let hash = web::block(move || password::hash(password.expose())).await.map_err(anyhow::Error::from)??;
    let digest = secrets::digest(body.token.trim());
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let now = vestibule_storage::now();
            let (firm_id, contact_id) = invitations::use_reset(conn, &digest, now)?.ok_or(ApiError::Gone {
                code: "reset_link_invalid",
                detail: "this reset link is unknown, used or expired; ask for a new one",
            })?;
            credentials::set_password(conn, &firm_id, &contact_id, &hash)?;
            sessions::revoke_all_of(conn, &contact_id, now)?;
            let entry = Entry::success("auth.password_reset", "contact", &contact_id);
            audit::record_as(conn, &origin, &firm_id, ActorKind::Contact, Some(&contact_id), entry)?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
