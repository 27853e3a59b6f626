//! A conversation as both inboxes show it, and what both answer alike: a reply and a read
//! position.

use actix_web::HttpResponse;
use actix_web::http::header::LOCATION;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::Context;
use vestibule_app::conversations::{self, ConversationRecord, Reply, Side};
use vestibule_domain::ids::{ClientId, ContactId, ConversationId, MatterId, MessageId};

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::message::{AuthorKind, Message};

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

impl From<ConversationRecord> for Conversation {
    fn from(record: ConversationRecord) -> Self {
        let ConversationRecord { row, last_message, unread_count, last_read_message_id, contact_read } = record;
        Self {
            id: ConversationId::from_trusted(row.id),
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            contact_id: ContactId::from_trusted(row.contact_id),
            channel: row.channel,
            subject: row.subject,
            started_by: AuthorKind::of(&row.started_by_kind),
            created_at: row.created_at.and_utc(),
            last_message: last_message.map(Message::from),
            unread_count,
            last_read_message_id: last_read_message_id.map(MessageId::from_trusted),
            contact_read: contact_read
                .map(|(id, at)| ReadPosition { message_id: MessageId::from_trusted(id), read_at: at.and_utc() }),
        }
    }
}

/// Marks the conversation read up to a message (default: its latest).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub up_to: Option<MessageId>,
}

/// Where a side's conversations live in the API.
pub fn base(side: Side) -> &'static str {
    match side {
        Side::Firm => "/v1/conversations",
        Side::Portal => "/v1/portal/conversations",
    }
}

/// Posts a reply in a conversation of `side`: `201 Created` with the message.
pub async fn reply(
    state: &AppState,
    ctx: Context,
    side: Side,
    id: ConversationId,
    reply: Reply,
) -> Result<HttpResponse, ApiError> {
    let posted = db::call(state, move |conn| conversations::reply(conn, &ctx, side, &id, reply)).await?;
    let message = Message::from(posted);
    let location = format!("{}/{}/messages", base(side), message.conversation_id);
    Ok(HttpResponse::Created().insert_header((LOCATION, location)).json(message))
}

/// Moves the caller's read position in a conversation of `side`: `204 No Content`.
pub async fn mark_read(
    state: &AppState,
    ctx: Context,
    side: Side,
    id: ConversationId,
    body: MarkRead,
) -> Result<HttpResponse, ApiError> {
    db::call(state, move |conn| conversations::mark_read(conn, &ctx, side, &id, body.up_to)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A started conversation: `201 Created` with it.
pub fn started(side: Side, record: ConversationRecord) -> HttpResponse {
    let conversation = Conversation::from(record);
    let location = format!("{}/{}", base(side), conversation.id);
    HttpResponse::Created().insert_header((LOCATION, location)).json(conversation)
}
