//! Resolves the one principal behind a request, from `Authorization: Bearer <token>`:
//! a staff or portal access token (JWT) or an integration API key (`vsk_…`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use vestibule_app::auth::tokens::{AccessClaims, Audience, TokenUse};
use vestibule_app::{AppResult, Context, auth, secrets};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::principal::{ContactPrincipal, Principal, StaffPrincipal};
use vestibule_storage::DbConnection;

use crate::audit::Origin;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// Any authenticated principal. Handlers then ask the domain what it may do.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// An authenticated caller as the use cases take it: principal, origin and settings. The
/// extractor checks the credential's form and the token's signature; the database half (a
/// live session, an enabled account, a usable portal, an API key's secret) runs on the
/// handler's connection, in its one blocking hop ([`Caller::call`]).
#[derive(Debug)]
pub struct Caller {
    credential: Credential,
    origin: vestibule_app::Origin,
    settings: std::sync::Arc<vestibule_app::Settings>,
    /// What the principal must be allowed, checked once it is resolved.
    required: Option<Action>,
}

#[derive(Debug)]
enum Credential {
    /// Resolved earlier in this request (by middleware).
    Known(Principal),
    Token(Audience, AccessClaims),
    ApiKey {
        key_id: String,
        secret: String,
    },
}

impl Credential {
    /// The principal behind the credential, checked against the database.
    fn principal(self, conn: &mut DbConnection, origin: &vestibule_app::Origin) -> AppResult<Principal> {
        match self {
            Self::Known(principal) => Ok(principal),
            Self::Token(audience, claims) => auth::principal::of_token(conn, audience, claims),
            Self::ApiKey { key_id, secret } => auth::principal::of_api_key(conn, origin, &key_id, &secret),
        }
    }
}

impl Caller {
    /// Refuses (403) a principal that may not do `action`, before the use case runs.
    pub fn must(mut self, action: Action) -> Self {
        self.required = Some(action);
        self
    }

    /// The use cases' context, resolved on `conn`.
    pub fn resolve_on(self, conn: &mut DbConnection) -> AppResult<Context> {
        let principal = self.credential.principal(conn, &self.origin)?;
        if let Some(action) = self.required {
            authorize(&principal, action)?;
        }
        Ok(Context { principal, origin: self.origin, settings: self.settings })
    }

    /// Runs a use case for this caller in one blocking hop: the principal is resolved on the
    /// use case's connection first, so it costs no hop and no checkout of its own.
    pub async fn call<T, F>(self, state: &AppState, use_case: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection, &Context) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        db::call(state, move |conn| {
            let ctx = self.resolve_on(conn)?;
            use_case(conn, &ctx)
        })
        .await
    }

    /// The context in a hop of its own, for handlers that decide something before their
    /// use case runs.
    pub async fn context(self, state: &AppState) -> Result<Context, ApiError> {
        db::call(state, move |conn| self.resolve_on(conn)).await
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(caller(req))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let known = req.extensions().get::<Principal>().cloned();
    let credential = match known {
        Some(principal) => Credential::Known(principal),
        None => credential(state, &bearer(req)?)?,
    };
    Ok(Caller { credential, origin: Origin::of(req).0, settings: state.settings.app.clone(), required: None })
}

/// What a bearer token claims, checked as far as it can be without the database.
fn credential(state: &AppState, token: &str) -> Result<Credential, ApiError> {
    if let Some((key_id, secret)) = secrets::parse_api_key(token) {
        return Ok(Credential::ApiKey { key_id, secret: secret.to_owned() });
    }
    let (audience, claims) = state.keys.verify(token, TokenUse::Access)?;
    Ok(Credential::Token(audience, claims))
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
    let credential = credential(state, &bearer(req)?)?;
    let origin = Origin::of(req).0;
    let principal = db::call(state, move |conn| credential.principal(conn, &origin)).await?;
    req.extensions_mut().insert(principal.clone());
    Ok(principal)
}

/// Resolves a live-stream ticket to the principal it was issued to, with the same checks
/// as an access token (live session, enabled account, usable portal).
pub async fn resolve_ticket(state: &AppState, ticket: &str) -> Result<Principal, ApiError> {
    let (audience, claims) = state.keys.verify(ticket, TokenUse::LiveTicket)?;
    db::call(state, move |conn| auth::principal::of_token(conn, audience, claims)).await
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
