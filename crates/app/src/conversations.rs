//! Conversations read and answered from either side: the firm's inbox (staff, and
//! integrations that archive) and a contact's portal. Posting a message, and who hears of
//! it, is `messaging`.

use chrono::NaiveDateTime;
use vestibule_domain::authz::{Action, MatterVisibility, authorize, matter_visibility};
use vestibule_domain::conversation::{portal_conversation_place, staff_conversation_client};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{ClientId, ContactId, ConversationId, DocumentId, MatterId, MessageId, TemplateId};
use vestibule_domain::principal::Principal;
use vestibule_storage::conversations::{
    self, CONTACT, ConversationFilter, ConversationRow, ConversationView, MessageRow, STAFF, Viewer,
};
use vestibule_storage::shares::{self, AttachmentRow};
use vestibule_storage::{DbConnection, clients, contacts, matters, portals, write_tx};

use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::messaging::{self, Posting, TemplateValues};
use crate::page::Listed;
use crate::portal_access::portal_of;

/// Which inbox a caller reads and writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The firm's conversations with its contacts, as far as the caller may see matters.
    Firm,
    /// The signed-in contact's conversations, as far as their portal shows.
    Portal,
}

impl Side {
    /// Refuses a caller who has no inbox on this side; on the firm's, one not allowed `action`.
    pub fn admit(self, principal: &Principal, action: Action) -> AppResult<()> {
        match (self, principal) {
            (Self::Firm, principal) => Ok(authorize(principal, action)?),
            (Self::Portal, Principal::Contact(_)) => Ok(()),
            (Self::Portal, _) => Err(not_a_contact()),
        }
    }
}

/// A message with what it shows besides its row.
#[derive(Debug)]
pub struct MessageRecord {
    pub row: MessageRow,
    pub author_name: String,
    /// Documents sent with it that still exist.
    pub attachments: Vec<AttachmentRow>,
}

/// A conversation as one reader sees it.
#[derive(Debug)]
pub struct ConversationRecord {
    pub row: ConversationRow,
    pub last_message: Option<MessageRecord>,
    /// Messages from the other side the reader has not read.
    pub unread_count: i64,
    pub last_read_message_id: Option<String>,
    /// How far the conversation's contact has read, and when.
    pub contact_read: Option<(String, NaiveDateTime)>,
}

/// What a storage `Viewer` borrows, for one caller.
enum Inbox {
    Firm { reader_id: String, visibility: MatterVisibility },
    Portal { contact_id: String, portal_id: String },
}

impl Inbox {
    fn open(conn: &mut DbConnection, ctx: &Context, side: Side, action: Action) -> AppResult<Self> {
        side.admit(&ctx.principal, action)?;
        Ok(match &ctx.principal {
            Principal::Contact(me) => {
                Self::Portal { contact_id: me.contact_id.to_string(), portal_id: portal_of(conn, me)? }
            }
            principal => {
                Self::Firm { reader_id: principal.actor().1.to_owned(), visibility: matter_visibility(principal) }
            }
        })
    }

    fn viewer(&self) -> Viewer<'_> {
        match self {
            Self::Firm { reader_id, visibility } => Viewer::Firm { reader_id, visibility },
            Self::Portal { contact_id, portal_id } => Viewer::Contact { contact_id, portal_id },
        }
    }

    fn conversation(&self, conn: &mut DbConnection, ctx: &Context, id: &str) -> AppResult<ConversationRow> {
        Ok(conversations::get(conn, ctx.firm_id(), id, self.viewer())?)
    }

    fn present(
        &self,
        conn: &mut DbConnection,
        ctx: &Context,
        rows: Vec<ConversationRow>,
    ) -> AppResult<Vec<ConversationRecord>> {
        let (views, last): (Vec<ConversationView>, Vec<Option<MessageRow>>) =
            conversations::with_details(conn, self.viewer(), rows)?
                .into_iter()
                .map(|mut view| {
                    let last = view.last_message.take();
                    (view, last)
                })
                .unzip();
        let has_last: Vec<bool> = last.iter().map(Option::is_some).collect();
        let mut described = describe(conn, ctx.firm_id(), last.into_iter().flatten().collect())?.into_iter();
        Ok(views
            .into_iter()
            .zip(has_last)
            .map(|(view, has_last)| ConversationRecord {
                row: view.row,
                last_message: if has_last { described.next() } else { None },
                unread_count: view.unread_count,
                last_read_message_id: view.last_read_message_id,
                contact_read: view.contact_read,
            })
            .collect())
    }

    /// The conversation `id` as this reader sees it now.
    fn present_one(&self, conn: &mut DbConnection, ctx: &Context, id: &str) -> AppResult<ConversationRecord> {
        let row = self.conversation(conn, ctx, id)?;
        self.present(conn, ctx, vec![row])?.pop().ok_or(AppError::NotFound)
    }
}

