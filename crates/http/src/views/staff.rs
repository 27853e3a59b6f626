//! A staff member as the API shows them: in the staff list, and at sign-in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_domain::ids::{OfficeId, StaffId};
use vestibule_domain::roles::StaffRole;
use vestibule_storage::staff::StaffRow;

use crate::routes::utc;

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub id: StaffId,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    /// May manage client portals.
    pub portal_permission: bool,
    pub office_id: Option<OfficeId>,
    /// Set while the account is disabled; a disabled member cannot sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StaffRow> for StaffMember {
    fn from(row: StaffRow) -> Self {
        Self {
            id: StaffId::from_trusted(row.id),
            email: row.email,
            name: row.name,
            role: StaffRole::from_stored(&row.role).unwrap_or(StaffRole::Member),
            portal_permission: row.portal_permission,
            office_id: row.office_id.map(OfficeId::from_trusted),
            disabled_at: row.disabled_at.map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}
