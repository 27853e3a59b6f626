//! A message as both inboxes, and shares that carry one, show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::conversations::MessageRecord;
use vestibule_domain::ids::{ConversationId, DocumentId, MessageId};
use vestibule_storage::conversations::STAFF;
use vestibule_storage::shares::AttachmentRow;

/// Who wrote a message or started a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Staff,
    Contact,
}

impl AuthorKind {
    pub fn of(stored: &str) -> Self {
        if stored == STAFF { Self::Staff } else { Self::Contact }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Author {
    pub kind: AuthorKind,
    /// A staff id (`stf_…`) or a contact id (`con_…`).
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub author: Author,
    pub body: String,
    /// Documents sent with the message; download them like other documents.
    pub attachments: Vec<Attachment>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Attachment {
    pub document_id: DocumentId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

impl From<AttachmentRow> for Attachment {
    fn from(row: AttachmentRow) -> Self {
        Self {
            document_id: DocumentId::from_trusted(row.document_id),
            name: row.name,
            content_type: row.content_type,
            size: row.size,
        }
    }
}

impl From<MessageRecord> for Message {
    fn from(record: MessageRecord) -> Self {
        let MessageRecord { row, author_name, attachments } = record;
        Self {
            id: MessageId::from_trusted(row.id),
            conversation_id: ConversationId::from_trusted(row.conversation_id),
            author: Author { kind: AuthorKind::of(&row.author_kind), name: author_name, id: row.author_id },
            body: row.body,
            attachments: attachments.into_iter().map(Attachment::from).collect(),
            created_at: row.created_at.and_utc(),
        }
    }
}
