//! What in-app notifications say: their kinds, and what they are about.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// To staff: a client started a conversation from the portal.
    ConversationStarted,
    /// To staff: a client answered in a conversation.
    MessageReceived,
    /// To staff: the client side uploaded files, in the portal or through an upload link.
    UploadReceived,
    /// To staff: the contact uploaded into an item of a document request.
    RequestItemUploaded,
    /// To staff: an access link was locked after too many wrong codes.
    LinkLocked,
    /// To staff: a contact signed a document.
    DocumentSigned,
    /// To staff: a contact declined to sign a document.
    SignatureDeclined,
    /// To staff: a client paid by card.
    PaymentReceived,
    /// To staff: the malware scanner quarantined a file they uploaded, or one their client
    /// side uploaded.
    DocumentQuarantined,
    /// To a contact: staff wrote in a conversation.
    NewMessage,
    /// To a contact: documents were shared to the portal.
    DocumentsShared,
    /// To a contact: staff ask for documents.
    DocumentRequestCreated,
    /// To a contact: staff returned an item of a request, with a reason.
    RequestItemReturned,
    /// To a contact: staff ask for a signature.
    SignatureRequested,
}

names!(NotificationKind {
    ConversationStarted => "conversation_started",
    MessageReceived => "message_received",
    UploadReceived => "upload_received",
    RequestItemUploaded => "request_item_uploaded",
    LinkLocked => "link_locked",
    DocumentSigned => "document_signed",
    SignatureDeclined => "signature_declined",
    PaymentReceived => "payment_received",
    DocumentQuarantined => "document_quarantined",
    NewMessage => "new_message",
    DocumentsShared => "documents_shared",
    DocumentRequestCreated => "document_request_created",
    RequestItemReturned => "request_item_returned",
    SignatureRequested => "signature_requested",
});

/// The kind of thing a notification points at; with `subject_id`, where a frontend opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    Conversation,
    Document,
    DocumentRequest,
    SignatureRequest,
    AccessLink,
    Payment,
}

names!(SubjectType {
    Conversation => "conversation",
    Document => "document",
    DocumentRequest => "document_request",
    SignatureRequest => "signature_request",
    AccessLink => "access_link",
    Payment => "payment",
});
