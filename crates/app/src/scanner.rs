//! The port a malware scanner implements (ClamAV's clamd in `vestibule-clamd`): it is given
//! a file's bytes as a stream and answers with a verdict, or that it cannot be asked now.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use vestibule_domain::scan::Verdict;

/// A file's bytes as the scanner reads them.
pub type ScanBody = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// The scanner could not be asked (down, unreachable, timed out): try again later.
#[derive(Debug, thiserror::Error)]
#[error("the scanner is unavailable: {0}")]
pub struct ScannerUnavailable(pub String);

/// The port a malware scanner implements.
#[async_trait::async_trait]
pub trait Scanner: Send + Sync + std::fmt::Debug {
    /// Judges a file of `size` bytes.
    async fn scan(&self, body: ScanBody, size: u64) -> Result<Verdict, ScannerUnavailable>;
}
