//! Seed 000's "Send Files to Contact": in one call a staff member (the caller, or a colleague
//! an admin sends for) sends documents of one client or matter to a contact's portal, with a
//! subject and a message that is either kept in the portal (secure) or also put in the email.
//! Each file may require a signature. A contact without a portal is answered with the choices
//! the seed offers (use an existing portal, create a full or a temporary one); a new portal's
//! contact gets the welcome (invitation) email as well as the one about the files.

use chrono::NaiveDateTime;
use serde_json::json;
use vestibule_domain::authz::{Action, authorize, matter_visibility, may_send_files_as};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ContactId, DocumentId, FileTransferId, FolderId, PortalId, ShareId, StaffId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::portal::{Delivery, InvitationSource, PortalKind, PortalStatus};
use vestibule_domain::principal::Principal;
use vestibule_storage::contacts::ContactRow;
use vestibule_storage::file_transfers::{self, TransferFileRow, TransferFilter, TransferRow};
use vestibule_storage::portals::{self, PortalRow};
use vestibule_storage::shares::{self, ShareRow};
use vestibule_storage::{DbConnection, contacts, outbox, staff, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::events;
use crate::messaging::{self, Posting};
use crate::page::Listed;
use crate::places::Selection;
use crate::portal_access::{self, Invitee};
use crate::shares::{documents_to_share, may_share, start_conversation, target_folder};
use crate::signatures::{Asked, ask};

/// What a contact without a usable portal may be given: the values of `portal.choice`.
const PORTAL_CHOICES: &[&str] = &["existing", "full", "temporary"];

/// Where the message goes: only into the portal (`secure`), or also into the email's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageDelivery {
    Secure,
    Email,
}

impl MessageDelivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secure => "secure",
            Self::Email => "email",
        }
    }

    pub fn from_stored(stored: &str) -> Self {
        if stored == "email" { Self::Email } else { Self::Secure }
    }
}

/// Which portal gets the files when the contact's own is not to be used.
#[derive(Debug, Clone)]
pub enum PortalChoice {
    Existing(PortalId),
    Full,
    /// A temporary portal ending at this (future) time.
    Temporary(NaiveDateTime),
}

#[derive(Debug, Clone)]
pub struct SendFiles {
    pub from_staff_id: Option<StaffId>,
    pub contact_id: ContactId,
    /// Subject and message, validated.
    pub subject: String,
    pub message: String,
    pub delivery: MessageDelivery,
    /// Each document, and whether the contact is asked to sign it.
    pub files: Vec<(DocumentId, bool)>,
    pub folder_id: Option<FolderId>,
    pub portal: Option<PortalChoice>,
}

/// A transfer with its files.
#[derive(Debug)]
pub struct Transfer {
    pub row: TransferRow,
    pub files: Vec<TransferFileRow>,
}

#[derive(Debug)]
pub struct Sent {
    pub transfer: Transfer,
    /// The portal the files went to (`invited` while the contact still has to register).
    pub portal: crate::portals::PortalRecord,
    /// Whether this call created the portal (and sent the welcome email).
    pub portal_created: bool,
}

