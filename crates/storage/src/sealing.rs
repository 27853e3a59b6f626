//! Secrets at rest: values the server must read back (webhook signing secrets, TOTP secrets)
//! are stored sealed with XChaCha20-Poly1305 under a key from `SECRETS_KEYS` or the data
//! folder, never as they are.
//!
//! A sealed value reads `sealed:v1:<key id>:<base64 of nonce ‖ ciphertext>`. The key id lets
//! several keys be configured while a rotation runs; the row a value belongs to is the
//! associated data, so a sealed value copied into another row does not open. Values stored
//! before sealing existed have no prefix and read as they are until they are resealed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::error::{StorageError, StorageResult};

const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;
pub const KEY_LEN: usize = 32;

/// One sealing key and the id sealed values name it by.
struct SealingKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The configured keys: the first seals, every one opens.
pub struct SecretKeys {
    keys: Vec<SealingKey>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys").field("ids", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>()).finish()
    }
}

/// Why a key list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no key is configured")]
    Empty,
    #[error("key `{0}` is not {KEY_LEN} bytes")]
    Length(String),
    #[error("key id `{0}` is empty, repeated or holds `:`")]
    Id(String),
}

impl SecretKeys {
    /// Keys as `(id, 32 bytes)`, the one that seals first.
    pub fn new(keys: Vec<(String, Vec<u8>)>) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut sealing: Vec<SealingKey> = Vec::with_capacity(keys.len());
        for (id, bytes) in keys {
            if id.is_empty() || id.contains(':') || sealing.iter().any(|k| k.id == id) {
                return Err(KeyError::Id(id));
            }
            let Ok(cipher) = XChaCha20Poly1305::new_from_slice(&bytes) else { return Err(KeyError::Length(id)) };
            sealing.push(SealingKey { id, cipher });
        }
        Ok(Self { keys: sealing })
    }

    /// The id of the key new values are sealed with.
    pub fn current_id(&self) -> &str {
        self.keys.first().map_or("", |k| k.id.as_str())
    }

    /// Seals `plain` for the row `binding` names (table and id).
    pub fn seal(&self, plain: &str, binding: &str) -> StorageResult<String> {
        let key = self.keys.first().ok_or_else(|| sealing_error("no sealing key"))?;
        let mut nonce = [0_u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain.as_bytes(), aad: binding.as_bytes() })
            .map_err(|_| sealing_error("sealing failed"))?;
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}:{}", key.id, STANDARD_NO_PAD.encode(body)))
    }

    /// The plain value of a stored one: opened when sealed, as it is when stored before
    /// sealing existed.
    pub fn open(&self, stored: &str, binding: &str) -> StorageResult<String> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_owned()) };
        let (id, encoded) = rest.split_once(':').ok_or_else(|| sealing_error("a sealed value is malformed"))?;
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
            sealing_error(&format!("a secret is sealed with key `{id}`, which SECRETS_KEYS does not hold"))
        })?;
        let body = STANDARD_NO_PAD.decode(encoded).map_err(|_| sealing_error("a sealed value is not base64"))?;
        if body.len() < NONCE_LEN {
            return Err(sealing_error("a sealed value is too short"));
        }
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| sealing_error("a sealed value is malformed"))?;
        let plain = key
            .cipher
            .decrypt(&nonce, Payload { msg: sealed, aad: binding.as_bytes() })
            .map_err(|_| sealing_error(&format!("a secret sealed with key `{id}` does not open for {binding}")))?;
        String::from_utf8(plain).map_err(|_| sealing_error("a sealed value is not text"))
    }

    /// Whether `stored` is sealed with the current key already.
    pub fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).is_some_and(|(id, _)| id == self.current_id())
    }

    /// `stored` sealed with the current key: `None` when it is already.
    pub fn reseal(&self, stored: &str, binding: &str) -> StorageResult<Option<String>> {
        if self.is_current(stored) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(stored, binding)?, binding)?))
    }
}

fn sealing_error(reason: &str) -> StorageError {
    StorageError::Sealing(reason.to_owned())
}

/// The `LIKE` pattern of values sealed with the current key (key ids hold no `%` or `_`
/// that matter: a looser match only skips a value `is_current` would also skip).
pub fn current_pattern(keys: &SecretKeys) -> String {
    format!("{PREFIX}{}:%", keys.current_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ids: &[(&str, u8)]) -> SecretKeys {
        SecretKeys::new(ids.iter().map(|(id, byte)| ((*id).to_owned(), vec![*byte; KEY_LEN])).collect()).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_to_itself_and_does_not_show_it() {
        let keys = keys(&[("k1", 1)]);
        let sealed = keys.seal("whsec_abc", "webhook_endpoint:w1").unwrap();
        assert!(sealed.starts_with("sealed:v1:k1:"));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(keys.open(&sealed, "webhook_endpoint:w1").unwrap(), "whsec_abc");
    }

    #[test]
    fn sealing_twice_gives_different_values() {
        let keys = keys(&[("k1", 1)]);
        assert_ne!(keys.seal("x", "b").unwrap(), keys.seal("x", "b").unwrap());
    }

    #[test]
    fn a_value_moved_to_another_row_does_not_open() {
        let keys = keys(&[("k1", 1)]);
        let sealed = keys.seal("whsec_abc", "webhook_endpoint:w1").unwrap();
        assert!(matches!(keys.open(&sealed, "webhook_endpoint:w2"), Err(StorageError::Sealing(_))));
    }

    #[test]
    fn a_tampered_value_does_not_open() {
        let keys = keys(&[("k1", 1)]);
        let sealed = keys.seal("whsec_abc", "b").unwrap();
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(keys.open(&String::from_utf8(tampered).unwrap(), "b").is_err());
    }

    #[test]
    fn a_value_stored_before_sealing_reads_as_it_is() {
        assert_eq!(keys(&[("k1", 1)]).open("whsec_legacy", "b").unwrap(), "whsec_legacy");
    }

    #[test]
    fn a_previous_key_opens_and_resealing_moves_to_the_current_one() {
        let old = keys(&[("k1", 1)]);
        let sealed = old.seal("secret", "b").unwrap();
        let rotated = keys(&[("k2", 2), ("k1", 1)]);
        assert_eq!(rotated.open(&sealed, "b").unwrap(), "secret");
        let resealed = rotated.reseal(&sealed, "b").unwrap().unwrap();
        assert!(rotated.is_current(&resealed));
        assert_eq!(rotated.reseal(&resealed, "b").unwrap(), None);
        assert!(old.open(&resealed, "b").is_err());
    }

    #[test]
    fn a_value_under_a_key_no_longer_configured_is_an_error_not_garbage() {
        let sealed = keys(&[("k1", 1)]).seal("secret", "b").unwrap();
        let error = keys(&[("k2", 2)]).open(&sealed, "b").unwrap_err();
        assert!(error.to_string().contains("k1"));
    }

    #[test]
    fn bad_key_lists_are_refused() {
        assert!(matches!(SecretKeys::new(vec![]), Err(KeyError::Empty)));
        assert!(matches!(SecretKeys::new(vec![("k".into(), vec![0; 16])]), Err(KeyError::Length(_))));
        assert!(matches!(
            SecretKeys::new(vec![("k".into(), vec![0; 32]), ("k".into(), vec![1; 32])]),
            Err(KeyError::Id(_))
        ));
        assert!(matches!(SecretKeys::new(vec![("a:b".into(), vec![0; 32])]), Err(KeyError::Id(_))));
    }
}
