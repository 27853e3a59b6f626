//! Sharing documents to a contact's portal (seed 003): without a message (the documents
//! appear in the portal) or with one (a message in a conversation, with the documents
//! attached). Sharing needs the portal permission and, for a matter's documents, a role on
//! the matter (case handler or assistant) unless the caller is an owner or admin. Only a
//! share without a message can be ended: a message, once sent, stays as it was sent.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::messaging;
use vestibule_app::shares::{self, Carrier, ShareCommand, ShareRecord};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{
    ClientId, ContactId, ConversationId, DocumentId, FolderId, MatterId, MessageId, PortalId, ShareId,
};
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::shares::ShareFilter;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::utc;
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::message::Message;
use vestibule_app::messaging::channel;

/// Documents shared at once, at most.
pub(crate) const SHARE_LIMIT: usize = 50;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_shares).service(share_documents).service(end_share);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Share {
    pub id: ShareId,
    pub document_id: DocumentId,
    pub document_name: String,
    pub contact_id: ContactId,
    pub portal_id: PortalId,
    /// Where the document appears in the portal.
    pub folder_id: Option<FolderId>,
    /// Set when shared with a message; such a share cannot be ended.
    pub message_id: Option<MessageId>,
    /// The staff member who shared it.
    pub shared_by: String,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
}

fn share((row, document_name): ShareRecord) -> Share {
    Share {
        id: ShareId::from_trusted(row.id),
        document_id: DocumentId::from_trusted(row.document_id),
        document_name,
        contact_id: ContactId::from_trusted(row.contact_id),
        portal_id: PortalId::from_trusted(row.portal_id),
        folder_id: row.folder_id.map(FolderId::from_trusted),
        message_id: row.message_id.map(MessageId::from_trusted),
        shared_by: row.shared_by,
        created_at: utc(row.created_at),
        ended_at: row.ended_at.map(utc),
        ended_by: row.ended_by,
    }
}

/// The message that carries the documents: into an existing conversation with the contact,
/// or a new one (with `subject`, default "Documents", and optionally a `channel`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareMessage {
    pub body: String,
    pub conversation_id: Option<ConversationId>,
    pub subject: Option<String>,
    pub channel: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareDocuments {
    /// Documents of one client, or of one matter.
    #[schema(min_items = 1, max_items = 50)]
    pub document_ids: Vec<DocumentId>,
    /// The contact whose portal gets them; choose one when several have access.
    pub contact_id: ContactId,
    /// The folder they appear in, of the same client or matter.
    pub folder_id: Option<FolderId>,
    /// Share with a message instead of silently.
    pub message: Option<ShareMessage>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedDocuments {
    pub shares: Vec<Share>,
    /// The message, when shared with one.
    pub message: Option<Message>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareListQuery {
    pub document_id: Option<DocumentId>,
    pub contact_id: Option<ContactId>,
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    /// `true`: current shares; `false`: ended ones.
    pub active: Option<bool>,
}

impl ShareMessage {
    /// The message's body and conversation; a new conversation's subject and channel are
    /// checked only when there is no conversation to go into.
    fn command(self) -> Result<shares::ShareMessage, ApiError> {
        let body = messaging::body(&self.body).map_err(|e| ApiError::from(e.at("/message/body")))?;
        let carrier = match self.conversation_id {
            Some(id) => Carrier::Existing(id),
            None => {
                let mut errors = ValidationErrors::default();
                let subject = errors
                    .check("/message/subject", text::optional(self.subject.as_deref(), messaging::MAX_SUBJECT_CHARS))
                    .flatten();
                let channel = errors.check("/message/channel", channel(self.channel.as_deref())).flatten();
                errors.into_result()?;
                Carrier::New { subject, channel }
            }
        };
        Ok(shares::ShareMessage { body, carrier })
    }
}

/// Shares documents to the contact's portal. The portal must be active and show the
/// documents' client or matter (409 `portal_required`, `portal_inactive` or
/// `portal_lacks_access` otherwise). The contact gets an email: "new documents" without a
/// message, "new secure message" with one.
#[utoipa::path(
    tag = "documents",
    request_body = ShareDocuments,
    responses(
        (status = 201, body = SharedDocuments),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/documents/share")]
pub async fn share_documents(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ShareDocuments>,
) -> Result<HttpResponse, ApiError> {
    if body.document_ids.is_empty() || body.document_ids.len() > SHARE_LIMIT {
        return Err(ApiError::field("/document_ids", "out_of_range", format!("share 1–{SHARE_LIMIT} documents")));
    }
    let command = ShareCommand {
        message: body.message.map(ShareMessage::command).transpose()?,
        document_ids: body.document_ids,
        contact_id: body.contact_id,
        folder_id: body.folder_id,
    };
    let shared =
        caller.must(Action::ShareDocuments).call(&state, move |conn, ctx| shares::share(conn, ctx, command)).await?;
    let shared = SharedDocuments {
        shares: shared.shares.into_iter().map(share).collect(),
        message: shared.message.map(Message::from),
    };
    Ok(HttpResponse::Created().json(shared))
}

/// What was shared, by whom and when; newest first.
#[utoipa::path(
    tag = "documents",
    params(ShareListQuery, PageQuery),
    responses((status = 200, body = Paginated<Share>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/shares")]
pub async fn list_shares(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ShareListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Share>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = ShareFilter {
        document_id: query.document_id.map(String::from),
        contact_id: query.contact_id.map(String::from),
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        active: query.active,
    };
    let listed = caller
        .must(Action::ReadDocuments)
        .call(&state, move |conn, ctx| shares::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, share)))
}

/// Ends a share: the document leaves the contact's portal (unless made visible to the
/// client). A document shared with a message cannot be unshared: 409 `shared_with_message`.
#[utoipa::path(
    tag = "documents",
    params(("share_id" = ShareId, Path)),
    responses((status = 200, body = Share), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/shares/{share_id}/end")]
pub async fn end_share(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ShareId>,
) -> Result<web::Json<Share>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(share(caller.call(&state, move |conn, ctx| shares::end(conn, ctx, &id)).await?)))
}
