//! Seed 000's "Send Files to Contact": in one call a staff member (the caller, or a colleague
//! an admin sends for) sends documents of one client or matter to a contact's portal, with a
//! subject and a message that is either kept in the portal (secure) or also put in the email.
//! Each file may require a signature. A contact without a portal is answered with the choices
//! the seed offers (use an existing portal, create a full or a temporary one), which the
//! caller sends again as `portal`; a new portal's contact gets the welcome (invitation) email
//! as well as the one about the files.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility, may_send_files_as};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{
    ClientId, ContactId, ConversationId, DocumentId, FileTransferId, FolderId, MatterId, MessageId, PortalId, ShareId,
    SignatureRequestId, StaffId,
};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::portal::{InvitationSource, PortalKind, PortalStatus};
use vestibule_domain::principal::Principal;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::contacts::ContactRow;
use vestibule_storage::conversations::{self, ConversationRow, STAFF};
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::file_transfers::{self, TransferFileRow, TransferFilter, TransferRow};
use vestibule_storage::portals::{self, PortalRow};
use vestibule_storage::shares::{self, ShareRow};
use vestibule_storage::{DbConnection, contacts, outbox, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::messaging::{self, Posting};
use crate::pagination::{PageQuery, Paginated};
use crate::portal_access::{self, Invitee};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::documents::Selection;
use crate::routes::folders::folder_in;
use crate::routes::portals::{Portal, expiry, one};
use crate::routes::shares::{documents_to_share, may_share};
use crate::routes::signatures::{Asked, SignatureStatus, ask};
use crate::routes::{created, utc};
use crate::state::AppState;

/// Files sent at once, at most.
pub(crate) const FILE_LIMIT: usize = 50;

/// What a contact without a usable portal may be given: the values of `portal.choice`.
const PORTAL_CHOICES: &[&str] = &["existing", "full", "temporary"];

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(send_files).service(list_file_transfers).service(get_file_transfer);
}

/// Where the message goes: only into the portal (`secure`), or also into the email's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageDelivery {
    #[default]
    Secure,
    Email,
}

