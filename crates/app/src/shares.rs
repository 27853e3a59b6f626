//! Sharing documents to a contact's portal (seed 003): without a message (the documents
//! appear in the portal) or with one (a message in a conversation, with the documents
//! attached). Sharing needs the portal permission and, for a matter's documents, a role on
//! the matter (case handler or assistant) unless the caller is an owner or admin. Only a
//! share without a message can be ended: a message, once sent, stays as it was sent.

use serde_json::json;
use vestibule_domain::authz::{Action, authorize, matter_visibility, may_share_documents};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ContactId, ConversationId, DocumentId, FolderId, ShareId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::principal::Principal;
use vestibule_storage::conversations::{self, ConversationRow, STAFF, Viewer};
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::shares::{self, ShareFilter, ShareRow};
use vestibule_storage::{DbConnection, contacts, live, outbox, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::events;
use crate::messaging::{self, Posting};
use crate::notifications::{self, Notice, Recipient};
use crate::page::Listed;
use crate::places::{Selection, folder_in, role_on_matter, visible_documents};

/// A share and the name of its document.
pub type ShareRecord = (ShareRow, String);

/// Documents to share; with `message`, a message carries them.
#[derive(Debug, Clone)]
pub struct ShareCommand {
    pub document_ids: Vec<DocumentId>,
    pub contact_id: ContactId,
    /// The folder they appear in, of the same client or matter.
    pub folder_id: Option<FolderId>,
    pub message: Option<ShareMessage>,
}

/// The message that carries shared documents, its body already validated.
#[derive(Debug, Clone)]
pub struct ShareMessage {
    pub body: String,
    pub carrier: Carrier,
}

/// The conversation a message goes into.
#[derive(Debug, Clone)]
pub enum Carrier {
    /// The contact's conversation about the same client and matter.
    Existing(ConversationId),
    /// A new conversation; subject and channel validated, the subject defaults to "Documents".
    New { subject: Option<String>, channel: Option<String> },
}

#[derive(Debug)]
pub struct Shared {
    pub shares: Vec<ShareRecord>,
    /// The message, when shared with one.
    pub message: Option<crate::conversations::MessageRecord>,
}

/// The documents, all visible to the caller and of one client and matter.
pub fn documents_to_share(
    conn: &mut DbConnection,
    principal: &Principal,
    ids: &[DocumentId],
    at: Selection<'_>,
) -> AppResult<Vec<DocumentRow>> {
    let rows = visible_documents(conn, principal, ids, at)?;
    let first = rows.first().ok_or_else(|| AppError::field(at.list, "required", "name the documents"))?;
    if rows.iter().any(|r| r.client_id != first.client_id || r.matter_id != first.matter_id) {
        return Err(AppError::field(at.list, "mixed_places", "share documents of one client or one matter at a time"));
    }
    crate::scanning::may_pass_on(&rows)?;
    Ok(rows)
}

/// Asks `authz::may_share_documents` about documents of `matter_id`, with the caller's role
/// on that matter.
pub fn may_share(conn: &mut DbConnection, principal: &Principal, matter_id: Option<&str>) -> AppResult<()> {
    let role = role_on_matter(conn, principal, matter_id)?;
    Ok(may_share_documents(principal, matter_id.is_some(), role)?)
}

/// The folder of the documents' place that shared documents appear in, if one is named.
pub fn target_folder(
    conn: &mut DbConnection,
    principal: &Principal,
    place: &DocumentRow,
    folder: Option<&FolderId>,
) -> AppResult<Option<String>> {
    let Some(folder) = folder else { return Ok(None) };
    let target = (place.client_id.as_str(), place.matter_id.as_deref());
    Ok(Some(folder_in(conn, principal, folder, target, "/folder_id")?.id))
}

/// A conversation staff start with the contact about the documents' client and matter.
pub fn start_conversation(
    conn: &mut DbConnection,
    place: &DocumentRow,
    contact_id: &str,
    started_by: &str,
    (subject, channel): (String, Option<String>),
) -> AppResult<ConversationRow> {
    let row = ConversationRow {
        id: ConversationId::generate().into(),
        firm_id: place.firm_id.clone(),
        client_id: place.client_id.clone(),
        matter_id: place.matter_id.clone(),
        contact_id: contact_id.to_owned(),
        channel,
        subject,
        started_by_kind: STAFF.to_owned(),
        started_by_id: started_by.to_owned(),
        last_message_id: String::new(),
        last_staff_message_id: None,
        last_contact_message_id: None,
        created_at: vestibule_storage::now(),
        staff_messages: 0,
        contact_messages: 0,
    };
    conversations::insert(conn, &row)?;
    Ok(row)
}

/// The conversation that carries the message, and whether it is new.
fn carrier(
    conn: &mut DbConnection,
    principal: &Principal,
    contact_id: &str,
    place: &DocumentRow,
    carrier: Carrier,
) -> AppResult<(ConversationRow, bool)> {
    match carrier {
        Carrier::Existing(id) => {
            let visibility = matter_visibility(principal);
            let viewer = Viewer::Firm { reader_id: principal.actor().1, visibility: &visibility };
            let row = conversations::get(conn, principal.firm_id().as_str(), id.as_str(), viewer)
                .or_unknown("/message/conversation_id", "no such conversation visible to you")?;
            if row.contact_id != contact_id || row.client_id != place.client_id || row.matter_id != place.matter_id {
                return Err(AppError::field(
                    "/message/conversation_id",
                    "wrong_place",
                    "the conversation is with another contact or about another client or matter",
                ));
            }
            Ok((row, false))
        }
        Carrier::New { subject, channel } => {
            let subject = subject.unwrap_or_else(|| "Documents".to_owned());
            Ok((start_conversation(conn, place, contact_id, principal.actor().1, (subject, channel))?, true))
        }
    }
}

/// Shares documents to the contact's portal, which must be active and show the documents'
/// client or matter. The contact hears of it once: by the message's own email and live
/// event, or else by a "new documents" email and live event.
#[tracing::instrument(skip(conn, ctx))]
pub fn share(conn: &mut DbConnection, ctx: &Context, command: ShareCommand) -> AppResult<Shared> {
    authorize(&ctx.principal, Action::ShareDocuments)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let principal = &ctx.principal;
        let rows = documents_to_share(conn, principal, &command.document_ids, Selection::IDS)?;
        let place = rows[0].clone();
        may_share(conn, principal, place.matter_id.as_deref())?;
        let contact = contacts::get(conn, firm_id, command.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        let portal =
            messaging::reachable_portal(conn, firm_id, &contact.id, &place.client_id, place.matter_id.as_deref())?;
        let folder_id = target_folder(conn, principal, &place, command.folder_id.as_ref())?;
        let posted = match command.message {
            Some(ShareMessage { body, carrier: into }) => {
                let (conversation, starts) = carrier(conn, principal, &contact.id, &place, into)?;
                let posted = messaging::post(conn, ctx, Posting::new(&conversation, body, starts))?;
                for row in &rows {
                    shares::attach(conn, firm_id, &posted.id, &row.id)?;
                }
                Some(posted)
            }
            None => None,
        };
        let now = vestibule_storage::now();
        let mut created = Vec::new();
        let mut first_event = None;
        for row in &rows {
            let share_row = ShareRow {
                id: ShareId::generate().into(),
                firm_id: firm_id.to_owned(),
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
            let event = events::publish(conn, firm_id, EventType::DocumentShared, &share_row.id)?;
            first_event.get_or_insert(event);
            let entry = Entry::success("document.shared", "document", &row.id)
                .with_details(json!({ "share_id": share_row.id, "contact_id": contact.id }));
            audit::record(conn, ctx, entry)?;
            created.push((share_row, row.name.clone()));
        }
        if posted.is_none() {
            if let (Some(event), Some(email)) = (&first_event, contact.email.as_deref()) {
                let link = ctx.settings.link("/portal/documents");
                let content = Email::DocumentShared(mail::SharedDocuments { link, count: rows.len() });
                outbox::queue_email(conn, event, email, &content)?;
            }
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            live::push(conn, firm_id, ("contact", &contact.id), "documents.shared", &json!({ "document_ids": ids }))?;
            if let Some(first) = rows.first() {
                let notice = Notice::new(
                    NotificationKind::DocumentsShared,
                    &first.client_id,
                    (SubjectType::Document, &first.id),
                );
                notifications::notify(conn, firm_id, [Recipient::Contact(&contact.id)], notice)?;
            }
        }
        let message = posted.map(|row| crate::conversations::describe_one(conn, firm_id, row)).transpose()?;
        Ok(Shared { shares: created, message })
    })
}

/// What was shared, by whom and when; newest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &ShareFilter,
    page: &Page,
) -> AppResult<Listed<ShareRecord>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = shares::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |(r, _)| r.id.clone()))
}

/// Ends a share without a message: the document leaves the contact's portal (unless made
/// visible to the client). Ending an ended share changes nothing.
#[tracing::instrument(skip(conn, ctx))]
pub fn end(conn: &mut DbConnection, ctx: &Context, id: &ShareId) -> AppResult<ShareRecord> {
    authorize(&ctx.principal, Action::ShareDocuments)?;
    write_tx(conn, |conn| {
        let (row, name) = shares::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
        if row.message_id.is_some() {
            return Err(AppError::conflict(
                "shared_with_message",
                "this document was sent with a message, which stays in the conversation as sent; only documents shared without a message can be unshared",
            ));
        }
        if row.ended_at.is_some() {
            return Ok((row, name));
        }
        let now = vestibule_storage::now();
        let by = ctx.principal.actor().1;
        shares::end(conn, &row.id, by, now)?;
        audit::record(conn, ctx, Entry::success("share.ended", "share", &row.id).publishes(EventType::ShareEnded))?;
        Ok((ShareRow { ended_at: Some(now), ended_by: Some(by.to_owned()), ..row }, name))
    })
}
