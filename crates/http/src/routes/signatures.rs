//! Signature-required documents (seed 000): staff ask a contact to sign; the contact signs
//! (typed name and explicit consent) or declines in the portal. A signature records the
//! document's SHA-256, the time, the address and the user agent; a signed document can no
//! longer be renamed, moved or deleted.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ContactId, DocumentId, ShareId, SignatureRequestId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::principal::Principal;
use vestibule_domain::text;
use vestibule_storage::contacts::ContactRow;
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::portals::PortalRow;
use vestibule_storage::shares::{self, ShareRow};
use vestibule_storage::signatures::{self, DECLINED, Decision, PENDING, SIGNED, SignatureRow};
use vestibule_storage::{DbConnection, StorageError, contacts, documents, live, outbox, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::{Authenticated, ContactUser};
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::messaging;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::portal::my_portal;
use crate::routes::shares::may_share;
use crate::routes::{created, utc};
use crate::state::{AppState, HttpSettings};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(request_signature)
        .service(list_signature_requests)
        .service(list_my_signature_requests)
        .service(sign_document)
        .service(decline_signature);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    Pending,
    Signed,
    Declined,
}

impl SignatureStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => PENDING,
            Self::Signed => SIGNED,
            Self::Declined => DECLINED,
        }
    }

    pub fn of(stored: &str) -> Self {
        match stored {
            SIGNED => Self::Signed,
            DECLINED => Self::Declined,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureRequest {
    pub id: SignatureRequestId,
    pub document_id: DocumentId,
    pub contact_id: ContactId,
    /// The staff member who asked.
    pub requested_by: String,
    pub status: SignatureStatus,
    /// The name the contact typed to sign.
    pub signed_name: Option<String>,
    /// The SHA-256 of the document the contact signed.
    pub document_sha256: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub decline_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<SignatureRow> for SignatureRequest {
    fn from(row: SignatureRow) -> Self {
        Self {
            id: SignatureRequestId::from_trusted(row.id),
            document_id: DocumentId::from_trusted(row.document_id),
            contact_id: ContactId::from_trusted(row.contact_id),
            requested_by: row.requested_by,
            status: SignatureStatus::of(&row.status),
            signed_name: row.signed_name,
            document_sha256: row.document_sha256,
            ip: row.ip,
            user_agent: row.user_agent,
            decline_reason: row.decline_reason,
            decided_at: row.decided_at.map(utc),
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSignature {
    pub contact_id: ContactId,
}

/// Signing: the contact's typed name and explicit consent to sign electronically.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sign {
    #[schema(min_length = 1, max_length = 200)]
    pub typed_name: String,
    /// Must be `true`: the contact agrees that the typed name is their signature.
    pub consent: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignatureListQuery {
    pub status: Option<SignatureStatus>,
}

/// Who is asked to sign what, through which portal; `notify`: whether the contact gets the
/// request's own email (a file transfer tells of its signatures in its email instead).
#[derive(Clone, Copy)]
pub struct Asked<'a> {
    pub document: &'a DocumentRow,
    pub contact: &'a ContactRow,
    pub portal: &'a PortalRow,
    pub notify: bool,
}

/// Records a pending request (sharing the document to the portal if the contact cannot see
/// it yet) with its event, live event and audit entry; one pending request per contact.
pub fn ask(
    conn: &mut DbConnection,
    origin: &Origin,
    principal: &Principal,
    settings: &HttpSettings,
    asked: Asked<'_>,
) -> Result<SignatureRow, ApiError> {
    let Asked { document, contact, portal, notify } = asked;
    let open = signatures::of_document(conn, &document.id)?;
    if open.iter().any(|r| r.contact_id == contact.id && r.status == PENDING) {
        return Err(ApiError::conflict("signature_pending", "this contact has been asked to sign it already"));
    }
    let now = vestibule_storage::now();
    let in_portal = match documents::get_for_portal(conn, &portal.id, &document.id) {
        Ok(_) => true,
        Err(StorageError::NotFound) => false,
        Err(other) => return Err(other.into()),
    };
    if !in_portal {
        shares::insert(
            conn,
            &ShareRow {
                id: ShareId::generate().into(),
                firm_id: document.firm_id.clone(),
                document_id: document.id.clone(),
                portal_id: portal.id.clone(),
                contact_id: contact.id.clone(),
                folder_id: None,
                message_id: None,
                shared_by: principal.actor().1.to_owned(),
                created_at: now,
                ended_at: None,
                ended_by: None,
            },
        )?;
    }
    let row = SignatureRow {
        id: SignatureRequestId::generate().into(),
        firm_id: document.firm_id.clone(),
        document_id: document.id.clone(),
        contact_id: contact.id.clone(),
        requested_by: principal.actor().1.to_owned(),
        status: PENDING.to_owned(),
        signed_name: None,
        document_sha256: None,
        ip: None,
        user_agent: None,
        decline_reason: None,
        decided_at: None,
        created_at: now,
    };
    signatures::insert(conn, &row)?;
    let event = outbox::publish(conn, &document.firm_id, EventType::SignatureRequested, &json!({ "id": row.id }))?;
    if let Some(email) = contact.email.as_deref().filter(|_| notify) {
        let base = settings.public_base_url.trim_end_matches('/');
        let link = format!("{base}/portal/signature-requests/{}", row.id);
        outbox::queue_email(conn, &event, email, &Email::SignatureRequested(mail::SignatureRequest { link }))?;
    }
    live::push(conn, &document.firm_id, ("contact", &contact.id), "signature.requested", &json!({ "id": row.id }))?;
    let entry = Entry::success("signature.requested", "document", &document.id)
        .with_details(json!({ "request_id": row.id, "contact_id": contact.id }));
    audit::record(conn, origin, principal, entry)?;
    Ok(row)
}

/// Asks a contact to sign the document. The contact's portal must be active and show the
/// document's client or matter (409 codes as for sharing); the document is shared to it if
/// the contact cannot see it yet. The contact gets an email with a link.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path)),
    request_body = RequestSignature,
    responses(
        (status = 201, body = SignatureRequest, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/documents/{document_id}/signature-requests")]
pub async fn request_signature(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
    ApiJson(body): ApiJson<RequestSignature>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ShareDocuments)?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().to_string();
            let document = documents::get(conn, &firm_id, id.as_str(), &matter_visibility(&principal))?;
            may_share(conn, &principal, document.matter_id.as_deref())?;
            let contact = contacts::get(conn, &firm_id, body.contact_id.as_str())
                .or_unknown("/contact_id", "no such contact in this firm")?;
            let portal = messaging::reachable_portal(
                conn,
                &firm_id,
                &contact.id,
                &document.client_id,
                document.matter_id.as_deref(),
            )?;
            ask(
                conn,
                &origin,
                &principal,
                &settings,
                Asked { document: &document, contact: &contact, portal: &portal, notify: true },
            )
        })
    })
    .await?;
    Ok(created(format!("/v1/documents/{}/signature-requests", row.document_id), &SignatureRequest::from(row)))
}

/// The document's signature requests and their status.
#[utoipa::path(
    tag = "documents",
    params(("document_id" = DocumentId, Path)),
    responses((status = 200, body = Vec<SignatureRequest>), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/documents/{document_id}/signature-requests")]
pub async fn list_signature_requests(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<DocumentId>,
) -> Result<web::Json<Vec<SignatureRequest>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let document = documents::get(conn, principal.firm_id().as_str(), id.as_str(), &matter_visibility(&principal))?;
        Ok(web::Json(signatures::of_document(conn, &document.id)?.into_iter().map(SignatureRequest::from).collect()))
    })
    .await
}

