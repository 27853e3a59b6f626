//! A document as staff and the portal see it, and a file's bytes in the spec.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_app::documents::DocumentRecord;
use vestibule_domain::ids::{ClientId, DocumentId, FolderId, MatterId};
use vestibule_domain::scan::ScanStatus;
use vestibule_storage::documents::DocumentRow;

use crate::routes::utc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    pub id: DocumentId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub folder_id: Option<FolderId>,
    /// The filename as uploaded, for display and downloads only.
    pub name: String,
    /// Detected from the file's bytes, not from its name.
    pub content_type: String,
    pub size: i64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// Whether the client sees it in the portal (seed 002's "make visible to the client").
    pub visible_to_client: bool,
    /// The staff member (`stf_…`), contact (`con_…`), API key (`key_…`) or access link
    /// (`alk_…`: uploaded through the link) it came from.
    pub uploaded_by: String,
    pub version: i64,
    /// Where the file stands with the malware scanner: only `clean` and `unscanned` files
    /// download; `pending` ones do once scanned; `infected` ones are quarantined.
    pub scan_status: ScanStatus,
    /// For staff: what the scanner found in an `infected` file, or why a `failed` one could
    /// not be judged.
    pub scan_threat: Option<String>,
    pub scanned_at: Option<DateTime<Utc>>,
    /// When it was first downloaded by a client contact or through an access link (seed 002's
    /// confirmation icon); see the receipts for who and how often.
    pub first_client_download_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DocumentRow> for Document {
    fn from(row: DocumentRow) -> Self {
        Self {
            id: DocumentId::from_trusted(row.id),
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            folder_id: row.folder_id.map(FolderId::from_trusted),
            name: row.name,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            visible_to_client: row.visible_to_client,
            uploaded_by: row.uploaded_by,
            version: row.version,
            scan_status: ScanStatus::parse(&row.scan_status).unwrap_or(ScanStatus::Pending),
            scan_threat: row.scan_threat,
            scanned_at: row.scanned_at.map(utc),
            first_client_download_at: None,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

impl From<DocumentRecord> for Document {
    fn from(record: DocumentRecord) -> Self {
        Self { first_client_download_at: record.first_client_download_at.map(utc), ..Self::from(record.row) }
    }
}

/// A file's bytes.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);
