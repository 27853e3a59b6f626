//! Audit head anchoring: each firm's chain head, signed with the instance's Ed25519 key and
//! published as an `audit.checkpoint` event and a log line, so a copy kept outside the
//! database shows when the chain's tail was rewritten together with its head.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::SecondsFormat;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;
use sha2::{Digest, Sha256};
use vestibule_domain::audit::checkpoint_message;
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::events::EventType;
use vestibule_storage::audit_checkpoints::{self, CheckpointRow, Head};
use vestibule_storage::{DbConnection, write_tx};

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::events;

pub const ALGORITHM: &str = "ed25519";

/// The key checkpoints are signed with (`AUDIT_SIGNING_KEY` or a file in the data folder),
/// the same on every instance so receivers check one public key.
pub struct CheckpointKey {
    signing: SigningKey,
    key_id: String,
}

/// The public half, for those who check checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    pub algorithm: &'static str,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

impl CheckpointKey {
    /// From a 32-byte seed.
    pub fn from_seed(seed: &[u8]) -> anyhow::Result<Self> {
        let seed: [u8; 32] =
            seed.try_into().map_err(|_| anyhow::anyhow!("the audit signing key must be a 32-byte seed"))?;
        let signing = SigningKey::from_bytes(&seed);
        // Names the key by its public half, so a rotated key gets a new id by itself.
        let digest = Sha256::digest(signing.verifying_key().as_bytes());
        let key_id = format!("ed25519-{}", hex::encode(&digest[..8]));
        Ok(Self { signing, key_id })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id.clone(),
            algorithm: ALGORITHM,
            public_key: STANDARD.encode(self.signing.verifying_key().as_bytes()),
        }
    }

    fn sign(&self, head: &Head) -> CheckpointRow {
        let signed_at = vestibule_storage::now();
        let message = checkpoint_message(&head.firm_id, head.seq, &head.hash, &rfc3339(signed_at.and_utc()));
        CheckpointRow {
            firm_id: head.firm_id.clone(),
            seq: head.seq,
            head_hash: head.hash.clone(),
            signed_at,
            key_id: self.key_id.clone(),
            signature: STANDARD.encode(self.signing.sign(message.as_bytes()).to_bytes()),
        }
    }
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The public key, for those who may read the audit log.
pub fn public_key(ctx: &Context, key: &CheckpointKey) -> AppResult<PublicKey> {
    authorize(&ctx.principal, Action::ReadAudit)?;
    Ok(key.public())
}

/// Publishes a checkpoint of every firm whose head moved since its last one; returns how
/// many. Instances share the work through the claims in `audit_checkpoints`.
#[tracing::instrument(skip_all)]
pub fn publish_due(conn: &mut DbConnection, key: &CheckpointKey) -> AppResult<usize> {
    let mut published = 0;
    for head in audit_checkpoints::heads_since_checkpoint(conn)? {
        let checkpoint = key.sign(&head);
        let outcome = write_tx(conn, |conn| {
            if !audit_checkpoints::claim(conn, &checkpoint)? {
                return Ok::<_, AppError>(false);
            }
            // Not itself audited: the entry would move the head it reports.
            events::publish_data(conn, &checkpoint.firm_id, EventType::AuditCheckpoint, &data(&checkpoint))?;
            Ok(true)
        });
        match outcome {
            Ok(true) => {
                published += 1;
                tracing::info!(
                    firm_id = %checkpoint.firm_id,
                    seq = checkpoint.seq,
                    head_hash = %checkpoint.head_hash,
                    signed_at = %rfc3339(checkpoint.signed_at.and_utc()),
                    signature = %checkpoint.signature,
                    key_id = %checkpoint.key_id,
                    "audit checkpoint"
                );
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(error = %error, firm_id = %head.firm_id, "publishing an audit checkpoint failed");
            }
        }
    }
    Ok(published)
}

fn data(checkpoint: &CheckpointRow) -> serde_json::Value {
    json!({
        "id": checkpoint.firm_id,
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "signed_at": rfc3339(checkpoint.signed_at.and_utc()),
        "signature": checkpoint.signature,
        "key_id": checkpoint.key_id,
    })
}