/// The contact's signature requests, oldest first.
#[utoipa::path(
    tag = "portal",
    params(SignatureListQuery, PageQuery),
    responses((status = 200, body = Paginated<SignatureRequest>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/signature-requests")]
pub async fn list_my_signature_requests(
    state: web::Data<AppState>,
    ContactUser(me): ContactUser,
    query: Query<SignatureListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<SignatureRequest>>, ApiError> {
    let page = page.page()?;
    let status = query.status.map(SignatureStatus::as_str);
    db::run(&state, move |conn| {
        let rows = signatures::of_contact(conn, me.contact_id.as_str(), status, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), SignatureRequest::from)))
    })
    .await
}

/// Answers a pending request once; the document must still be in the portal.
fn answer(
    conn: &mut vestibule_storage::DbConnection,
    me: &vestibule_domain::principal::ContactPrincipal,
    origin: &Origin,
    id: &str,
    decision: impl FnOnce(&str) -> Decision,
) -> Result<SignatureRow, ApiError> {
    let portal = my_portal(conn, me)?;
    let request = signatures::get_for_contact(conn, me.contact_id.as_str(), id)?;
    let document = documents::get_for_portal(conn, &portal, &request.document_id)?;
    let decision = decision(&document.sha256);
    let status = decision.status;
    signatures::decide(conn, &request.id, &decision).map_err(|error| match error {
        StorageError::Conflict(_) => ApiError::conflict("signature_decided", "this request has been answered already"),
        other => other.into(),
    })?;
    // Published to webhooks through the audit record (`signature.signed` / `.declined`).
    let action = if status == SIGNED { "signature.signed" } else { "signature.declined" };
    let principal = Principal::Contact(me.clone());
    let entry = Entry::success(action, "signature_request", &request.id)
        .with_details(json!({ "document_id": document.id, "sha256": document.sha256 }));
    audit::record(conn, origin, &principal, entry)?;
    Ok(signatures::get_for_contact(conn, me.contact_id.as_str(), &request.id)?)
}

