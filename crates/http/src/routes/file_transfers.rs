//! Seed 000's "Send Files to Contact": in one call a staff member (the caller, or a colleague
//! an admin sends for) sends documents of one client or matter to a contact's portal, with a
//! subject and a message that is either kept in the portal (secure) or also put in the email.
//! Each file may require a signature. A contact without a portal is answered with the choices
//! the seed offers (use an existing portal, create a full or a temporary one), which the
//! caller sends again as `portal`; a new portal's contact gets the welcome (invitation) email
//! as well as the one about the files.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::messaging;
use vestibule_app::transfers::{self, Transfer};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{
    ClientId, ContactId, ConversationId, DocumentId, FileTransferId, FolderId, MatterId, MessageId, PortalId,
    SignatureRequestId, StaffId,
};
use vestibule_domain::portal::PortalKind;
use vestibule_domain::signature::SignatureStatus;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::file_transfers::TransferFilter;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::portal::Portal;

/// Files sent at once, at most.
pub(crate) const FILE_LIMIT: usize = 50;

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

impl From<MessageDelivery> for transfers::MessageDelivery {
    fn from(delivery: MessageDelivery) -> Self {
        match delivery {
            MessageDelivery::Secure => Self::Secure,
            MessageDelivery::Email => Self::Email,
        }
    }
}

impl From<transfers::MessageDelivery> for MessageDelivery {
    fn from(delivery: transfers::MessageDelivery) -> Self {
        match delivery {
            transfers::MessageDelivery::Secure => Self::Secure,
            transfers::MessageDelivery::Email => Self::Email,
        }
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

impl From<Transfer> for FileTransfer {
    fn from(Transfer { row, files }: Transfer) -> Self {
        Self {
            id: FileTransferId::from_trusted(row.id),
            from_staff_id: StaffId::from_trusted(row.from_staff_id),
            sent_by: row.sent_by,
            contact_id: ContactId::from_trusted(row.contact_id),
            portal_id: PortalId::from_trusted(row.portal_id),
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            subject: row.subject,
            delivery: transfers::MessageDelivery::from_stored(&row.delivery).into(),
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
                    signature_status: f.signature_status.as_deref().map(SignatureStatus::from_stored),
                    first_downloaded_at: f.first_downloaded_at.map(utc),
                })
                .collect(),
            created_at: utc(row.created_at),
        }
    }
}

impl SendFiles {
    fn command(self) -> Result<transfers::SendFiles, ApiError> {
        let mut errors = ValidationErrors::default();
        let subject = errors.check("/subject", text::required(&self.subject, messaging::MAX_SUBJECT_CHARS));
        let message = errors.check("/message", messaging::body(&self.message));
        if self.files.is_empty() || self.files.len() > FILE_LIMIT {
            errors.push(FieldError::new("/files", "out_of_range", format!("send 1–{FILE_LIMIT} files")));
        }
        errors.into_result()?;
        let (Some(subject), Some(message)) = (subject, message) else {
            return Err(ApiError::field("/message", "required", "write a subject and a message"));
        };
        let portal = match self.portal {
            None => None,
            Some(PortalChoice::Existing { portal_id }) => Some(transfers::PortalChoice::Existing(portal_id)),
            Some(PortalChoice::Full) => Some(transfers::PortalChoice::Full),
            Some(PortalChoice::Temporary { expires_at }) => {
                let at = vestibule_domain::portal::expiry(
                    PortalKind::Temporary,
                    Some(expires_at.naive_utc()),
                    vestibule_storage::now(),
                )
                .map_err(|e| ApiError::from(e.at("/portal/expires_at")))?;
                at.map(transfers::PortalChoice::Temporary)
            }
        };
        Ok(transfers::SendFiles {
            from_staff_id: self.from_staff_id,
            contact_id: self.contact_id,
            subject,
            message,
            delivery: self.delivery.into(),
            files: self.files.into_iter().map(|f| (f.document_id, f.signature_required)).collect(),
            folder_id: self.folder_id,
            portal,
        })
    }
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
    caller: Caller,
    ApiJson(body): ApiJson<SendFiles>,
) -> Result<HttpResponse, ApiError> {
    let command = body.command()?;
    let sent =
        caller.must(Action::ShareDocuments).call(&state, move |conn, ctx| transfers::send(conn, ctx, &command)).await?;
    let sent =
        SentFiles { transfer: sent.transfer.into(), portal: sent.portal.into(), portal_created: sent.portal_created };
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
    caller: Caller,
    query: Query<FileTransferListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<FileTransfer>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = TransferFilter {
        contact_id: query.contact_id.map(String::from),
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        from_staff_id: query.from_staff_id.map(String::from),
    };
    let listed = caller
        .must(Action::ReadDocuments)
        .call(&state, move |conn, ctx| transfers::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, FileTransfer::from)))
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
    caller: Caller,
    path: web::Path<FileTransferId>,
) -> Result<web::Json<FileTransfer>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| transfers::get(conn, ctx, &id)).await?.into()))
}
