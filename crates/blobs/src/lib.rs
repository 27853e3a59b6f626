//! Where document bytes live: a local folder (the embedded default) or an S3 bucket. Both are
//! written and read as streams, so memory stays flat whatever the file size: a local upload
//! goes to a temporary file that is renamed into place when complete, an S3 upload goes out
//! in parts of [`PART_SIZE`]. The SHA-256 and size are computed on the way through. Keys are
//! chosen by the server, never by users.

mod fs;
mod meter;
mod s3;

use std::path::PathBuf;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::stream::BoxStream;

pub use meter::{SNIFF_BYTES, Stored};

/// The size of an S3 upload part: the most an upload holds in memory at once.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub enum BlobSettings {
    Fs {
        path: PathBuf,
    },
    S3 {
        bucket: String,
        region: String,
        /// For S3-compatible stores other than AWS.
        endpoint: Option<String>,
        /// Static credentials; both or neither.
        credentials: Option<(String, String)>,
        path_style: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The request body broke off (the client went away); nothing was kept.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("no such blob")]
    NotFound,
    #[error("invalid blob key")]
    InvalidKey,
    #[error("blob store: {0}")]
    Backend(#[from] anyhow::Error),
}

/// A blob's bytes, or a range of them, as they are read.
pub type BlobStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

#[derive(Debug, Clone)]
pub enum BlobStore {
    Fs(fs::FsStore),
    S3(s3::S3Store),
}

impl BlobStore {
    pub fn new(settings: &BlobSettings) -> anyhow::Result<Self> {
        Ok(match settings {
            BlobSettings::Fs { path } => Self::Fs(fs::FsStore::new(path.clone())?),
            BlobSettings::S3 { bucket, region, endpoint, credentials, path_style } => {
                Self::S3(s3::S3Store::new(bucket, region, endpoint.as_deref(), credentials.clone(), *path_style))
            }
        })
    }

    /// Stores `body` under `key`. Nothing is kept when the body breaks off, exceeds `limit`
    /// bytes, or the store fails: the blob appears whole or not at all.
    pub async fn put<S, E>(&self, key: &str, body: S, limit: u64) -> Result<Stored, BlobError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        check_key(key)?;
        match self {
            Self::Fs(store) => store.put(key, body, limit).await,
            Self::S3(store) => store.put(key, body, limit).await,
        }
    }

    /// Reads the blob, or the inclusive byte range `(first, last)` of it.
    pub async fn read(&self, key: &str, range: Option<(u64, u64)>) -> Result<BlobStream, BlobError> {
        check_key(key)?;
        match self {
            Self::Fs(store) => store.read(key, range).await,
            Self::S3(store) => store.read(key, range).await,
        }
    }

    /// Removes what uploads that died midway left in the store and nothing will complete: the
    /// temporary files (fs) or multipart uploads (S3) that no one has written to since
    /// `cutoff`. Returns how many. Uploads in progress, on any instance, are left alone.
    pub async fn sweep_incomplete(&self, cutoff: SystemTime) -> Result<usize, BlobError> {
        match self {
            Self::Fs(store) => store.sweep_incoming(cutoff).await,
            Self::S3(store) => store.abort_stale_uploads(cutoff).await,
        }
    }

    /// Removes the blob; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        match self {
            Self::Fs(store) => store.delete(key).await,
            Self::S3(store) => store.delete(key).await,
        }
    }
}

/// The content type of a blob, detected from its first bytes (never from the user's filename
/// or header): a known binary format, else UTF-8 text, else `application/octet-stream`.
pub fn content_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => !head.is_empty(),
        // The sniffed prefix may end inside a character.
        Err(error) => error.error_len().is_none() && error.valid_up_to() + 4 > head.len(),
    };
    let text = text && !head.contains(&0);
    if text { "text/plain; charset=utf-8".to_owned() } else { "application/octet-stream".to_owned() }
}

/// Keys are server-made (`firm/doc/uuid`): lowercase letters, digits, `_`, `-` and `/`
/// between non-empty segments, so no key can climb out of the store's folder.
fn check_key(key: &str) -> Result<(), BlobError> {
    let valid = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        });
    if valid { Ok(()) } else { Err(BlobError::InvalidKey) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_the_bytes() {
        assert_eq!(content_type(b"%PDF-1.7\n%\xE2\xE3"), "application/pdf");
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(content_type("Grüße, plain text".as_bytes()), "text/plain; charset=utf-8");
        assert_eq!(content_type(&"é".as_bytes()[..1]), "text/plain; charset=utf-8", "a cut character is still text");
        assert_eq!(content_type(b"\0\x01\x02binary"), "application/octet-stream");
        assert_eq!(content_type(b""), "application/octet-stream");
    }

    #[test]
    fn keys_cannot_name_anything_outside_the_store() {
        assert!(check_key("frm_1/doc_2/0193ab").is_ok());
        for bad in ["", "../etc/passwd", "a//b", "/abs", "a/../b", "A/b", "a/b/", "a b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
