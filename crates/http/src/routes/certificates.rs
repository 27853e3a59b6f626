//! Certificates of completion of answered signature requests, as JSON and as PDF, for staff
//! who may see the request's document and for the signer in the portal. Both forms are sent
//! byte for byte as issued: their SHA-256s are in the firm's audit chain, and
//! `vestibule admin verify-certificate FILE` checks a downloaded one.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, get, web};
use vestibule_app::certificates;
use vestibule_domain::ids::SignatureRequestId;
use vestibule_domain::signature_certificate::Certificate;
use vestibule_storage::signature_certificates::CertificateRow;

use crate::auth::principal::Caller;
use crate::download::{PdfDownload, pdf_attachment};
use crate::error::ApiError;
use crate::problem::{Conflict, Forbidden, InternalError, NotFound, Unauthorized};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(signature_certificate)
        .service(signature_certificate_pdf)
        .service(my_signature_certificate)
        .service(my_signature_certificate_pdf);
}

fn json_of(row: CertificateRow) -> HttpResponse {
    HttpResponse::Ok().insert_header((CONTENT_TYPE, "application/json")).body(row.json)
}

fn pdf_of(row: CertificateRow) -> HttpResponse {
    pdf_attachment(row.pdf, &format!("certificate-{}.pdf", row.signature_request_id))
}

/// The certificate of completion of a signed or declined request, as JSON (409
/// `signature_not_answered` while it is pending).
#[utoipa::path(
    tag = "documents",
    params(("signature_request_id" = SignatureRequestId, Path)),
    responses((status = 200, body = Certificate), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[get("/signature-requests/{signature_request_id}/certificate")]
pub async fn signature_certificate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SignatureRequestId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(json_of(caller.call(&state, move |conn, ctx| certificates::for_staff(conn, ctx, &id)).await?))
}

/// The certificate of completion of a signed or declined request, as PDF (409
/// `signature_not_answered` while it is pending).
#[utoipa::path(
    tag = "documents",
    params(("signature_request_id" = SignatureRequestId, Path)),
    responses(PdfDownload, Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[get("/signature-requests/{signature_request_id}/certificate.pdf")]
pub async fn signature_certificate_pdf(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SignatureRequestId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(pdf_of(caller.call(&state, move |conn, ctx| certificates::for_staff(conn, ctx, &id)).await?))
}

/// The certificate of completion of one of the contact's answered requests, as JSON.
#[utoipa::path(
    tag = "portal",
    params(("signature_request_id" = SignatureRequestId, Path)),
    responses((status = 200, body = Certificate), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/signature-requests/{signature_request_id}/certificate")]
pub async fn my_signature_certificate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SignatureRequestId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(json_of(caller.call(&state, move |conn, ctx| certificates::for_signer(conn, ctx, &id)).await?))
}

/// The certificate of completion of one of the contact's answered requests, as PDF.
#[utoipa::path(
    tag = "portal",
    params(("signature_request_id" = SignatureRequestId, Path)),
    responses(PdfDownload, Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/signature-requests/{signature_request_id}/certificate.pdf")]
pub async fn my_signature_certificate_pdf(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<SignatureRequestId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(pdf_of(caller.call(&state, move |conn, ctx| certificates::for_signer(conn, ctx, &id)).await?))
}
