//! The link session a correct security code opens (`Authorization: Bearer vls_…`), as an
//! extractor.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use vestibule_app::link_secret::LINK_SESSION_PREFIX;
use vestibule_app::{links, secrets};
use vestibule_storage::access_links::Link;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

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
            let link = db::call(state, move |conn| links::session_link(conn, &session)).await?;
            Ok(LinkUser(link, digest))
        })
    }
}
