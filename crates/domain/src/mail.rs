//! The emails Vestibule sends, as typed values: one variant per kind, each with exactly what
//! its template needs. A delivery stores its email's fields as JSON (`deliveries.content`,
//! dropped once delivered) and the event's type says which email it is, so the JSON carries
//! no tag: field names and order are those deliveries already queued were written with.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::access_link::LinkKind;
use crate::events::{DisabledReason, EventType};

/// One email about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Email {
    /// To each admin of the firm. Its fields are the event's data, shared by every admin's
    /// email, so it has no content of its own.
    WebhookEndpointDisabled(EndpointDisabled),
    PortalInvited(Invitation),
    /// To a person invited to join the firm's staff: a one-time link to choose a password.
    StaffInvited(Invitation),
    PortalActivated(Welcome),
    PortalPasswordReset(PasswordReset),
    /// To a staff member or contact who signed in from a device not seen before: what, from
    /// where, and where to end the session; never a token.
    NewDeviceSignIn(NewDevice),
    InvoiceEmailed(Invoice),
    /// To a contact, when staff post a message (seed 001: never the message itself).
    MessageCreated(SecureMessage),
    /// To the staff the firm's policy names, when a contact starts a conversation.
    ConversationStarted(NewConversation),
    DocumentShared(SharedDocuments),
    SignatureRequested(SignatureRequest),
    FileTransferSent(FileTransfer),
    AccessLinkEmailed(LinkEmail),
    AccessLinkLocked(LinkAlert),
    AccessLinkUploaded(LinkUpload),
    /// To the contact who paid by card: what was paid, for which invoices.
    PaymentReceipt(Receipt),
    /// To the contact asked for documents; like every email to a contact, it names no
    /// document, only how many and by when.
    DocumentRequested(DocumentRequest),
    /// To the contact: staff returned an item and ask for it again (the reason is in the portal).
    DocumentRequestReturned(DocumentRequest),
    DocumentRequestReminder(RequestReminder),
    /// To the staff the firm's policy names: the client side uploaded files.
    ClientUploaded(ClientUpload),
    /// To those an access link was emailed to: it expires soon, or waits for their files.
    /// It carries the link again, never its code.
    AccessLinkReminder(LinkReminder),
    /// To the staff a quarantined file concerns: the scanner found malware in it.
    DocumentQuarantined(Quarantined),
}

/// The data of a `webhook_endpoint.disabled` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointDisabled {
    #[serde(rename = "id")]
    pub endpoint_id: String,
    pub reason: DisabledReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// One-time: it carries the invitation's token.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    /// One-time: it carries the reset token.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDevice {
    /// As `Firefox on Linux` (`domain::device`).
    pub device: String,
    pub ip: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    /// Where the person sees their sessions and ends one.
    pub link: String,
}

/// Seed 004: the lists the sender typed; only `to` may have been invited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    /// The sender's; without one the email names the invoice and the firm.
    pub subject: Option<String>,
    pub message: Option<String>,
    pub number: String,
    pub link: String,
    /// Where the contact pays online, when the firm takes card payments and something is owed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_link: Option<String>,
}

