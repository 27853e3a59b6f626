//! Secure messaging, portal side (seed 001): a contact reads and answers the conversations
//! of their portal, and starts new ones about a client or matter the portal shows.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::conversations::{self, NewPortalConversation, Side};
use vestibule_app::messaging::{self, channel};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ClientId, ConversationId, DocumentId, MatterId};
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::conversations::ConversationFilter;

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::conversation::{self as view, Conversation, MarkRead};
use crate::views::message::Message;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_my_conversations)
        .service(start_my_conversation)
        .service(get_my_conversation)
        .service(list_my_messages)
        .service(reply_to_my_conversation)
        .service(mark_my_conversation_read);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortalConversationQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub channel: Option<String>,
    /// `true`: only conversations with firm messages the contact has not read.
    pub unread: Option<bool>,
}

/// A new conversation from the portal, about a client or matter the portal shows.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartPortalConversation {
    /// Needed when the portal shows several clients and no `matter_id` is given.
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub channel: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalReply {
    pub body: String,
    /// Documents the contact uploaded (in the portal or into a request), of the
    /// conversation's client and matter, to attach.
    #[schema(max_items = 20)]
    #[serde(default)]
    pub document_ids: Vec<DocumentId>,
}

impl PortalConversationQuery {
    fn filter(self) -> ConversationFilter {
        ConversationFilter {
            client_id: self.client_id.map(String::from),
            matter_id: self.matter_id.map(String::from),
            contact_id: None,
            channel: self.channel,
            unread: self.unread,
        }
    }
}

impl StartPortalConversation {
    fn command(self) -> Result<NewPortalConversation, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let channel = errors.check("/channel", channel(self.channel.as_deref())).flatten();
        let subject = errors.check("/subject", text::required(&self.subject, messaging::MAX_SUBJECT_CHARS));
        let body = errors.check("/body", messaging::body(&self.body));
        errors.into_result()?;
        Ok(NewPortalConversation {
            client_id: self.client_id,
            matter_id: self.matter_id,
            channel,
            subject: subject.unwrap_or_default(),
            body: body.unwrap_or_default(),
        })
    }
}

/// Only contacts have a portal inbox; anyone else is refused before their input is read.
fn admit(ctx: &vestibule_app::Context) -> Result<(), ApiError> {
    Ok(Side::Portal.admit(&ctx.principal, Action::ReadMessages)?)
}

/// The signed-in contact's conversations.
#[utoipa::path(
    tag = "portal",
    params(PortalConversationQuery, PageQuery),
    responses((status = 200, body = Paginated<Conversation>, description = "Newest activity first."), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/conversations")]
pub async fn list_my_conversations(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PortalConversationQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Conversation>>, ApiError> {
    let ctx = caller.context(&state).await?;
    admit(&ctx)?;
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = db::call(&state, move |conn| conversations::list(conn, &ctx, Side::Portal, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Conversation::from)))
}

/// Starts a conversation from the portal. Depending on the firm's notification policy,
/// the client's assignees, the assignees and the client's owner, every member with access,
/// or no one is notified in the app and by email.
#[utoipa::path(
    tag = "portal",
    request_body = StartPortalConversation,
    responses(
        (status = 201, body = Conversation, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/conversations")]
pub async fn start_my_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<StartPortalConversation>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    admit(&ctx)?;
    let new = body.command()?;
    let started = db::call(&state, move |conn| conversations::start_from_portal(conn, &ctx, new)).await?;
    Ok(view::started(Side::Portal, started))
}

/// One of the signed-in contact's conversations.
#[utoipa::path(
    tag = "portal",
    params(("conversation_id" = ConversationId, Path)),
    responses((status = 200, body = Conversation), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/conversations/{conversation_id}")]
pub async fn get_my_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
) -> Result<web::Json<Conversation>, ApiError> {
    let ctx = caller.context(&state).await?;
    admit(&ctx)?;
    let id = path.into_inner();
    let record = db::call(&state, move |conn| conversations::get(conn, &ctx, Side::Portal, &id)).await?;
    Ok(web::Json(record.into()))
}

/// Messages of one of the signed-in contact's conversations, oldest first.
#[utoipa::path(
    tag = "portal",
    params(("conversation_id" = ConversationId, Path), PageQuery),
    responses((status = 200, body = Paginated<Message>), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/conversations/{conversation_id}/messages")]
pub async fn list_my_messages(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Message>>, ApiError> {
    let ctx = caller.context(&state).await?;
    admit(&ctx)?;
    let page = page.page()?;
    let id = path.into_inner();
    let listed = db::call(&state, move |conn| conversations::messages(conn, &ctx, Side::Portal, &id, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Message::from)))
}

/// Replies from the portal; every staff member with access gets an in-app notification.
#[utoipa::path(
    tag = "portal",
    params(("conversation_id" = ConversationId, Path)),
    request_body = PortalReply,
    responses(
        (status = 201, body = Message, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/conversations/{conversation_id}/messages")]
pub async fn reply_to_my_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<PortalReply>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    admit(&ctx)?;
    let text = messaging::body(&body.body).map_err(|e| ApiError::from(e.at("/body")))?;
    let reply = conversations::Reply { body: Some(text), template_id: None, attachments: body.document_ids };
    view::reply(&state, ctx, Side::Portal, path.into_inner(), reply).await
}

/// Mark a conversation read up to a message, for the signed-in contact.
#[utoipa::path(
    tag = "portal",
    params(("conversation_id" = ConversationId, Path)),
    request_body = MarkRead,
    responses(
        (status = 204, description = "Marked read."),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/conversations/{conversation_id}/read")]
pub async fn mark_my_conversation_read(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    admit(&ctx)?;
    view::mark_read(&state, ctx, Side::Portal, path.into_inner(), body).await
}
