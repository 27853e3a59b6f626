//! Secure messaging, staff side (seed 001): conversations with a contact about a client or
//! matter, optionally in a named channel (seed 003). Staff see the conversations of the
//! matters they may see; integrations with `messages:read` may read them to archive.

use std::collections::HashMap;

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, MatterVisibility, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{ClientId, ContactId, ConversationId, DocumentId, MatterId, MessageId, TemplateId};
use vestibule_domain::principal::Principal;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::conversations::{
    self, ConversationFilter, ConversationRow, ConversationView, MessageRow, STAFF, Viewer,
};
use vestibule_storage::shares::{self, AttachmentRow};
use vestibule_storage::{DbConnection, clients, contacts, matters, write_tx};

use crate::audit::Origin;
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::state::AppState;
use vestibule_app::messaging::{self, Posting, TemplateValues};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_conversations)
        .service(start_conversation)
        .service(get_conversation)
        .service(list_messages)
        .service(reply_to_conversation)
        .service(mark_conversation_read);
}

/// Who wrote a message or started a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Staff,
    Contact,
}

impl AuthorKind {
    fn of(stored: &str) -> Self {
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

/// What messages show besides their own row: author names and attachments.
pub struct MessageDetails {
    names: HashMap<String, String>,
    attachments: HashMap<String, Vec<AttachmentRow>>,
}

impl MessageDetails {
    pub fn load(conn: &mut DbConnection, firm_id: &str, messages: &[&MessageRow]) -> Result<Self, ApiError> {
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        Ok(Self {
            names: conversations::author_names(conn, firm_id, messages)?,
            attachments: shares::attachments(conn, &ids)?,
        })
    }
}

/// How far someone has read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadPosition {
    pub message_id: MessageId,
    pub read_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    /// The contact whose portal the conversation lives in.
    pub contact_id: ContactId,
    pub channel: Option<String>,
    pub subject: String,
    pub started_by: AuthorKind,
    pub created_at: DateTime<Utc>,
    pub last_message: Option<Message>,
    /// Messages from the other side (the contact's, for staff; the firm's, for the contact)
    /// that the caller has not read.
    pub unread_count: i64,
    pub last_read_message_id: Option<MessageId>,
    /// How far the contact has read: staff see whether the client saw their message.
    pub contact_read: Option<ReadPosition>,
}

pub fn message(row: MessageRow, details: &MessageDetails) -> Message {
    let attachments = details
        .attachments
        .get(&row.id)
        .map(|list| {
            list.iter()
                .map(|a| Attachment {
                    document_id: DocumentId::from_trusted(a.document_id.clone()),
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                })
                .collect()
        })
        .unwrap_or_default();
    Message {
        id: MessageId::from_trusted(row.id),
        conversation_id: ConversationId::from_trusted(row.conversation_id),
        author: Author {
            kind: AuthorKind::of(&row.author_kind),
            name: details.names.get(&row.author_id).cloned().unwrap_or_default(),
            id: row.author_id,
        },
        body: row.body,
        attachments,
        created_at: utc(row.created_at),
    }
}

/// One message with its details.
pub fn message_of(conn: &mut DbConnection, firm_id: &str, row: MessageRow) -> Result<Message, ApiError> {
    let details = MessageDetails::load(conn, firm_id, &[&row])?;
    Ok(message(row, &details))
}

fn conversation(view: ConversationView, names: &MessageDetails) -> Conversation {
    let ConversationView { row, last_message, unread_count, last_read_message_id, contact_read } = view;
    Conversation {
        id: ConversationId::from_trusted(row.id),
        client_id: ClientId::from_trusted(row.client_id),
        matter_id: row.matter_id.map(MatterId::from_trusted),
        contact_id: ContactId::from_trusted(row.contact_id),
        channel: row.channel,
        subject: row.subject,
        started_by: AuthorKind::of(&row.started_by_kind),
        created_at: utc(row.created_at),
        last_message: last_message.map(|m| message(m, names)),
        unread_count,
        last_read_message_id: last_read_message_id.map(MessageId::from_trusted),
        contact_read: contact_read
            .map(|(id, at)| ReadPosition { message_id: MessageId::from_trusted(id), read_at: utc(at) }),
    }
}

/// Conversations with their details and author names, for any viewer.
pub fn present(
    conn: &mut DbConnection,
    firm_id: &str,
    viewer: Viewer<'_>,
    rows: Vec<ConversationRow>,
) -> Result<Vec<Conversation>, ApiError> {
    let views = conversations::with_details(conn, viewer, rows)?;
    let last: Vec<&MessageRow> = views.iter().filter_map(|v| v.last_message.as_ref()).collect();
    let details = MessageDetails::load(conn, firm_id, &last)?;
    Ok(views.into_iter().map(|v| conversation(v, &details)).collect())
}

pub fn present_one(
    conn: &mut DbConnection,
    firm_id: &str,
    viewer: Viewer<'_>,
    row: ConversationRow,
) -> Result<Conversation, ApiError> {
    present(conn, firm_id, viewer, vec![row])?.pop().ok_or(ApiError::NotFound)
}

/// A page of messages, oldest first, with author names.
pub fn message_page(
    conn: &mut DbConnection,
    firm_id: &str,
    conversation_id: &str,
    page: &Page,
) -> Result<Paginated<Message>, ApiError> {
    let rows = conversations::messages(conn, conversation_id, page.after.as_deref(), page.limit)?;
    let details = MessageDetails::load(conn, firm_id, &rows.iter().collect::<Vec<_>>())?;
    Ok(Paginated::from_rows(page, rows, |r| r.id.clone(), |r| message(r, &details)))
}

/// Moves the reader's position to `up_to` (a message of the conversation) or to its end.
pub fn mark_read(
    conn: &mut DbConnection,
    conversation: &ConversationRow,
    reader_id: &str,
    up_to: Option<MessageId>,
) -> Result<(), ApiError> {
    let message_id = match up_to {
        Some(id) => {
            conversations::message_in(conn, &conversation.id, id.as_str())
                .or_unknown("/up_to", "no such message in this conversation")?;
            id.into()
        }
        None => conversation.last_message_id.clone(),
    };
    conversations::mark_read(conn, &conversation.firm_id, &conversation.id, reader_id, &message_id)?;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationListQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub contact_id: Option<ContactId>,
    pub channel: Option<String>,
    /// `true`: only conversations with messages from the other side the caller has not
    /// read; `false`: only the others.
    pub unread: Option<bool>,
}

/// Starts a conversation in a contact's portal. Give `subject` and `body`, or a
/// `template_id` whose placeholders are filled in (an explicit `subject` or `body`
/// replaces the template's).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConversation {
    pub contact_id: ContactId,
    /// Defaults to the matter's client, or else the client the contact belongs to.
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    /// A channel name to file the conversation under (seed 003), e.g. `Documents`.
    pub channel: Option<String>,
    #[schema(max_length = 200)]
    pub subject: Option<String>,
    pub body: Option<String>,
    pub template_id: Option<TemplateId>,
}

