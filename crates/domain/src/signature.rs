//! Requests to sign a document (seed 000) and the rules of asking.

use serde::{Deserialize, Serialize};

/// The consent a signer is shown and accepts with `consent: true`; certificates repeat it.
pub const CONSENT_TEXT: &str = "I agree that the name I type is my electronic signature on this document and \
     binds me as my handwritten signature would.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    Pending,
    Signed,
    Declined,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signed => "signed",
            Self::Declined => "declined",
        }
    }

    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "signed" => Self::Signed,
            "declined" => Self::Declined,
            _ => Self::Pending,
        }
    }
}

/// A contact is asked to sign a document once at a time: while one of their requests for it
/// waits for an answer, another is refused. `requests` are the document's requests as
/// (contact id, status); answered ones do not stand in the way of asking again.
pub fn may_ask<'a>(mut requests: impl Iterator<Item = (&'a str, SignatureStatus)>, contact_id: &str) -> bool {
    !requests.any(|(asked, status)| asked == contact_id && status == SignatureStatus::Pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_has_one_pending_request_per_document() {
        use SignatureStatus::{Declined, Pending, Signed};
        assert!(may_ask([].into_iter(), "con_a"));
        assert!(!may_ask([("con_a", Pending)].into_iter(), "con_a"));
        assert!(may_ask([("con_b", Pending)].into_iter(), "con_a"), "another contact's request");
        assert!(may_ask([("con_a", Signed), ("con_a", Declined)].into_iter(), "con_a"), "answered ones");
    }

    #[test]
    fn statuses_round_trip_through_storage() {
        for status in [SignatureStatus::Pending, SignatureStatus::Signed, SignatureStatus::Declined] {
            assert_eq!(SignatureStatus::from_stored(status.as_str()), status);
        }
    }
}