/// A card payment's receipt: amounts and invoice numbers, nothing confidential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub amount_minor: i64,
    pub currency: String,
    pub paid_on: chrono::NaiveDate,
    /// The numbers of the invoices it paid.
    pub invoices: Vec<String>,
    /// The card, as `visa ending 4242`.
    pub card: Option<String>,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRequest {
    pub link: String,
    /// How many items wait for the contact.
    pub items: usize,
    pub due_on: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestReminder {
    pub link: String,
    pub items: usize,
    /// The earliest due date of the waiting items.
    pub due_on: Option<chrono::NaiveDate>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkReminder {
    pub link: String,
    pub kind: LinkKind,
    pub expires_at: DateTime<Utc>,
    /// `true`: nothing was uploaded yet; `false`: the link expires soon.
    pub nothing_uploaded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientUpload {
    /// Where staff see the files: the document request, or the client's documents.
    pub link: String,
    pub client_name: String,
    /// Who uploaded, as staff know them.
    pub uploader: String,
    pub files: Vec<String>,
}

/// A file the malware scanner quarantined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// Where staff see the document.
    pub link: String,
    pub client_name: String,
    pub document_name: String,
    /// The scanner's name for what it found.
    pub threat: String,
}

/// Who a messaging email is for; both kinds of email only say where to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Contact,
    Staff,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecureMessage {
    pub audience: Audience,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConversation {
    pub audience: Audience,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDocuments {
    pub link: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRequest {
    pub link: String,
}

/// Seed 000's "send files to contact".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTransfer {
    pub subject: String,
    /// Only when the sender chose delivery by email; otherwise it waits in the portal.
    pub message: Option<String>,
    pub files: Vec<String>,
    /// How many of the files ask for a signature.
    pub signatures: usize,
    /// The contact has yet to register, and gets an invitation by separate email.
    pub registration_pending: bool,
    pub link: String,
}

/// Seed 002's contact log: the staff member's message with the link inserted, never its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEmail {
    pub subject: String,
    pub message: String,
    pub link: String,
    pub kind: LinkKind,
    pub expires_at: DateTime<Utc>,
    /// Deliveries queued before link emails could name documents have none.
    #[serde(default)]
    pub files: Vec<String>,
}

/// To the staff who see a link's work: something happened to the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkAlert {
    pub link: String,
    pub kind: LinkKind,
    pub client_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUpload {
    #[serde(flatten)]
    pub alert: LinkAlert,
    pub files: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("`{}` events are never emailed", .0.as_str())]
    NotEmailed(EventType),
    #[error("a `{}` email without its content", .0.as_str())]
    MissingContent(EventType),
    #[error("malformed content in a `{}` email: {error}", .event_type.as_str())]
    Malformed { event_type: EventType, error: serde_json::Error },
    #[error("a `{}` email queued for a `{event}` event", .email.as_str())]
    WrongEvent { email: EventType, event: String },
    #[error("a `{}` email that disagrees with its event's data", .0.as_str())]
    NotTheEventsData(EventType),
}

impl Email {
    /// The event this email is about: it is queued with that event, and read back by its type.
    pub fn event_type(&self) -> EventType {
        match self {
            Self::WebhookEndpointDisabled(_) => EventType::WebhookEndpointDisabled,
            Self::PortalInvited(_) => EventType::PortalInvited,
            Self::StaffInvited(_) => EventType::StaffInvited,
            Self::PortalActivated(_) => EventType::PortalActivated,
            Self::PortalPasswordReset(_) => EventType::PortalPasswordReset,
            Self::NewDeviceSignIn(_) => EventType::NewDeviceSignIn,
            Self::InvoiceEmailed(_) => EventType::InvoiceEmailed,
            Self::MessageCreated(_) => EventType::MessageCreated,
            Self::ConversationStarted(_) => EventType::ConversationStarted,
            Self::DocumentShared(_) => EventType::DocumentShared,
            Self::SignatureRequested(_) => EventType::SignatureRequested,
            Self::FileTransferSent(_) => EventType::FileTransferSent,
            Self::AccessLinkEmailed(_) => EventType::AccessLinkEmailed,
            Self::AccessLinkLocked(_) => EventType::AccessLinkLocked,
            Self::AccessLinkUploaded(_) => EventType::AccessLinkUploaded,
            Self::PaymentReceipt(_) => EventType::PaymentSucceeded,
            Self::DocumentRequested(_) => EventType::DocumentRequestCreated,
            Self::DocumentRequestReturned(_) => EventType::DocumentRequestItemReturned,
            Self::DocumentRequestReminder(_) => EventType::DocumentRequestReminded,
            Self::ClientUploaded(_) => EventType::DocumentUploaded,
            Self::AccessLinkReminder(_) => EventType::AccessLinkReminded,
            Self::DocumentQuarantined(_) => EventType::DocumentInfected,
        }
    }

    fn content(&self) -> Result<Option<String>, MailError> {
        let json = match self {
            Self::WebhookEndpointDisabled(_) => return Ok(None),
            Self::PortalInvited(email) => serde_json::to_string(email),
            Self::StaffInvited(email) => serde_json::to_string(email),
            Self::PortalActivated(email) => serde_json::to_string(email),
            Self::PortalPasswordReset(email) => serde_json::to_string(email),
            Self::NewDeviceSignIn(email) => serde_json::to_string(email),
            Self::InvoiceEmailed(email) => serde_json::to_string(email),
            Self::MessageCreated(email) => serde_json::to_string(email),
            Self::ConversationStarted(email) => serde_json::to_string(email),
            Self::DocumentShared(email) => serde_json::to_string(email),
            Self::SignatureRequested(email) => serde_json::to_string(email),
            Self::FileTransferSent(email) => serde_json::to_string(email),
            Self::AccessLinkEmailed(email) => serde_json::to_string(email),
            Self::AccessLinkLocked(email) => serde_json::to_string(email),
            Self::AccessLinkUploaded(email) => serde_json::to_string(email),
            Self::PaymentReceipt(email) => serde_json::to_string(email),
            Self::DocumentRequested(email) => serde_json::to_string(email),
            Self::DocumentRequestReturned(email) => serde_json::to_string(email),
            Self::DocumentRequestReminder(email) => serde_json::to_string(email),
            Self::ClientUploaded(email) => serde_json::to_string(email),
            Self::AccessLinkReminder(email) => serde_json::to_string(email),
            Self::DocumentQuarantined(email) => serde_json::to_string(email),
        };
        json.map(Some).map_err(|error| MailError::Malformed { event_type: self.event_type(), error })
    }

    /// The email a delivery of an `event_type` event holds, from the delivery's `content` and
    /// the event's `data` (JSON, as stored).
    pub fn parse(event_type: EventType, content: Option<&str>, event_data: &str) -> Result<Self, MailError> {
        let content = || content.ok_or(MailError::MissingContent(event_type));
        Ok(match event_type {
            EventType::WebhookEndpointDisabled => Self::WebhookEndpointDisabled(from_json(event_type, event_data)?),
            EventType::PortalInvited => Self::PortalInvited(from_json(event_type, content()?)?),
            EventType::StaffInvited => Self::StaffInvited(from_json(event_type, content()?)?),
            EventType::PortalActivated => Self::PortalActivated(from_json(event_type, content()?)?),
            EventType::PortalPasswordReset => Self::PortalPasswordReset(from_json(event_type, content()?)?),
            EventType::NewDeviceSignIn => Self::NewDeviceSignIn(from_json(event_type, content()?)?),
            EventType::InvoiceEmailed => Self::InvoiceEmailed(from_json(event_type, content()?)?),
            EventType::MessageCreated => Self::MessageCreated(from_json(event_type, content()?)?),
            EventType::ConversationStarted => Self::ConversationStarted(from_json(event_type, content()?)?),
            EventType::DocumentShared => Self::DocumentShared(from_json(event_type, content()?)?),
            EventType::SignatureRequested => Self::SignatureRequested(from_json(event_type, content()?)?),
            EventType::FileTransferSent => Self::FileTransferSent(from_json(event_type, content()?)?),
            EventType::AccessLinkEmailed => Self::AccessLinkEmailed(from_json(event_type, content()?)?),
            EventType::AccessLinkLocked => Self::AccessLinkLocked(from_json(event_type, content()?)?),
            EventType::AccessLinkUploaded => Self::AccessLinkUploaded(from_json(event_type, content()?)?),
            EventType::PaymentSucceeded => Self::PaymentReceipt(from_json(event_type, content()?)?),
            EventType::DocumentRequestCreated => Self::DocumentRequested(from_json(event_type, content()?)?),
            EventType::DocumentRequestItemReturned => Self::DocumentRequestReturned(from_json(event_type, content()?)?),
            EventType::DocumentRequestReminded => Self::DocumentRequestReminder(from_json(event_type, content()?)?),
            EventType::DocumentUploaded => Self::ClientUploaded(from_json(event_type, content()?)?),
            EventType::AccessLinkReminded => Self::AccessLinkReminder(from_json(event_type, content()?)?),
            EventType::DocumentInfected => Self::DocumentQuarantined(from_json(event_type, content()?)?),
            // Listed rather than `_`: a new event type must be placed on one side or the other.
            EventType::ClientCreated
            | EventType::ClientUpdated
            | EventType::ClientDeleted
            | EventType::ContactCreated
            | EventType::ContactUpdated
            | EventType::ContactDeleted
            | EventType::MatterCreated
            | EventType::MatterUpdated
            | EventType::MatterDeleted
            | EventType::MatterMembersChanged
            | EventType::WebhookTest
            | EventType::PortalDisabled
            | EventType::InvoiceCreated
            | EventType::InvoiceUpdated
            | EventType::DocumentCreated
            | EventType::DocumentUpdated
            | EventType::DocumentDeleted
            | EventType::DocumentScanned
            | EventType::ShareEnded
            | EventType::SignatureSigned
            | EventType::SignatureDeclined
            | EventType::InvoiceViewed
            | EventType::InvoicePaid
            | EventType::PaymentRecorded
            | EventType::PaymentFailed
            | EventType::PaymentRefunded
            | EventType::PaymentDisputed
            | EventType::PaymentMethodSaved
            | EventType::PaymentMethodRemoved
            | EventType::DocumentRequestItemUploaded
            | EventType::AuditCheckpoint
            | EventType::DocumentRequestItemAccepted
            | EventType::DocumentRequestCompleted
            | EventType::DocumentRequestCancelled => return Err(MailError::NotEmailed(event_type)),
        })
    }

    /// What a delivery of this email stores, once sure the event (its type as stored, and its
    /// data) is the one the email is about: what is stored must read back as the same email.
    pub fn content_for(&self, event: &str, event_data: &str) -> Result<Option<String>, MailError> {
        let event_type = self.event_type();
        if event != event_type.as_str() {
            return Err(MailError::WrongEvent { email: event_type, event: event.to_owned() });
        }
        let content = self.content()?;
        if Self::parse(event_type, content.as_deref(), event_data)? != *self {
            return Err(MailError::NotTheEventsData(event_type));
        }
        Ok(content)
    }
}

fn from_json<T: DeserializeOwned>(event_type: EventType, json: &str) -> Result<T, MailError> {
    serde_json::from_str(json).map_err(|error| MailError::Malformed { event_type, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
    }

    fn alert() -> LinkAlert {
        LinkAlert {
            link: "https://v.test/access-links/al_1".into(),
            kind: LinkKind::Upload,
            client_name: "Acme".into(),
        }
    }

    fn every_email() -> Vec<Email> {
        let link = || "https://v.test/portal".to_owned();
        vec![
            Email::WebhookEndpointDisabled(EndpointDisabled {
                endpoint_id: "whe_1".into(),
                reason: DisabledReason::Gone,
            }),
            Email::PortalInvited(Invitation { link: link(), expires_at: at("2030-01-02T03:04:05.123456Z") }),
            Email::StaffInvited(Invitation { link: link(), expires_at: at("2030-01-02T03:04:05.123456Z") }),
            Email::PortalActivated(Welcome { link: link() }),
            Email::PortalPasswordReset(PasswordReset { link: link() }),
            Email::NewDeviceSignIn(NewDevice {
                device: "Firefox on Linux".into(),
                ip: Some("203.0.113.7".into()),
                signed_in_at: at("2030-01-02T03:04:05Z"),
                link: link(),
            }),
            Email::InvoiceEmailed(Invoice {
                to: vec!["a@x.test".into(), "b@x.test".into()],
                cc: vec!["c@x.test".into()],
                bcc: vec![],
                subject: None,
                message: Some("Thanks\nfor your business".into()),
                number: "2024-001".into(),
                link: link(),
                pay_link: Some(link()),
            }),
            Email::PaymentReceipt(Receipt {
                amount_minor: 12_050,
                currency: "EUR".into(),
                paid_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
                invoices: vec!["2024-001".into()],
                card: Some("visa ending 4242".into()),
                link: link(),
            }),
            Email::MessageCreated(SecureMessage { audience: Audience::Contact, link: link() }),
            Email::ConversationStarted(NewConversation { audience: Audience::Staff, link: link() }),
            Email::DocumentShared(SharedDocuments { link: link(), count: 3 }),
            Email::SignatureRequested(SignatureRequest { link: link() }),
            Email::FileTransferSent(FileTransfer {
                subject: "Your tax return".into(),
                message: None,
                files: vec!["a.pdf".into(), "b.pdf".into()],
                signatures: 1,
                registration_pending: true,
                link: link(),
            }),
            Email::AccessLinkEmailed(LinkEmail {
                subject: "Documents for you".into(),
                message: String::new(),
                link: link(),
                kind: LinkKind::Download,
                expires_at: at("2030-01-02T03:04:05Z"),
                files: vec!["a.pdf".into()],
            }),
            Email::AccessLinkLocked(alert()),
            Email::AccessLinkUploaded(LinkUpload { alert: alert(), files: vec!["scan.pdf".into()] }),
            Email::DocumentRequested(DocumentRequest { link: link(), items: 3, due_on: None }),
            Email::DocumentRequestReturned(DocumentRequest {
                link: link(),
                items: 1,
                due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 24),
            }),
            Email::DocumentRequestReminder(RequestReminder {
                link: link(),
                items: 2,
                due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 24),
                overdue: true,
            }),
            Email::ClientUploaded(ClientUpload {
                link: link(),
                client_name: "Acme".into(),
                uploader: "Ada Lovelace".into(),
                files: vec!["w2.pdf".into()],
            }),
            Email::AccessLinkReminder(LinkReminder {
                link: link(),
                kind: LinkKind::Upload,
                expires_at: at("2030-01-02T03:04:05Z"),
                nothing_uploaded: true,
            }),
            Email::DocumentQuarantined(Quarantined {
                link: link(),
                client_name: "Acme".into(),
                document_name: "invoice.pdf.exe".into(),
                threat: "Eicar-Test-Signature".into(),
            }),
        ]
    }

    /// What the event of `email` holds: only the disabled endpoint's email reads it.
    fn data_of(email: &Email) -> String {
        match email {
            Email::WebhookEndpointDisabled(data) => serde_json::to_string(data).unwrap(),
            _ => r#"{"id":"evt"}"#.to_owned(),
        }
    }

    #[test]
    fn every_email_reads_back_as_itself() {
        for email in every_email() {
            let data = data_of(&email);
            let content = email.content_for(email.event_type().as_str(), &data).unwrap();
            assert_eq!(Email::parse(email.event_type(), content.as_deref(), &data).unwrap(), email);
        }
    }

    #[test]
    fn the_endpoint_email_has_no_content_and_reads_the_event() {
        let email =
            Email::parse(EventType::WebhookEndpointDisabled, None, r#"{"id":"whe_9","reason":"failing"}"#).unwrap();
        assert_eq!(
            email,
            Email::WebhookEndpointDisabled(EndpointDisabled {
                endpoint_id: "whe_9".into(),
                reason: DisabledReason::Failing
            })
        );
        assert_eq!(email.content().unwrap(), None);
    }

    #[test]
    fn content_keeps_the_stored_keys_in_their_order() {
        let invoice = every_email().into_iter().find(|e| matches!(e, Email::InvoiceEmailed(_))).unwrap();
        assert_eq!(
            invoice.content().unwrap().unwrap(),
            r#"{"to":["a@x.test","b@x.test"],"cc":["c@x.test"],"bcc":[],"subject":null,"message":"Thanks\nfor your business","number":"2024-001","link":"https://v.test/portal","pay_link":"https://v.test/portal"}"#
        );
        let upload = Email::AccessLinkUploaded(LinkUpload { alert: alert(), files: vec!["scan.pdf".into()] });
        assert_eq!(
            upload.content().unwrap().unwrap(),
            r#"{"link":"https://v.test/access-links/al_1","kind":"upload","client_name":"Acme","files":["scan.pdf"]}"#
        );
    }

    /// Contents as the handlers wrote them with `json!` before these types existed.
    #[test]
    fn contents_queued_by_the_previous_version_parse() {
        let data = r#"{"id":"evt"}"#;
        let parse = |t: EventType, c: &str| Email::parse(t, Some(c), data).unwrap();
        assert_eq!(
            parse(EventType::PortalInvited, r#"{"link":"L","expires_at":"2030-01-02T03:04:05.5+00:00"}"#),
            Email::PortalInvited(Invitation { link: "L".into(), expires_at: at("2030-01-02T03:04:05.5Z") })
        );
        assert_eq!(
            parse(
                EventType::FileTransferSent,
                r#"{"subject":"S","message":null,"files":["a.pdf"],"signatures":0,"registration_pending":false,"link":"L"}"#
            ),
            Email::FileTransferSent(FileTransfer {
                subject: "S".into(),
                message: None,
                files: vec!["a.pdf".into()],
                signatures: 0,
                registration_pending: false,
                link: "L".into(),
            })
        );
        assert_eq!(
            parse(EventType::MessageCreated, r#"{"audience":"contact","link":"L"}"#),
            Email::MessageCreated(SecureMessage { audience: Audience::Contact, link: "L".into() })
        );
        assert_eq!(
            parse(EventType::AccessLinkLocked, r#"{"link":"L","kind":"download","client_name":"Acme"}"#),
            Email::AccessLinkLocked(LinkAlert {
                link: "L".into(),
                kind: LinkKind::Download,
                client_name: "Acme".into()
            })
        );
        assert_eq!(
            parse(
                EventType::InvoiceEmailed,
                r#"{"to":["a@x.test"],"cc":[],"bcc":[],"subject":"Hi","message":null,"number":"7","link":"L"}"#
            ),
            Email::InvoiceEmailed(Invoice {
                to: vec!["a@x.test".into()],
                cc: vec![],
                bcc: vec![],
                subject: Some("Hi".into()),
                message: None,
                number: "7".into(),
                link: "L".into(),
                pay_link: None,
            })
        );
        // Link emails from before they could name documents.
        assert_eq!(
            parse(
                EventType::AccessLinkEmailed,
                r#"{"subject":"S","message":"M","link":"L","kind":"upload","expires_at":"2030-01-02T03:04:05Z"}"#
            ),
            Email::AccessLinkEmailed(LinkEmail {
                subject: "S".into(),
                message: "M".into(),
                link: "L".into(),
                kind: LinkKind::Upload,
                expires_at: at("2030-01-02T03:04:05Z"),
                files: vec![],
            })
        );
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        let data = r#"{"id":"evt"}"#;
        assert!(matches!(
            Email::parse(EventType::ClientCreated, Some("{}"), data),
            Err(MailError::NotEmailed(EventType::ClientCreated))
        ));
        assert!(matches!(Email::parse(EventType::PortalInvited, None, data), Err(MailError::MissingContent(_))));
        assert!(matches!(
            Email::parse(EventType::SignatureRequested, Some(r#"{"lnk":"typo"}"#), data),
            Err(MailError::Malformed { event_type: EventType::SignatureRequested, .. })
        ));
        assert!(matches!(
            Email::parse(EventType::WebhookEndpointDisabled, None, r#"{"id":"whe_1"}"#),
            Err(MailError::Malformed { .. })
        ));
        let welcome = Email::PortalActivated(Welcome { link: "L".into() });
        assert!(matches!(welcome.content_for("portal.invited", data), Err(MailError::WrongEvent { .. })));
        let disabled = Email::WebhookEndpointDisabled(EndpointDisabled {
            endpoint_id: "whe_1".into(),
            reason: DisabledReason::Gone,
        });
        assert!(matches!(
            disabled.content_for("webhook_endpoint.disabled", r#"{"id":"whe_2","reason":"gone"}"#),
            Err(MailError::NotTheEventsData(EventType::WebhookEndpointDisabled))
        ));
    }
}
