//! High-entropy bearer secrets (refresh tokens, API keys). They carry 256 random bits, so a
//! plain SHA-256 is a sufficient stored form, and lookups can use it as a key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

pub fn random_secret() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub const REFRESH_TOKEN_PREFIX: &str = "vrt_";
pub const API_KEY_PREFIX: &str = "vsk_";

pub fn new_refresh_token() -> String {
    format!("{REFRESH_TOKEN_PREFIX}{}", random_secret())
}

/// An API key as shown once to its creator: `vsk_<key id suffix>_<secret>`.
pub fn format_api_key(key_id: &str, secret: &str) -> String {
    let suffix = key_id.strip_prefix("key_").unwrap_or(key_id);
    format!("{API_KEY_PREFIX}{suffix}_{secret}")
}

/// Splits a presented API key into its key id and secret.
pub fn parse_api_key(raw: &str) -> Option<(String, &str)> {
    let (suffix, secret) = raw.strip_prefix(API_KEY_PREFIX)?.split_once('_')?;
    Some((format!("key_{suffix}"), secret))
}
