//! Receiving files: each streamed to the blob store under a server-made key while its
//! SHA-256 is computed, from a raw body (one file, named by the caller) or from the `file`
//! parts of a `multipart/form-data` body. Either every file of a request is kept or none:
//! whatever broke off is removed, blob and record.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use vestibule_app::documents::{self, Uploaded};
use vestibule_blobs::{BlobError, Stored};
use vestibule_domain::ids::DocumentId;
use vestibule_domain::text;
use vestibule_storage::DbConnection;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::document::FileBytes;

/// Files one upload request of several files may carry.
pub const FILES_PER_REQUEST: usize = 20;

/// Several files from a browser, each in a part named `file`.
#[derive(Debug, utoipa::ToSchema)]
pub struct FilesForm {
    #[schema(min_items = 1, max_items = 20)]
    pub file: Vec<FileBytes>,
}

/// The filename of a raw body.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadName {
    /// The filename, for a raw body (a multipart body takes each part's filename).
    pub name: Option<String>,
}

/// A file whose bytes are stored and which waits to become a document.
#[derive(Debug)]
pub struct Received {
    pub id: DocumentId,
    pub blob_key: String,
    /// The user's filename, for display only.
    pub name: String,
    pub stored: Stored,
}

impl Received {
    pub fn content_type(&self) -> String {
        vestibule_blobs::content_type(&self.stored.head)
    }

    pub fn size(&self) -> i64 {
        i64::try_from(self.stored.size).unwrap_or(i64::MAX)
    }

    /// The file as the use cases that make it a document take it.
    pub fn uploaded(&self) -> Uploaded {
        Uploaded {
            id: self.id.clone(),
            blob_key: self.blob_key.clone(),
            name: self.name.clone(),
            content_type: self.content_type(),
            size: self.size(),
            sha256: self.stored.sha256.clone(),
        }
    }
}

/// How much one request may bring.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub files: usize,
    /// Bytes per file.
    pub bytes: u64,
}

/// The firm's largest accepted file, in bytes.
pub fn firm_limit(conn: &mut DbConnection, firm_id: &str) -> Result<u64, ApiError> {
    Ok(documents::upload_limit(conn, firm_id)?)
}

pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Checks, before any byte is read, that a raw body comes with a name.
pub fn require_name(req: &HttpRequest, name: Option<&str>) -> Result<(), ApiError> {
    if !is_multipart(req) && name.is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::field(
            "#/query/name",
            "required",
            "name the file (multipart uploads take the part's filename)",
        ));
    }
    Ok(())
}

/// Receives the files of a request for `firm_id`. `name` names a raw body, or the first
/// file of a multipart body (which otherwise keeps its part's filename).
pub async fn receive(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
    firm_id: &str,
    name: Option<&str>,
    limits: Limits,
) -> Result<Vec<Received>, ApiError> {
    let mut received = Vec::new();
    let outcome = if is_multipart(req) {
        receive_parts(req, state, payload, firm_id, name, limits, &mut received).await
    } else {
        let name = text::file_name(name.unwrap_or_default());
        receive_file(state, payload, firm_id, name, limits.bytes).await.map(|file| received.push(file))
    };
    match outcome {
        Ok(()) if received.is_empty() => {
            Err(ApiError::field("/file", "required", "send the file in a part named `file`"))
        }
        Ok(()) => Ok(received),
        Err(error) => {
            abandon(state, received).await;
            Err(error)
        }
    }
}

async fn receive_parts(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
    firm_id: &str,
    name: Option<&str>,
    limits: Limits,
    received: &mut Vec<Received>,
) -> Result<(), ApiError> {
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(part) = form.next().await {
        let part = part.map_err(|e| malformed(&e))?;
        if part.name() != Some("file") {
            refuse_nul_in_field(part).await?;
            continue;
        }
        if received.len() == limits.files {
            let detail = format!("send at most {} file(s) per request", limits.files);
            return Err(ApiError::field("/file", "too_many", detail));
        }
        let given = if received.is_empty() { name } else { None };
        let filename = part.content_disposition().and_then(|cd| cd.get_filename()).unwrap_or_default();
        let name = text::file_name(given.unwrap_or(filename));
        received.push(receive_file(state, Box::pin(part), firm_id, name, limits.bytes).await?);
    }
    Ok(())
}

fn malformed(error: &actix_multipart::MultipartError) -> ApiError {
    ApiError::BadRequest { code: "malformed_multipart", detail: error.to_string() }
}

/// Other parts are not kept, but a text field with a NUL is refused like the same value in a
/// query or a JSON body would be (`/<name>`), so no channel lets it through to be kept later.
/// A part with a filename is a file, and its bytes are its own business.
async fn refuse_nul_in_field(mut part: actix_multipart::Field) -> Result<(), ApiError> {
    if part.content_disposition().and_then(|cd| cd.get_filename()).is_some() {
        return Ok(());
    }
    let pointer = format!("/{}", part.name().unwrap_or_default());
    while let Some(chunk) = part.next().await {
        if chunk.map_err(|e| malformed(&e))?.contains(&0) {
            return Err(ApiError::Validation(crate::json::nul_error(&pointer).into()));
        }
    }
    Ok(())
}

async fn receive_file<S, E>(
    state: &AppState,
    body: S,
    firm_id: &str,
    name: String,
    limit: u64,
) -> Result<Received, ApiError>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let id = DocumentId::generate();
    let blob_key = format!("{firm_id}/{id}/{}", uuid::Uuid::new_v4().simple());
    let (firm, key) = (firm_id.to_owned(), blob_key.clone());
    db::call(state, move |conn| documents::begin_upload(conn, &firm, &key)).await?;
    match state.blobs.put(&blob_key, body, limit).await {
        Ok(stored) => Ok(Received { id, blob_key, name, stored }),
        Err(error) => {
            abandon_key(state, blob_key).await;
            Err(upload_error(error))
        }
    }
}

fn upload_error(error: BlobError) -> ApiError {
    match error {
        BlobError::TooLarge { limit } => {
            ApiError::PayloadTooLarge(format!("the file exceeds the firm's upload limit of {limit} bytes"))
        }
        BlobError::Interrupted(why) => {
            ApiError::BadRequest { code: "upload_interrupted", detail: format!("the upload broke off: {why}") }
        }
        other => ApiError::Internal(anyhow::Error::new(other).context("storing an upload")),
    }
}

/// Removes files that did not become documents.
pub async fn abandon(state: &AppState, files: Vec<Received>) {
    for file in files {
        abandon_key(state, file.blob_key).await;
    }
}

/// Removes what an upload that did not become a document left: its blob and its record.
async fn abandon_key(state: &AppState, blob_key: String) {
    if let Err(error) = state.blobs.delete(&blob_key).await {
        tracing::warn!(error = %error, blob_key, "removing an abandoned upload failed; the sweep retries");
        return;
    }
    let ended = db::call(state, move |conn| documents::end_upload(conn, &blob_key)).await;
    if let Err(error) = ended {
        tracing::warn!(error = %error, "clearing an abandoned upload's record failed");
    }
}
