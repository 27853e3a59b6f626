//! Signature-required documents (seed 000): staff ask a contact to sign; the contact signs
//! (typed name and explicit consent) or declines in the portal. A signature records the
//! document's SHA-256, the time, the address and the user agent; a signed document can no
//! longer be renamed, moved or deleted. Answering issues the request's certificate of
//! completion (`certificates`).

use serde_json::json;
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ContactId, DocumentId, ShareId, SignatureRequestId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::principal::ContactPrincipal;
use vestibule_domain::signature::{SignatureStatus, may_ask};
use vestibule_storage::contacts::ContactRow;
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::portals::PortalRow;
use vestibule_storage::shares::{self, ShareRow};
use vestibule_storage::signatures::{self, Decision, SignatureRow};
use vestibule_storage::{DbConnection, StorageError, contacts, documents, live, outbox, staff, write_tx};

use crate::audit::{self, Entry};
use crate::certificates;
use crate::context::Context;
use crate::documents::portal_contact;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::events;
use crate::messaging;
use crate::notifications::{self, Notice, Recipient};
use crate::page::Listed;
use crate::portal_access::portal_of;
use crate::shares::may_share;

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
/// it yet) with its event, live event and audit entry.
pub fn ask(conn: &mut DbConnection, ctx: &Context, asked: Asked<'_>) -> AppResult<SignatureRow> {
    let Asked { document, contact, portal, notify } = asked;
    let requests = signatures::of_document(conn, &document.id)?;
    let existing = requests.iter().map(|r| (r.contact_id.as_str(), SignatureStatus::from_stored(&r.status)));
    if !may_ask(existing, &contact.id) {
        return Err(AppError::conflict("signature_pending", "this contact has been asked to sign it already"));
    }
    let now = vestibule_storage::now();
    let in_portal = match documents::get_for_portal(conn, &portal.id, &document.id) {
        Ok(_) => true,
        Err(StorageError::NotFound) => false,
        Err(other) => return Err(other.into()),
    };
    let asker = ctx.principal.actor().1;
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
                shared_by: asker.to_owned(),
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
        requested_by: asker.to_owned(),
        status: SignatureStatus::Pending.as_str().to_owned(),
        signed_name: None,
        document_sha256: None,
        ip: None,
        user_agent: None,
        decline_reason: None,
        decided_at: None,
        created_at: now,
    };
    signatures::insert(conn, &row)?;
    let event = events::publish(conn, &document.firm_id, EventType::SignatureRequested, &row.id)?;
    if let Some(email) = contact.email.as_deref().filter(|_| notify) {
        let link = ctx.settings.link(&format!("/portal/signature-requests/{}", row.id));
        outbox::queue_email(conn, &event, email, &Email::SignatureRequested(mail::SignatureRequest { link }))?;
    }
    live::push(conn, &document.firm_id, ("contact", &contact.id), "signature.requested", &json!({ "id": row.id }))?;
    let notice = Notice::new(
        NotificationKind::SignatureRequested,
        &document.client_id,
        (SubjectType::SignatureRequest, &row.id),
    );
    notifications::notify(conn, &document.firm_id, [Recipient::Contact(&contact.id)], notice)?;
    let entry = Entry::success("signature.requested", "document", &document.id)
        .with_details(json!({ "request_id": row.id, "contact_id": contact.id }));
    audit::record(conn, ctx, entry)?;
    Ok(row)
}

/// Asks a contact to sign the document. The contact's portal must be active and show the
/// document's client or matter; the document is shared to it if the contact cannot see it
/// yet. The contact gets an email with a link.
#[tracing::instrument(skip(conn, ctx))]
pub fn request(
    conn: &mut DbConnection,
    ctx: &Context,
    document_id: &DocumentId,
    contact_id: &ContactId,
) -> AppResult<SignatureRow> {
    authorize(&ctx.principal, Action::ShareDocuments)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let document = documents::get(conn, firm_id, document_id.as_str(), &matter_visibility(&ctx.principal))?;
        may_share(conn, &ctx.principal, document.matter_id.as_deref())?;
        crate::scanning::may_pass_on(std::slice::from_ref(&document))?;
        let contact = contacts::get(conn, firm_id, contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        let portal = messaging::reachable_portal(
            conn,
            firm_id,
            &contact.id,
            &document.client_id,
            document.matter_id.as_deref(),
        )?;
        ask(conn, ctx, Asked { document: &document, contact: &contact, portal: &portal, notify: true })
    })
}