/// A reply: `body`, or a `template_id` whose body is filled in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub body: Option<String>,
    pub template_id: Option<TemplateId>,
}

/// Marks the conversation read up to a message (default: its latest).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub up_to: Option<MessageId>,
}

pub fn channel(raw: Option<&str>) -> Result<Option<String>, vestibule_domain::FieldError> {
    text::optional(raw, 64)
}

fn firm_viewer<'a>(principal: &'a Principal, visibility: &'a MatterVisibility) -> Viewer<'a> {
    Viewer::Firm { reader_id: principal.actor().1, visibility }
}

/// Conversations with portal contacts, latest activity first, with filters.
#[utoipa::path(
    tag = "messages",
    params(ConversationListQuery, PageQuery),
    responses((status = 200, body = Paginated<Conversation>, description = "Newest activity first."), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/conversations")]
pub async fn list_conversations(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<ConversationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Conversation>>, ApiError> {
    authorize(&principal, Action::ReadMessages)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = ConversationFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        contact_id: query.contact_id.map(String::from),
        channel: query.channel,
        unread: query.unread,
    };
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let viewer = firm_viewer(&principal, &visibility);
        let firm_id = principal.firm_id().as_str();
        let rows = conversations::list(conn, firm_id, viewer, &filter, page.after.as_deref(), page.limit)?;
        let (rows, next_cursor) = page.finish(rows, |r| r.last_message_id.clone());
        Ok(web::Json(Paginated { data: present(conn, firm_id, viewer, rows)?, next_cursor }))
    })
    .await
}

