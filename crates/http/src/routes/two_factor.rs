//! Staff two-factor sign-in: the code step of a login, the signed-in member's authenticator,
//! and resets by staff (a member's by owners and admins, a contact's by staff who may
//! change the contact).

use actix_web::{HttpResponse, delete, get, post, web};
use vestibule_app::auth::AccountKind;
use vestibule_app::auth::two_factor as use_case;
use vestibule_domain::ids::{ContactId, StaffId};

use crate::audit::Origin;
use crate::auth::principal::{Caller, StaffUser};
use crate::auth::two_factor::{
    self, ChallengeEnrolment, DisableTwoFactor, RecoveryCodes, TwoFactorCode, TwoFactorEnrolment, TwoFactorLogin,
    TwoFactorSignedIn, TwoFactorStatus,
};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::problem::{
    BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(complete_staff_login)
        .service(enrol_staff_at_login)
        .service(get_my_two_factor)
        .service(start_my_two_factor)
        .service(confirm_my_two_factor)
        .service(disable_my_two_factor)
        .service(regenerate_my_recovery_codes)
        .service(reset_staff_two_factor)
        .service(reset_contact_two_factor);
}

/// Finishes a staff sign-in with a code or a recovery code.
///
/// Takes the `challenge_token` of the password step. Five wrong codes end the challenge;
/// a code is accepted once. After an enrolment at sign-in the answer carries the new
/// recovery codes.
#[utoipa::path(
    tag = "auth",
    request_body = TwoFactorLogin,
    responses(
        (status = 200, body = TwoFactorSignedIn, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/auth/login/two-factor")]
pub async fn complete_staff_login(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<TwoFactorLogin>,
) -> Result<HttpResponse, ApiError> {
    two_factor::complete_login(&state, origin.0, AccountKind::Staff, body).await
}

/// Sets up an authenticator at sign-in, when the firm requires one the member lacks.
///
/// Takes the `challenge_token` of a `two_factor_enrolment_required` answer; the first code
/// of the app then goes to `POST /v1/auth/login/two-factor`.
#[utoipa::path(
    tag = "auth",
    request_body = ChallengeEnrolment,
    responses(
        (status = 200, body = TwoFactorEnrolment, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    )
)]
#[post("/auth/login/two-factor/enrolment")]
pub async fn enrol_staff_at_login(
    state: web::Data<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<ChallengeEnrolment>,
) -> Result<HttpResponse, ApiError> {
    two_factor::enrol_at_login(&state, origin.0, AccountKind::Staff, body).await
}

/// Whether two-factor sign-in is on for the signed-in member.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = TwoFactorStatus), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/me/two-factor")]
pub async fn get_my_two_factor(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
) -> Result<web::Json<TwoFactorStatus>, ApiError> {
    let ctx = caller.context(&state).await?;
    Ok(web::Json(two_factor::status(&state, ctx).await?))
}

/// Starts setting up an authenticator app; confirm within 10 minutes.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = TwoFactorEnrolment, headers(("Cache-Control" = String, description = "`no-store`"))),
        Unauthorized, Forbidden, Conflict, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/me/two-factor/enrolment")]
pub async fn start_my_two_factor(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::start(&state, ctx).await
}

/// Turns two-factor sign-in on with the app's first code; answers the recovery codes once.
#[utoipa::path(
    tag = "auth",
    request_body = TwoFactorCode,
    responses(
        (status = 200, body = RecoveryCodes, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/me/two-factor/confirmation")]
pub async fn confirm_my_two_factor(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    ApiJson(body): ApiJson<TwoFactorCode>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::confirm(&state, ctx, body).await
}

/// Turns two-factor sign-in off, with a current code or the password.
#[utoipa::path(
    tag = "auth",
    request_body = DisableTwoFactor,
    responses(
        (status = 204, description = "Turned off."),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/me/two-factor/disable")]
pub async fn disable_my_two_factor(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    ApiJson(body): ApiJson<DisableTwoFactor>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::disable(&state, ctx, body).await
}

/// Replaces the recovery codes, after a current code; the old ones stop working.
#[utoipa::path(
    tag = "auth",
    request_body = TwoFactorCode,
    responses(
        (status = 200, body = RecoveryCodes, headers(("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/me/two-factor/recovery-codes")]
pub async fn regenerate_my_recovery_codes(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    ApiJson(body): ApiJson<TwoFactorCode>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    two_factor::regenerate(&state, ctx, body).await
}

/// Resets a member's two-factor sign-in (a lost phone); owners and admins, audited.
///
/// The member signs in with the password alone again, or enrols anew where the firm
/// requires two-factor sign-in. An owner's is reset by an owner only.
#[utoipa::path(
    tag = "staff",
    params(("staff_id" = StaffId, Path)),
    responses((status = 204, description = "Reset."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[delete("/staff/{staff_id}/two-factor")]
pub async fn reset_staff_two_factor(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<StaffId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| use_case::reset_staff(conn, ctx, id.as_str())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Resets a contact's two-factor sign-in, by staff who may change the contact; audited.
#[utoipa::path(
    tag = "contacts",
    params(("contact_id" = ContactId, Path)),
    responses((status = 204, description = "Reset."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[delete("/contacts/{contact_id}/two-factor")]
pub async fn reset_contact_two_factor(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| use_case::reset_contact(conn, ctx, id.as_str())).await?;
    Ok(HttpResponse::NoContent().finish())
}
