//! JWT signing keys, the access-link secret and the audit signing key: configured
//! (`JWT_SIGNING_KEYS`, `LINK_SECRET`, `AUDIT_SIGNING_KEY`, for several instances) or generated once and kept in a file readable only
//! by the owner (the embedded default).

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use vestibule_app::auth::tokens::SigningKey;

use crate::config::{AuditKeySource, JwtKeySource, LinkSecretSource};

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    secret: String,
}

pub fn load(source: &JwtKeySource) -> anyhow::Result<Vec<SigningKey>> {
    let pairs: Vec<(String, String)> = match source {
        JwtKeySource::Configured(keys) => {
            keys.iter().map(|(kid, secret)| (kid.clone(), secret.expose().to_owned())).collect()
        }
        JwtKeySource::File(path) => load_or_create(path)?.keys.into_iter().map(|k| (k.kid, k.secret)).collect(),
    };
    pairs
        .into_iter()
        .map(|(kid, secret)| {
            Ok(SigningKey { secret: STANDARD.decode(&secret).with_context(|| format!("JWT key `{kid}`"))?, kid })
        })
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

fn load_or_create(path: &Path) -> anyhow::Result<KeyFile> {
    if path.exists() {
        let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return serde_json::from_str(&raw).with_context(|| format!("parsing {}", path.display()));
    }
    let file = KeyFile {
        keys: vec![StoredKey { kid: format!("k{}", unix_seconds()), secret: STANDARD.encode(random_key()) }],
    };
    create_private(path, &serde_json::to_string_pretty(&file)?)?;
    tracing::info!(path = %path.display(), "generated a JWT signing key");
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

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    Ok(std::fs::write(path, contents)?)
}
