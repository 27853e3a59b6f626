//! Password login, refresh-token rotation and logout, the same for staff and portal
//! contacts; only the account table and the token audience differ.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::SessionId;
use vestibule_domain::portal::{PortalStatus, unavailable};
use vestibule_storage::sessions::{Rotation, SessionRow};
use vestibule_storage::{DbConnection, contacts, credentials, firms, portals, sessions, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::jwt::{Audience, TokenUse};
use crate::db;
use crate::error::ApiError;
use crate::state::{AppState, HttpSettings};
use vestibule_app::{password, secrets};

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

#[derive(Debug, Clone, Copy)]
pub enum AccountKind {
    Staff,
    Contact,
}

impl AccountKind {
    fn audience(self) -> Audience {
        match self {
            Self::Staff => Audience::Staff,
            Self::Contact => Audience::Portal,
        }
    }

    fn actor_kind(self) -> ActorKind {
        match self {
            Self::Staff => ActorKind::Staff,
            Self::Contact => ActorKind::Contact,
        }
    }

    /// The account's id and whether it is disabled.
    fn find(self, conn: &mut DbConnection, firm_id: &str, email: &str) -> Result<Option<(String, bool)>, ApiError> {
        Ok(match self {
            Self::Staff => staff::find_by_email(conn, firm_id, email)?.map(|s| (s.id, s.disabled_at.is_some())),
            Self::Contact => contacts::find_by_email(conn, firm_id, email)?.map(|c| (c.id, c.disabled_at.is_some())),
        })
    }

    fn is_active(self, conn: &mut DbConnection, session: &SessionRow) -> Result<bool, ApiError> {
        Ok(match (self, &session.staff_id, &session.contact_id) {
            (Self::Staff, Some(id), _) => staff::get(conn, &session.firm_id, id)?.disabled_at.is_none(),
            (Self::Contact, _, Some(id)) => {
                contacts::get(conn, &session.firm_id, id)?.disabled_at.is_none()
                    && portal_gate(conn, &session.firm_id, id).is_ok()
            }
            _ => false,
        })
    }
}

/// Tokens must not be cached by anything between us and the client (RFC 6749, 5.1).
pub fn token_response(pair: TokenPair) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(pair)
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated { code: "invalid_credentials", detail: "the firm, email or password is wrong" }
}

pub async fn login(
    state: &AppState,
    origin: Origin,
    kind: AccountKind,
    body: LoginRequest,
) -> Result<TokenPair, ApiError> {
    let ip = origin.ip.clone().unwrap_or_default();
    if let Err(retry_after_secs) = state.login_limiter.check(&ip) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs,
            detail: "too many login attempts from this address",
        });
    }
    let settings = state.settings.clone();
    let refresh_token = secrets::new_refresh_token();
    let refresh_digest = secrets::digest(&refresh_token);
    let (firm_id, account_id, session_id, expires_at) = db::run(state, move |conn| {
        let slug = body.firm.trim().to_lowercase();
        let email = EmailAddress::parse(&body.email).map(String::from).unwrap_or_default();
        let Some(firm) = firms::find_by_slug(conn, &slug)? else {
            password::verify_against_nothing(&body.password);
            return Err(invalid_credentials());
        };
        let account = kind.find(conn, &firm.id, &email)?;
        let credential = match &account {
            Some((id, _)) => credentials::find(conn, id)?,
            None => None,
        };
        let fail = |conn: &mut DbConnection, account_id: Option<&str>, reason: &str| {
            let entry = Entry::failure("auth.login", account_id.map(|id| (kind.actor_kind().as_str(), id)))
                .with_details(serde_json::json!({ "email": email, "reason": reason }));
            write_tx(conn, |conn| audit::record_as(conn, &origin, &firm.id, kind.actor_kind(), account_id, entry))
        };
        let (Some((account_id, disabled)), Some(credential)) = (account, credential) else {
            password::verify_against_nothing(&body.password);
            fail(conn, None, "unknown_account")?;
            return Err(invalid_credentials());
        };
        let now = vestibule_storage::now();
        if let Some(until) = credential.locked_until.filter(|until| *until > now) {
            fail(conn, Some(&account_id), "locked")?;
            let retry_after_secs = u64::try_from((until - now).num_seconds()).unwrap_or(1).max(1);
            return Err(ApiError::TooManyRequests {
                retry_after_secs,
                detail: "too many failed logins; the account is locked for a while",
            });
        }
        if !password::verify(&credential.password_hash, &body.password) {
            let lock_until = now + Duration::from_std(settings.app.lockout_duration).unwrap_or(Duration::minutes(15));
            credentials::record_failure(conn, &account_id, settings.app.lockout_threshold, lock_until)?;
            fail(conn, Some(&account_id), "wrong_password")?;
            return Err(invalid_credentials());
        }
        if disabled {
            fail(conn, Some(&account_id), "disabled")?;
            return Err(ApiError::Forbidden("this account is disabled".to_owned()));
        }
        if matches!(kind, AccountKind::Contact)
            && let Err(refused) = portal_gate(conn, &firm.id, &account_id)
        {
            fail(conn, Some(&account_id), "portal_unavailable")?;
            return Err(refused);
        }
        let session = write_tx(conn, |conn| {
            credentials::record_success(conn, &account_id)?;
            open_session(conn, &settings, &origin, kind, &firm.id, &account_id, &refresh_digest)
        })?;
        Ok((firm.id, account_id, session.id, session.expires_at))
    })
    .await?;
    token_pair(state, kind, &firm_id, &account_id, &session_id, refresh_token, expires_at)
}