/// Messages with their authors' names and attachments, in the order given.
pub fn describe(conn: &mut DbConnection, firm_id: &str, rows: Vec<MessageRow>) -> AppResult<Vec<MessageRecord>> {
    let refs: Vec<&MessageRow> = rows.iter().collect();
    let names = conversations::author_names(conn, firm_id, &refs)?;
    let ids: Vec<&str> = rows.iter().map(|m| m.id.as_str()).collect();
    let mut attachments = shares::attachments(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| MessageRecord {
            author_name: names.get(&row.author_id).cloned().unwrap_or_default(),
            attachments: attachments.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

pub fn describe_one(conn: &mut DbConnection, firm_id: &str, row: MessageRow) -> AppResult<MessageRecord> {
    describe(conn, firm_id, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// Latest activity first.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    side: Side,
    filter: &ConversationFilter,
    page: &Page,
) -> AppResult<Listed<ConversationRecord>> {
    let inbox = Inbox::open(conn, ctx, side, Action::ReadMessages)?;
    let rows = conversations::list(conn, ctx.firm_id(), inbox.viewer(), filter, page.after.as_deref(), page.limit)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.last_message_id.clone());
    Ok(Listed { items: inbox.present(conn, ctx, rows)?, next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, side: Side, id: &ConversationId) -> AppResult<ConversationRecord> {
    let inbox = Inbox::open(conn, ctx, side, Action::ReadMessages)?;
    inbox.present_one(conn, ctx, id.as_str())
}

/// The messages of a conversation, oldest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn messages(
    conn: &mut DbConnection,
    ctx: &Context,
    side: Side,
    id: &ConversationId,
    page: &Page,
) -> AppResult<Listed<MessageRecord>> {
    let inbox = Inbox::open(conn, ctx, side, Action::ReadMessages)?;
    let row = inbox.conversation(conn, ctx, id.as_str())?;
    let rows = conversations::messages(conn, &row.id, page.after.as_deref(), page.limit)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.clone());
    Ok(Listed { items: describe(conn, ctx.firm_id(), rows)?, next_cursor })
}

/// Moves the caller's read position to `up_to` (a message of the conversation) or to its end.
#[tracing::instrument(skip(conn, ctx))]
pub fn mark_read(
    conn: &mut DbConnection,
    ctx: &Context,
    side: Side,
    id: &ConversationId,
    up_to: Option<MessageId>,
) -> AppResult<()> {
    // Reading is a person's state; an integration has none to keep.
    side.admit(&ctx.principal, Action::SendMessages)?;
    write_tx(conn, |conn| {
        let inbox = Inbox::open(conn, ctx, side, Action::SendMessages)?;
        let row = inbox.conversation(conn, ctx, id.as_str())?;
        let message_id = match up_to {
            Some(id) => {
                conversations::message_in(conn, &row.id, id.as_str())
                    .or_unknown("/up_to", "no such message in this conversation")?;
                id.into()
            }
            None => row.last_message_id.clone(),
        };
        conversations::mark_read(conn, &row.firm_id, &row.id, inbox.viewer(), &message_id)?;
        Ok(())
    })
}

/// An answer in a conversation: a typed body (already validated), or a template whose body
/// is filled in.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: Option<String>,
    pub template_id: Option<TemplateId>,
    /// From the portal: documents the contact uploaded, of the conversation's client and
    /// matter, to attach.
    pub attachments: Vec<DocumentId>,
}

/// The most documents one portal message carries.
pub const MAX_ATTACHMENTS: usize = 20;

/// Answers in a conversation of the caller's inbox. Staff write only while the contact's
/// portal can receive it (409 otherwise).
#[tracing::instrument(skip(conn, ctx))]
pub fn reply(
    conn: &mut DbConnection,
    ctx: &Context,
    side: Side,
    id: &ConversationId,
    reply: Reply,
) -> AppResult<MessageRecord> {
    side.admit(&ctx.principal, Action::SendMessages)?;
    write_tx(conn, |conn| {
        let inbox = Inbox::open(conn, ctx, side, Action::SendMessages)?;
        let row = inbox.conversation(conn, ctx, id.as_str())?;
        if let Inbox::Firm { .. } = inbox {
            messaging::reachable_portal(
                conn,
                ctx.firm_id(),
                &row.contact_id,
                &row.client_id,
                row.matter_id.as_deref(),
            )?;
        }
        let text = match (reply.body, &reply.template_id) {
            (Some(text), _) => text,
            (None, Some(template)) => {
                authorize(&ctx.principal, Action::UseTemplates)?;
                let place = (row.client_id.as_str(), row.contact_id.as_str(), row.matter_id.as_deref());
                render(conn, ctx, template, place)?.1
            }
            (None, None) => {
                return Err(AppError::field("/body", "required", "give a body, or a template to take it from"));
            }
        };
        let posted = messaging::post(conn, ctx, Posting::new(&row, text, false))?;
        attach_own_uploads(conn, ctx, &row, &posted, &reply.attachments)?;
        describe_one(conn, ctx.firm_id(), posted)
    })
}

/// Attaches documents the contact uploaded to their message; anything else is refused at its
/// index of `/document_ids`, as unknown to them.
fn attach_own_uploads(
    conn: &mut DbConnection,
    ctx: &Context,
    conversation: &ConversationRow,
    message: &MessageRow,
    ids: &[DocumentId],
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let Principal::Contact(me) = &ctx.principal else {
        return Err(AppError::field("/document_ids", "not_allowed", "staff attach documents by sharing them"));
    };
    if ids.len() > MAX_ATTACHMENTS {
        return Err(AppError::field(
            "/document_ids",
            "too_many",
            format!("attach at most {MAX_ATTACHMENTS} documents"),
        ));
    }
    let wanted: Vec<&str> = ids.iter().map(DocumentId::as_str).collect();
    let found = vestibule_storage::documents::get_many(conn, ctx.firm_id(), &wanted, &MatterVisibility::All)?;
    for (i, id) in wanted.iter().enumerate() {
        let own = found.iter().find(|d| d.id == *id).filter(|d| {
            d.uploaded_by == me.contact_id.as_str()
                && d.client_id == conversation.client_id
                && d.matter_id == conversation.matter_id
        });
        if own.is_none() {
            let detail = "not a document you uploaded for this conversation's client or matter";
            return Err(AppError::field(&format!("/document_ids/{i}"), "unknown_reference", detail));
        }
        shares::attach(conn, ctx.firm_id(), &message.id, id)?;
    }
    Ok(())
}

/// A conversation staff start in a contact's portal. Subject and body are validated; each
/// given one replaces the template's.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub contact_id: ContactId,
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub channel: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub template_id: Option<TemplateId>,
}

/// Starts a conversation in the contact's portal, which must be active and show the client
/// or matter (409 `portal_required`, `portal_inactive`, `portal_lacks_access`).
#[tracing::instrument(skip(conn, ctx))]
pub fn start(conn: &mut DbConnection, ctx: &Context, new: NewConversation) -> AppResult<ConversationRecord> {
    authorize(&ctx.principal, Action::SendMessages)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let contact = contacts::get(conn, firm_id, new.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        let matter = match &new.matter_id {
            Some(id) => Some(
                matters::get(conn, firm_id, id.as_str(), &matter_visibility(&ctx.principal))
                    .or_unknown("/matter_id", "no such matter visible to you")?,
            ),
            None => None,
        };
        let client_id = staff_conversation_client(
            new.client_id.as_ref().map(ClientId::as_str),
            matter.as_ref().map(|m| m.client_id.as_str()),
            contact.client_id.as_deref(),
        )?
        .to_owned();
        if !clients::exists(conn, firm_id, &client_id)? {
            return Err(AppError::field("/client_id", "unknown_reference", "no such client in this firm"));
        }
        let matter_id = matter.map(|m| m.id);
        messaging::reachable_portal(conn, firm_id, &contact.id, &client_id, matter_id.as_deref())?;
        let (template_subject, template_body) = match &new.template_id {
            Some(template) => Some(render(conn, ctx, template, (&client_id, &contact.id, matter_id.as_deref()))?),
            None => None,
        }
        .unzip();
        let subject = new
            .subject
            .or(template_subject)
            .ok_or_else(|| AppError::field("/subject", "required", "give a subject, or a template to take it from"))?;
        let body = new
            .body
            .or(template_body)
            .ok_or_else(|| AppError::field("/body", "required", "give a body, or a template to take it from"))?;
        let place = Place { client_id, matter_id, contact_id: contact.id, channel: new.channel };
        let row = opened(ctx, place, subject, STAFF);
        conversations::insert(conn, &row)?;
        messaging::post(conn, ctx, Posting::new(&row, body, true))?;
        Inbox::open(conn, ctx, Side::Firm, Action::SendMessages)?.present_one(conn, ctx, &row.id)
    })
}

