//! Portal two-factor sign-in: the code step of a contact's login and the signed-in
//! contact's authenticator. Staff reset a contact's in `routes/two_factor.rs`.

use actix_web::{HttpResponse, get, post, web};
use vestibule_app::auth::AccountKind;

use crate::audit::Origin;
use crate::auth::principal::{Caller, ContactUser};
use crate::auth::two_factor::{
    self, ChallengeEnrolment, DisableTwoFactor, RecoveryCodes, TwoFactorCode, TwoFactorEnrolment, TwoFactorLogin,
    TwoFactorSignedIn, TwoFactorStatus,
};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, PayloadTooLarge, TooManyRequests, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(complete_contact_login)
        .service(enrol_contact_at_login)
        .service(get_my_portal_two_factor)
        .service(start_my_portal_two_factor)
        .service(confirm_my_portal_two_factor)
        .service(disable_my_portal_two_factor)
        .service(regenerate_my_portal_recovery_codes);
}

/// Finishes a contact's sign-in with a code or a recovery code.
///
/// Takes the `challenge_token` of the password step. Five wrong codes end the challenge;
/// a code is accepted once. After an enrolment at sign-in the answer carries the new
/// recovery codes.
#[utoipa::path(
    tag = "portal",
    request_body = TwoFactorLogin,
    responses(
        (status = 200, body = TwoFactorSignedIn, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/portal/auth/login/two-factor")]
pub async fn complete_contact_login(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<TwoFactorLogin>,
) -> Result<HttpResponse, ApiError> {
    two_factor::complete_login(&state, origin.0, AccountKind::Contact, body).await
}

/// Sets up an authenticator at sign-in, when the firm requires one the contact lacks.
///
/// Takes the `challenge_token` of a `two_factor_enrolment_required` answer; the first code
/// of the app then goes to `POST /v1/portal/auth/login/two-factor`.
#[utoipa::path(
    tag = "portal",
    request_body = ChallengeEnrolment,
    responses(
        (status = 200, body = TwoFactorEnrolment, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/portal/auth/login/two-factor/enrolment")]
pub async fn enrol_contact_at_login(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<ChallengeEnrolment>,
) -> Result<HttpResponse, ApiError> {
    two_factor::enrol_at_login(&state, origin.0, AccountKind::Contact, body).await
}

/// Whether two-factor sign-in is on for the signed-in contact.
#[utoipa::path(
    tag = "portal",
    responses((status = 200, body = TwoFactorStatus), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/me/two-factor")]
pub async fn get_my_portal_two_factor(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
) -> Result<web::Json<TwoFactorStatus>, ApiError> {
    let ctx = caller.context(&state).await?;
    Ok(web::Json(two_factor::status(&state, ctx).await?))
}

/// Starts setting up an authenticator app; confirm within 10 minutes.
#[utoipa::path(
    tag = "portal",
    responses(
        (status = 200, body = TwoFactorEnrolment, headers(("Cache-Control" = String, description = "`no-store`"))),
        Unauthorized, Forbidden, Conflict, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/me/two-factor/enrolment")]
pub async fn start_my_portal_two_factor(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::start(&state, ctx).await
}

/// Turns two-factor sign-in on with the app's first code; answers the recovery codes once.
#[utoipa::path(
    tag = "portal",
    request_body = TwoFactorCode,
    responses(
        (status = 200, body = RecoveryCodes, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/me/two-factor/confirmation")]
pub async fn confirm_my_portal_two_factor(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
    ApiJson(body): ApiJson<TwoFactorCode>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::confirm(&state, ctx, body).await
}

/// Turns two-factor sign-in off, with a current code or the password.
#[utoipa::path(
    tag = "portal",
    request_body = DisableTwoFactor,
    responses(
        (status = 204, description = "Turned off."),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/me/two-factor/disable")]
pub async fn disable_my_portal_two_factor(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
    ApiJson(body): ApiJson<DisableTwoFactor>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::disable(&state, ctx, body).await
}

/// Replaces the recovery codes, after a current code; the old ones stop working.
#[utoipa::path(
    tag = "portal",
    request_body = TwoFactorCode,
    responses(
        (status = 200, body = RecoveryCodes, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/me/two-factor/recovery-codes")]
pub async fn regenerate_my_portal_recovery_codes(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
    ApiJson(body): ApiJson<TwoFactorCode>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::regenerate(&state, ctx, body).await
}
