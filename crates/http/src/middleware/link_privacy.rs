//! Responses to access-link recipients (`/v1/links/…`, `/v1/link/…`), errors included, are
//! kept out of caches, and their pages leak no token through `Referer` to linked sites.
//! Handler and extractor errors reach this middleware as responses; the one middleware
//! inside it that could fail instead (idempotency) leaves these paths alone.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, REFERRER_POLICY};
use actix_web::middleware::Next;

pub async fn link_privacy(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let private = is_link_path(req.path());
    let mut res = next.call(req).await?;
    if private {
        let headers = res.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    Ok(res)
}

/// The recipient's side of access links.
pub fn is_link_path(path: &str) -> bool {
    path.starts_with("/v1/links/") || path.starts_with("/v1/link/")
}