/// A conversation a contact starts from their portal; values validated.
#[derive(Debug, Clone)]
pub struct NewPortalConversation {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub channel: Option<String>,
    pub subject: String,
    pub body: String,
}

/// Starts a conversation about a client or matter the contact's portal shows; staff hear
/// of it per the firm's notification policy.
#[tracing::instrument(skip(conn, ctx))]
pub fn start_from_portal(
    conn: &mut DbConnection,
    ctx: &Context,
    new: NewPortalConversation,
) -> AppResult<ConversationRecord> {
    let Principal::Contact(me) = &ctx.principal else { return Err(not_a_contact()) };
    write_tx(conn, |conn| {
        let portal_id = portal_of(conn, me)?;
        let visible = portals::visible(conn, &portal_id)?;
        let clients: Vec<&str> = visible.clients.iter().map(|(id, _)| id.as_str()).collect();
        let matters: Vec<(&str, &str)> =
            visible.matters.iter().map(|(id, _, client)| (id.as_str(), client.as_str())).collect();
        let (client_id, matter_id) = portal_conversation_place(
            new.client_id.as_ref().map(ClientId::as_str),
            new.matter_id.as_ref().map(MatterId::as_str),
            &clients,
            &matters,
        )?;
        let place = Place {
            client_id: client_id.to_owned(),
            matter_id: matter_id.map(str::to_owned),
            contact_id: me.contact_id.to_string(),
            channel: new.channel,
        };
        let row = opened(ctx, place, new.subject, CONTACT);
        conversations::insert(conn, &row)?;
        messaging::post(conn, ctx, Posting::new(&row, new.body, true))?;
        let inbox = Inbox::Portal { contact_id: me.contact_id.to_string(), portal_id };
        inbox.present_one(conn, ctx, &row.id)
    })
}

