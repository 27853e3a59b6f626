//! The event catalogue: what integrations can subscribe to. Payloads are thin: ids and the
//! few fields a receiver needs to fetch the rest through the API, never confidential content.

use serde::{Deserialize, Serialize};

macro_rules! catalogue {
    ($($variant:ident => $name:literal: $about:literal,)+) => {
        /// An event type, as named in webhook payloads and endpoint filters.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $(#[doc = $about] #[serde(rename = $name)] $variant,)+
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $about),+ }
            }

            pub fn from_stored(raw: &str) -> Option<Self> {
                match raw { $($name => Some(Self::$variant),)+ _ => None }
            }
        }

        // By hand: the derive cannot read a `serde(rename)` made by this macro, and would
        // publish the Rust variant names instead of the wire names.
        impl utoipa::PartialSchema for EventType {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some("An event type, as named in webhook payloads and endpoint filters."))
                    .enum_values(Some([$($name),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for EventType {}
    };
}

catalogue! {
    ClientCreated => "client.created": "A client was created (also by an upsert).",
    ClientUpdated => "client.updated": "A client's fields, emails or assignees changed.",
    ClientDeleted => "client.deleted": "A client was deleted.",
    ContactCreated => "contact.created": "A contact was created.",
    ContactUpdated => "contact.updated": "A contact changed.",
    ContactDeleted => "contact.deleted": "A contact was deleted.",
    MatterCreated => "matter.created": "A matter was created.",
    MatterUpdated => "matter.updated": "A matter changed.",
    MatterDeleted => "matter.deleted": "A matter was deleted.",
    MatterMembersChanged => "matter.members_changed": "A staff member was added to a matter, changed role or removed.",
    WebhookTest => "webhook.test": "Sent on request to one endpoint, to check the integration.",
    WebhookEndpointDisabled => "webhook_endpoint.disabled": "An endpoint was disabled after failing for too long or answering 410 Gone.",
    StaffInvited => "staff.invited": "A person was invited by email to join the firm as staff (or the invitation was sent again; `data.id` is the invitation).",
    PortalInvited => "portal.invited": "A contact was invited to the portal (or the invitation was sent again).",
    PortalActivated => "portal.activated": "A contact accepted an invitation and can now use the portal.",
    PortalDisabled => "portal.disabled": "A portal was disabled.",
    PortalPasswordReset => "portal.password_reset": "A contact asked to reset the portal password (email only).",
    NewDeviceSignIn => "auth.new_device_sign_in": "A staff member or contact signed in from a device not seen on their sessions before (email only).",
    InvoiceCreated => "invoice.created": "An invoice was created (also by an upsert).",
    InvoiceUpdated => "invoice.updated": "An invoice changed.",
    InvoiceEmailed => "invoice.emailed": "An invoice was emailed to its recipients.",
    InvoiceViewed => "invoice.viewed": "A portal contact opened an invoice for the first time.",
    InvoicePaid => "invoice.paid": "An invoice's balance reached zero.",
    PaymentRecorded => "payment.recorded": "Staff or an integration recorded a payment received outside the portal.",
    PaymentSucceeded => "payment.succeeded": "A card payment went through.",
    PaymentFailed => "payment.failed": "A card payment was declined or failed at the processor.",
    PaymentRefunded => "payment.refunded": "Money of a payment was given back (wholly or in part).",
    PaymentDisputed => "payment.disputed": "The card holder disputed a card payment with their bank.",
    PaymentMethodSaved => "payment_method.saved": "A portal contact saved a card for later payments.",
    PaymentMethodRemoved => "payment_method.removed": "A saved card was removed.",
    ConversationStarted => "conversation.started": "A conversation was started, by staff or by a contact from the portal.",
    MessageCreated => "message.created": "A message was posted to a conversation (its first message included).",
    DocumentCreated => "document.created": "A document was uploaded.",
    DocumentUpdated => "document.updated": "A document was renamed, moved, or shown to or hidden from the client.",
    DocumentDeleted => "document.deleted": "A document was deleted.",
    DocumentUploaded => "document.uploaded": "The client side handed over a file: a contact in the portal (into a document request or not) or an upload link. `data.uploaded_by` names who.",
    DocumentScanned => "document.scanned": "The malware scanner finished with a document: `data.scan_status` is `clean`, or `failed` when it could not judge the file.",
    DocumentInfected => "document.infected": "The malware scanner found malware in a document (`data.threat`); it is quarantined.",
    DocumentRequestCreated => "document_request.created": "Staff asked a contact for documents (`data.id` is the request).",
    DocumentRequestItemUploaded => "document_request.item_uploaded": "The contact uploaded into an item of a request (`data.item_id`).",
    DocumentRequestItemAccepted => "document_request.item_accepted": "Staff accepted an item of a request (`data.item_id`).",
    DocumentRequestItemReturned => "document_request.item_returned": "Staff returned an item to the contact with a reason (`data.item_id`).",
    DocumentRequestCompleted => "document_request.completed": "Every item of a request was accepted.",
    DocumentRequestCancelled => "document_request.cancelled": "Staff cancelled a request.",
    DocumentRequestReminded => "document_request.reminded": "The contact was emailed a reminder of what a request still waits for.",
    DocumentShared => "document.shared": "A document was shared to a contact's portal (`data.id` is the share).",
    ShareEnded => "share.ended": "Sharing a document to a portal was ended (`data.id` is the share).",
    SignatureRequested => "signature.requested": "A contact was asked to sign a document (`data.id` is the request).",
    SignatureSigned => "signature.signed": "A contact signed a document (`data.id` is the request).",
    SignatureDeclined => "signature.declined": "A contact declined to sign a document (`data.id` is the request).",
    FileTransferSent => "file_transfer.sent": "Files were sent to a contact's portal (`data.id` is the file transfer).",
    AccessLinkEmailed => "access_link.emailed": "An access link was emailed to a contact, without its code (`data.id` is the contact-log entry).",
    AccessLinkLocked => "access_link.locked": "An access link was locked after too many wrong security codes (`data.id` is the link).",
    AccessLinkUploaded => "access_link.uploaded": "Files were uploaded through an upload link (`data.id` is the link).",
    AuditCheckpoint => "audit.checkpoint": "The firm's audit chain grew since the last checkpoint; its head (`data.seq`, `data.head_hash`) is published signed (`data.signature`, Ed25519 by `data.key_id`), so a rewritten chain shows against a kept copy (`data.id` is the firm).",
    AccessLinkReminded => "access_link.reminded": "Those an access link was emailed to were reminded that it expires soon, or that nothing was uploaded through it yet (`data.id` is the link).",
}

impl EventType {
    /// Whether webhooks see this type at all; password resets and sign-in alerts concern one
    /// person only.
    pub fn for_webhooks(self) -> bool {
        !matches!(self, Self::PortalPasswordReset | Self::NewDeviceSignIn)
    }

    /// Whether an endpoint subscribed to `filter` (empty: everything) gets this type.
    pub fn matches(self, filter: &[EventType]) -> bool {
        filter.is_empty() || filter.contains(&self)
    }
}

/// The JSON body of every webhook request. It comes with the Standard Webhooks headers
/// `webhook-id` (the event id, the same on every attempt and replay), `webhook-timestamp`
/// (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
/// several separated by spaces during a secret rotation). See docs/webhooks.md.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookPayload {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the event happened.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub data: WebhookData,
}