impl StartConversation {
    /// Checks the references and fills subject and body; the row's message ids are set by
    /// the first message.
    fn resolve(self, conn: &mut DbConnection, principal: &Principal) -> Result<(ConversationRow, String), ApiError> {
        let Principal::Staff(me) = principal else {
            return Err(ApiError::Forbidden("conversations are started by people".to_owned()));
        };
        let firm_id = principal.firm_id().as_str();
        let mut errors = ValidationErrors::default();
        let channel = errors.check("/channel", channel(self.channel.as_deref())).flatten();
        let subject =
            errors.check("/subject", text::optional(self.subject.as_deref(), messaging::MAX_SUBJECT_CHARS)).flatten();
        let typed_body = match self.body.as_deref() {
            Some(raw) => errors.check("/body", messaging::body(raw)),
            None => None,
        };
        errors.into_result()?;
        let contact = contacts::get(conn, firm_id, self.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        let matter = match &self.matter_id {
            Some(id) => Some(
                matters::get(conn, firm_id, id.as_str(), &matter_visibility(principal))
                    .or_unknown("/matter_id", "no such matter visible to you")?,
            ),
            None => None,
        };
        let client_id = match (&self.client_id, &matter) {
            (Some(client), Some(matter)) if client.as_str() != matter.client_id => {
                return Err(ApiError::field("/matter_id", "wrong_client", "the matter belongs to another client"));
            }
            (_, Some(matter)) => matter.client_id.clone(),
            (Some(client), None) => String::from(client.clone()),
            (None, None) => contact.client_id.clone().ok_or_else(|| {
                ApiError::field("/client_id", "required", "name the client (or matter) the conversation is about")
            })?,
        };
        if !clients::exists(conn, firm_id, &client_id)? {
            return Err(ApiError::field("/client_id", "unknown_reference", "no such client in this firm"));
        }
        let matter_id = matter.map(|m| m.id);
        messaging::reachable_portal(conn, firm_id, &contact.id, &client_id, matter_id.as_deref())?;
        let from_template = match &self.template_id {
            Some(template) => {
                let values = TemplateValues::load(
                    conn,
                    firm_id,
                    me.staff_id.as_str(),
                    &client_id,
                    &contact.id,
                    matter_id.as_deref(),
                )?;
                Some(messaging::render_template(conn, firm_id, template.as_str(), &values, "/template_id")?)
            }
            None => None,
        };
        let (template_subject, template_body) = from_template.unzip();
        let subject = subject
            .or(template_subject)
            .ok_or_else(|| ApiError::field("/subject", "required", "give a subject, or a template to take it from"))?;
        let body = typed_body
            .or(template_body)
            .ok_or_else(|| ApiError::field("/body", "required", "give a body, or a template to take it from"))?;
        let row = ConversationRow {
            id: ConversationId::generate().into(),
            firm_id: firm_id.to_owned(),
            client_id,
            matter_id,
            contact_id: contact.id,
            channel,
            subject,
            started_by_kind: STAFF.to_owned(),
            started_by_id: me.staff_id.to_string(),
            last_message_id: String::new(),
            last_staff_message_id: None,
            last_contact_message_id: None,
            created_at: vestibule_storage::now(),
        };
        Ok((row, body))
    }
}

/// Starts a conversation. The contact's portal must be active and show the client or
/// matter: otherwise 409 with `portal_required`, `portal_inactive` or
/// `portal_lacks_access`, so the frontend can offer to create, reactivate or extend it.
/// The contact gets an email that a secure message is waiting, without its content.
#[utoipa::path(
    tag = "messages",
    request_body = StartConversation,
    responses(
        (status = 201, body = Conversation, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/conversations")]
pub async fn start_conversation(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<StartConversation>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::SendMessages)?;
    let settings = state.settings.clone();
    let started = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            // The first message sets the conversation's message ids.
            let (row, text) = body.resolve(conn, &principal)?;
            conversations::insert(conn, &row)?;
            messaging::post(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                Posting::new(&row, text, true),
            )?;
            let visibility = matter_visibility(&principal);
            let row = conversations::get(conn, &row.firm_id, &row.id, firm_viewer(&principal, &visibility))?;
            present_one(conn, principal.firm_id().as_str(), firm_viewer(&principal, &visibility), row)
        })
    })
    .await?;
    Ok(created(format!("/v1/conversations/{}", started.id), &started))
}