fn not_a_contact() -> AppError {
    AppError::Forbidden("this endpoint is for portal contacts".to_owned())
}

/// What a new conversation is about and with whom.
struct Place {
    client_id: String,
    matter_id: Option<String>,
    contact_id: String,
    channel: Option<String>,
}

/// A conversation the caller opens; its first message sets the message ids.
fn opened(ctx: &Context, place: Place, subject: String, started_by_kind: &str) -> ConversationRow {
    ConversationRow {
        id: ConversationId::generate().into(),
        firm_id: ctx.firm_id().to_owned(),
        client_id: place.client_id,
        matter_id: place.matter_id,
        contact_id: place.contact_id,
        channel: place.channel,
        subject,
        started_by_kind: started_by_kind.to_owned(),
        started_by_id: ctx.principal.actor().1.to_owned(),
        last_message_id: String::new(),
        last_staff_message_id: None,
        last_contact_message_id: None,
        created_at: vestibule_storage::now(),
        staff_messages: 0,
        contact_messages: 0,
    }
}

/// A template filled in for the caller writing about `(client, contact, matter)`: `(subject, body)`.
fn render(
    conn: &mut DbConnection,
    ctx: &Context,
    template: &TemplateId,
    (client_id, contact_id, matter_id): (&str, &str, Option<&str>),
) -> AppResult<(String, String)> {
    let firm_id = ctx.firm_id();
    let values = TemplateValues::load(conn, firm_id, ctx.principal.actor().1, client_id, contact_id, matter_id)?;
    messaging::render_template(conn, firm_id, template.as_str(), &values, "/template_id")
}