/// Sends documents to a contact's portal with a message, asking for signatures where marked.
/// The contact gets one email about the files (with the message in it for `email`
/// delivery), and the welcome email first when the portal is new.
#[tracing::instrument(skip_all, fields(contact_id = %command.contact_id))]
pub fn send(conn: &mut DbConnection, ctx: &Context, command: &SendFiles) -> AppResult<Sent> {
    authorize(&ctx.principal, Action::ShareDocuments)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let principal = &ctx.principal;
        let from_staff_id = sender(conn, principal, command.from_staff_id.as_ref())?;
        let ids: Vec<DocumentId> = command.files.iter().map(|(id, _)| id.clone()).collect();
        let rows = documents_to_share(conn, principal, &ids, Selection { list: "/files", item: "/document_id" })?;
        let place = rows[0].clone();
        may_share(conn, principal, place.matter_id.as_deref())?;
        let contact = contacts::get(conn, firm_id, command.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        let (portal, contact, portal_created) = receiving_portal(conn, ctx, contact, command.portal.as_ref())?;
        let folder_id = target_folder(conn, principal, &place, command.folder_id.as_ref())?;
        if !messaging::portal_shows(conn, &portal.id, &place.client_id, place.matter_id.as_deref())? {
            let (client, matter) = match &place.matter_id {
                Some(matter) => (None, Some(matter.as_str())),
                None => (Some(place.client_id.as_str()), None),
            };
            portal_access::grant(conn, ctx, &portal, client, matter)?;
            let entry = Entry::success("portal.granted", "portal", &portal.id)
                .with_details(json!({ "client_id": client, "matter_id": matter, "by": "file_transfer" }));
            audit::record(conn, ctx, entry)?;
        }
        if portal_created {
            let invitee = Invitee {
                portal: &portal,
                contact: &contact,
                client_id: Some(&place.client_id),
                source: InvitationSource::Portal,
            };
            portal_access::invite(conn, ctx, invitee)?;
        }
        let topic = (command.subject.clone(), None);
        let conversation = start_conversation(conn, &place, &contact.id, &from_staff_id, topic)?;
        let posting = Posting {
            on_behalf_of: Some(&from_staff_id),
            email_contact: false,
            ..Posting::new(&conversation, command.message.clone(), true)
        };
        let posted = messaging::post(conn, ctx, posting)?;
        let now = vestibule_storage::now();
        let row = TransferRow {
            id: FileTransferId::generate().into(),
            firm_id: firm_id.to_owned(),
            client_id: place.client_id.clone(),
            matter_id: place.matter_id.clone(),
            contact_id: contact.id.clone(),
            portal_id: portal.id.clone(),
            from_staff_id: from_staff_id.clone(),
            sent_by: principal.actor().1.to_owned(),
            subject: command.subject.clone(),
            delivery: command.delivery.as_str().to_owned(),
            conversation_id: conversation.id.clone(),
            message_id: posted.id.clone(),
            created_at: now,
        };
        file_transfers::insert(conn, &row)?;
        let mut signatures = 0;
        for document in &rows {
            shares::attach(conn, firm_id, &posted.id, &document.id)?;
            shares::insert(
                conn,
                &ShareRow {
                    id: ShareId::generate().into(),
                    firm_id: firm_id.to_owned(),
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
            let wanted = command.files.iter().any(|(id, sign)| *sign && id.as_str() == document.id);
            let request = if wanted {
                signatures += 1;
                Some(ask(conn, ctx, Asked { document, contact: &contact, portal: &portal, notify: false })?.id)
            } else {
                None
            };
            file_transfers::add_file(conn, &row, &document.id, request.as_deref())?;
        }
        let event = events::publish(conn, firm_id, EventType::FileTransferSent, &row.id)?;
        let content = Email::FileTransferSent(mail::FileTransfer {
            subject: command.subject.clone(),
            message: (command.delivery == MessageDelivery::Email).then(|| command.message.clone()),
            files: rows.iter().map(|d| d.name.clone()).collect(),
            signatures,
            registration_pending: portal.activated_at.is_none(),
            link: ctx.settings.link(&format!("/portal/conversations/{}", conversation.id)),
        });
        if let Some(email) = contact.email.as_deref() {
            outbox::queue_email(conn, &event, email, &content)?;
        }
        let entry = Entry::success("file_transfer.sent", "file_transfer", &row.id).with_details(json!({
            "contact_id": contact.id, "from_staff_id": from_staff_id, "files": rows.len(), "delivery": row.delivery,
        }));
        audit::record(conn, ctx, entry)?;
        let transfer = describe(conn, vec![row])?.pop().ok_or(AppError::NotFound)?;
        let portal = crate::portals::describe_one(conn, portal)?;
        Ok(Sent { transfer, portal, portal_created })
    })
}

/// Files sent to contacts, newest first, with each file's signature and download status.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &TransferFilter,
    page: &Page,
) -> AppResult<Listed<Transfer>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = file_transfers::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    let listed = Listed::finish(page, rows, |r| r.id.clone());
    Ok(Listed { items: describe(conn, listed.items)?, next_cursor: listed.next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &FileTransferId) -> AppResult<Transfer> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let row = file_transfers::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
    describe(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// Transfers with their files, in one more query for a whole page.
fn describe(conn: &mut DbConnection, rows: Vec<TransferRow>) -> AppResult<Vec<Transfer>> {
    let mut files = file_transfers::files(conn, &rows)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let files = files.remove(&row.id).unwrap_or_default();
            Transfer { row, files }
        })
        .collect())
}