/// The document's signature requests.
#[tracing::instrument(skip(conn, ctx))]
pub fn of_document(conn: &mut DbConnection, ctx: &Context, id: &DocumentId) -> AppResult<Vec<SignatureRow>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let document = documents::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
    Ok(signatures::of_document(conn, &document.id)?)
}

/// The signed-in contact's requests, oldest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn mine(
    conn: &mut DbConnection,
    ctx: &Context,
    status: Option<SignatureStatus>,
    page: &Page,
) -> AppResult<Listed<SignatureRow>> {
    let me = portal_contact(ctx)?;
    let status = status.map(SignatureStatus::as_str);
    let rows = signatures::of_contact(conn, me.contact_id.as_str(), status, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

/// Signs with the typed name (validated, consent given): the name, the document's SHA-256,
/// the time, address and user agent are recorded.
#[tracing::instrument(skip(conn, ctx))]
pub fn sign(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &SignatureRequestId,
    typed_name: String,
) -> AppResult<SignatureRow> {
    let me = portal_contact(ctx)?;
    write_tx(conn, |conn| {
        answer(conn, ctx, me, id, |sha256| Decision {
            status: SignatureStatus::Signed.as_str(),
            signed_name: Some(typed_name),
            document_sha256: Some(sha256.to_owned()),
            ip: ctx.origin.ip.clone(),
            user_agent: ctx.origin.user_agent.clone(),
            decline_reason: None,
            at: vestibule_storage::now(),
        })
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn decline(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &SignatureRequestId,
    reason: Option<String>,
) -> AppResult<SignatureRow> {
    let me = portal_contact(ctx)?;
    write_tx(conn, |conn| {
        answer(conn, ctx, me, id, |_| Decision {
            status: SignatureStatus::Declined.as_str(),
            signed_name: None,
            document_sha256: None,
            ip: ctx.origin.ip.clone(),
            user_agent: ctx.origin.user_agent.clone(),
            decline_reason: reason,
            at: vestibule_storage::now(),
        })
    })
}

/// Answers a pending request once; the document must still be in the portal.
fn answer(
    conn: &mut DbConnection,
    ctx: &Context,
    me: &ContactPrincipal,
    id: &SignatureRequestId,
    decision: impl FnOnce(&str) -> Decision,
) -> AppResult<SignatureRow> {
    let portal = portal_of(conn, me)?;
    let request = signatures::get_for_contact(conn, me.contact_id.as_str(), id.as_str())?;
    let document = documents::get_for_portal(conn, &portal, &request.document_id)?;
    let decision = decision(&document.sha256);
    let (action, event, kind) = if decision.status == SignatureStatus::Signed.as_str() {
        ("signature.signed", EventType::SignatureSigned, NotificationKind::DocumentSigned)
    } else {
        ("signature.declined", EventType::SignatureDeclined, NotificationKind::SignatureDeclined)
    };
    signatures::decide(conn, &request.id, &decision).map_err(|error| match error {
        StorageError::Conflict(_) => AppError::conflict("signature_decided", "this request has been answered already"),
        other => other.into(),
    })?;
    let entry = Entry::success(action, "signature_request", &request.id)
        .with_details(json!({ "document_id": document.id, "sha256": document.sha256 }))
        .publishes(event);
    audit::record(conn, ctx, entry)?;
    let answered = signatures::get_for_contact(conn, me.contact_id.as_str(), &request.id)?;
    let signer = contacts::get(conn, &request.firm_id, &request.contact_id)?;
    certificates::issue(conn, ctx, &answered, &document, &signer)?;
    // The staff member who asked hears of the answer (an API key that asked has no inbox).
    let asker = staff::get(conn, &request.firm_id, &request.requested_by).ok();
    let notice = Notice::new(kind, &document.client_id, (SubjectType::SignatureRequest, &request.id));
    notifications::notify(conn, &request.firm_id, asker.iter().map(|s| Recipient::Staff(&s.id)), notice)?;
    Ok(answered)
}
