//! The sign-in bodies and the token pair, the same for staff and portal contacts; the use
//! cases are `vestibule_app::auth`.

use actix_web::HttpResponse;
use actix_web::http::header::CACHE_CONTROL;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::auth::challenge::{Challenge, Purpose};
use vestibule_app::auth::sign_in::{Credentials, SignIn};
use vestibule_app::auth::{AccountKind, Tokens};
use vestibule_app::throttle::Throttle;
use vestibule_app::{Origin, auth};

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The firm's slug, as shown in its portal address.
    #[schema(example = "harbor-law")]
    pub firm: String,
    #[schema(example = "owner@harbor-law.example")]
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the last login or refresh; each works once.
    pub refresh_token: String,
}

/// How to send the access token: always `Bearer`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum TokenType {
    Bearer,
}

/// A fresh token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange at the refresh endpoint for a new pair; single use.
    pub refresh_token: String,
    /// Seconds until the session ends and a new login is needed.
    pub refresh_expires_in: u64,
}

impl From<Tokens> for TokenPair {
    fn from(tokens: Tokens) -> Self {
        Self {
            access_token: tokens.access_token,
            token_type: TokenType::Bearer,
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            refresh_expires_in: tokens.refresh_expires_in,
        }
    }
}

/// `signed_in`: the only value of [`SignedIn::status`].
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignedInStatus {
    SignedIn,
}

/// `two_factor_required`: the only value of [`TwoFactorRequired::status`].
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorRequiredStatus {
    TwoFactorRequired,
}

/// `two_factor_enrolment_required`: the only value of [`TwoFactorEnrolmentRequired::status`].
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorEnrolmentRequiredStatus {
    TwoFactorEnrolmentRequired,
}

/// Signed in with the password alone: the token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub status: SignedInStatus,
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange at the refresh endpoint for a new pair; single use.
    pub refresh_token: String,
    /// Seconds until the session ends and a new login is needed.
    pub refresh_expires_in: u64,
}

/// The account has two-factor sign-in: send a code with `challenge_token` to
/// `POST …/login/two-factor`. The challenge is no access token; nothing else accepts it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorRequired {
    pub status: TwoFactorRequiredStatus,
    #[schema(format = Password)]
    pub challenge_token: String,
    /// Seconds until the challenge expires and the password step starts over.
    pub expires_in: u64,
}

/// The firm requires two-factor sign-in and the account has none: set up an authenticator
/// with `challenge_token` at `POST …/login/two-factor/enrolment`, then send its first code
/// to `POST …/login/two-factor`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorEnrolmentRequired {
    pub status: TwoFactorEnrolmentRequiredStatus,
    #[schema(format = Password)]
    pub challenge_token: String,
    /// Seconds until the challenge expires and the password step starts over.
    pub expires_in: u64,
}

/// What the password step answers; `status` tells which.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "status", mapping(
    ("signed_in" = "#/components/schemas/SignedIn"),
    ("two_factor_required" = "#/components/schemas/TwoFactorRequired"),
    ("two_factor_enrolment_required" = "#/components/schemas/TwoFactorEnrolmentRequired"),
)))]
pub enum LoginResult {
    SignedIn(SignedIn),
    TwoFactorRequired(TwoFactorRequired),
    TwoFactorEnrolmentRequired(TwoFactorEnrolmentRequired),
}

impl From<SignIn> for LoginResult {
    fn from(answer: SignIn) -> Self {
        match answer {
            SignIn::Tokens(tokens) => Self::SignedIn(SignedIn {
                status: SignedInStatus::SignedIn,
                access_token: tokens.access_token,
                token_type: TokenType::Bearer,
                expires_in: tokens.expires_in,
                refresh_token: tokens.refresh_token,
                refresh_expires_in: tokens.refresh_expires_in,
            }),
            SignIn::Challenge(Challenge { purpose: Purpose::Verify, token, expires_in }) => {
                Self::TwoFactorRequired(TwoFactorRequired {
                    status: TwoFactorRequiredStatus::TwoFactorRequired,
                    challenge_token: token,
                    expires_in,
                })
            }
            SignIn::Challenge(Challenge { purpose: Purpose::Enrol, token, expires_in }) => {
                Self::TwoFactorEnrolmentRequired(TwoFactorEnrolmentRequired {
                    status: TwoFactorEnrolmentRequiredStatus::TwoFactorEnrolmentRequired,
                    challenge_token: token,
                    expires_in,
                })
            }
        }
    }
}

/// Tokens must not be cached by anything between us and the client (RFC 6749, 5.1).
pub fn token_response(tokens: Tokens) -> HttpResponse {
    HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(TokenPair::from(tokens))
}

/// Signs in with a password, after the per-address limit on attempts: tokens, or for a
/// two-factor account a challenge.
pub async fn login(
    state: &AppState,
    origin: Origin,
    kind: AccountKind,
    body: LoginRequest,
) -> Result<HttpResponse, ApiError> {
    throttle(state, &origin, "too many login attempts from this address").await?;
    let given = Credentials { firm: body.firm, email: body.email, password: body.password };
    let keys = state.keys.clone();
    let settings = state.settings.app.clone();
    let answer =
        db::call(state, move |conn| auth::sign_in::login(conn, &origin, &settings, &keys, kind, &given)).await?;
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(LoginResult::from(answer)))
}

/// Exchanges a refresh token for a new pair.
pub async fn refresh(
    state: &AppState,
    origin: Origin,
    kind: AccountKind,
    body: RefreshRequest,
) -> Result<HttpResponse, ApiError> {
    let keys = state.keys.clone();
    let settings = state.settings.app.clone();
    let token = body.refresh_token;
    let tokens =
        db::call(state, move |conn| auth::sign_in::refresh(conn, &origin, &settings, &keys, kind, &token)).await?;
    Ok(token_response(tokens))
}

/// Counts an attempt from the caller's address against the limit shared by sign-in and
/// password resets, on every instance.
pub async fn throttle(state: &AppState, origin: &Origin, detail: &'static str) -> Result<(), ApiError> {
    attempt(state, state.login_throttle, origin, detail).await
}

/// Counts an attempt from the caller's address against `throttle`.
pub async fn attempt(
    state: &AppState,
    throttle: Throttle,
    origin: &Origin,
    detail: &'static str,
) -> Result<(), ApiError> {
    let address = origin.ip.clone().unwrap_or_default();
    db::call(state, move |conn| vestibule_app::throttle::attempt(conn, &throttle, &address, detail)).await
}
