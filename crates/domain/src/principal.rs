use crate::audit::ActorKind;
use crate::ids::{ApiKeyId, ContactId, FirmId, SessionId, StaffId};
use crate::roles::StaffRole;
use crate::scope::ApiScope;

/// Who is making a request. Every authenticated request resolves to exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Staff(StaffPrincipal),
    Contact(ContactPrincipal),
    Integration(IntegrationPrincipal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPrincipal {
    pub firm_id: FirmId,
    pub staff_id: StaffId,
    pub session_id: SessionId,
    pub role: StaffRole,
    pub portal_permission: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPrincipal {
    pub firm_id: FirmId,
    pub contact_id: ContactId,
    pub session_id: SessionId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationPrincipal {
    pub firm_id: FirmId,
    pub api_key_id: ApiKeyId,
    pub scopes: Vec<ApiScope>,
}

impl Principal {
    pub fn firm_id(&self) -> &FirmId {
        match self {
            Self::Staff(p) => &p.firm_id,
            Self::Contact(p) => &p.firm_id,
            Self::Integration(p) => &p.firm_id,
        }
    }

    /// The kind and id recorded as the actor of audit events.
    pub fn actor(&self) -> (ActorKind, &str) {
        match self {
            Self::Staff(p) => (ActorKind::Staff, p.staff_id.as_str()),
            Self::Contact(p) => (ActorKind::Contact, p.contact_id.as_str()),
            Self::Integration(p) => (ActorKind::ApiKey, p.api_key_id.as_str()),
        }
    }
}
