//! Secure messaging, portal side (seed 001): a contact reads and answers the conversations
//! of their portal, and starts new ones about a client or matter the portal shows.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::ids::{ClientId, ConversationId, MatterId};
use vestibule_domain::principal::{ContactPrincipal, Principal};
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::conversations::{self, CONTACT, ConversationFilter, ConversationRow, Viewer};
use vestibule_storage::{DbConnection, portals, write_tx};

use crate::audit::Origin;
use crate::auth::principal::ContactUser;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::conversations::{
    Conversation, MarkRead, Message, channel, mark_read, message_of, message_page, present, present_one,
};
use crate::routes::created;
use crate::state::AppState;
use vestibule_app::messaging::{self, Posting};
use vestibule_app::portal_access::portal_of as my_portal;

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
}

fn viewer<'a>(me: &'a ContactPrincipal, portal_id: &'a str) -> Viewer<'a> {
    Viewer::Contact { contact_id: me.contact_id.as_str(), portal_id }
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
    ContactUser(me): ContactUser,
    query: Query<PortalConversationQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Conversation>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = ConversationFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        contact_id: None,
        channel: query.channel,
        unread: query.unread,
    };
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        let firm_id = me.firm_id.as_str();
        let rows =
            conversations::list(conn, firm_id, viewer(&me, &portal), &filter, page.after.as_deref(), page.limit)?;
        let (rows, next_cursor) = page.finish(rows, |r| r.last_message_id.clone());
        Ok(web::Json(Paginated { data: present(conn, firm_id, viewer(&me, &portal), rows)?, next_cursor }))
    })
    .await
}

impl StartPortalConversation {
    fn resolve(
        self,
        conn: &mut DbConnection,
        me: &ContactPrincipal,
        portal_id: &str,
    ) -> Result<(ConversationRow, String), ApiError> {
        let mut errors = ValidationErrors::default();
        let channel = errors.check("/channel", channel(self.channel.as_deref())).flatten();
        let subject = errors.check("/subject", text::required(&self.subject, messaging::MAX_SUBJECT_CHARS));
        let body = errors.check("/body", messaging::body(&self.body));
        errors.into_result()?;
        let visible = portals::visible(conn, portal_id)?;
        let unknown = |pointer: &str| ApiError::field(pointer, "unknown_reference", "not one your portal shows");
        let (client_id, matter_id) = match (&self.client_id, &self.matter_id) {
            (client, Some(matter)) => {
                let (_, _, of_client) = visible
                    .matters
                    .iter()
                    .find(|(id, _, _)| id == matter.as_str())
                    .ok_or_else(|| unknown("/matter_id"))?;
                if client.as_ref().is_some_and(|c| c.as_str() != of_client) {
                    return Err(ApiError::field("/matter_id", "wrong_client", "the matter belongs to another client"));
                }
                (of_client.clone(), Some(matter.to_string()))
            }
            (Some(client), None) => {
                visible.clients.iter().find(|(id, _)| id == client.as_str()).ok_or_else(|| unknown("/client_id"))?;
                (client.to_string(), None)
            }
            (None, None) => match visible.clients.as_slice() {
                [(only, _)] => (only.clone(), None),
                _ => return Err(ApiError::field("/client_id", "required", "name the client or matter this is about")),
            },
        };
        let row = ConversationRow {
            id: ConversationId::generate().into(),
            firm_id: me.firm_id.to_string(),
            client_id,
            matter_id,
            contact_id: me.contact_id.to_string(),
            channel,
            subject: subject.unwrap_or_default(),
            started_by_kind: CONTACT.to_owned(),
            started_by_id: me.contact_id.to_string(),
            last_message_id: String::new(),
            last_staff_message_id: None,
            last_contact_message_id: None,
            created_at: vestibule_storage::now(),
        };
        Ok((row, body.unwrap_or_default()))
    }
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
    origin: Origin,
    ContactUser(me): ContactUser,
    ApiJson(body): ApiJson<StartPortalConversation>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let started = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let portal = my_portal(conn, &me)?;
            let (row, text) = body.resolve(conn, &me, &portal)?;
            conversations::insert(conn, &row)?;
            let principal = Principal::Contact(me.clone());
            messaging::post(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                Posting::new(&row, text, true),
            )?;
            let row = conversations::get(conn, me.firm_id.as_str(), &row.id, viewer(&me, &portal))?;
            present_one(conn, me.firm_id.as_str(), viewer(&me, &portal), row)
        })
    })
    .await?;
    Ok(created(format!("/v1/portal/conversations/{}", started.id), &started))
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
    ContactUser(me): ContactUser,
    path: web::Path<ConversationId>,
) -> Result<web::Json<Conversation>, ApiError> {
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        let firm_id = me.firm_id.as_str();
        let row = conversations::get(conn, firm_id, id.as_str(), viewer(&me, &portal))?;
        Ok(web::Json(present_one(conn, firm_id, viewer(&me, &portal), row)?))
    })
    .await
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
    ContactUser(me): ContactUser,
    path: web::Path<ConversationId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Message>>, ApiError> {
    let page = page.page()?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let portal = my_portal(conn, &me)?;
        let row = conversations::get(conn, me.firm_id.as_str(), id.as_str(), viewer(&me, &portal))?;
        Ok(web::Json(message_page(conn, me.firm_id.as_str(), &row.id, &page)?))
    })
    .await
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
    origin: Origin,
    ContactUser(me): ContactUser,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<PortalReply>,
) -> Result<HttpResponse, ApiError> {
    let text = messaging::body(&body.body).map_err(|e| ApiError::from(e.at("/body")))?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let posted = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let portal = my_portal(conn, &me)?;
            let row = conversations::get(conn, me.firm_id.as_str(), id.as_str(), viewer(&me, &portal))?;
            let principal = Principal::Contact(me.clone());
            let posted = messaging::post(
                conn,
                &crate::audit::context(&principal, &origin, &settings),
                Posting::new(&row, text, false),
            )?;
            message_of(conn, me.firm_id.as_str(), posted)
        })
    })
    .await?;
    Ok(created(format!("/v1/portal/conversations/{}/messages", posted.conversation_id), &posted))
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
    ContactUser(me): ContactUser,
    path: web::Path<ConversationId>,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let portal = my_portal(conn, &me)?;
            let row = conversations::get(conn, me.firm_id.as_str(), id.as_str(), viewer(&me, &portal))?;
            mark_read(conn, &row, me.contact_id.as_str(), body.up_to)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
