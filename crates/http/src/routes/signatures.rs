//! Signature-required documents (seed 000): staff ask a contact to sign; the contact signs
//! (typed name and explicit consent) or declines in the portal. A signature records the
//! document's SHA-256, the time, the address and the user agent; a signed document can no
//! longer be renamed, moved or deleted.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::documents::portal_contact;
use vestibule_app::signatures;
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ContactId, DocumentId, SignatureRequestId};
use vestibule_domain::signature::{CONSENT_TEXT, SignatureStatus};
use vestibule_domain::text;
use vestibule_storage::signatures::SignatureRow;

use crate::auth::principal::Caller;
use crate::db;
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

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(request_signature)
        .service(list_signature_requests)
        .service(list_my_signature_requests)
        .service(sign_document)
        .service(decline_signature);
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
    /// The consent to show the signer beside the sign button; `consent: true` accepts it,
    /// and the certificate of completion repeats it.
    pub consent_text: String,
}

impl From<SignatureRow> for SignatureRequest {
    fn from(row: SignatureRow) -> Self {
        Self {
            id: SignatureRequestId::from_trusted(row.id),
            document_id: DocumentId::from_trusted(row.document_id),
            contact_id: ContactId::from_trusted(row.contact_id),
            requested_by: row.requested_by,
            status: SignatureStatus::from_stored(&row.status),
            signed_name: row.signed_name,
            document_sha256: row.document_sha256,
            ip: row.ip,
            user_agent: row.user_agent,
            decline_reason: row.decline_reason,
            decided_at: row.decided_at.map(utc),
            created_at: utc(row.created_at),
            consent_text: CONSENT_TEXT.to_owned(),
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
    /// Must be `true`: the contact accepts the request's `consent_text`.
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
    caller: Caller,
    path: web::Path<DocumentId>,
    ApiJson(body): ApiJson<RequestSignature>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = caller
        .must(Action::ShareDocuments)
        .call(&state, move |conn, ctx| signatures::request(conn, ctx, &id, &body.contact_id))
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
    caller: Caller,
    path: web::Path<DocumentId>,
) -> Result<web::Json<Vec<SignatureRequest>>, ApiError> {
    let id = path.into_inner();
    let rows = caller.call(&state, move |conn, ctx| signatures::of_document(conn, ctx, &id)).await?;
    Ok(web::Json(rows.into_iter().map(SignatureRequest::from).collect()))
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
    caller: Caller,
    query: Query<SignatureListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<SignatureRequest>>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let page = page.page()?;
    let status = query.status;
    let listed = db::call(&state, move |conn| signatures::mine(conn, &ctx, status, &page)).await?;
    Ok(web::Json(Paginated::of(listed, SignatureRequest::from)))
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
    caller: Caller,
    path: web::Path<SignatureRequestId>,
    ApiJson(body): ApiJson<Sign>,
) -> Result<web::Json<SignatureRequest>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let name = text::required(&body.typed_name, 200).map_err(|e| ApiError::from(e.at("/typed_name")))?;
    if !body.consent {
        return Err(ApiError::field("/consent", "consent_required", "signing needs explicit consent"));
    }
    let id = path.into_inner();
    Ok(web::Json(db::call(&state, move |conn| signatures::sign(conn, &ctx, &id, name)).await?.into()))
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
    caller: Caller,
    path: web::Path<SignatureRequestId>,
    ApiJson(body): ApiJson<Decline>,
) -> Result<web::Json<SignatureRequest>, ApiError> {
    let ctx = caller.context(&state).await?;
    portal_contact(&ctx)?;
    let reason = text::optional(body.reason.as_deref(), 1000).map_err(|e| ApiError::from(e.at("/reason")))?;
    let id = path.into_inner();
    Ok(web::Json(db::call(&state, move |conn| signatures::decline(conn, &ctx, &id, reason)).await?.into()))
}
