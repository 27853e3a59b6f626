//! Sharing documents to a contact's portal (seed 003): without a message (the documents
//! appear in the portal) or with one (a message in a conversation, with the documents
//! attached). Sharing needs the portal permission and, for a matter's documents, a role on
//! the matter (case handler or assistant) unless the caller is an owner or admin. Only a
//! share without a message can be ended: a message, once sent, stays as it was sent.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility, may_share_documents};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{
    ClientId, ContactId, ConversationId, DocumentId, FolderId, MatterId, MessageId, PortalId, ShareId,
};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::MatterRole;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::conversations::{self, ConversationRow, STAFF, Viewer};
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::shares::{self, ShareFilter, ShareRow};
use vestibule_storage::{DbConnection, contacts, live, matters, outbox, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::messaging::{self, Posting};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::conversations::{Message, channel, message_of};
use crate::routes::documents::{Selection, visible_documents};
use crate::routes::folders::folder_in;
use crate::routes::utc;
use crate::state::AppState;

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

fn share((row, document_name): (ShareRow, String)) -> Share {
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

/// The documents, all visible to the caller and of one client and matter.
pub fn documents_to_share(
    conn: &mut DbConnection,
    principal: &Principal,
    ids: &[DocumentId],
    at: Selection<'_>,
) -> Result<Vec<DocumentRow>, ApiError> {
    let rows = visible_documents(conn, principal, ids, at)?;
    let first = rows.first().ok_or_else(|| ApiError::field(at.list, "required", "name the documents"))?;
    if rows.iter().any(|r| r.client_id != first.client_id || r.matter_id != first.matter_id) {
        return Err(ApiError::field(at.list, "mixed_places", "share documents of one client or one matter at a time"));
    }
    Ok(rows)
}

/// Asks `authz::may_share_documents` about documents of `matter_id`, with the caller's role
/// on that matter.
pub fn may_share(conn: &mut DbConnection, principal: &Principal, matter_id: Option<&str>) -> Result<(), ApiError> {
    let role = match (matter_id, principal) {
        (Some(matter), Principal::Staff(me)) => {
            matters::role_of(conn, me.firm_id.as_str(), matter, me.staff_id.as_str())?
                .as_deref()
                .and_then(MatterRole::from_stored)
        }
        _ => None,
    };
    Ok(may_share_documents(principal, matter_id.is_some(), role)?)
}

/// The conversation that carries the message: the contact's existing one about the same
/// client and matter, or a new one.
fn carrier(
    conn: &mut DbConnection,
    principal: &Principal,
    contact_id: &str,
    place: &DocumentRow,
    message: &ShareMessage,
) -> Result<(ConversationRow, bool), ApiError> {
    let firm_id = principal.firm_id().as_str();
    if let Some(id) = &message.conversation_id {
        let visibility = matter_visibility(principal);
        let viewer = Viewer::Firm { reader_id: principal.actor().1, visibility: &visibility };
        let row = conversations::get(conn, firm_id, id.as_str(), viewer)
            .or_unknown("/message/conversation_id", "no such conversation visible to you")?;
        if row.contact_id != contact_id || row.client_id != place.client_id || row.matter_id != place.matter_id {
            return Err(ApiError::field(
                "/message/conversation_id",
                "wrong_place",
                "the conversation is with another contact or about another client or matter",
            ));
        }
        return Ok((row, false));
    }
    let mut errors = ValidationErrors::default();
    let subject = errors
        .check("/message/subject", text::optional(message.subject.as_deref(), messaging::MAX_SUBJECT_CHARS))
        .flatten();
    let channel = errors.check("/message/channel", channel(message.channel.as_deref())).flatten();
    errors.into_result()?;
    let row = ConversationRow {
        id: ConversationId::generate().into(),
        firm_id: firm_id.to_owned(),
        client_id: place.client_id.clone(),
        matter_id: place.matter_id.clone(),
        contact_id: contact_id.to_owned(),
        channel,
        subject: subject.unwrap_or_else(|| "Documents".to_owned()),
        started_by_kind: STAFF.to_owned(),
        started_by_id: principal.actor().1.to_owned(),
        last_message_id: String::new(),
        last_staff_message_id: None,
        last_contact_message_id: None,
        created_at: vestibule_storage::now(),
    };
    conversations::insert(conn, &row)?;
    Ok((row, true))
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<ShareDocuments>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ShareDocuments)?;
    if body.document_ids.is_empty() || body.document_ids.len() > SHARE_LIMIT {
        return Err(ApiError::field("/document_ids", "out_of_range", format!("share 1–{SHARE_LIMIT} documents")));
    }
    let typed_body = match &body.message {
        Some(message) => Some(messaging::body(&message.body).map_err(|e| ApiError::from(e.at("/message/body")))?),
        None => None,
    };
    let settings = state.settings.clone();
    let shared = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().to_string();
            let rows = documents_to_share(conn, &principal, &body.document_ids, Selection::IDS)?;
            let place = rows[0].clone();
            may_share(conn, &principal, place.matter_id.as_deref())?;
            let contact = contacts::get(conn, &firm_id, body.contact_id.as_str())
                .or_unknown("/contact_id", "no such contact in this firm")?;
            let portal =
                messaging::reachable_portal(conn, &firm_id, &contact.id, &place.client_id, place.matter_id.as_deref())?;
            let folder_id = match &body.folder_id {
                Some(folder) => {
                    let target = (place.client_id.as_str(), place.matter_id.as_deref());
                    Some(folder_in(conn, &principal, folder, target, "/folder_id")?.id)
                }
                None => None,
            };
            let posted = match (&body.message, typed_body) {
                (Some(message), Some(text)) => {
                    let (conversation, starts) = carrier(conn, &principal, &contact.id, &place, message)?;
                    let posted = messaging::post(
                        conn,
                        &origin,
                        &principal,
                        &settings,
                        Posting::new(&conversation, text, starts),
                    )?;
                    for row in &rows {
                        shares::attach(conn, &firm_id, &posted.id, &row.id)?;
                    }
                    Some(posted)
                }
                _ => None,
            };
            let now = vestibule_storage::now();
            let mut created = Vec::new();
            let mut first_event = None;
            for row in &rows {
                let share_row = ShareRow {
                    id: ShareId::generate().into(),
                    firm_id: firm_id.clone(),
                    document_id: row.id.clone(),
                    portal_id: portal.id.clone(),
                    contact_id: contact.id.clone(),
                    folder_id: folder_id.clone(),
                    message_id: posted.as_ref().map(|m| m.id.clone()),
                    shared_by: principal.actor().1.to_owned(),
                    created_at: now,
                    ended_at: None,
                    ended_by: None,
                };
                shares::insert(conn, &share_row)?;
                let event = outbox::publish(conn, &firm_id, EventType::DocumentShared, &json!({ "id": share_row.id }))?;
                first_event.get_or_insert(event);
                let entry = Entry::success("document.shared", "document", &row.id)
                    .with_details(json!({ "share_id": share_row.id, "contact_id": contact.id }));
                audit::record(conn, &origin, &principal, entry)?;
                created.push(share((share_row, row.name.clone())));
            }
            // With a message, the message's own email and live event tell the contact.
            if posted.is_none() {
                if let (Some(event), Some(email)) = (&first_event, contact.email.as_deref()) {
                    let base = settings.public_base_url.trim_end_matches('/');
                    let link = format!("{base}/portal/documents");
                    let content = Email::DocumentShared(mail::SharedDocuments { link, count: rows.len() });
                    outbox::queue_email(conn, event, email, &content)?;
                }
                let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
                live::push(
                    conn,
                    &firm_id,
                    ("contact", &contact.id),
                    "documents.shared",
                    &json!({ "document_ids": ids }),
                )?;
            }
            let message = posted.map(|m| message_of(conn, &firm_id, m)).transpose()?;
            Ok(SharedDocuments { shares: created, message })
        })
    })
    .await?;
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
    Authenticated(principal): Authenticated,
    query: Query<ShareListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Share>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = ShareFilter {
        document_id: query.document_id.map(String::from),
        contact_id: query.contact_id.map(String::from),
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        active: query.active,
    };
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let rows =
            shares::list(conn, principal.firm_id().as_str(), &visibility, &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |(r, _)| r.id.clone(), share)))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<ShareId>,
) -> Result<web::Json<Share>, ApiError> {
    authorize(&principal, Action::ShareDocuments)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let (row, name) = shares::get(conn, firm_id, id.as_str(), &matter_visibility(&principal))?;
            if row.message_id.is_some() {
                return Err(ApiError::conflict(
                    "shared_with_message",
                    "this document was sent with a message, which stays in the conversation as sent; only documents shared without a message can be unshared",
                ));
            }
            if row.ended_at.is_some() {
                return Ok(web::Json(share((row, name))));
            }
            let now = vestibule_storage::now();
            shares::end(conn, &row.id, principal.actor().1, now)?;
            audit::record(conn, &origin, &principal, Entry::success("share.ended", "share", &row.id))?;
            let ended = ShareRow { ended_at: Some(now), ended_by: Some(principal.actor().1.to_owned()), ..row };
            Ok(web::Json(share((ended, name))))
        })
    })
    .await
}
