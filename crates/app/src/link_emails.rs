//! Seed 002's contact log for access links: an email to a contact with the link's URL
//! inserted, sent through the outbox and kept as an entry staff can list. The security code
//! never travels with it: a message that contains the current code is refused.

use serde_json::json;
use vestibule_domain::access_link::{LinkKind, code_candidates};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{AccessLinkId, ContactId, DocumentId, LinkEmailId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::{FieldError, ValidationErrors};
use vestibule_storage::access_links::{self, Link, LinkEmailRow};
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::{DbConnection, contacts, firms, outbox, write_tx};

use crate::access_links::{url_of, visible};
use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::events;
use crate::link_secret::LinkSecret;
use crate::page::Listed;

/// Subjects are cut to this many characters.
const SUBJECT_LIMIT: usize = 200;

/// An email to send with a link; values already validated.
#[derive(Debug, Clone)]
pub struct NewLinkEmail {
    pub contact_id: ContactId,
    /// `None`: what the link is for, and from whom.
    pub subject: Option<String>,
    pub message: String,
    /// Download links: documents the link shows, named in the email.
    pub document_ids: Vec<DocumentId>,
}

/// Whether `text` holds the link's current code, however its digits are separated.
fn holds_code(links: &LinkSecret, link: &Link, text: &str) -> bool {
    code_candidates(text).iter().any(|candidate| links.code_matches(&link.row.id, candidate, &link.guard.code_hash))
}

/// The documents an email names, in the order given: each one the link shows.
fn named_files(conn: &mut DbConnection, link: &Link, ids: &[DocumentId]) -> AppResult<Vec<DocumentRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if LinkKind::from_stored(&link.row.kind) != LinkKind::Download {
        return Err(AppError::field("/document_ids", "download_links_only", "an upload link shows no documents"));
    }
    let wanted: Vec<&str> = ids.iter().map(DocumentId::as_str).collect();
    let found = access_links::documents_among(conn, &link.row, &wanted)?;
    wanted
        .iter()
        .enumerate()
        .map(|(index, id)| {
            found.iter().find(|d| d.id == *id).cloned().ok_or_else(|| {
                AppError::field(
                    &format!("/document_ids/{index}"),
                    "unknown_reference",
                    "not a document this link shows",
                )
            })
        })
        .collect()
}

fn default_subject(kind: LinkKind, firm_name: &str, files: &[DocumentRow]) -> String {
    match kind {
        LinkKind::Download if files.is_empty() => format!("Documents for you from {firm_name}"),
        LinkKind::Download => {
            let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
            let subject = format!("Documents for you from {firm_name}: {}", names.join(", "));
            subject.chars().take(SUBJECT_LIMIT).collect()
        }
        LinkKind::Upload => format!("{firm_name} asks you to upload documents"),
    }
}

/// Emails the link to a contact, through the outbox, and logs it. The link must open
/// (`link_not_open`); a subject or message with the code in it is refused
/// (`code_in_message`).
#[tracing::instrument(skip(conn, ctx, links, email), fields(contact = %email.contact_id))]
pub fn send(
    conn: &mut DbConnection,
    ctx: &Context,
    links: &LinkSecret,
    id: &AccessLinkId,
    email: NewLinkEmail,
) -> AppResult<LinkEmailRow> {
    authorize(&ctx.principal, Action::SendMessages)?;
    write_tx(conn, |conn| {
        let link = visible(conn, &ctx.principal, id)?;
        if !link.status(vestibule_storage::now()).opens() {
            return Err(AppError::conflict("link_not_open", "the link is disabled, expired or locked"));
        }
        let mut errors = ValidationErrors::default();
        for (pointer, text) in [("/subject", email.subject.as_deref()), ("/message", Some(email.message.as_str()))] {
            if text.is_some_and(|t| holds_code(links, &link, t)) {
                let detail = "the security code must not travel with the link; send it by another channel";
                errors.push(FieldError::new(pointer, "code_in_message", detail));
            }
        }
        errors.into_result()?;
        let firm_id = ctx.firm_id();
        let contact = contacts::get(conn, firm_id, email.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        if contact.disabled_at.is_some() {
            return Err(AppError::field("/contact_id", "contact_disabled", "the contact is disabled"));
        }
        let to = contact
            .email
            .ok_or_else(|| AppError::field("/contact_id", "no_email", "the contact has no email address"))?;
        let files = named_files(conn, &link, &email.document_ids)?;
        let kind = LinkKind::from_stored(&link.row.kind);
        let subject = match email.subject {
            Some(subject) => subject,
            None => default_subject(kind, &firms::get(conn, firm_id)?.email_display_name, &files),
        };
        let named: Vec<_> = files.iter().map(|f| json!({ "document_id": f.id, "name": f.name })).collect();
        let row = LinkEmailRow {
            id: LinkEmailId::generate().into(),
            firm_id: firm_id.to_owned(),
            access_link_id: link.row.id.clone(),
            contact_id: contact.id,
            recipient: to,
            subject,
            body: email.message,
            files: json!(named).to_string(),
            sent_by: ctx.principal.actor().1.to_owned(),
            created_at: vestibule_storage::now(),
        };
        access_links::insert_email(conn, &row)?;
        // The event is about the log entry, the audit record about the link.
        let event = events::publish(conn, firm_id, EventType::AccessLinkEmailed, &row.id)?;
        let content = Email::AccessLinkEmailed(mail::LinkEmail {
            subject: row.subject.clone(),
            message: row.body.clone(),
            link: url_of(&ctx.settings, links, &link),
            kind,
            expires_at: link.row.expires_at.and_utc(),
            files: files.iter().map(|f| f.name.clone()).collect(),
        });
        outbox::queue_email(conn, &event, &row.recipient, &content)?;
        let entry = Entry::success("access_link.emailed", "access_link", &link.row.id)
            .with_details(json!({ "contact_id": row.contact_id, "entry_id": row.id }));
        audit::record(conn, ctx, entry)?;
        Ok(row)
    })
}

/// The link's contact log, newest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(conn: &mut DbConnection, ctx: &Context, id: &AccessLinkId, page: &Page) -> AppResult<Listed<LinkEmailRow>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let link = visible(conn, &ctx.principal, id)?;
    let rows = access_links::emails(conn, &link.row.id, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(
    conn: &mut DbConnection,
    ctx: &Context,
    link_id: &AccessLinkId,
    id: &LinkEmailId,
) -> AppResult<LinkEmailRow> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let link = visible(conn, &ctx.principal, link_id)?;
    Ok(access_links::email(conn, &link.row.id, id.as_str())?)
}
