//! Sending stored files: `Range` requests (RFC 9110) and `Content-Disposition: attachment`
//! (RFC 6266) with a plain fallback name and the exact UTF-8 name.

use actix_web::HttpResponse;
use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, ETAG, X_CONTENT_TYPE_OPTIONS,
};
use vestibule_blobs::{BlobStore, BlobStream};
use vestibule_storage::documents::DocumentRow;

use crate::error::ApiError;

/// What `Range` asks for, against a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    /// Inclusive first and last byte.
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header. Several ranges, other units or garbage get the whole file, as
/// the RFC allows; a single satisfiable range gets that part.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.is_empty(), end.is_empty()) {
        // The last `n` bytes.
        (true, false) => match end.parse::<u64>() {
            Ok(0) => return Wanted::Unsatisfiable,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => start.parse::<u64>().ok().map(|s| (s, size.saturating_sub(1))),
        (false, false) => match (start.parse::<u64>(), end.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(size.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Wanted::Whole,
        Some((first, _)) if size == 0 || first >= size => Wanted::Unsatisfiable,
        Some((first, last)) => Wanted::Part(first, last),
    }
}

/// Whether a request for `size` bytes with this `Range` is a download worth a receipt: the
/// whole file, or a part from its start. Later parts (a resumed or chunked download) and
/// ranges that cannot be served are not.
pub fn counts_as_download(range: Option<&str>, size: i64) -> bool {
    matches!(wanted(range, u64::try_from(size).unwrap_or(0)), Wanted::Whole | Wanted::Part(0, _))
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

/// The most documents one archive holds.
pub const ARCHIVE_LIMIT: usize = 1000;

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
    fn ranges_are_read_as_the_rfc_says() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0, 9));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=50-500"), 100), Wanted::Part(50, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-1"), 100), Wanted::Whole);
    }

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
