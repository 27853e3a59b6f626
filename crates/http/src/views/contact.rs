//! A contact as the API shows it: to staff, and to the contact in the portal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::ids::ContactId;
use vestibule_domain::roles::ContactOfKind;
use vestibule_storage::contacts::ContactRow;

use crate::routes::utc;

/// Whom the contact belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactOf {
    pub kind: ContactOfKind,
    /// A client (`cli_…`), staff (`stf_…`) or office (`ofc_…`) id, matching `kind`.
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: ContactId,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub of: ContactOf,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ContactRow> for Contact {
    fn from(row: ContactRow) -> Self {
        let of = match (row.client_id, row.staff_id, row.office_id) {
            (Some(id), _, _) => ContactOf { kind: ContactOfKind::Client, id },
            (_, Some(id), _) => ContactOf { kind: ContactOfKind::Staff, id },
            (_, _, Some(id)) => ContactOf { kind: ContactOfKind::Office, id },
            (None, None, None) => ContactOf { kind: ContactOfKind::Client, id: String::new() },
        };
        Self {
            id: ContactId::from_trusted(row.id),
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            phone: row.phone,
            external_id: row.external_id,
            of,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}
