//! A staff invitation as owners and admins see it: never its link.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::ids::{StaffId, StaffInvitationId};
use vestibule_domain::roles::StaffRole;
use vestibule_storage::staff_invitations::{StaffInvitationRow, StaffInvitationState};

use crate::routes::utc;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StaffInvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl From<StaffInvitationStatus> for StaffInvitationState {
    fn from(status: StaffInvitationStatus) -> Self {
        match status {
            StaffInvitationStatus::Pending => Self::Pending,
            StaffInvitationStatus::Accepted => Self::Accepted,
            StaffInvitationStatus::Revoked => Self::Revoked,
            StaffInvitationStatus::Expired => Self::Expired,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffInvitation {
    pub id: StaffInvitationId,
    pub email: String,
    pub name: String,
    /// The role the person gets on accepting.
    pub role: StaffRole,
    /// Whether the person may manage client portals once they accept.
    pub portal_permission: bool,
    pub status: StaffInvitationStatus,
    pub invited_by: Option<StaffId>,
    /// The member created when the invitation was accepted.
    pub staff_id: Option<StaffId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<StaffInvitationRow> for StaffInvitation {
    fn from(row: StaffInvitationRow) -> Self {
        let status = if row.accepted_at.is_some() {
            StaffInvitationStatus::Accepted
        } else if row.revoked_at.is_some() {
            StaffInvitationStatus::Revoked
        } else if row.expires_at <= vestibule_storage::now() {
            StaffInvitationStatus::Expired
        } else {
            StaffInvitationStatus::Pending
        };
        Self {
            id: StaffInvitationId::from_trusted(row.id),
            email: row.email,
            name: row.name,
            role: StaffRole::from_stored(&row.role).unwrap_or(StaffRole::Member),
            portal_permission: row.portal_permission,
            status,
            invited_by: row.invited_by.map(StaffId::from_trusted),
            staff_id: row.staff_id.map(StaffId::from_trusted),
            created_at: utc(row.created_at),
            expires_at: utc(row.expires_at),
            accepted_at: row.accepted_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}