impl MessageDelivery {
    fn as_str(self) -> &'static str {
        match self {
            Self::Secure => "secure",
            Self::Email => "email",
        }
    }

    fn of(stored: &str) -> Self {
        if stored == "email" { Self::Email } else { Self::Secure }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferFile {
    /// A document of the client or matter; upload new files first with `POST /v1/documents`.
    pub document_id: DocumentId,
    /// Ask the contact to sign this file.
    #[serde(default)]
    pub signature_required: bool,
}

/// The answer to `409 portal_required`: which portal gets the files.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum PortalChoice {
    /// A portal found with `GET /v1/portals` (by email, say); its contact receives the files.
    Existing { portal_id: PortalId },
    /// A new full portal for the contact; they register through the welcome email.
    Full,
    /// A new temporary portal that ends at `expires_at`.
    Temporary { expires_at: DateTime<Utc> },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendFiles {
    /// Who the files come from; default the caller. Owners and admins may name a colleague
    /// with the portal permission.
    pub from_staff_id: Option<StaffId>,
    pub contact_id: ContactId,
    /// The subject of the email and of the conversation in the portal.
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    pub message: String,
    #[serde(default)]
    pub delivery: MessageDelivery,
    /// Documents of one client, or of one matter.
    #[schema(min_items = 1, max_items = 50)]
    pub files: Vec<TransferFile>,
    /// The folder the files appear in, of the same client or matter.
    pub folder_id: Option<FolderId>,
    /// Only when the contact has no portal yet (or to use another contact's portal).
    pub portal: Option<PortalChoice>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferredFile {
    pub document_id: DocumentId,
    pub name: String,
    pub size: i64,
    pub signature_required: bool,
    pub signature_request_id: Option<SignatureRequestId>,
    pub signature_status: Option<SignatureStatus>,
    /// When the contact first downloaded it, if they have.
    pub first_downloaded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileTransfer {
    pub id: FileTransferId,
    pub from_staff_id: StaffId,
    /// The caller who sent it (differs from `from_staff_id` when sent on a colleague's behalf).
    pub sent_by: String,
    pub contact_id: ContactId,
    pub portal_id: PortalId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub subject: String,
    pub delivery: MessageDelivery,
    /// The message in the portal that carries the files.
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub files: Vec<TransferredFile>,
    pub created_at: DateTime<Utc>,
}

/// A transfer just sent, with the portal it went to (`invited` when the contact still has to
/// register).
#[derive(Debug, Serialize, ToSchema)]
pub struct SentFiles {
    pub transfer: FileTransfer,
    pub portal: Portal,
    /// Whether this call created the portal (and sent the welcome email).
    pub portal_created: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileTransferListQuery {
    pub contact_id: Option<ContactId>,
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub from_staff_id: Option<StaffId>,
}

fn transfer(row: TransferRow, files: Vec<TransferFileRow>) -> FileTransfer {
    FileTransfer {
        id: FileTransferId::from_trusted(row.id),
        from_staff_id: StaffId::from_trusted(row.from_staff_id),
        sent_by: row.sent_by,
        contact_id: ContactId::from_trusted(row.contact_id),
        portal_id: PortalId::from_trusted(row.portal_id),
        client_id: ClientId::from_trusted(row.client_id),
        matter_id: row.matter_id.map(MatterId::from_trusted),
        subject: row.subject,
        delivery: MessageDelivery::of(&row.delivery),
        conversation_id: ConversationId::from_trusted(row.conversation_id),
        message_id: MessageId::from_trusted(row.message_id),
        files: files
            .into_iter()
            .map(|f| TransferredFile {
                document_id: DocumentId::from_trusted(f.document_id),
                name: f.name,
                size: f.size,
                signature_required: f.signature_request_id.is_some(),
                signature_request_id: f.signature_request_id.map(SignatureRequestId::from_trusted),
                signature_status: f.signature_status.as_deref().map(SignatureStatus::of),
                first_downloaded_at: f.first_downloaded_at.map(utc),
            })
            .collect(),
        created_at: utc(row.created_at),
    }
}

/// Transfers with their files, in two queries for a whole page.
fn describe(conn: &mut DbConnection, rows: Vec<TransferRow>) -> Result<Vec<FileTransfer>, ApiError> {
    let mut files = file_transfers::files(conn, &rows)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_row = files.remove(&row.id).unwrap_or_default();
            transfer(row, of_row)
        })
        .collect())
}

/// The staff member the files come from, allowed by `authz::may_send_files_as`.
fn sender(conn: &mut DbConnection, principal: &Principal, from: Option<&StaffId>) -> Result<String, ApiError> {
    let id = match (from, principal) {
        (Some(id), _) => id.clone(),
        (None, Principal::Staff(me)) => me.staff_id.clone(),
        (None, _) => return Err(ApiError::Forbidden("files are sent by people".to_owned())),
    };
    let row = staff::get(conn, principal.firm_id().as_str(), id.as_str())
        .or_unknown("/from_staff_id", "no such staff member in this firm")?;
    may_send_files_as(principal, &id, row.disabled_at.is_none(), row.portal_permission)?;
    Ok(row.id)
}

/// The portal that receives the files and its contact, following the caller's `choice`;
/// `true` when it was created here. Without a choice the contact's own portal is used, and a
/// contact without one is answered `409 portal_required` with the choices.
fn receiving_portal(
    conn: &mut DbConnection,
    origin: &Origin,
    principal: &Principal,
    contact: ContactRow,
    choice: Option<&PortalChoice>,
) -> Result<(PortalRow, ContactRow, bool), ApiError> {
    let firm_id = contact.firm_id.clone();
    let (portal, contact, created) = match choice {
        None => match portals::for_contact(conn, &firm_id, &contact.id)? {
            Some(portal) => (portal, contact, false),
            None => {
                return Err(ApiError::Choose {
                    code: "portal_required",
                    detail: "this contact has no client portal: send again with `portal` to use an existing portal, or to create a full or a temporary one",
                    choices: PORTAL_CHOICES,
                });
            }
        },
        Some(PortalChoice::Existing { portal_id }) => {
            let portal = portals::get(conn, &firm_id, portal_id.as_str())
                .or_unknown("/portal/portal_id", "no such portal in this firm")?;
            let owner = contacts::get(conn, &firm_id, &portal.contact_id)?;
            (portal, owner, false)
        }
        Some(new) => {
            let (kind, expires_at) = match new {
                PortalChoice::Temporary { expires_at } => (PortalKind::Temporary, Some(*expires_at)),
                _ => (PortalKind::Full, None),
            };
            let expires_at = expiry(kind, expires_at, "/portal/expires_at")?;
            let (portal, created) = portal_access::ensure_portal(conn, origin, principal, &contact, kind, expires_at)?;
            if !created {
                return Err(ApiError::conflict(
                    "portal_exists",
                    format!("the contact already has portal {}; send without `portal` to use it", portal.id),
                ));
            }
            (portal, contact, true)
        }
    };
    let status = PortalStatus::of(&portal.status, portal.disabled_at, portal.expires_at, vestibule_storage::now());
    if !matches!(status, PortalStatus::Active | PortalStatus::Invited) {
        return Err(ApiError::conflict(
            "portal_inactive",
            format!("the portal is {}; enable it or extend it before sending files", status.as_str()),
        ));
    }
    if contact.email.is_none() {
        return Err(ApiError::field("/contact_id", "no_email", "the contact has no email address to notify"));
    }
    Ok((portal, contact, created))
}

/// The new conversation in the portal whose first message carries the files.
fn conversation_for(
    conn: &mut DbConnection,
    place: &DocumentRow,
    contact_id: &str,
    from_staff_id: &str,
    subject: &str,
) -> Result<ConversationRow, ApiError> {
    let row = ConversationRow {
        id: ConversationId::generate().into(),
        firm_id: place.firm_id.clone(),
        client_id: place.client_id.clone(),
        matter_id: place.matter_id.clone(),
        contact_id: contact_id.to_owned(),
        channel: None,
        subject: subject.to_owned(),
        started_by_kind: STAFF.to_owned(),
        started_by_id: from_staff_id.to_owned(),
        last_message_id: String::new(),
        last_staff_message_id: None,
        last_contact_message_id: None,
        created_at: vestibule_storage::now(),
    };
    conversations::insert(conn, &row)?;
    Ok(row)
}

/// Sends documents to a contact's portal with a message, asking for signatures where marked.
/// Without a usable portal: `409 portal_required` with `choices`; send again with `portal`.
/// The contact gets one email about the files (with the message in it for `delivery:
/// email`, without for `secure`), and the welcome email first when the portal is new.
#[utoipa::path(
    tag = "documents",
    request_body = SendFiles,
    responses(
        (status = 201, body = SentFiles, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/file-transfers")]
pub async fn send_files(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<SendFiles>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ShareDocuments)?;
    let mut errors = ValidationErrors::default();
    let subject = errors.check("/subject", text::required(&body.subject, messaging::MAX_SUBJECT_CHARS));
    let message = errors.check("/message", messaging::body(&body.message));
    if body.files.is_empty() || body.files.len() > FILE_LIMIT {
        errors.push(vestibule_domain::FieldError::new("/files", "out_of_range", format!("send 1–{FILE_LIMIT} files")));
    }
    errors.into_result()?;
    let (Some(subject), Some(message)) = (subject, message) else {
        return Err(ApiError::field("/message", "required", "write a subject and a message"));
    };
    let settings = state.settings.clone();
    let sent = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().to_string();
            let from_staff_id = sender(conn, &principal, body.from_staff_id.as_ref())?;
            let ids: Vec<DocumentId> = body.files.iter().map(|f| f.document_id.clone()).collect();
            let rows = documents_to_share(conn, &principal, &ids, Selection { list: "/files", item: "/document_id" })?;
            let place = rows[0].clone();
            may_share(conn, &principal, place.matter_id.as_deref())?;
            let contact = contacts::get(conn, &firm_id, body.contact_id.as_str())
                .or_unknown("/contact_id", "no such contact in this firm")?;
            let (portal, contact, portal_created) =
                receiving_portal(conn, &origin, &principal, contact, body.portal.as_ref())?;
            let folder_id = match &body.folder_id {
                Some(folder) => {
                    let target = (place.client_id.as_str(), place.matter_id.as_deref());
                    Some(folder_in(conn, &principal, folder, target, "/folder_id")?.id)
                }
                None => None,
            };
            if !messaging::portal_shows(conn, &portal.id, &place.client_id, place.matter_id.as_deref())? {
                let (client, matter) = match &place.matter_id {
                    Some(matter) => (None, Some(matter.as_str())),
                    None => (Some(place.client_id.as_str()), None),
                };
                portal_access::grant(conn, &principal, &portal, client, matter)?;
                let entry = Entry::success("portal.granted", "portal", &portal.id)
                    .with_details(json!({ "client_id": client, "matter_id": matter, "by": "file_transfer" }));
                audit::record(conn, &origin, &principal, entry)?;
            }
            if portal_created {
                let invitee = Invitee {
                    portal: &portal,
                    contact: &contact,
                    client_id: Some(&place.client_id),
                    source: InvitationSource::Portal,
                };
                portal_access::invite(conn, &origin, &principal, &settings, invitee)?;
            }
            let conversation = conversation_for(conn, &place, &contact.id, &from_staff_id, &subject)?;
            let posting = Posting {
                on_behalf_of: Some(&from_staff_id),
                email_contact: false,
                ..Posting::new(&conversation, message.clone(), true)
            };
            let posted = messaging::post(conn, &origin, &principal, &settings, posting)?;
            let now = vestibule_storage::now();
            let row = TransferRow {
                id: FileTransferId::generate().into(),
                firm_id: firm_id.clone(),
                client_id: place.client_id.clone(),
                matter_id: place.matter_id.clone(),
                contact_id: contact.id.clone(),
                portal_id: portal.id.clone(),
                from_staff_id: from_staff_id.clone(),
                sent_by: principal.actor().1.to_owned(),
                subject: subject.clone(),
                delivery: body.delivery.as_str().to_owned(),
                conversation_id: conversation.id.clone(),
                message_id: posted.id.clone(),
                created_at: now,
            };
            file_transfers::insert(conn, &row)?;
            let mut signatures = 0;
            for document in &rows {
                shares::attach(conn, &firm_id, &posted.id, &document.id)?;
                shares::insert(
                    conn,
                    &ShareRow {
                        id: ShareId::generate().into(),
                        firm_id: firm_id.clone(),
                        document_id: document.id.clone(),
                        portal_id: portal.id.clone(),
                        contact_id: contact.id.clone(),
                        folder_id: folder_id.clone(),
                        message_id: Some(posted.id.clone()),
                        shared_by: principal.actor().1.to_owned(),
                        created_at: now,
                        ended_at: None,
                        ended_by: None,
                    },
                )?;
                let wanted = body.files.iter().any(|f| f.document_id.as_str() == document.id && f.signature_required);
                let request = if wanted {
                    signatures += 1;
                    let asked = Asked { document, contact: &contact, portal: &portal, notify: false };
                    Some(ask(conn, &origin, &principal, &settings, asked)?.id)
                } else {
                    None
                };
                file_transfers::add_file(conn, &row, &document.id, request.as_deref())?;
            }
            let event = outbox::publish(conn, &firm_id, EventType::FileTransferSent, &json!({ "id": row.id }))?;
            let base = settings.public_base_url.trim_end_matches('/');
            let content = Email::FileTransferSent(mail::FileTransfer {
                subject: subject.clone(),
                message: (body.delivery == MessageDelivery::Email).then(|| message.clone()),
                files: rows.iter().map(|d| d.name.clone()).collect(),
                signatures,
                registration_pending: portal.activated_at.is_none(),
                link: format!("{base}/portal/conversations/{}", conversation.id),
            });
            if let Some(email) = contact.email.as_deref() {
                outbox::queue_email(conn, &event, email, &content)?;
            }
            let entry = Entry::success("file_transfer.sent", "file_transfer", &row.id).with_details(json!({
                "contact_id": contact.id, "from_staff_id": from_staff_id, "files": rows.len(), "delivery": row.delivery,
            }));
            audit::record(conn, &origin, &principal, entry)?;
            let transfer = describe(conn, vec![row])?.pop().ok_or(ApiError::NotFound)?;
            Ok(SentFiles { transfer, portal: one(conn, portal)?, portal_created })
        })
    })
    .await?;
    Ok(created(format!("/v1/file-transfers/{}", sent.transfer.id), &sent))
}

