//! A document request as staff and its contact see it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_app::document_requests::{ItemRecord, RequestRecord};
use vestibule_domain::document_request::{ItemStatus, Progress, RequestStatus};
use vestibule_domain::ids::{ClientId, ContactId, DocumentRequestId, FolderId, MatterId, RequestItemId};

use crate::routes::utc;
use crate::views::document::Document;

/// Who reads the request: staff see who asked and who reviewed; the contact does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Staff,
    Contact,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentRequest {
    pub id: DocumentRequestId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub contact_id: ContactId,
    pub contact_name: String,
    pub title: String,
    pub message: Option<String>,
    /// The due date of items without their own.
    pub due_on: Option<NaiveDate>,
    /// Where uploads of items without their own folder go.
    pub folder_id: Option<FolderId>,
    pub status: RequestStatus,
    pub progress: Progress,
    /// In the order staff listed them.
    pub items: Vec<RequestItem>,
    /// The staff member (`stf_…`) or API key (`key_…`) that asked; staff only.
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was completed or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestItem {
    pub id: RequestItemId,
    pub name: String,
    pub description: Option<String>,
    /// The item's own due date; without one, the request's applies.
    pub due_on: Option<NaiveDate>,
    pub folder_id: Option<FolderId>,
    pub status: ItemStatus,
    /// Why staff returned it, for the contact; kept after a new upload, for the history.
    pub return_reason: Option<String>,
    pub uploaded_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The staff member who accepted or returned it last; staff only.
    pub reviewed_by: Option<String>,
    /// What the contact uploaded into it, oldest first.
    pub documents: Vec<Document>,
}

impl DocumentRequest {
    pub fn of(record: RequestRecord, reader: Reader) -> Self {
        let progress = Progress::of(record.item_statuses());
        let status = record.status();
        let RequestRecord { row, contact_name, items } = record;
        let staff = reader == Reader::Staff;
        Self {
            id: DocumentRequestId::from_trusted(row.id),
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            contact_id: ContactId::from_trusted(row.contact_id),
            contact_name,
            title: row.title,
            message: row.message,
            due_on: row.due_on,
            folder_id: row.folder_id.map(FolderId::from_trusted),
            status,
            progress,
            items: items.into_iter().map(|item| RequestItem::of(item, reader)).collect(),
            created_by: staff.then_some(row.created_by),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            closed_at: row.closed_at.map(utc),
        }
    }

    pub fn for_staff(record: RequestRecord) -> Self {
        Self::of(record, Reader::Staff)
    }

    pub fn for_contact(record: RequestRecord) -> Self {
        Self::of(record, Reader::Contact)
    }
}

impl RequestItem {
    fn of(item: ItemRecord, reader: Reader) -> Self {
        let status = item.status();
        let ItemRecord { row, documents } = item;
        Self {
            id: RequestItemId::from_trusted(row.id),
            name: row.name,
            description: row.description,
            due_on: row.due_on,
            folder_id: row.folder_id.map(FolderId::from_trusted),
            status,
            return_reason: row.return_reason,
            uploaded_at: row.uploaded_at.map(utc),
            reviewed_at: row.reviewed_at.map(utc),
            reviewed_by: row.reviewed_by.filter(|_| reader == Reader::Staff),
            documents: documents.into_iter().map(Document::from).collect(),
        }
    }
}
