//! Portal contacts' sign-in. Contact accounts are created through portal invitations; the
//! mechanics match staff sign-in, with tokens for the portal audience.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use vestibule_domain::principal::Principal;
use vestibule_storage::contacts;

use crate::audit::Origin;
use crate::auth::login::{self, AccountKind, LoginRequest, RefreshRequest, TokenPair};
use crate::auth::principal::ContactUser;
use crate::db;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::problem::{
    BadRequest, Forbidden, InternalError, PayloadTooLarge, TooManyRequests, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::contacts::Contact;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(login_contact).service(refresh_contact_token).service(logout_contact).service(get_portal_me);
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

/// The signed-in contact.
#[utoipa::path(
    tag = "portal",
    responses((status = 200, body = Contact), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/me")]
pub async fn get_portal_me(
    state: web::Data<AppState>,
    ContactUser(me): ContactUser,
) -> Result<web::Json<Contact>, ApiError> {
    db::run(&state, move |conn| Ok(web::Json(contacts::get(conn, me.firm_id.as_str(), me.contact_id.as_str())?.into())))
        .await
}
