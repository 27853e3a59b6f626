//! Sending stored files: `Range` requests (RFC 9110) and `Content-Disposition: attachment`
//! (RFC 6266) with a plain fallback name and the exact UTF-8 name.

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, ETAG, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse};
use vestibule_app::Context;
pub use vestibule_app::documents::ARCHIVE_LIMIT;
use vestibule_app::documents::{self, Audience};
use vestibule_blobs::{BlobStore, BlobStream};
use vestibule_domain::ids::DocumentId;
pub use vestibule_domain::range::counts_as_download;
use vestibule_domain::range::{Wanted, wanted};
use vestibule_storage::documents::{DocumentFilter, DocumentRow};

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// A document's download, for staff and the portal alike: the use case decides what the
/// caller may read and records what it must; the file is then streamed.
pub async fn document(
    req: &HttpRequest,
    state: &AppState,
    ctx: Context,
    audience: Audience,
    id: DocumentId,
) -> Result<HttpResponse, ApiError> {
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let asked = range.clone();
    let row = db::call(state, move |conn| documents::download(conn, &ctx, audience, &id, asked.as_deref())).await?;
    send(Download::of(&state.blobs, &row), range.as_deref()).await
}

/// "Download All" for staff and the portal alike.
pub async fn archive(
    state: &AppState,
    ctx: Context,
    audience: Audience,
    filter: DocumentFilter,
) -> Result<HttpResponse, ApiError> {
    let rows = db::call(state, move |conn| documents::archive(conn, &ctx, audience, &filter)).await?;
    Ok(send_archive(&state.blobs, rows, "documents"))
}

/// `attachment; filename="…"; filename*=UTF-8''…`: old clients get an ASCII name, others
/// the exact one. Quotes, backslashes and control characters never reach the header.
pub fn content_disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for byte in name.as_bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(byte);
        if keep {
            encoded.push(char::from(*byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Streams a ZIP of `rows` as `name`.zip, an attachment the browser must not sniff or keep.
pub fn send_archive(blobs: &BlobStore, rows: Vec<DocumentRow>, name: &str) -> HttpResponse {
    let entries = rows
        .into_iter()
        .map(|row| crate::zip::Entry {
            name: row.name,
            blob_key: row.blob_key,
            size: u64::try_from(row.size).unwrap_or(0),
        })
        .collect();
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/zip"))
        .insert_header((CONTENT_DISPOSITION, content_disposition(&format!("{name}.zip"))))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .streaming(crate::zip::archive(blobs.clone(), entries))
}

/// What is sent: the file's identity and how to read it.
pub struct Download<'a> {
    pub blobs: &'a BlobStore,
    pub blob_key: &'a str,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
}

impl<'a> Download<'a> {
    pub fn of(blobs: &'a BlobStore, row: &'a DocumentRow) -> Self {
        Self {
            blobs,
            blob_key: &row.blob_key,
            name: &row.name,
            content_type: &row.content_type,
            size: u64::try_from(row.size).unwrap_or(0),
            sha256: &row.sha256,
        }
    }
}

/// Streams the file, or the range asked for, as an attachment the browser must not sniff
/// or keep.
pub async fn send(file: Download<'_>, range: Option<&str>) -> Result<HttpResponse, ApiError> {
    let (status, range_read) = match wanted(range, file.size) {
        Wanted::Whole => (StatusCode::OK, None),
        Wanted::Part(first, last) => (StatusCode::PARTIAL_CONTENT, Some((first, last))),
        Wanted::Unsatisfiable => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((CONTENT_RANGE, format!("bytes */{}", file.size)))
                .content_type("application/problem+json")
                .json(crate::problem::Problem::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    format!("the file has {} bytes", file.size),
                    None,
                )));
        }
    };
    let length = range_read.map_or(file.size, |(first, last)| last - first + 1);
    // An empty blob has no bytes to ask the store for.
    let stream: BlobStream = if file.size == 0 {
        Box::pin(futures_util::stream::empty())
    } else {
        file.blobs.read(file.blob_key, range_read).await.map_err(|e| anyhow::anyhow!("reading a document: {e}"))?
    };
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CONTENT_TYPE, file.content_type))
        .insert_header((CONTENT_DISPOSITION, content_disposition(file.name)))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((ACCEPT_RANGES, "bytes"))
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .insert_header((ETAG, format!("\"{}\"", file.sha256)));
    if let Some((first, last)) = range_read {
        response.insert_header((CONTENT_RANGE, format!("bytes {first}-{last}/{}", file.size)));
    }
    Ok(response.body(SizedStream::new(length, stream)))
}

fn header(about: &str) -> utoipa::openapi::header::Header {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    utoipa::openapi::HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String).build())
        .description(Some(about))
        .build()
}

fn file_response(description: &str, media_type: &str) -> utoipa::openapi::ResponseBuilder {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(media_type, ContentBuilder::new().schema(Some(Ref::from_schema_name("FileBytes"))).build())
        .header("Content-Disposition", header("`attachment` with the document's name (RFC 6266)."))
        .header("Cache-Control", header("`private, no-store`."))
}

/// The answers of [`send`], for the spec: any media type, since the detected type is sent.
pub struct FileDownload;

impl utoipa::IntoResponses for FileDownload {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        let file = |description: &str| {
            file_response(description, "*/*")
                .header("ETag", header("The SHA-256 of the whole file, quoted."))
                .header("Accept-Ranges", header("`bytes`."))
        };
        utoipa::openapi::ResponsesBuilder::new()
            .response("200", file("The file, with its detected `Content-Type`.").build())
            .response(
                "206",
                file("The one range asked for.")
                    .header("Content-Range", header("`bytes <first>-<last>/<size>`."))
                    .build(),
            )
            .build()
            .into()
    }
}

/// A PDF made here (a certificate) as an attachment, byte for byte as stored.
pub fn pdf_attachment(bytes: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/pdf"))
        .insert_header((CONTENT_DISPOSITION, content_disposition(name)))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

/// The answer of [`pdf_attachment`], for the spec.
pub struct PdfDownload;

impl utoipa::IntoResponses for PdfDownload {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        let pdf = file_response("The PDF, the same bytes on every download.", "application/pdf");
        utoipa::openapi::ResponsesBuilder::new().response("200", pdf.build()).build().into()
    }
}

/// The answer of [`send_archive`], for the spec.
pub struct ArchiveDownload;

impl utoipa::IntoResponses for ArchiveDownload {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        let zip = file_response("A ZIP of the documents, stored uncompressed.", "application/zip");
        utoipa::openapi::ResponsesBuilder::new().response("200", zip.build()).build().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disposition_carries_a_safe_and_an_exact_name() {
        assert_eq!(
            content_disposition("Steuer \"2026\".pdf"),
            "attachment; filename=\"Steuer _2026_.pdf\"; filename*=UTF-8''Steuer%20%222026%22.pdf"
        );
        assert_eq!(
            content_disposition("résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
    }
}
