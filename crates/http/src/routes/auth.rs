//! Staff sign-in: password login, token refresh, logout, and who am I.

use actix_web::{HttpResponse, get, post, web};
use vestibule_app::auth::{self, AccountKind};
use vestibule_domain::password::NewPassword;

use crate::audit::Origin;
use crate::auth::login::{self, LoginRequest, LoginResult, RefreshRequest, TokenPair};
use crate::auth::principal::{Caller, StaffUser};
use crate::db;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::problem::{
    BadRequest, Forbidden, InternalError, PayloadTooLarge, TooManyRequests, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::firm::Firm;
use crate::views::staff::StaffMember;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(login_staff)
        .service(refresh_staff_token)
        .service(logout_staff)
        .service(get_me)
        .service(change_my_password);
}

/// Signs a staff member in with firm, email and password.
///
/// Failed attempts count towards a lockout (429 with `Retry-After`); attempts per client
/// address are limited too.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResult, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/auth/login")]
pub async fn login_staff(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    login::login(&state, origin.0, AccountKind::Staff, body).await
}

/// Exchanges a refresh token for a new token pair. Each refresh token works once; using one
/// twice ends the session (it was probably stolen).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`"))), BadRequest, Unauthorized, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError)
)]
#[post("/auth/refresh")]
pub async fn refresh_staff_token(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    login::refresh(&state, origin.0, AccountKind::Staff, body).await
}

/// Ends the current session: its access and refresh tokens stop working at once.
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "Signed out."), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout_staff(state: web::Data<AppState>, _: StaffUser, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.call(&state, auth::sign_in::logout).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in staff member and their firm.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    pub staff: StaffMember,
    pub firm: Firm,
}

/// The signed-in staff member.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = Me), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, StaffUser(me): StaffUser) -> Result<web::Json<Me>, ApiError> {
    let (member, firm) = db::call(&state, move |conn| auth::sign_in::me(conn, &me)).await?;
    Ok(web::Json(Me { staff: member.into(), firm: firm.into() }))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(format = Password)]
    pub current_password: String,
    /// 8–128 characters, not a commonly used password.
    #[schema(format = Password)]
    pub new_password: String,
}

/// Changes the signed-in staff member's password. Every other session of theirs ends; the
/// current one stays signed in.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed."),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
pub async fn change_my_password(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let new_password = NewPassword::parse(&body.new_password).map_err(|e| ApiError::from(e.at("/new_password")))?;
    let current = body.current_password;
    caller.call(&state, move |conn, ctx| auth::sign_in::change_password(conn, ctx, &current, &new_password)).await?;
    Ok(HttpResponse::NoContent().finish())
}
