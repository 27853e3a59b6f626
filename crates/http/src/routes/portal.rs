//! Portal contacts' sign-in. Contact accounts are created through portal invitations; the
//! mechanics match staff sign-in, with tokens for the portal audience.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::auth::{self, AccountKind};
use vestibule_app::{invoices, portals};
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId, PortalId};
use vestibule_domain::password::NewPassword;
use vestibule_domain::portal::{PortalKind, PortalStatus};

use crate::audit::Origin;
use crate::auth::login::{self, LoginRequest, LoginResult, RefreshRequest, TokenPair, token_response};
use crate::auth::principal::{Caller, ContactUser};
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::utc;
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::contact::Contact;
use crate::views::invoice::Invoice;

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
    let listed = db::call(&state, move |conn| invoices::list_mine(conn, &me, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Invoice::from)))
}

/// One invoice visible in the signed-in contact's portal. The first time a contact opens
/// it, the firm hears of it (`invoice.viewed`).
#[utoipa::path(
    tag = "portal",
    params(("invoice_id" = InvoiceId, Path)),
    responses((status = 200, body = Invoice), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/invoices/{invoice_id}")]
pub async fn get_my_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| invoices::get_mine(conn, ctx, &id)).await?.into()))
}

/// Signs a portal contact in.
#[utoipa::path(
    tag = "portal",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResult, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/portal/auth/login")]
pub async fn login_contact(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    login::login(&state, origin.0, AccountKind::Contact, body).await
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
    login::refresh(&state, origin.0, AccountKind::Contact, body).await
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
    _: ContactUser,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.call(&state, auth::sign_in::logout).await?;
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
    let mine = db::call(&state, move |conn| portals::mine(conn, &me)).await?;
    let portals::MyPortal { contact, portal, status, visible } = mine;
    Ok(web::Json(PortalMe {
        contact: contact.into(),
        portal: MyPortal {
            status,
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
    let (keys, settings) = (state.keys.clone(), state.settings.app.clone());
    let tokens = db::call(&state, move |conn| {
        auth::registration::accept_invitation(conn, &origin.0, &settings, &keys, &body.token, &password)
    })
    .await?;
    Ok(token_response(tokens))
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
    login::throttle(&state, &origin.0, "too many attempts from this address").await?;
    let settings = state.settings.app.clone();
    db::call(&state, move |conn| {
        auth::registration::request_password_reset(conn, &origin.0, &settings, &body.firm, &body.email)
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

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
    db::call(&state, move |conn| auth::registration::confirm_password_reset(conn, &origin.0, &body.token, &password))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
