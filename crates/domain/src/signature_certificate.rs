//! The certificate of completion of a signature request: what a court or auditor needs to
//! accept a typed signature as evidence (who signed what, when, from where, after being
//! shown which consent, and the audit trail of the request), or to see that it was declined.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::signature::SignatureStatus;

/// The layout of the certificate; a later layout gets a new number, old certificates keep theirs.
pub const CERTIFICATE_VERSION: u32 = 1;

/// The audit action that records a certificate's SHA-256s.
pub const CERTIFICATE_ISSUED: &str = "signature.certificate_issued";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub certificate_version: u32,
    pub signature_request_id: String,
    /// `signed` or `declined`: a declined request gets a certificate of its refusal.
    pub status: SignatureStatus,
    pub firm: CertifiedFirm,
    pub document: CertifiedDocument,
    pub signer: CertifiedSigner,
    /// The name the signer typed as their signature (absent when declined).
    pub typed_signature: Option<String>,
    /// The consent the signer was shown and accepted (when signing).
    pub consent_text: Option<String>,
    pub decline_reason: Option<String>,
    /// When the signer answered, and from which address and user agent.
    pub answered_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The staff member or API key that asked.
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// The request's audit trail: asked, viewed (downloads by the signer), signed or declined.
    pub history: Vec<HistoryEntry>,
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifiedFirm {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifiedDocument {
    pub id: String,
    pub name: String,
    /// The SHA-256 of the exact bytes the signer was asked to sign (hex).
    pub sha256: String,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifiedSigner {
    pub contact_id: String,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStep {
    Asked,
    Viewed,
    Signed,
    Declined,
}

impl HistoryStep {
    /// The step an audit action stands for in a request's history.
    pub fn of_action(action: &str) -> Option<Self> {
        match action {
            "signature.requested" => Some(Self::Asked),
            "document.downloaded" => Some(Self::Viewed),
            "signature.signed" => Some(Self::Signed),
            "signature.declined" => Some(Self::Declined),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asked => "asked",
            Self::Viewed => "viewed",
            Self::Signed => "signed",
            Self::Declined => "declined",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub step: HistoryStep,
    pub at: DateTime<Utc>,
    /// The audit event that recorded the step, and its place in the firm's chain.
    pub audit_event_id: String,
    pub audit_seq: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Certificate {
    /// The certificate's one serialisation: the bytes whose SHA-256 the audit chain records.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
