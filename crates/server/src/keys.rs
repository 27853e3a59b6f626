//! JWT signing keys, the access-link secret, the audit signing key and the keys of secrets at
//! rest: configured (`JWT_SIGNING_KEYS`, `LINK_SECRET`, `AUDIT_SIGNING_KEY`, `SECRETS_KEYS`,
//! for several instances) or generated once and kept in a file readable only by the owner
//! (the embedded default).

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use vestibule_app::auth::tokens::SigningKey;
use vestibule_storage::sealing::SecretKeys;

use crate::config::{AuditKeySource, KeyListSource, LinkSecretSource};

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    secret: String,
}

pub fn load(source: &KeyListSource) -> anyhow::Result<Vec<SigningKey>> {
    Ok(key_list(source, "JWT signing key")?.into_iter().map(|(kid, secret)| SigningKey { kid, secret }).collect())
}

/// The keys that seal secrets at rest, the current one first.
pub fn secret_keys(source: &KeyListSource) -> anyhow::Result<SecretKeys> {
    SecretKeys::new(key_list(source, "key for secrets at rest")?).context("SECRETS_KEYS")
}

/// Puts a new key first in the data folder's file of keys for secrets at rest, so the next
/// start seals with it; returns its id. Configured keys are rotated in `SECRETS_KEYS`.
pub fn add_secret_key(source: &KeyListSource) -> anyhow::Result<String> {
    let KeyListSource::File(path) = source else {
        anyhow::bail!("SECRETS_KEYS is set: put the new key first there instead (see docs/operations.md)");
    };
    let mut file = load_or_create(path, "key for secrets at rest")?;
    let mut seconds = unix_seconds();
    while file.keys.iter().any(|k| k.kid == format!("k{seconds}")) {
        seconds += 1;
    }
    let kid = format!("k{seconds}");
    file.keys.insert(0, StoredKey { kid: kid.clone(), secret: STANDARD.encode(random_key()) });
    replace_private(path, &serde_json::to_string_pretty(&file)?)?;
    Ok(kid)
}

fn key_list(source: &KeyListSource, what: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let pairs: Vec<(String, String)> = match source {
        KeyListSource::Configured(keys) => {
            keys.iter().map(|(kid, secret)| (kid.clone(), secret.expose().to_owned())).collect()
        }
        KeyListSource::File(path) => load_or_create(path, what)?.keys.into_iter().map(|k| (k.kid, k.secret)).collect(),
    };
    pairs
        .into_iter()
        .map(|(kid, secret)| Ok((kid.clone(), STANDARD.decode(&secret).with_context(|| format!("{what} `{kid}`"))?)))
        .collect()
}

pub fn link_secret(source: &LinkSecretSource) -> anyhow::Result<Vec<u8>> {
    match source {
        LinkSecretSource::Configured(secret) => decode(secret.expose(), "the access-link secret"),
        LinkSecretSource::File(path) => secret_file(path, "the access-link secret"),
    }
}

/// The seed of the Ed25519 key audit checkpoints are signed with.
pub fn audit_signing_key(source: &AuditKeySource) -> anyhow::Result<Vec<u8>> {
    match source {
        AuditKeySource::Configured(seed) => decode(seed.expose(), "the audit signing key"),
        AuditKeySource::File(path) => secret_file(path, "the audit signing key"),
    }
}

/// A random 32-byte secret kept in `path`, generated on first use.
fn secret_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let encoded = if path.exists() {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    } else {
        let encoded = STANDARD.encode(random_key());
        create_private(path, &encoded)?;
        tracing::info!(path = %path.display(), "generated {what}");
        encoded
    };
    decode(&encoded, what)
}

fn decode(encoded: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    STANDARD.decode(encoded.trim()).with_context(|| format!("{what} is not base64"))
}

fn random_key() -> [u8; 32] {
    let mut secret = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn create_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    write_private(path, contents)
}

fn load_or_create(path: &Path, what: &str) -> anyhow::Result<KeyFile> {
    if path.exists() {
        let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return serde_json::from_str(&raw).with_context(|| format!("parsing {}", path.display()));
    }
    let file = KeyFile {
        keys: vec![StoredKey { kid: format!("k{}", unix_seconds()), secret: STANDARD.encode(random_key()) }],
    };
    create_private(path, &serde_json::to_string_pretty(&file)?)?;
    tracing::info!(path = %path.display(), "generated a {what}");
    Ok(file)
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Replaces `path` whole: the new contents go to a private file beside it, renamed over it.
fn replace_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let staged = path.with_extension("new");
    let _ = std::fs::remove_file(&staged);
    write_private(&staged, contents)?;
    std::fs::rename(&staged, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    Ok(std::fs::write(path, contents)?)
}
