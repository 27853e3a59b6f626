//! A portal as staff see it, with its contact and grants.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_app::portals::PortalRecord;
use vestibule_domain::ids::{ClientId, ContactId, MatterId, PortalGrantId, PortalId};
use vestibule_domain::portal::{PortalKind, PortalStatus};
use vestibule_storage::portals::GrantRow;

use crate::routes::utc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Portal {
    pub id: PortalId,
    pub contact: PortalContact,
    pub kind: PortalKind,
    pub status: PortalStatus,
    /// When a temporary portal stops working.
    pub expires_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub grants: Vec<PortalGrant>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalContact {
    pub id: ContactId,
    pub name: String,
    pub email: Option<String>,
}

/// Access to one client (and all its matters) or one matter.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalGrant {
    pub id: PortalGrantId,
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub created_at: DateTime<Utc>,
}

impl From<GrantRow> for PortalGrant {
    fn from(row: GrantRow) -> Self {
        Self {
            id: PortalGrantId::from_trusted(row.id),
            client_id: row.client_id.map(ClientId::from_trusted),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            created_at: utc(row.created_at),
        }
    }
}

impl From<PortalRecord> for Portal {
    fn from(record: PortalRecord) -> Self {
        let PortalRecord { row, status, contact, grants } = record;
        Self {
            contact: PortalContact {
                id: ContactId::from_trusted(row.contact_id),
                name: contact.as_ref().map(|c| format!("{} {}", c.first_name, c.last_name)).unwrap_or_default(),
                email: contact.and_then(|c| c.email),
            },
            kind: PortalKind::from_stored(&row.kind),
            status,
            expires_at: row.expires_at.map(utc),
            activated_at: row.activated_at.map(utc),
            disabled_at: row.disabled_at.map(utc),
            grants: grants.into_iter().map(PortalGrant::from).collect(),
            created_at: utc(row.created_at),
            id: PortalId::from_trusted(row.id),
        }
    }
}
