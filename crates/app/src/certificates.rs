//! Certificates of completion of signature requests: issued once, in the transaction that
//! answers the request, kept byte for byte (PDF and JSON), and vouched for by an audit event
//! that records both SHA-256s, so a certificate handed to a court can be checked against the
//! firm's hash chain. A declined request gets a certificate of its refusal.

use serde_json::json;
use sha2::{Digest, Sha256};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::SignatureRequestId;
use vestibule_domain::principal::Principal;
use vestibule_domain::signature::{CONSENT_TEXT, SignatureStatus};
use vestibule_domain::signature_certificate::{
    CERTIFICATE_ISSUED, CERTIFICATE_VERSION, Certificate, CertifiedDocument, CertifiedFirm, CertifiedSigner,
    HistoryEntry, HistoryStep,
};
use vestibule_storage::audit::{self as audit_log, AuditEventRow};
use vestibule_storage::contacts::ContactRow;
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::signature_certificates::{self, CertificateRow};
use vestibule_storage::signatures::{self, SignatureRow};
use vestibule_storage::{DbConnection, documents, firms};

use crate::audit::{self, Entry};
use crate::certificate_pdf;
use crate::context::Context;
use crate::error::{AppError, AppResult};

/// Issues the certificate of a request just answered, inside the answering transaction:
/// `request` is the answered row, the history is read from the audit events written so far.
pub fn issue(
    conn: &mut DbConnection,
    ctx: &Context,
    request: &SignatureRow,
    document: &DocumentRow,
    signer: &ContactRow,
) -> AppResult<CertificateRow> {
    let firm = firms::get(conn, &request.firm_id)?;
    let events = audit_log::about(conn, &request.firm_id, &[&request.id, &document.id])?;
    let status = SignatureStatus::from_stored(&request.status);
    let answered_at = request.decided_at.unwrap_or(request.created_at);
    let issued_at = vestibule_storage::now();
    let certificate = Certificate {
        certificate_version: CERTIFICATE_VERSION,
        signature_request_id: request.id.clone(),
        status,
        firm: CertifiedFirm { id: firm.id, name: firm.name },
        document: CertifiedDocument {
            id: document.id.clone(),
            name: document.name.clone(),
            sha256: request.document_sha256.clone().unwrap_or_else(|| document.sha256.clone()),
            size_bytes: document.size,
        },
        signer: CertifiedSigner {
            contact_id: signer.id.clone(),
            name: format!("{} {}", signer.first_name, signer.last_name).trim().to_owned(),
            email: signer.email.clone(),
        },
        typed_signature: request.signed_name.clone(),
        consent_text: (status == SignatureStatus::Signed).then(|| CONSENT_TEXT.to_owned()),
        decline_reason: request.decline_reason.clone(),
        answered_at: answered_at.and_utc(),
        ip: request.ip.clone(),
        user_agent: request.user_agent.clone(),
        requested_by: request.requested_by.clone(),
        requested_at: request.created_at.and_utc(),
        history: history(&events, request),
        issued_at: issued_at.and_utc(),
    };
    let json = certificate.to_json();
    let pdf = certificate_pdf::render(&certificate);
    let (json_sha256, pdf_sha256) = (sha256_hex(json.as_bytes()), sha256_hex(&pdf));
    let entry = Entry::success(CERTIFICATE_ISSUED, "signature_request", &request.id).with_details(json!({
        "request_id": request.id,
        "status": status.as_str(),
        "document_id": document.id,
        "document_name": document.name,
        "document_sha256": certificate.document.sha256,
        "signer_email": signer.email,
        "json_sha256": json_sha256,
        "pdf_sha256": pdf_sha256,
    }));
    let recorded = audit::record_event(conn, ctx, entry)?;
    let row = CertificateRow {
        signature_request_id: request.id.clone(),
        firm_id: request.firm_id.clone(),
        json,
        pdf,
        json_sha256,
        pdf_sha256,
        audit_event_id: recorded.id,
        issued_at,
    };
    signature_certificates::insert(conn, &row)?;
    Ok(row)
}