/// Whether a contact may use the portal now; when not, a 403 that says why (not registered,
/// disabled, or an expired temporary portal).
pub fn portal_gate(conn: &mut DbConnection, firm_id: &str, contact_id: &str) -> Result<(), ApiError> {
    let Some(portal) = portals::for_contact(conn, firm_id, contact_id)? else {
        return Err(ApiError::Refused { code: "no_portal", detail: "this contact has no portal" });
    };
    let status = PortalStatus::of(&portal.status, portal.disabled_at, portal.expires_at, vestibule_storage::now());
    match unavailable(status) {
        Some((code, detail)) => Err(ApiError::Refused { code, detail }),
        None => Ok(()),
    }
}

/// Starts a session for an account that just proved who it is, and records the sign-in.
/// Call inside a write transaction.
pub fn open_session(
    conn: &mut DbConnection,
    settings: &HttpSettings,
    origin: &Origin,
    kind: AccountKind,
    firm_id: &str,
    account_id: &str,
    refresh_digest: &str,
) -> Result<SessionRow, ApiError> {
    let now = vestibule_storage::now();
    let session = SessionRow {
        id: SessionId::generate().into(),
        firm_id: firm_id.to_owned(),
        staff_id: matches!(kind, AccountKind::Staff).then(|| account_id.to_owned()),
        contact_id: matches!(kind, AccountKind::Contact).then(|| account_id.to_owned()),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        created_at: now,
        expires_at: now + Duration::from_std(settings.app.refresh_token_ttl).unwrap_or(Duration::days(30)),
        revoked_at: None,
    };
    sessions::create(conn, &session, refresh_digest)?;
    let entry = Entry::success("auth.login", kind.actor_kind().as_str(), account_id)
        .with_details(serde_json::json!({ "session_id": session.id }));
    audit::record_as(conn, origin, firm_id, kind.actor_kind(), Some(account_id), entry)?;
    Ok(session)
}

pub async fn refresh(
    state: &AppState,
    origin: Origin,
    kind: AccountKind,
    body: RefreshRequest,
) -> Result<TokenPair, ApiError> {
    let new_token = secrets::new_refresh_token();
    let new_digest = secrets::digest(&new_token);
    let old_digest = secrets::digest(body.refresh_token.trim());
    let session = db::run(state, move |conn| {
        let rotation = write_tx(conn, |conn| {
            let rotation = sessions::rotate(conn, &old_digest, &new_digest, vestibule_storage::now())?;
            if let Rotation::Reused(session) = &rotation {
                let owner = session.staff_id.as_deref().or(session.contact_id.as_deref());
                let entry = Entry::failure("auth.refresh_token_reused", Some(("session", &session.id)))
                    .with_details(serde_json::json!({}));
                audit::record_as(conn, &origin, &session.firm_id, kind.actor_kind(), owner, entry)?;
            }
            Ok::<_, ApiError>(rotation)
        })?;
        match rotation {
            Rotation::Rotated(session) if kind.is_active(conn, &session)? => Ok(session),
            Rotation::Reused(_) => Err(ApiError::Unauthenticated {
                code: "refresh_token_reused",
                detail: "this refresh token was already used; the session has been ended, sign in again",
            }),
            Rotation::Rotated(_) | Rotation::Invalid => Err(ApiError::invalid_token()),
        }
    })
    .await?;
    let account_id = match kind {
        AccountKind::Staff => session.staff_id.clone(),
        AccountKind::Contact => session.contact_id.clone(),
    }
    .ok_or_else(ApiError::invalid_token)?;
    token_pair(state, kind, &session.firm_id, &account_id, &session.id, new_token, session.expires_at)
}

/// Ends the session behind the current access token; its refresh token stops working too.
pub async fn logout(
    state: &AppState,
    origin: Origin,
    principal: vestibule_domain::principal::Principal,
) -> Result<(), ApiError> {
    db::run(state, move |conn| {
        let session_id = match &principal {
            vestibule_domain::principal::Principal::Staff(p) => p.session_id.to_string(),
            vestibule_domain::principal::Principal::Contact(p) => p.session_id.to_string(),
            vestibule_domain::principal::Principal::Integration(_) => {
                return Err(ApiError::Forbidden("API keys have no session".to_owned()));
            }
        };
        write_tx(conn, |conn| {
            sessions::revoke(conn, &session_id, vestibule_storage::now())?;
            let (kind, id) = principal.actor();
            audit::record(conn, &origin, &principal, Entry::success("auth.logout", kind.as_str(), id))?;
            Ok(())
        })
    })
    .await
}

pub(crate) fn token_pair(
    state: &AppState,
    kind: AccountKind,
    firm_id: &str,
    account_id: &str,
    session_id: &str,
    refresh_token: String,
    session_expires_at: chrono::NaiveDateTime,
) -> Result<TokenPair, ApiError> {
    let ttl = state.settings.app.access_token_ttl;
    let access_token = state.keys.issue(TokenUse::Access, kind.audience(), account_id, firm_id, session_id, ttl)?;
    Ok(TokenPair {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: ttl.as_secs(),
        refresh_token,
        refresh_expires_in: u64::try_from((session_expires_at - vestibule_storage::now()).num_seconds()).unwrap_or(0),
    })
}
