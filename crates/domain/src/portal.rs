//! Portals: a contact's access to the firm's client portal.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// `full` lasts until disabled; `temporary` stops working at its expiry (seed 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortalKind {
    Full,
    Temporary,
}

/// Where a portal stands. `invited` until the contact registers; `expired` once a temporary
/// portal's time is up, whatever it was before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortalStatus {
    Invited,
    Active,
    Disabled,
    Expired,
}

impl PortalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Temporary => "temporary",
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        if raw == "temporary" { Self::Temporary } else { Self::Full }
    }
}

impl PortalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Expired => "expired",
        }
    }

    /// The status a stored portal has at `now`.
    pub fn of(
        stored: &str,
        disabled_at: Option<NaiveDateTime>,
        expires_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Self {
        if disabled_at.is_some() {
            Self::Disabled
        } else if expires_at.is_some_and(|at| at <= now) {
            Self::Expired
        } else if stored == "active" {
            Self::Active
        } else {
            Self::Invited
        }
    }
}

/// What staff put into a portal; each asks a different readiness of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A secure message (seed 001): the client must have an activated portal.
    Message,
    /// Files (seed 000): a portal still waiting for its registration takes them too, since
    /// the invitation goes out with them.
    Files,
}

impl PortalStatus {
    /// Whether a portal in this status can be given `delivery`.
    pub fn receives(self, delivery: Delivery) -> bool {
        match self {
            Self::Active => true,
            Self::Invited => delivery == Delivery::Files,
            Self::Disabled | Self::Expired => false,
        }
    }
}

/// Why a contact may not use the portal right now, if so.
pub fn unavailable(status: PortalStatus) -> Option<(&'static str, &'static str)> {
    match status {
        PortalStatus::Active => None,
        PortalStatus::Invited => Some(("portal_not_registered", "accept the invitation to register before signing in")),
        PortalStatus::Disabled => Some(("portal_disabled", "this portal has been disabled by the firm")),
        PortalStatus::Expired => {
            Some(("portal_expired", "this temporary portal has expired; ask the firm for a new one"))
        }
    }
}

/// A portal's expiry as stored: a temporary portal needs one in the future, a full portal
/// has none. The error has no pointer yet; the caller places it.
pub fn expiry(
    kind: PortalKind,
    expires_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, crate::FieldError> {
    match (kind, expires_at) {
        (PortalKind::Temporary, Some(at)) if at > now => Ok(Some(at)),
        (PortalKind::Temporary, _) => {
            Err(crate::FieldError::new("", "required", "a temporary portal needs an expiry in the future"))
        }
        (PortalKind::Full, None) => Ok(None),
        (PortalKind::Full, Some(_)) => Err(crate::FieldError::new("", "not_allowed", "a full portal does not expire")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_temporary_portal_expires_in_the_future_and_a_full_one_never() {
        use super::{PortalKind, expiry};
        let now = chrono::Utc::now().naive_utc();
        let later = now + chrono::Duration::days(1);
        assert_eq!(expiry(PortalKind::Temporary, Some(later), now).ok(), Some(Some(later)));
        assert_eq!(expiry(PortalKind::Temporary, Some(now), now).map_err(|e| e.code), Err("required".to_owned()));
        assert_eq!(expiry(PortalKind::Temporary, None, now).map_err(|e| e.code), Err("required".to_owned()));
        assert_eq!(expiry(PortalKind::Full, None, now).ok(), Some(None));
        assert_eq!(expiry(PortalKind::Full, Some(later), now).map_err(|e| e.code), Err("not_allowed".to_owned()));
    }

    #[test]
    fn messages_need_a_registered_portal_while_files_may_come_with_the_invitation() {
        use super::{Delivery, PortalStatus};
        assert!(PortalStatus::Active.receives(Delivery::Message));
        assert!(!PortalStatus::Invited.receives(Delivery::Message));
        assert!(PortalStatus::Invited.receives(Delivery::Files));
        for closed in [PortalStatus::Disabled, PortalStatus::Expired] {
            assert!(!closed.receives(Delivery::Message) && !closed.receives(Delivery::Files));
        }
    }

    use super::*;

    #[test]
    fn an_expired_temporary_portal_is_expired_whatever_it_was() {
        let now = chrono::Utc::now().naive_utc();
        let past = Some(now - chrono::Duration::minutes(1));
        assert_eq!(PortalStatus::of("active", None, past, now), PortalStatus::Expired);
        assert_eq!(PortalStatus::of("active", Some(now), past, now), PortalStatus::Disabled);
        assert_eq!(PortalStatus::of("invited", None, None, now), PortalStatus::Invited);
        assert!(unavailable(PortalStatus::Active).is_none());
    }
}

/// Where an invitation was sent from: the portal dialogs, the settings (admins), or an
/// invoice email with "invite recipients" (seed 004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationSource {
    Portal,
    Settings,
    Invoice,
}

impl InvitationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::Settings => "settings",
            Self::Invoice => "invoice",
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "settings" => Self::Settings,
            "invoice" => Self::Invoice,
            _ => Self::Portal,
        }
    }
}
