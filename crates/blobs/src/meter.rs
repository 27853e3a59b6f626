//! What is learnt about an upload while it streams through: size, SHA-256 and its first
//! bytes (for detecting the content type), with the size limit enforced as it grows. The
//! count and the hash are apart so that a store can hash on another thread than the one
//! receiving the body.

use sha2::{Digest, Sha256};

use crate::BlobError;

/// How many leading bytes are kept for content-type detection.
pub const SNIFF_BYTES: usize = 8192;

/// A stored blob's size, SHA-256 (lowercase hex) and leading bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub size: u64,
    pub sha256: String,
    pub head: Vec<u8>,
}

/// The size and leading bytes, refusing the chunk that passes the limit.
pub(crate) struct Meter {
    limit: u64,
    size: u64,
    head: Vec<u8>,
}

impl Meter {
    pub(crate) fn new(limit: u64) -> Self {
        Self { limit, size: 0, head: Vec::new() }
    }

    pub(crate) fn add(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        Ok(())
    }

    pub(crate) fn finish(self, digest: Sha256) -> Stored {
        Stored { size: self.size, sha256: hex::encode(digest.finalize()), head: self.head }
    }
}