/// One conversation, with its last message and unread count.
#[utoipa::path(
    tag = "messages",
    params(("conversation_id" = ConversationId, Path)),
    responses((status = 200, body = Conversation), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/conversations/{conversation_id}")]
pub async fn get_conversation(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<ConversationId>,
) -> Result<web::Json<Conversation>, ApiError> {
    authorize(&principal, Action::ReadMessages)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let viewer = firm_viewer(&principal, &visibility);
        let firm_id = principal.firm_id().as_str();
        let row = conversations::get(conn, firm_id, id.as_str(), viewer)?;
        Ok(web::Json(present_one(conn, firm_id, viewer, row)?))
    })
    .await
}

/// The whole chain, oldest first.
#[utoipa::path(
    tag = "messages",
    params(("conversation_id" = ConversationId, Path), PageQuery),
    responses((status = 200, body = Paginated<Message>), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/conversations/{conversation_id}/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<ConversationId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Message>>, ApiError> {
    authorize(&principal, Action::ReadMessages)?;
    let page = page.page()?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let firm_id = principal.firm_id().as_str();
        let row = conversations::get(conn, firm_id, id.as_str(), firm_viewer(&principal, &visibility))?;
        Ok(web::Json(message_page(conn, firm_id, &row.id, &page)?))
    })
    .await
}

/// Replies as the signed-in staff member. The contact's portal must still be active
/// (409 otherwise); the contact gets an email without the content.
#[utoipa::path(
    tag = "messages",
    params(("conversation_id" = ConversationId, Path)),
    request_body = Reply,
    responses(
        (status = 201, body = Message, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/conversations/{conversation_id}/messages")]
pub async fn reply_to_conversation(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::SendMessages)?;
    let Principal::Staff(me) = &principal else {
        return Err(ApiError::Forbidden("messages are written by people".to_owned()));
    };
    let staff_id = me.staff_id.clone();
    let typed = body.body.as_deref().map(messaging::body).transpose().map_err(|e| ApiError::from(e.at("/body")))?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let posted = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let visibility = matter_visibility(&principal);
            let firm_id = principal.firm_id().as_str();
            let row = conversations::get(conn, firm_id, id.as_str(), firm_viewer(&principal, &visibility))?;
            messaging::reachable_portal(conn, firm_id, &row.contact_id, &row.client_id, row.matter_id.as_deref())?;
            let text = match (typed, &body.template_id) {
                (Some(text), _) => text,
                (None, Some(template)) => {
                    let values = TemplateValues::load(
                        conn,
                        firm_id,
                        staff_id.as_str(),
                        &row.client_id,
                        &row.contact_id,
                        row.matter_id.as_deref(),
                    )?;
                    messaging::render_template(conn, firm_id, template.as_str(), &values, "/template_id")?.1
                }
                (None, None) => {
                    return Err(ApiError::field("/body", "required", "give a body, or a template to take it from"));
                }
            };
            let posted = messaging::post(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                Posting::new(&row, text, false),
            )?;
            message_of(conn, firm_id, posted)
        })
    })
    .await?;
    Ok(created(format!("/v1/conversations/{}/messages", posted.conversation_id), &posted))
}

/// Records that the caller has read the conversation up to a message.
#[utoipa::path(
    tag = "messages",
    params(("conversation_id" = ConversationId, Path)),
    request_body = MarkRead,
    responses(
        (status = 204, description = "Marked read."),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/conversations/{conversation_id}/read")]
pub async fn mark_conversation_read(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    // Reading is a person's state; an integration has none to keep.
    authorize(&principal, Action::SendMessages)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let visibility = matter_visibility(&principal);
            let firm_id = principal.firm_id().as_str();
            let row = conversations::get(conn, firm_id, id.as_str(), firm_viewer(&principal, &visibility))?;
            mark_read(conn, &row, principal.actor().1, body.up_to)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