/// The staff member the files come from, allowed by `authz::may_send_files_as`.
fn sender(conn: &mut DbConnection, principal: &Principal, from: Option<&StaffId>) -> AppResult<String> {
    let id = match (from, principal) {
        (Some(id), _) => id.clone(),
        (None, Principal::Staff(me)) => me.staff_id.clone(),
        (None, _) => return Err(AppError::Forbidden("files are sent by people".to_owned())),
    };
    let row = staff::get(conn, principal.firm_id().as_str(), id.as_str())
        .or_unknown("/from_staff_id", "no such staff member in this firm")?;
    may_send_files_as(principal, &id, row.disabled_at.is_none(), row.portal_permission)?;
    Ok(row.id)
}

/// The portal that receives the files and its contact, following the caller's `choice`;
/// `true` when it was created here. Without a choice the contact's own portal is used, and a
/// contact without one is answered `portal_required` with the choices.
fn receiving_portal(
    conn: &mut DbConnection,
    ctx: &Context,
    contact: ContactRow,
    choice: Option<&PortalChoice>,
) -> AppResult<(PortalRow, ContactRow, bool)> {
    let firm_id = contact.firm_id.clone();
    let (portal, contact, created) = match choice {
        None => match portals::for_contact(conn, &firm_id, &contact.id)? {
            Some(portal) => (portal, contact, false),
            None => {
                return Err(AppError::Choose {
                    code: "portal_required",
                    detail: "this contact has no client portal: send again with `portal` to use an existing portal, or to create a full or a temporary one",
                    choices: PORTAL_CHOICES,
                });
            }
        },
        Some(PortalChoice::Existing(portal_id)) => {
            let portal = portals::get(conn, &firm_id, portal_id.as_str())
                .or_unknown("/portal/portal_id", "no such portal in this firm")?;
            let owner = contacts::get(conn, &firm_id, &portal.contact_id)?;
            (portal, owner, false)
        }
        Some(new) => {
            let (kind, expires_at) = match new {
                PortalChoice::Temporary(expires_at) => (PortalKind::Temporary, Some(*expires_at)),
                _ => (PortalKind::Full, None),
            };
            let (portal, created) = portal_access::ensure_portal(conn, ctx, &contact, kind, expires_at)?;
            if !created {
                return Err(AppError::conflict(
                    "portal_exists",
                    format!("the contact already has portal {}; send without `portal` to use it", portal.id),
                ));
            }
            (portal, contact, true)
        }
    };
    let status = PortalStatus::of(&portal.status, portal.disabled_at, portal.expires_at, vestibule_storage::now());
    if !status.receives(Delivery::Files) {
        return Err(AppError::conflict(
            "portal_inactive",
            format!("the portal is {}; enable it or extend it before sending files", status.as_str()),
        ));
    }
    if contact.email.is_none() {
        return Err(AppError::field("/contact_id", "no_email", "the contact has no email address to notify"));
    }
    Ok((portal, contact, created))
}