/// Signs: the typed name, consent, the document's SHA-256, the time, address and user agent
/// are recorded. From then on the document cannot be changed or deleted.
#[utoipa::path(
    tag = "portal",
    params(("signature_request_id" = SignatureRequestId, Path)),
    request_body = Sign,
    responses(
        (status = 200, body = SignatureRequest),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/signature-requests/{signature_request_id}/sign")]
pub async fn sign_document(
    state: web::Data<AppState>,
    origin: Origin,
    ContactUser(me): ContactUser,
    path: web::Path<SignatureRequestId>,
    ApiJson(body): ApiJson<Sign>,
) -> Result<web::Json<SignatureRequest>, ApiError> {
    let name = text::required(&body.typed_name, 200).map_err(|e| ApiError::from(e.at("/typed_name")))?;
    if !body.consent {
        return Err(ApiError::field("/consent", "consent_required", "signing needs explicit consent"));
    }
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row = answer(conn, &me, &origin, id.as_str(), |sha256| Decision {
                status: SIGNED,
                signed_name: Some(name.clone()),
                document_sha256: Some(sha256.to_owned()),
                ip: origin.ip.clone(),
                user_agent: origin.user_agent.clone(),
                decline_reason: None,
                at: vestibule_storage::now(),
            })?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}

/// Decline a signature request, with an optional reason.
#[utoipa::path(
    tag = "portal",
    params(("signature_request_id" = SignatureRequestId, Path)),
    request_body = Decline,
    responses(
        (status = 200, body = SignatureRequest),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/signature-requests/{signature_request_id}/decline")]
pub async fn decline_signature(
    state: web::Data<AppState>,
    origin: Origin,
    ContactUser(me): ContactUser,
    path: web::Path<SignatureRequestId>,
    ApiJson(body): ApiJson<Decline>,
) -> Result<web::Json<SignatureRequest>, ApiError> {
    let reason = text::optional(body.reason.as_deref(), 1000).map_err(|e| ApiError::from(e.at("/reason")))?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row = answer(conn, &me, &origin, id.as_str(), |_| Decision {
                status: DECLINED,
                signed_name: None,
                document_sha256: None,
                ip: origin.ip.clone(),
                user_agent: origin.user_agent.clone(),
                decline_reason: reason.clone(),
                at: vestibule_storage::now(),
            })?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}
