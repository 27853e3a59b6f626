//! Secure messaging, staff side (seed 001): conversations with a contact about a client or
//! matter, optionally in a named channel (seed 003). Staff see the conversations of the
//! matters they may see; integrations with `messages:read` may read them to archive.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::conversations::{self, NewConversation, Side};
use vestibule_app::messaging;
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::{ClientId, ContactId, ConversationId, MatterId, TemplateId};
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::conversations::ConversationFilter;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::conversation::{self as view, Conversation, MarkRead};
// Sharing posts its message in its own transaction and answers with it.
use crate::views::message::Message;
use vestibule_app::messaging::channel;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_conversations)
        .service(start_conversation)
        .service(get_conversation)
        .service(list_messages)
        .service(reply_to_conversation)
        .service(mark_conversation_read);
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

impl ConversationListQuery {
    fn filter(self) -> ConversationFilter {
        ConversationFilter {
            client_id: self.client_id.map(String::from),
            matter_id: self.matter_id.map(String::from),
            contact_id: self.contact_id.map(String::from),
            channel: self.channel,
            unread: self.unread,
        }
    }
}

impl StartConversation {
    fn command(self) -> Result<NewConversation, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let channel = errors.check("/channel", channel(self.channel.as_deref())).flatten();
        let subject =
            errors.check("/subject", text::optional(self.subject.as_deref(), messaging::MAX_SUBJECT_CHARS)).flatten();
        let body = self.body.as_deref().and_then(|raw| errors.check("/body", messaging::body(raw)));
        errors.into_result()?;
        Ok(NewConversation {
            contact_id: self.contact_id,
            client_id: self.client_id,
            matter_id: self.matter_id,
            channel,
            subject,
            body,
            template_id: self.template_id,
        })
    }
}

impl Reply {
    fn command(self) -> Result<conversations::Reply, ApiError> {
        let body = self.body.as_deref().map(messaging::body).transpose().map_err(|e| ApiError::from(e.at("/body")))?;
        Ok(conversations::Reply { body, template_id: self.template_id, attachments: Vec::new() })
    }
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
    caller: Caller,
    query: Query<ConversationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Conversation>>, ApiError> {
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = caller
        .must(Action::ReadMessages)
        .call(&state, move |conn, ctx| conversations::list(conn, ctx, Side::Firm, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Conversation::from)))
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
    caller: Caller,
    ApiJson(body): ApiJson<StartConversation>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let started =
        caller.must(Action::SendMessages).call(&state, move |conn, ctx| conversations::start(conn, ctx, new)).await?;
    Ok(view::started(Side::Firm, started))
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
    caller: Caller,
    path: web::Path<ConversationId>,
) -> Result<web::Json<Conversation>, ApiError> {
    let id = path.into_inner();
    let record = caller
        .must(Action::ReadMessages)
        .call(&state, move |conn, ctx| conversations::get(conn, ctx, Side::Firm, &id))
        .await?;
    Ok(web::Json(record.into()))
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
    caller: Caller,
    path: web::Path<ConversationId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Message>>, ApiError> {
    let page = page.page()?;
    let id = path.into_inner();
    let listed = caller
        .must(Action::ReadMessages)
        .call(&state, move |conn, ctx| conversations::messages(conn, ctx, Side::Firm, &id, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Message::from)))
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
    caller: Caller,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    authorize(&ctx.principal, Action::SendMessages)?;
    view::reply(&state, ctx, Side::Firm, path.into_inner(), body.command()?).await
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
    caller: Caller,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    // Reading is a person's state; an integration has none to keep.
    authorize(&ctx.principal, Action::SendMessages)?;
    view::mark_read(&state, ctx, Side::Firm, path.into_inner(), body).await
}
