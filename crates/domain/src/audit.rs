//! The audit log is append-only and hash-chained per firm: each event's hash covers its
//! own content and the previous event's hash, so changing, removing or reordering a stored
//! event breaks every later link.

use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first event of every firm chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted: a signed-in staff member or contact, an integration's API key, a visitor of an
/// access link, someone not signed in (a failed sign-in), or `vestibule admin` (system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Staff,
    Contact,
    ApiKey,
    AccessLink,
    Anonymous,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Contact => "contact",
            Self::ApiKey => "api_key",
            Self::AccessLink => "access_link",
            Self::Anonymous => "anonymous",
            Self::System => "system",
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "staff" => Self::Staff,
            "contact" => Self::Contact,
            "api_key" => Self::ApiKey,
            "access_link" => Self::AccessLink,
            "system" => Self::System,
            _ => Self::Anonymous,
        }
    }
}

/// Whether the audited attempt succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// The content of an audit event that its hash covers.
#[derive(Debug, Clone, Serialize)]
pub struct ChainedFields<'a> {
    pub id: &'a str,
    pub firm_id: &'a str,
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub outcome: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub details: &'a str,
}

/// The text an audit checkpoint signs: the firm, its head and the signing time, so a
/// signature vouches for one head of one firm at one moment and cannot be replayed for another.
pub fn checkpoint_message(firm_id: &str, seq: i64, head_hash: &str, signed_at: &str) -> String {
    format!("vestibule-audit-checkpoint:v1:{firm_id}:{seq}:{head_hash}:{signed_at}")
}

pub fn chain_hash(prev_hash: &str, fields: &ChainedFields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    // serde_json writes struct fields in declaration order, which makes this canonical.
    hasher.update(serde_json::to_vec(fields).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// Truncates to microseconds, the precision both databases store, so a hash computed before
/// insert matches one recomputed from the stored row.
pub fn storable_time(time: NaiveDateTime) -> NaiveDateTime {
    use chrono::SubsecRound;
    time.trunc_subsecs(6)
}
