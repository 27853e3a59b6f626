//! Posting a message and telling everyone who should know (seed 001), in the transaction of
//! the message: the contact gets an email without the content and a live event when staff
//! write; staff get in-app notifications (and, when a client starts a conversation, emails
//! per the firm's policy) when the contact writes. Webhooks get `conversation.started` and
//! `message.created`.

use serde_json::json;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::MessageId;
use vestibule_domain::mail::{self, Audience, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::portal::{Delivery, PortalStatus};
use vestibule_domain::principal::Principal;
use vestibule_domain::template::{Placeholder, TemplateText, Values};
use vestibule_domain::{FieldError, text};
use vestibule_storage::conversations::{self, CONTACT, ConversationRow, MessageRow, STAFF};
use vestibule_storage::portals::{self, PortalRow};
use vestibule_storage::{DbConnection, clients, contacts, firms, live, matters, outbox, staff, templates};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::events;
use crate::notifications::{self, Notice, Recipient};

pub const MAX_BODY_CHARS: usize = 20_000;
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_CHANNEL_CHARS: usize = 64;

/// Live event kinds, as the stream names them.
pub const LIVE_MESSAGE: &str = "message.created";

/// Staff write only to a contact whose portal is active and shows the conversation's client
/// or matter; the codes tell the frontend what to offer instead (create or reactivate a
/// portal, or grant it access).
pub fn reachable_portal(
    conn: &mut DbConnection,
    firm_id: &str,
    contact_id: &str,
    client_id: &str,
    matter_id: Option<&str>,
) -> AppResult<PortalRow> {
    portal_for(conn, firm_id, contact_id, (client_id, matter_id), Delivery::Message)
}

/// The contact's portal, ready for `delivery` and showing the client or matter; refused with
/// the codes of [`reachable_portal`] otherwise.
pub fn portal_for(
    conn: &mut DbConnection,
    firm_id: &str,
    contact_id: &str,
    (client_id, matter_id): (&str, Option<&str>),
    delivery: Delivery,
) -> AppResult<PortalRow> {
    let Some(portal) = portals::for_contact(conn, firm_id, contact_id)? else {
        return Err(AppError::conflict(
            "portal_required",
            "this contact has no client portal; create one (full or temporary) first",
        ));
    };
    let status = PortalStatus::of(&portal.status, portal.disabled_at, portal.expires_at, vestibule_storage::now());
    if !status.receives(delivery) {
        let ready = match delivery {
            Delivery::Message => "active (registered, enabled, not expired)",
            Delivery::Files => "enabled and not expired",
        };
        return Err(AppError::conflict(
            "portal_inactive",
            format!("the contact's portal is {}; it must be {ready} for this", status.as_str()),
        ));
    }
    if !portal_shows(conn, &portal.id, client_id, matter_id)? {
        return Err(AppError::conflict(
            "portal_lacks_access",
            "the contact's portal does not show this client or matter; grant it first",
        ));
    }
    Ok(portal)
}

/// Whether the portal's grants show this client (without a matter) or this matter.
pub fn portal_shows(
    conn: &mut DbConnection,
    portal_id: &str,
    client_id: &str,
    matter_id: Option<&str>,
) -> AppResult<bool> {
    let visible = portals::visible(conn, portal_id)?;
    Ok(match matter_id {
        Some(matter) => visible.matters.iter().any(|(id, _, _)| id == matter),
        None => visible.clients.iter().any(|(id, _)| id == client_id),
    })
}

/// Everything a template may fill in, for one conversation and sender.
pub struct TemplateValues {
    client_name: String,
    contact: (String, String),
    matter: Option<(String, Option<String>)>,
    firm_name: String,
    staff_name: String,
}

impl Values for TemplateValues {
    fn value(&self, placeholder: Placeholder) -> Option<String> {
        match placeholder {
            Placeholder::ClientName => Some(self.client_name.clone()),
            Placeholder::ContactFirstName => Some(self.contact.0.clone()),
            Placeholder::ContactLastName => Some(self.contact.1.clone()),
            Placeholder::ContactFullName => Some(format!("{} {}", self.contact.0, self.contact.1)),
            Placeholder::MatterTitle => self.matter.as_ref().map(|(title, _)| title.clone()),
            Placeholder::MatterReference => self.matter.as_ref().and_then(|(_, reference)| reference.clone()),
            Placeholder::FirmName => Some(self.firm_name.clone()),
            Placeholder::StaffName => Some(self.staff_name.clone()),
        }
    }
}

impl TemplateValues {
    pub fn load(
        conn: &mut DbConnection,
        firm_id: &str,
        staff_id: &str,
        client_id: &str,
        contact_id: &str,
        matter_id: Option<&str>,
    ) -> AppResult<Self> {
        let contact = contacts::get(conn, firm_id, contact_id)?;
        let matter = match matter_id {
            Some(id) => {
                let row = matters::get(conn, firm_id, id, &vestibule_domain::authz::MatterVisibility::All)?;
                Some((row.title, row.reference))
            }
            None => None,
        };
        Ok(Self {
            client_name: clients::get(conn, firm_id, client_id)?.row.name,
            contact: (contact.first_name, contact.last_name),
            matter,
            firm_name: firms::get(conn, firm_id)?.name,
            staff_name: staff::get(conn, firm_id, staff_id)?.name,
        })
    }
}

/// A template rendered for a conversation: `(subject, body)`. An unknown template or a
/// placeholder without a value is refused at `pointer`.
pub fn render_template(
    conn: &mut DbConnection,
    firm_id: &str,
    template_id: &str,
    values: &TemplateValues,
    pointer: &str,
) -> AppResult<(String, String)> {
    let template = templates::get(conn, firm_id, template_id).or_unknown(pointer, "no such template in this firm")?;
    let render = |raw: &str| -> AppResult<String> {
        let parsed = TemplateText::parse(raw).map_err(|e| AppError::Validation(e.at(pointer).into()))?;
        parsed.render(values).map_err(|e| AppError::Validation(e.at(pointer).into()))
    };
    Ok((render(&template.subject)?, render(&template.body)?))
}

/// A message body as typed: trimmed, not blank, bounded.
pub fn body(raw: &str) -> Result<String, FieldError> {
    text::required(raw, MAX_BODY_CHARS)
}

/// A channel name as typed (seed 003): trimmed and bounded; blank means none.
pub fn channel(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    text::optional(raw, MAX_CHANNEL_CHARS)
}

/// One message to post. `starts` marks the first message of a new conversation.
pub struct Posting<'a> {
    pub conversation: &'a ConversationRow,
    pub body: String,
    pub starts: bool,
    /// The staff member a message is sent on behalf of (seed 000's "from staff"); else the caller.
    pub on_behalf_of: Option<&'a str>,
    /// Whether the contact gets the "new secure message" email; a file transfer sends its own.
    pub email_contact: bool,
}

