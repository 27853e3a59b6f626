//! The bodies of two-factor sign-in and of managing one's authenticator, the same for staff
//! and portal contacts; the use cases are `vestibule_app::auth::{challenge, two_factor}`.

use actix_web::HttpResponse;
use actix_web::http::header::CACHE_CONTROL;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::auth::AccountKind;
use vestibule_app::auth::challenge::{self, Answer, Completed};
use vestibule_app::auth::two_factor::{self, Enrolment, Proof, Status};
use vestibule_app::{Context, Origin};
use vestibule_domain::FieldError;

use crate::auth::login::{TokenPair, throttle};
use crate::db;
use crate::error::ApiError;
use crate::routes::utc;
use crate::state::AppState;

/// The code step of a sign-in: the challenge token and either a code of the authenticator
/// app or one of the recovery codes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwoFactorLogin {
    /// `challenge_token` of the password step's answer.
    #[schema(format = Password)]
    pub challenge_token: String,
    /// The 6-digit code the app shows now.
    #[schema(example = "492039")]
    pub code: Option<String>,
    /// One of the recovery codes, instead of `code`; each works once.
    #[schema(example = "abcd-efgh-ijkl-mnop")]
    pub recovery_code: Option<String>,
}

impl TwoFactorLogin {
    fn answer(self) -> Result<(String, Answer), ApiError> {
        let answer = match (self.code, self.recovery_code) {
            (Some(code), None) => Answer::Code(code),
            (None, Some(code)) => Answer::RecoveryCode(code),
            _ => {
                let detail = "send either `code` or `recovery_code`";
                return Err(FieldError::new("/code", "code_or_recovery_code", detail).into());
            }
        };
        Ok((self.challenge_token, answer))
    }
}

/// The challenge token of a password step that asked for enrolment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeEnrolment {
    #[schema(format = Password)]
    pub challenge_token: String,
}

/// A finished two-factor sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorSignedIn {
    #[serde(flatten)]
    pub tokens: TokenPair,
    /// After an enrolment at sign-in only: the ten recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// An authenticator app to set up: scan `otpauth_uri` as a QR code, or type `secret`; then
/// confirm with its first code before `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorEnrolment {
    /// Base32 TOTP secret (SHA-1, 6 digits, 30 seconds).
    pub secret: String,
    #[schema(example = "otpauth://totp/Harbor%20Law:mia%40harbor.example?secret=JBSWY3DPEHPK3PXP&issuer=Harbor%20Law")]
    pub otpauth_uri: String,
    pub expires_at: DateTime<Utc>,
}

impl From<Enrolment> for TwoFactorEnrolment {
    fn from(enrolment: Enrolment) -> Self {
        Self { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri, expires_at: utc(enrolment.expires_at) }
    }
}

/// Whether two-factor sign-in is on for the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Until when a started enrolment waits for its first code; `null` when none waits.
    pub enrolment_expires_at: Option<DateTime<Utc>>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

impl From<Status> for TwoFactorStatus {
    fn from(status: Status) -> Self {
        Self {
            enabled: status.enabled,
            confirmed_at: status.confirmed_at.map(utc),
            enrolment_expires_at: status.pending_until.map(utc),
            recovery_codes_left: status.recovery_codes_left,
        }
    }
}

/// Ten single-use recovery codes, shown this once: each signs in once instead of a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A current code of the authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwoFactorCode {
    #[schema(example = "492039")]
    pub code: String,
}

/// Proof for turning two-factor sign-in off: a current code, or the password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoFactor {
    pub code: Option<String>,
    #[schema(format = Password)]
    pub password: Option<String>,
}

fn no_store<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(body)
}

/// The code step of a sign-in, after the per-address limit on attempts.
pub async fn complete_login(
    state: &AppState,
    origin: Origin,
    kind: AccountKind,
    body: TwoFactorLogin,
) -> Result<HttpResponse, ApiError> {
    throttle(state, &origin, "too many sign-in attempts from this address").await?;
    let (token, answer) = body.answer()?;
    let keys = state.keys.clone();
    let settings = state.settings.app.clone();
    let Completed { tokens, recovery_codes } =
        db::call(state, move |conn| challenge::complete(conn, &origin, &settings, &keys, kind, &token, &answer))
            .await?;
    Ok(no_store(&TwoFactorSignedIn { tokens: tokens.into(), recovery_codes }))
}

/// Starts the enrolment that a firm's requirement asks for at sign-in.
pub async fn enrol_at_login(
    state: &AppState,
    origin: Origin,
    kind: AccountKind,
    body: ChallengeEnrolment,
) -> Result<HttpResponse, ApiError> {
    throttle(state, &origin, "too many sign-in attempts from this address").await?;
    let token = body.challenge_token;
    let settings = state.settings.app.clone();
    let enrolment = db::call(state, move |conn| challenge::start_enrolment(conn, &settings, kind, &token)).await?;
    Ok(no_store(&TwoFactorEnrolment::from(enrolment)))
}

pub async fn status(state: &AppState, ctx: Context) -> Result<TwoFactorStatus, ApiError> {
    Ok(db::call(state, move |conn| two_factor::status(conn, &ctx)).await?.into())
}

pub async fn start(state: &AppState, ctx: Context) -> Result<HttpResponse, ApiError> {
    let enrolment = db::call(state, move |conn| two_factor::start(conn, &ctx)).await?;
    Ok(no_store(&TwoFactorEnrolment::from(enrolment)))
}

pub async fn confirm(state: &AppState, ctx: Context, body: TwoFactorCode) -> Result<HttpResponse, ApiError> {
    throttle(state, &ctx.origin, "too many code attempts from this address").await?;
    let recovery_codes = db::call(state, move |conn| two_factor::confirm(conn, &ctx, &body.code)).await?;
    Ok(no_store(&RecoveryCodes { recovery_codes }))
}

pub async fn disable(state: &AppState, ctx: Context, body: DisableTwoFactor) -> Result<HttpResponse, ApiError> {
    throttle(state, &ctx.origin, "too many code attempts from this address").await?;
    let proof = match (body.code, body.password) {
        (Some(code), None) => Proof::Code(code),
        (None, Some(password)) => Proof::Password(password),
        _ => return Err(FieldError::new("/code", "code_or_password", "send either `code` or `password`").into()),
    };
    db::call(state, move |conn| two_factor::disable(conn, &ctx, &proof)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn regenerate(state: &AppState, ctx: Context, body: TwoFactorCode) -> Result<HttpResponse, ApiError> {
    throttle(state, &ctx.origin, "too many code attempts from this address").await?;
    let recovery_codes =
        db::call(state, move |conn| two_factor::regenerate_recovery_codes(conn, &ctx, &body.code)).await?;
    Ok(no_store(&RecoveryCodes { recovery_codes }))
}
