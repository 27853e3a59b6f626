//! The secret behind access links: it derives their URLs' tokens and keys their codes'
//! hashes, so a copy of the database alone reveals neither the URLs nor, by guessing, the
//! codes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use vestibule_domain::access_link::CODE_DIGITS;

use crate::secrets;

pub const LINK_TOKEN_PREFIX: &str = "val_";
pub const LINK_SESSION_PREFIX: &str = "vls_";

/// Shared by every instance (`LINK_SECRET`): tokens must come out the same everywhere.
pub struct LinkSecret(Hmac<Sha256>);

impl LinkSecret {
    pub fn new(key: &[u8]) -> anyhow::Result<Self> {
        Ok(Self(<Hmac<Sha256> as Mac>::new_from_slice(key)?))
    }

    fn mac(&self, parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac
    }

    /// The URL token of a link: 256 bits, recomputed whenever staff copy the URL.
    pub fn token(&self, link_id: &str, nonce: &str) -> String {
        let tag = self.mac(&["access-link-token", link_id, nonce]).finalize().into_bytes();
        format!("{LINK_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(tag))
    }

    pub fn code_hash(&self, link_id: &str, code: &str) -> String {
        hex::encode(self.mac(&["access-link-code", link_id, code]).finalize().into_bytes())
    }

    pub fn code_matches(&self, link_id: &str, code: &str, stored: &str) -> bool {
        self.code_hash(link_id, code).as_bytes().ct_eq(stored.as_bytes()).into()
    }

    /// A new token for a link's URL: the nonce it derives from, and the hash stored for
    /// lookups.
    pub fn new_token(&self, link_id: &str) -> (String, String) {
        let nonce = secrets::random_secret();
        let hash = secrets::digest(&self.token(link_id, &nonce));
        (nonce, hash)
    }
}

/// A fresh security code: eight digits, uniformly drawn.
pub fn new_code() -> String {
    (0..CODE_DIGITS).map(|_| char::from(b'0' + OsRng.gen_range(0..10_u8))).collect()
}

/// A fresh link session token, as the recipient presents it.
pub fn new_session_token() -> String {
    format!("{LINK_SESSION_PREFIX}{}", secrets::random_secret())
}