impl<'a> Posting<'a> {
    pub fn new(conversation: &'a ConversationRow, body: String, starts: bool) -> Self {
        Self { conversation, body, starts, on_behalf_of: None, email_contact: true }
    }
}

/// Stores the message and queues every notification, email, live event and webhook it
/// causes.
#[tracing::instrument(skip_all, fields(conversation_id = %posting.conversation.id))]
pub fn post(conn: &mut DbConnection, ctx: &Context, posting: Posting<'_>) -> AppResult<MessageRow> {
    let Posting { conversation, body, starts, on_behalf_of, email_contact } = posting;
    let (author_kind, author_id) = match &ctx.principal {
        Principal::Staff(me) => (STAFF, on_behalf_of.unwrap_or(me.staff_id.as_str())),
        Principal::Contact(me) => (CONTACT, me.contact_id.as_str()),
        Principal::Integration(_) => return Err(AppError::Forbidden("messages are written by people".to_owned())),
    };
    let message = MessageRow {
        id: MessageId::generate().into(),
        firm_id: conversation.firm_id.clone(),
        conversation_id: conversation.id.clone(),
        author_kind: author_kind.to_owned(),
        author_id: author_id.to_owned(),
        body,
        created_at: vestibule_storage::now(),
    };
    conversations::insert_message(conn, &message)?;
    let firm_id = conversation.firm_id.as_str();
    let (started, created) = if starts {
        let entry = Entry::success("conversation.started", "conversation", &conversation.id)
            .with_details(json!({ "client_id": conversation.client_id, "matter_id": conversation.matter_id }));
        let started = audit::record_publishing(conn, ctx, entry, EventType::ConversationStarted)?;
        (Some(started), events::publish(conn, firm_id, EventType::MessageCreated, &message.id)?)
    } else {
        let entry = Entry::success("message.created", "message", &message.id)
            .with_details(json!({ "conversation_id": conversation.id }));
        (None, audit::record_publishing(conn, ctx, entry, EventType::MessageCreated)?)
    };
    let live_data = json!({ "conversation_id": conversation.id, "message_id": message.id });
    if author_kind == STAFF {
        // The email says only that something is waiting; the content stays in the portal.
        let contact = contacts::get(conn, firm_id, &conversation.contact_id)?;
        if let Some(email) = contact.email.as_deref().filter(|_| email_contact) {
            let link = ctx.settings.link(&format!("/portal/conversations/{}", conversation.id));
            let content = Email::MessageCreated(mail::SecureMessage { audience: Audience::Contact, link });
            outbox::queue_email(conn, &created, email, &content)?;
        }
        live::push(conn, firm_id, (CONTACT, &conversation.contact_id), LIVE_MESSAGE, &live_data)?;
        let notice = Notice {
            message_id: Some(&message.id),
            ..Notice::new(
                NotificationKind::NewMessage,
                &conversation.client_id,
                (SubjectType::Conversation, &conversation.id),
            )
        };
        notifications::notify(conn, firm_id, [Recipient::Contact(&conversation.contact_id)], notice)?;
        return Ok(message);
    }
    let recipients = match started {
        Some(_) => {
            notifications::staff_to_tell(conn, firm_id, &conversation.client_id, conversation.matter_id.as_deref())?
        }
        // Seed 001: every member with access hears about a client's reply, in the app only.
        None => staff::with_access(conn, firm_id, conversation.matter_id.as_deref())?,
    };
    let kind =
        if started.is_some() { NotificationKind::ConversationStarted } else { NotificationKind::MessageReceived };
    let notice = Notice {
        message_id: Some(&message.id),
        ..Notice::new(kind, &conversation.client_id, (SubjectType::Conversation, &conversation.id))
    };
    notifications::notify(conn, firm_id, notifications::to_staff(&recipients), notice)?;
    if let Some(event) = &started {
        let link = ctx.settings.link(&format!("/conversations/{}", conversation.id));
        let content = Email::ConversationStarted(mail::NewConversation { audience: Audience::Staff, link });
        for member in &recipients {
            outbox::queue_email(conn, event, &member.email, &content)?;
        }
    }
    Ok(message)
}
