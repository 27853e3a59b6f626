//! Resolves the one principal behind a request, from `Authorization: Bearer <token>`:
//! a staff or portal access token (JWT) or an integration API key (`vsk_…`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use vestibule_app::auth::tokens::{AccessClaims, Audience, TokenKeys, TokenUse};
use vestibule_app::{Context, auth, secrets};
use vestibule_domain::principal::{ContactPrincipal, Principal, StaffPrincipal};

use crate::audit::Origin;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// Any authenticated principal. Handlers then ask the domain what it may do.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

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

/// An extractor for callers of one kind of principal; any other is refused with 403.
macro_rules! only {
    ($(#[$doc:meta])* $name:ident($inner:ty) = Principal::$variant:ident, refused: $refusal:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub $inner);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Fut<Self>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    match resolve(&req).await? {
                        Principal::$variant(me) => Ok($name(me)),
                        _ => Err(ApiError::Forbidden($refusal.to_owned())),
                    }
                })
            }
        }
    };
}

only!(
    /// A staff member with an access token (for actions that belong to a person, like logout).
    StaffUser(StaffPrincipal) = Principal::Staff,
    refused: "only staff members signed in with a password may do this"
);

only!(
    /// A portal contact with an access token.
    ContactUser(ContactPrincipal) = Principal::Contact,
    refused: "this endpoint is for portal contacts"
);

/// Resolves once per request; later calls (middleware, then extractor) reuse the result.
pub async fn resolve(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let token = bearer(req)?;
    let principal = if let Some((key_id, secret)) = secrets::parse_api_key(&token) {
        let secret = secret.to_owned();
        let origin = Origin::of(req).0;
        db::call(state, move |conn| auth::principal::of_api_key(conn, &origin, &key_id, &secret)).await?
    } else {
        let audience = TokenKeys::peek_audience(&token).ok_or_else(ApiError::invalid_token)?;
        let claims = state.keys.verify(&token, TokenUse::Access, audience)?;
        of_claims(state, audience, claims).await?
    };
    req.extensions_mut().insert(principal.clone());
    Ok(principal)
}

/// Resolves a live-stream ticket to the principal it was issued to, with the same checks
/// as an access token (live session, enabled account, usable portal).
pub async fn resolve_ticket(state: &AppState, ticket: &str) -> Result<Principal, ApiError> {
    let audience = TokenKeys::peek_audience(ticket).ok_or_else(ApiError::invalid_token)?;
    let claims = state.keys.verify(ticket, TokenUse::LiveTicket, audience)?;
    of_claims(state, audience, claims).await
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

/// The principal of a verified token, checked against its account, session and portal.
async fn of_claims(state: &AppState, audience: Audience, claims: AccessClaims) -> Result<Principal, ApiError> {
    db::call(state, move |conn| auth::principal::of_token(conn, audience, claims)).await
}
