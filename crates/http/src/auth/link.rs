//! Access links: the secret that derives their URLs' tokens and keys their codes' hashes,
//! and the link session a correct code opens (`Authorization: Bearer vls_…`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use vestibule_domain::access_link::CODE_DIGITS;
use vestibule_storage::StorageError;
use vestibule_storage::access_links::{self, Link};

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use vestibule_app::secrets;

pub const LINK_TOKEN_PREFIX: &str = "val_";
pub const LINK_SESSION_PREFIX: &str = "vls_";

/// Shared by every instance (`LINK_SECRET`): tokens must come out the same everywhere, and
/// a copy of the database alone must reveal neither the URLs nor, by guessing, the codes.
pub struct LinkSecret(Hmac<Sha256>);

impl LinkSecret {
    pub fn new(key: &[u8]) -> anyhow::Result<Self> {
        Ok(Self(<Hmac<Sha256> as Mac>::new_from_slice(key)?))
    }

    fn mac(&self, parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac
    }

    /// The URL token of a link: 256 bits, recomputed whenever staff copy the URL.
    pub fn token(&self, link_id: &str, nonce: &str) -> String {
        let tag = self.mac(&["access-link-token", link_id, nonce]).finalize().into_bytes();
        format!("{LINK_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(tag))
    }

    pub fn code_hash(&self, link_id: &str, code: &str) -> String {
        hex::encode(self.mac(&["access-link-code", link_id, code]).finalize().into_bytes())
    }

    pub fn code_matches(&self, link_id: &str, code: &str, stored: &str) -> bool {
        self.code_hash(link_id, code).as_bytes().ct_eq(stored.as_bytes()).into()
    }
}

/// A fresh nonce for a link's token.
pub fn new_nonce() -> String {
    secrets::random_secret()
}

/// A fresh security code: eight digits, uniformly drawn.
pub fn new_code() -> String {
    (0..CODE_DIGITS).map(|_| char::from(b'0' + OsRng.gen_range(0..10_u8))).collect()
}

/// The uniform answer for a link that does not open, whatever the reason: unknown,
/// disabled, expired or locked.
pub fn unavailable() -> ApiError {
    ApiError::Gone {
        code: "link_unavailable",
        detail: "this link is not available (it may have expired or been disabled); ask the firm for a new one",
    }
}

/// The link of a presented token, if it opens now.
pub fn open_link(conn: &mut vestibule_storage::DbConnection, token: &str) -> Result<Link, ApiError> {
    if !token.starts_with(LINK_TOKEN_PREFIX) {
        return Err(unavailable());
    }
    let link = access_links::by_token_hash(conn, &secrets::digest(token)).map_err(|e| match e {
        StorageError::NotFound => unavailable(),
        other => other.into(),
    })?;
    ensure_opens(&link)?;
    Ok(link)
}

fn ensure_opens(link: &Link) -> Result<(), ApiError> {
    if link.status(vestibule_storage::now()).opens() { Ok(()) } else { Err(unavailable()) }
}

/// The link of a live session (by its token's SHA-256), if the link opens now.
pub fn session_link(conn: &mut vestibule_storage::DbConnection, session: &str) -> Result<Link, ApiError> {
    let link = access_links::session_link(conn, session, vestibule_storage::now()).map_err(|e| match e {
        StorageError::NotFound => ApiError::invalid_token(),
        other => other.into(),
    })?;
    ensure_opens(&link)?;
    Ok(link)
}

/// The recipient of an access link, after a correct code: the link, checked again on every
/// request, so a session ends the moment staff disable the link or it expires; and the
/// SHA-256 of the session token, to check the session again after a long upload.
#[derive(Debug, Clone)]
pub struct LinkUser(pub Link, pub String);

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for LinkUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state =
                req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let token = crate::auth::principal::bearer(&req)?;
            if !token.starts_with(LINK_SESSION_PREFIX) {
                return Err(ApiError::Unauthenticated {
                    code: "invalid_token",
                    detail: "send the link session token that the security code opened",
                });
            }
            let digest = secrets::digest(&token);
            let session = digest.clone();
            let link = db::run(state, move |conn| session_link(conn, &session)).await?;
            Ok(LinkUser(link, digest))
        })
    }
}