/// Files sent to contacts, newest first, with each file's signature and download status.
#[utoipa::path(
    tag = "documents",
    params(FileTransferListQuery, PageQuery),
    responses((status = 200, body = Paginated<FileTransfer>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/file-transfers")]
pub async fn list_file_transfers(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<FileTransferListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<FileTransfer>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = TransferFilter {
        contact_id: query.contact_id.map(String::from),
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        from_staff_id: query.from_staff_id.map(String::from),
    };
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let firm_id = principal.firm_id().as_str();
        let rows = file_transfers::list(conn, firm_id, &visibility, &filter, page.after.as_deref(), page.limit)?;
        let Paginated { data, next_cursor } = Paginated::from_rows(&page, rows, |r| r.id.clone(), |r| r);
        Ok(web::Json(Paginated { data: describe(conn, data)?, next_cursor }))
    })
    .await
}

/// One file transfer, with its files and their signature and download status.
#[utoipa::path(
    tag = "documents",
    params(("file_transfer_id" = FileTransferId, Path)),
    responses((status = 200, body = FileTransfer), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/file-transfers/{file_transfer_id}")]
pub async fn get_file_transfer(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<FileTransferId>,
) -> Result<web::Json<FileTransfer>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let row = file_transfers::get(conn, principal.firm_id().as_str(), id.as_str(), &matter_visibility(&principal))?;
        Ok(web::Json(describe(conn, vec![row])?.pop().ok_or(ApiError::NotFound)?))
    })
    .await
}
