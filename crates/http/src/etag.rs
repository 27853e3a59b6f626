//! Optimistic concurrency for clients and matters: `ETag` is the row version, `If-Match`
//! must carry it on updates that want protection against lost updates.

use actix_web::http::header::{ETAG, HeaderValue, IF_MATCH};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;

pub fn etag(version: i64) -> (actix_web::http::header::HeaderName, HeaderValue) {
    (ETAG, HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\"")))
}

/// The version `If-Match` demands, or `None` when absent or `*`. A value that is not one of
/// our ETags can never match, so it fails the precondition.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(raw) = req.headers().get(IF_MATCH) else {
        return Ok(None);
    };
    let raw = raw.to_str().map_err(|_| ApiError::PreconditionFailed)?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let tag = raw.strip_prefix("W/").unwrap_or(raw);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or(ApiError::PreconditionFailed)
}

/// Adds the `ETag` of `version` to a response.
pub fn with_etag(mut response: HttpResponse, version: i64) -> HttpResponse {
    let (name, value) = etag(version);
    response.headers_mut().insert(name, value);
    response
}
