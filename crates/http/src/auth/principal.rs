//! Resolves the one principal behind a request, from `Authorization: Bearer <token>`:
//! a staff or portal access token (JWT) or an integration API key (`vsk_…`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Duration;
use subtle::ConstantTimeEq;
use vestibule_app::Context;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::ids::{ApiKeyId, ContactId, FirmId, SessionId, StaffId};
use vestibule_domain::principal::{ContactPrincipal, IntegrationPrincipal, Principal, StaffPrincipal};
use vestibule_domain::roles::StaffRole;
use vestibule_domain::scope::ApiScope;
use vestibule_storage::{StorageError, api_keys, contacts, sessions, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::jwt::{AccessClaims, Audience, TokenKeys, TokenUse};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use vestibule_app::secrets;

/// Any authenticated principal. Handlers then ask the domain what it may do.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// A staff member with an access token (for actions that belong to a person, like logout).
#[derive(Debug, Clone)]
pub struct StaffUser(pub StaffPrincipal);

/// A portal contact with an access token.
#[derive(Debug, Clone)]
pub struct ContactUser(pub ContactPrincipal);

/// An authenticated caller as the use cases take it: principal, origin and settings.
#[derive(Debug, Clone)]
pub struct Caller(pub Context);

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let principal = resolve(&req).await?;
            let state =
                req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            Ok(Caller(Context { principal, origin: Origin::of(&req).0, settings: state.settings.app.clone() }))
        })
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await.map(Authenticated) })
    }
}

impl FromRequest for StaffUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(&req).await? {
                Principal::Staff(staff) => Ok(StaffUser(staff)),
                _ => Err(ApiError::Forbidden("only staff members signed in with a password may do this".to_owned())),
            }
        })
    }
}

impl FromRequest for ContactUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(&req).await? {
                Principal::Contact(contact) => Ok(ContactUser(contact)),
                _ => Err(ApiError::Forbidden("this endpoint is for portal contacts".to_owned())),
            }
        })
    }
}

/// Resolves once per request; later calls (middleware, then extractor) reuse the result.
pub async fn resolve(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let token = bearer(req)?;
    let principal = if let Some((key_id, secret)) = secrets::parse_api_key(&token) {
        api_key(state, key_id, secret.to_owned(), Origin::of(req)).await?
    } else {
        let audience = TokenKeys::peek_audience(&token).ok_or_else(ApiError::invalid_token)?;
        let claims = state.keys.verify(&token, TokenUse::Access, audience)?;
        match audience {
            Audience::Staff => staff_member(state, claims).await?,
            Audience::Portal => contact(state, claims).await?,
        }
    };
    req.extensions_mut().insert(principal.clone());
    Ok(principal)
}

/// Resolves a live-stream ticket to the principal it was issued to, with the same checks
/// as an access token (live session, enabled account, usable portal).
pub async fn resolve_ticket(state: &AppState, ticket: &str) -> Result<Principal, ApiError> {
    let audience = TokenKeys::peek_audience(ticket).ok_or_else(ApiError::invalid_token)?;
    let claims = state.keys.verify(ticket, TokenUse::LiveTicket, audience)?;
    match audience {
        Audience::Staff => staff_member(state, claims).await,
        Audience::Portal => contact(state, claims).await,
    }
}

pub fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req.headers().get(actix_web::http::header::AUTHORIZATION).ok_or_else(ApiError::unauthenticated)?;
    let value = header.to_str().map_err(|_| ApiError::invalid_token())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(ApiError::invalid_token)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::invalid_token());
    }
    Ok(token.trim().to_owned())
}

async fn staff_member(state: &AppState, claims: AccessClaims) -> Result<Principal, ApiError> {
    db::run(state, move |conn| {
        let member = staff::get(conn, &claims.firm, &claims.sub).map_err(unknown_account)?;
        let session = sessions::get_active(conn, &claims.sid, vestibule_storage::now())?;
        let session_matches = session.is_some_and(|s| s.staff_id.as_deref() == Some(member.id.as_str()));
        if member.disabled_at.is_some() || !session_matches {
            return Err(ApiError::invalid_token());
        }
        Ok(Principal::Staff(StaffPrincipal {
            firm_id: FirmId::from_trusted(member.firm_id),
            staff_id: StaffId::from_trusted(member.id),
            session_id: SessionId::from_trusted(claims.sid),
            role: StaffRole::from_stored(&member.role).ok_or_else(|| anyhow::anyhow!("unknown stored role"))?,
            portal_permission: member.portal_permission,
        }))
    })
    .await
}

async fn contact(state: &AppState, claims: AccessClaims) -> Result<Principal, ApiError> {
    db::run(state, move |conn| {
        let person = contacts::get(conn, &claims.firm, &claims.sub).map_err(unknown_account)?;
        let session = sessions::get_active(conn, &claims.sid, vestibule_storage::now())?;
        let session_matches = session.is_some_and(|s| s.contact_id.as_deref() == Some(person.id.as_str()));
        if person.disabled_at.is_some() || !session_matches {
            return Err(ApiError::invalid_token());
        }
        crate::auth::login::portal_gate(conn, &person.firm_id, &person.id)?;
        Ok(Principal::Contact(ContactPrincipal {
            firm_id: FirmId::from_trusted(person.firm_id),
            contact_id: ContactId::from_trusted(person.id),
            session_id: SessionId::from_trusted(claims.sid),
        }))
    })
    .await
}

/// A token whose account is gone is invalid; a database failure is still a server error.
fn unknown_account(error: StorageError) -> ApiError {
    match error {
        StorageError::NotFound => ApiError::invalid_token(),
        other => other.into(),
    }
}

/// How often a key's `last_used_at` is written, and how often its use is audited: every
/// request would turn reads into writes and flood the audit log.
const TOUCH_EVERY: Duration = Duration::minutes(1);
const AUDIT_USE_EVERY: Duration = Duration::hours(1);

async fn api_key(state: &AppState, key_id: String, secret: String, origin: Origin) -> Result<Principal, ApiError> {
    db::run(state, move |conn| {
        let key = api_keys::find_active(conn, &key_id)?.ok_or_else(ApiError::invalid_token)?;
        let presented = secrets::digest(&secret);
        if !bool::from(presented.as_bytes().ct_eq(key.secret_hash.as_bytes())) {
            return Err(ApiError::invalid_token());
        }
        let now = vestibule_storage::now();
        let since_use = key.last_used_at.map(|last| now - last);
        if since_use.is_none_or(|elapsed| elapsed >= TOUCH_EVERY) {
            write_tx(conn, |conn| {
                api_keys::touch(conn, &key.id, now)?;
                if since_use.is_none_or(|elapsed| elapsed >= AUDIT_USE_EVERY) {
                    let entry = Entry::success("api_key.used", "api_key", &key.id);
                    audit::record_as(conn, &origin, &key.firm_id, ActorKind::ApiKey, Some(&key.id), entry)?;
                }
                Ok::<_, ApiError>(())
            })?;
        }
        Ok(Principal::Integration(IntegrationPrincipal {
            firm_id: FirmId::from_trusted(key.firm_id),
            api_key_id: ApiKeyId::from_trusted(key.id),
            scopes: key.scopes.split_whitespace().filter_map(ApiScope::from_stored).collect(),
        }))
    })
    .await
}
