//! The malware scanner port (`vestibule_app::scanning::Scanner`) spoken to ClamAV's clamd:
//! the file is streamed with `INSTREAM` over TCP or a Unix socket, in chunks, so memory does
//! not grow with its size. Files larger than clamd is set to accept (`StreamMaxLength`, which
//! `CLAMD_MAX_STREAM_BYTES` must match) are not sent: clamd would cut the stream, which
//! looks like an outage, so they are `failed` at once instead.

#[cfg(feature = "testing")]
pub mod testing;

use std::path::PathBuf;
use std::time::Duration;

use vestibule_app::scanner::{ScanBody, Scanner, ScannerUnavailable};
use vestibule_domain::scan::Verdict;

/// The chunk size of an `INSTREAM` (clamd's own default stream buffer).
const CHUNK: usize = 64 * 1024;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `host:port`.
    Tcp(String),
    Unix(PathBuf),
}

impl Address {
    /// `tcp://host:port`, `host:port`, `unix:///run/clamav/clamd.ctl` or an absolute path.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("unix://") {
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        if raw.starts_with('/') {
            return Ok(Self::Unix(PathBuf::from(raw)));
        }
        let host_port = raw.strip_prefix("tcp://").unwrap_or(raw);
        match host_port.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(Self::Tcp(host_port.to_owned()))
            }
            _ => Err(format!("`{raw}` is neither host:port nor a socket path")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClamdConfig {
    pub address: Address,
    /// How long one scan may take, connection included, before clamd counts as unavailable.
    pub timeout: Duration,
    /// The largest file sent to clamd; larger ones are `failed` without trying.
    pub max_stream_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct Clamd {
    config: ClamdConfig,
}

impl Clamd {
    pub fn new(config: ClamdConfig) -> Self {
        Self { config }
    }

    async fn instream(&self, body: ScanBody) -> std::io::Result<Vec<u8>> {
        match &self.config.address {
            Address::Tcp(host_address) => {
                let tcp = clamav_client::tokio::Tcp { host_address: host_address.as_str() };
                clamav_client::tokio::scan_stream(body, tcp, Some(CHUNK)).await
            }
            Address::Unix(socket_path) => {
                let socket = clamav_client::tokio::Socket { socket_path: socket_path.as_path() };
                clamav_client::tokio::scan_stream(body, socket, Some(CHUNK)).await
            }
        }
    }
}

#[async_trait::async_trait]
impl Scanner for Clamd {
    async fn scan(&self, body: ScanBody, size: u64) -> Result<Verdict, ScannerUnavailable> {
        if size > self.config.max_stream_bytes {
            let limit = self.config.max_stream_bytes;
            return Ok(Verdict::Unscannable(format!("larger than the scanner accepts ({limit} bytes)")));
        }
        let response = tokio::time::timeout(self.config.timeout, self.instream(body))
            .await
            .map_err(|_| ScannerUnavailable(format!("no answer within {:?}", self.config.timeout)))?
            .map_err(|error| ScannerUnavailable(error.to_string()))?;
        verdict(&response)
    }
}

/// Reads clamd's answer to `INSTREAM`: `stream: OK`, `stream: <name> FOUND`, or
/// `<reason> ERROR`. An error about the stream's size is about the file; any other error, or
/// no answer, is clamd's own trouble and worth another try.
fn verdict(response: &[u8]) -> Result<Verdict, ScannerUnavailable> {
    let text = String::from_utf8_lossy(response);
    let text = text.trim_end_matches(['\0', '\n', ' ']);
    let answer = text.strip_prefix("stream: ").unwrap_or(text);
    if answer == "OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(name) = answer.strip_suffix(" FOUND") {
        return Ok(Verdict::Infected(name.to_owned()));
    }
    if answer.ends_with("ERROR") && answer.contains("size limit exceeded") {
        return Ok(Verdict::Unscannable(answer.to_owned()));
    }
    Err(ScannerUnavailable(if answer.is_empty() {
        "clamd closed the connection".to_owned()
    } else {
        answer.to_owned()
    }))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::StreamExt;

    use super::*;
    use crate::testing::{EICAR, TestClamd};

    fn body(parts: Vec<&'static [u8]>) -> ScanBody {
        futures_util::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p)))).boxed()
    }

    fn scanner(address: Address, max_stream_bytes: u64) -> Clamd {
        Clamd::new(ClamdConfig { address, timeout: Duration::from_secs(10), max_stream_bytes })
    }

    #[test]
    fn addresses_are_tcp_or_unix_sockets() {
        assert_eq!(Address::parse("tcp://127.0.0.1:3310"), Ok(Address::Tcp("127.0.0.1:3310".into())));
        assert_eq!(Address::parse("clamav:3310"), Ok(Address::Tcp("clamav:3310".into())));
        assert_eq!(Address::parse("unix:///run/clamav/clamd.ctl"), Ok(Address::Unix("/run/clamav/clamd.ctl".into())));
        assert_eq!(Address::parse("/run/clamd.sock"), Ok(Address::Unix("/run/clamd.sock".into())));
        assert!(Address::parse("clamav").is_err());
        assert!(Address::parse("clamav:port").is_err());
    }

    #[test]
    fn answers_are_read_as_verdicts() {
        assert_eq!(verdict(b"stream: OK\0").ok(), Some(Verdict::Clean));
        assert_eq!(
            verdict(b"stream: Eicar-Test-Signature FOUND\0").ok(),
            Some(Verdict::Infected("Eicar-Test-Signature".into()))
        );
        assert!(matches!(verdict(b"INSTREAM size limit exceeded. ERROR\0"), Ok(Verdict::Unscannable(_))));
        assert!(verdict(b"").is_err());
        assert!(verdict(b"Can't allocate memory ERROR\0").is_err());
    }

    #[tokio::test]
    async fn a_real_clamd_finds_the_eicar_file_even_split_across_chunks_and_passes_a_clean_one() {
        let clamd = TestClamd::shared();
        let scanner = scanner(clamd.address(), 1 << 20);
        let clean = scanner.scan(body(vec![b"Dear client, here is the ledger."]), 32).await.expect("clamd answers");
        assert_eq!(clean, Verdict::Clean);
        let (head, tail) = EICAR.split_at(20);
        let infected = scanner.scan(body(vec![b"prefix ", head, tail]), 75).await.expect("clamd answers");
        assert!(
            matches!(infected, Verdict::Infected(ref name) if name.starts_with("Eicar-Test-Signature")),
            "{infected:?}"
        );
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_not_sent_and_a_missing_clamd_is_unavailable() {
        let too_big = scanner(Address::Tcp("127.0.0.1:9".into()), 4);
        assert!(matches!(too_big.scan(body(vec![b"12345"]), 5).await, Ok(Verdict::Unscannable(_))));
        let nobody = scanner(Address::Tcp("127.0.0.1:9".into()), 1 << 20);
        assert!(nobody.scan(body(vec![b"hello"]), 5).await.is_err());
    }
}
