//! Typed, prefixed ids (`cli_0193…`). The suffix is a UUIDv7 in simple form, so ids sort by
//! creation time, which is what cursor pagination orders by.

use std::fmt;

use crate::FieldError;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Accepts only ids of this type, so a matter id passed where a client id is
            /// expected is rejected before any query runs.
            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                parse_prefixed(raw, $prefix).map(|()| Self(raw.to_owned())).ok_or_else(|| {
                    FieldError::new("", "invalid_id", format!("expected an id starting with `{}_`", $prefix))
                })
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// For rows read back from the database, which only ever hold ids we generated.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw).map_err(|e| e.detail)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "_[0-9a-f]{32}$")))
                    .examples([serde_json::json!(concat!($prefix, "_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b"))])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

fn parse_prefixed(raw: &str, prefix: &str) -> Option<()> {
    let rest = raw.strip_prefix(prefix)?.strip_prefix('_')?;
    (rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(())
}

typed_id!(/// A firm: the tenant.
    FirmId, "frm");
typed_id!(/// A staff member of a firm.
    StaffId, "stf");
typed_id!(/// An office of a firm.
    OfficeId, "ofc");
typed_id!(/// A client (person or organisation).
    ClientId, "cli");
typed_id!(/// A contact person.
    ContactId, "con");
typed_id!(/// A matter of a client.
    MatterId, "mat");
typed_id!(/// An integration API key.
    ApiKeyId, "key");
typed_id!(/// A login session (a chain of refresh tokens).
    SessionId, "ses");
typed_id!(/// An audit event.
    AuditEventId, "aud");
typed_id!(/// An event in the outbox; also the `webhook-id` of its webhook deliveries.
    EventId, "evt");
typed_id!(/// A webhook endpoint of a firm.
    WebhookEndpointId, "whe");
typed_id!(/// One delivery of an event to one webhook endpoint or email address.
    DeliveryId, "dlv");
typed_id!(/// One attempt at a delivery.
    AttemptId, "att");
typed_id!(/// A contact's access to the firm's client portal.
    PortalId, "prt");
typed_id!(/// Access of a portal to one client or matter.
    PortalGrantId, "pgr");
typed_id!(/// An invitation to a portal.
    InvitationId, "ivt");
typed_id!(/// An invitation of a new staff member by email.
    StaffInvitationId, "sti");
typed_id!(/// An invoice.
    InvoiceId, "inv");
typed_id!(/// A firm-wide message template.
    TemplateId, "tpl");
typed_id!(/// A conversation (secure message thread) with one contact about a client or matter.
    ConversationId, "cnv");
typed_id!(/// One message of a conversation.
    MessageId, "msg");
typed_id!(/// An in-app notification of a staff member or a portal contact.
    NotificationId, "ntf");
typed_id!(/// One event of a live (Server-Sent Events) stream; its `id:` field.
    LiveEventId, "lve");
typed_id!(/// A document: a stored file of a client or matter.
    DocumentId, "doc");
typed_id!(/// A folder of documents.
    FolderId, "fld");
typed_id!(/// A document shared to a contact's portal.
    ShareId, "shr");
typed_id!(/// A request to a contact to sign a document.
    SignatureRequestId, "sig");
typed_id!(/// Files sent to a contact in one go (seed 000's "Send Files to Contact").
    FileTransferId, "ftr");
typed_id!(/// A download or upload link of a client or matter, opened with a security code (seed 002).
    AccessLinkId, "alk");
typed_id!(/// An email that carried an access link to a contact: an entry of the contact log.
    LinkEmailId, "lem");
typed_id!(/// Money received from a client, allocated to its invoices.
    PaymentId, "pay");
typed_id!(/// Money given back on a payment: a child of the payment, never an edit of it.
    RefundId, "rfd");
typed_id!(/// A card a portal contact saved at the processor for later payments.
    PaymentMethodId, "pmt");
typed_id!(/// A started "save a card" flow, bound to the contact who started it.
    PaymentSetupId, "pst");
typed_id!(/// A list of documents staff ask a contact to provide.
    DocumentRequestId, "drq");
typed_id!(/// One document asked for in a document request.
    RequestItemId, "dri");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_id_parses_back() {
        let id = ClientId::generate();
        assert_eq!(ClientId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn an_id_of_another_type_is_rejected() {
        let id = MatterId::generate();
        assert!(ClientId::parse(id.as_str()).is_err());
        assert!(ClientId::parse("cli_../../etc").is_err());
        assert!(ClientId::parse("cli_0193A3B2C4D57E8F9A0B1C2D3E4F5A6B").is_err());
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let first = ClientId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(ClientId::generate() > first);
    }
}