/// The steps of the request in the audit chain: its asking (an event about the document that
/// names the request), the signer's downloads of the document while it waited, its answer.
fn history(events: &[AuditEventRow], request: &SignatureRow) -> Vec<HistoryEntry> {
    let names_request = |event: &AuditEventRow| {
        serde_json::from_str::<serde_json::Value>(&event.details)
            .is_ok_and(|details| details["request_id"] == request.id.as_str())
    };
    let asked_seq =
        events.iter().find(|e| e.action == "signature.requested" && names_request(e)).map_or(i64::MAX, |e| e.seq);
    let answered_seq = events
        .iter()
        .find(|e| e.target_id.as_deref() == Some(request.id.as_str()) && e.action != CERTIFICATE_ISSUED)
        .map_or(i64::MAX, |e| e.seq);
    events
        .iter()
        .filter_map(|event| {
            let step = HistoryStep::of_action(&event.action)?;
            let belongs = match step {
                HistoryStep::Asked => names_request(event),
                HistoryStep::Viewed => {
                    event.actor_id.as_deref() == Some(request.contact_id.as_str())
                        && event.seq > asked_seq
                        && event.seq < answered_seq
                }
                HistoryStep::Signed | HistoryStep::Declined => event.target_id.as_deref() == Some(request.id.as_str()),
            };
            belongs.then(|| HistoryEntry {
                step,
                at: event.occurred_at.and_utc(),
                audit_event_id: event.id.clone(),
                audit_seq: event.seq,
                actor_kind: event.actor_kind.clone(),
                actor_id: event.actor_id.clone(),
                ip: event.ip.clone(),
                user_agent: event.user_agent.clone(),
            })
        })
        .collect()
}

/// The certificate of a request staff may see (the request's document is visible to them).
#[tracing::instrument(skip(conn, ctx))]
pub fn for_staff(conn: &mut DbConnection, ctx: &Context, id: &SignatureRequestId) -> AppResult<CertificateRow> {
    authorize(&ctx.principal, Action::ReadSignatureCertificates)?;
    let request = signatures::get(conn, ctx.firm_id(), id.as_str())?;
    documents::get(conn, ctx.firm_id(), &request.document_id, &matter_visibility(&ctx.principal))?;
    issued(conn, &request)
}

/// The certificate of one of the signed-in contact's own requests.
#[tracing::instrument(skip(conn, ctx))]
pub fn for_signer(conn: &mut DbConnection, ctx: &Context, id: &SignatureRequestId) -> AppResult<CertificateRow> {
    let Principal::Contact(me) = &ctx.principal else {
        return Err(AppError::Forbidden("this endpoint is for portal contacts".to_owned()));
    };
    let request = signatures::get_for_contact(conn, me.contact_id.as_str(), id.as_str())?;
    issued(conn, &request)
}

fn issued(conn: &mut DbConnection, request: &SignatureRow) -> AppResult<CertificateRow> {
    if SignatureStatus::from_stored(&request.status) == SignatureStatus::Pending {
        return Err(AppError::conflict(
            "signature_not_answered",
            "the request has not been signed or declined yet, so there is no certificate",
        ));
    }
    Ok(signature_certificates::get(conn, &request.firm_id, &request.id)?)
}

/// What `vestibule admin verify-certificate` finds for a file.
#[derive(Debug)]
pub enum Verification {
    /// No audit event records this SHA-256: not a certificate issued here, or altered.
    Unknown {
        sha256: String,
    },
    /// The event exists but the firm's chain is broken at or before it.
    Broken {
        sha256: String,
        seq: i64,
        reason: &'static str,
    },
    Certified(Box<Certified>),
}

#[derive(Debug)]
pub struct Certified {
    pub sha256: String,
    /// `pdf` or `json`: which form of the certificate the file is.
    pub form: &'static str,
    pub event: AuditEventRow,
    /// What the certificate certifies, as the audit event recorded it.
    pub details: serde_json::Value,
    /// The chain's length from its start through the event, all verified.
    pub events_checked: i64,
}

/// Finds the audit event that recorded the file's SHA-256 (in any firm: this is the
/// operator's check) and verifies that firm's chain through it.
#[tracing::instrument(skip(conn, file))]
pub fn verify(conn: &mut DbConnection, file: &[u8]) -> AppResult<Verification> {
    let sha256 = sha256_hex(file);
    let found = audit_log::mentioning(conn, CERTIFICATE_ISSUED, &sha256)?.into_iter().find_map(|event| {
        let details: serde_json::Value = serde_json::from_str(&event.details).ok()?;
        let form = if details["pdf_sha256"] == sha256.as_str() {
            "pdf"
        } else if details["json_sha256"] == sha256.as_str() {
            "json"
        } else {
            return None;
        };
        Some((event, details, form))
    });
    let Some((event, details, form)) = found else {
        return Ok(Verification::Unknown { sha256 });
    };
    let chain = audit_log::verify(conn, &event.firm_id)?;
    if let Some(broken) = chain.first_break.filter(|b| b.seq <= event.seq) {
        return Ok(Verification::Broken { sha256, seq: broken.seq, reason: broken.reason });
    }
    let events_checked = event.seq;
    Ok(Verification::Certified(Box::new(Certified { sha256, form, event, details, events_checked })))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