/// Why a webhook endpoint stopped receiving: an admin disabled it (`manual`), the receiver
/// answered 410 (`gone`), or it kept failing past the allowed time (`failing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    Manual,
    Gone,
    Failing,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Gone => "gone",
            Self::Failing => "failing",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "manual" => Some(Self::Manual),
            "gone" => Some(Self::Gone),
            "failing" => Some(Self::Failing),
            _ => None,
        }
    }
}

/// How an event leaves: as a webhook or as an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        [Self::Webhook, Self::Email].into_iter().find(|c| c.as_str() == raw)
    }
}

/// `pending` until tried or between retries, `delivering` while claimed, then `delivered`
/// or `dead` (retries exhausted, or the endpoint disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivering,
    Delivered,
    Dead,
}

impl DeliveryStatus {
    const ALL: [Self; 4] = [Self::Pending, Self::Delivering, Self::Delivered, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivering => "delivering",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Ids only: receivers fetch the current state through the API.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookData {
    /// The id of the record the event is about (a client, contact, matter or webhook endpoint).
    pub id: String,
    pub firm_id: crate::ids::FirmId,
    /// `webhook_endpoint.disabled` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DisabledReason>,
    /// `document.uploaded` only: who on the client side handed the file over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<UploadedBy>,
    /// `document.uploaded` into a request item: the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_request_id: Option<String>,
    /// The request item, on `document_request.item_*` (and `document.uploaded` into one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// `audit.checkpoint` only: the sequence number of the chain's head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// `audit.checkpoint` only: the head's hash (SHA-256, hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// `audit.checkpoint` only: when the head was signed (RFC 3339, part of the signed text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// `audit.checkpoint` only: Ed25519 signature (base64) over
    /// `vestibule-audit-checkpoint:v1:<firm_id>:<seq>:<head_hash>:<signed_at>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// `audit.checkpoint` only: the signing key, as `GET /v1/audit-events/checkpoint-key` names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `document.scanned` and `document.infected`: the document's new scan status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_status: Option<crate::scan::ScanStatus>,
    /// `document.infected` only: the scanner's name for what it found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<String>,
}

/// The client-side uploader a `document.uploaded` event names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadedBy {
    #[serde(rename = "type")]
    pub kind: UploaderKind,
    /// The contact (`con_…`) or access link (`alk_…`).
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploaderKind {
    /// A contact signed in to the portal.
    Contact,
    /// Someone holding an upload link and its code.
    AccessLink,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_and_delivery_statuses_are_stored_as_their_wire_names() {
        for channel in [Channel::Webhook, Channel::Email] {
            assert_eq!(Channel::from_stored(channel.as_str()), Some(channel));
            assert_eq!(serde_json::to_value(channel).unwrap(), channel.as_str());
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::from_stored(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(Channel::from_stored("sms"), None);
        assert_eq!(DeliveryStatus::from_stored("lost"), None);
    }
}
