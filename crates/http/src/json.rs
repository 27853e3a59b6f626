//! The JSON body and query string extractors and the error handlers of actix's own
//! extractors, so that every malformed input gets a problem+json answer with a pointer to the
//! offending field. Both extractors also refuse U+0000, which PostgreSQL cannot store in text
//! (SQLite would keep it): the same 422 on both databases, before any query sees it.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{PathError, PayloadError, QueryPayloadError};
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use serde_json::error::Category;
use vestibule_domain::{FieldError, ValidationErrors};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body. Unlike `web::Json`, a type or missing-field error names the field
/// (`/emails/1`) and answers 422; only unparseable JSON answers 400.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = bytes.await.map_err(|e| payload_error(&e))?;
            parse(&bytes).map(ApiJson)
        })
    }
}

/// The one way a JSON body is read: one value (whitespace around it is fine), no NUL in any
/// string or key.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| mistyped(bytes, error))?;
    deserializer.end().map_err(|error| malformed(&error))?;
    refuse_nul_in_json(bytes)?;
    Ok(value)
}

fn mistyped(bytes: &[u8], error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let pointer = pointer_of(error.path());
    let inner = error.into_inner();
    if inner.classify() != Category::Data {
        return malformed(&inner);
    }
    // Deserializing stops at the first type error; a body that is not JSON further on (or
    // after the value) is still malformed, whatever its first fields held.
    if let Err(syntax) = serde_json::from_slice::<IgnoredAny>(bytes) {
        return malformed(&syntax);
    }
    ApiError::Validation(FieldError::new(pointer, "invalid_value", strip_position(&inner.to_string())).into())
}

fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::BadRequest { code: "malformed_json", detail: format!("the body is not valid JSON: {error}") }
}

/// In JSON text a NUL can only be the escape `\u0000` (a raw one is a syntax error), so a
/// scan of the bytes spares nearly every body the walk that finds where it is.
fn refuse_nul_in_json(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|window| window == b"\\u0000") {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| malformed(&error))?;
    let mut errors = ValidationErrors::default();
    find_nul(&value, "", &mut errors);
    if errors.0.is_empty() { Ok(()) } else { Err(errors.into()) }
}

fn find_nul(value: &Value, pointer: &str, errors: &mut ValidationErrors) {
    match value {
        Value::String(text) if text.contains('\0') => errors.push(nul_error(pointer)),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                find_nul(item, &format!("{pointer}/{index}"), errors);
            }
        }
        Value::Object(members) => {
            for (key, item) in members {
                let at = format!("{pointer}/{}", pointer_token(key));
                if key.contains('\0') {
                    errors.push(nul_error(&at));
                } else {
                    find_nul(item, &at, errors);
                }
            }
        }
        _ => {}
    }
}

/// The field error of any input that holds U+0000, whichever channel brought it.
pub(crate) fn nul_error(pointer: &str) -> FieldError {
    FieldError::new(pointer, "invalid_characters", "must not contain NUL (U+0000) characters")
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => Some(format!("/{}", pointer_token(key))),
            Segment::Unknown => None,
        })
        .collect()
}

/// A key as one reference token of a JSON Pointer (RFC 6901).
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// serde appends " at line 1 column 17", which means nothing to an API client.
fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

pub(crate) fn payload_error(error: &actix_web::Error) -> ApiError {
    match error.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => ApiError::PayloadTooLarge("the request body is too large".to_owned()),
        _ => ApiError::BadRequest { code: "unreadable_body", detail: "the request body could not be read".to_owned() },
    }
}

/// Configuration of actix's own extractors, so their failures answer problem+json too.
pub fn payload_config(state: &AppState) -> web::PayloadConfig {
    web::PayloadConfig::new(state.settings.json_body_limit)
}

/// A path segment that does not parse as the id it should be cannot name an existing
/// resource: 404, like any unknown id.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_: PathError, _| ApiError::NotFound.into())
}

/// A query string, read as `web::Query` reads it (same errors, through [`query_config`]), that
/// also refuses a NUL in any parameter: 422 at `#/query/<name>`, as other query field errors.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    #[allow(clippy::disallowed_types, reason = "the one place that reads a query string with actix's extractor")]
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parsed = web::Query::<T>::from_request(req, payload);
        let nul = refuse_nul_in_query(req.query_string());
        Box::pin(async move {
            let parsed = parsed.await?;
            nul?;
            Ok(Self(parsed.into_inner()))
        })
    }
}

#[allow(clippy::disallowed_types, reason = "decodes the pairs as `web::Query` does")]
fn refuse_nul_in_query(query: &str) -> Result<(), ApiError> {
    if !query.contains("%00") {
        return Ok(());
    }
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map(web::Query::into_inner).unwrap_or_default();
    let errors: Vec<FieldError> = pairs
        .iter()
        .filter(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| nul_error(&format!("#/query/{name}")))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ValidationErrors(errors).into()) }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _| {
        let detail = match &error {
            QueryPayloadError::Deserialize(inner) => inner.to_string(),
            other => other.to_string(),
        };
        ApiError::BadRequest { code: "invalid_query", detail }.into()
    })
}

/// For PATCH fields that may be set to `null`: absent → `None`, `null` → `Some(None)`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
