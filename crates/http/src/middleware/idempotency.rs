//! `Idempotency-Key` on authenticated POSTs: the first response is stored and replayed for
//! retries with the same key and request; the same key with another request is refused (422),
//! and a retry while the first request still runs gets 409. Keys are scoped to the principal.
//! A response marked `Cache-Control: no-store` (one that shows a secret once) is never
//! stored: a retry of it gets 409 instead of a second copy of the secret.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CACHE_CONTROL, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError, web};
use sha2::{Digest, Sha256};
use vestibule_storage::idempotency::{self, Begin};

use crate::auth::principal;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Response headers worth replaying; others (dates, request ids) belong to each response.
const KEPT_HEADERS: [&str; 4] = ["location", "etag", "content-type", "allow"];

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Answered, not raised: an error raised from a middleware would bypass the outer layers
    // that give every answer its request id.
    let Keyed { state, scope, key } = match begin(&mut req).await {
        Ok(Some(keyed)) => keyed,
        Ok(None) => return next.call(req).await,
        Err(answer) => return Ok(req.into_response(answer)),
    };
    let res = next.call(req).await?;
    let status = res.status();
    let (request, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = body.try_into_bytes().unwrap_or_default();
    let headers: serde_json::Map<String, serde_json::Value> = KEPT_HEADERS
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), head.headers().get(*name)?.to_str().ok()?.into())))
        .collect();
    let secret =
        head.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("no-store"));
    let stored_body = (!secret).then(|| String::from_utf8_lossy(&bytes).into_owned());
    let stored = db::run(&state, move |conn| {
        // A server error is not an answer: free the key so the client can retry.
        if status.is_server_error() {
            idempotency::release(conn, &scope, &key)?;
        } else {
            let headers = serde_json::Value::Object(headers).to_string();
            idempotency::complete(conn, &scope, &key, i32::from(status.as_u16()), &headers, stored_body.as_deref())?;
        }
        Ok(())
    })
    .await;
    let response = match stored {
        Ok(()) => head.set_body(BoxBody::new(bytes)),
        Err(error) => error.error_response(),
    };
    Ok(ServiceResponse::new(request, response))
}

/// A request the key applies to, after it was claimed.
struct Keyed {
    state: web::Data<AppState>,
    scope: String,
    key: String,
}

/// Claims the key for this request; `None` when the key does not apply, the answer itself
/// when it is a replay, a conflict or an error.
async fn begin(req: &mut ServiceRequest) -> Result<Option<Keyed>, HttpResponse> {
    let refuse = |error: ApiError| error.error_response();
    // Sign-in requests have no principal to scope a key to, and must never be replayed; nor
    // must code checks and uploads of access links, whose sessions are no principal.
    let anonymous = !req.headers().contains_key(actix_web::http::header::AUTHORIZATION)
        || crate::middleware::link_privacy::is_link_path(req.path());
    let Some(key) = key_of(req).map_err(refuse)?.filter(|_| !anonymous) else {
        return Ok(None);
    };
    // Uploads stream straight to the blob store; buffering them to hash would hold whole
    // files in memory. They are not deduplicated by key (their `sha256` shows a repeat).
    let streamed = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if streamed {
        return Ok(None);
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| refuse(ApiError::Internal(anyhow::anyhow!("state missing"))))?;
    let principal = principal::resolve(req.request()).await.map_err(refuse)?;
    let (actor_kind, actor_id) = principal.actor();
    let scope = format!("{}:{actor_id}", actor_kind.as_str());
    let body = req.extract::<Bytes>().await.map_err(|e| refuse(crate::json::payload_error(&e)))?;
    let request_hash = hex::encode(
        Sha256::new()
            .chain_update(req.uri().path_and_query().map_or("", |pq| pq.as_str()).as_bytes())
            .chain_update(b"\n")
            .chain_update(&body)
            .finalize(),
    );
    req.set_payload(bytes_payload(body));

    let (scope_c, key_c) = (scope.clone(), key.clone());
    let begun = db::run(&state, move |conn| {
        Ok(idempotency::begin(conn, &scope_c, &key_c, &request_hash, vestibule_storage::now())?)
    })
    .await
    .map_err(refuse)?;
    match begun {
        Begin::Started => Ok(Some(Keyed { state, scope, key })),
        Begin::Replay { status, headers, body: Some(body) } => Err(replay(status, headers, body)),
        Begin::Replay { body: None, .. } => Err(refuse(ApiError::conflict(
            "idempotent_replay_unavailable",
            "the first response showed a secret that is shown only once; list the resource to see what was created",
        ))),
        Begin::InFlight => Err(refuse(ApiError::conflict(
            "idempotency_in_flight",
            "a request with this Idempotency-Key is still being processed",
        ))),
        Begin::Mismatch => Err(refuse(ApiError::IdempotencyKeyReused)),
    }
}

fn key_of(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    if req.method() != Method::POST {
        return Ok(None);
    }
    let Some(raw) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest {
            code: "invalid_idempotency_key",
            detail: "Idempotency-Key must be 1–255 visible ASCII characters".to_owned(),
        });
    }
    Ok(Some(key.to_owned()))
}

fn replay(status: i32, headers: Option<String>, body: String) -> HttpResponse {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    let headers: serde_json::Map<String, serde_json::Value> =
        headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Some(Ok(value))) = (HeaderName::try_from(name), value.as_str().map(HeaderValue::from_str)) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((REPLAYED, HeaderValue::from_static("true")));
    response.body(body)
}

fn bytes_payload(bytes: Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(bytes);
    payload.into()
}
