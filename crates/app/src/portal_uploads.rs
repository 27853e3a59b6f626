//! What a contact hands over in the portal: files uploaded into a client or matter the portal
//! shows (or into a document request's item, through `portal_requests`), recorded as the
//! contact's documents, visible on both sides at once; and removing their own uploads while
//! staff have not accepted them.

use serde_json::{Value, json};
use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::document_request::{self as rules, ItemStatus};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, DocumentId, FolderId, MatterId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_storage::document_requests::{self, ItemRow, RequestRow};
use vestibule_storage::documents::{self, DocumentRow};
use vestibule_storage::outbox::EventRow;
use vestibule_storage::{DbConnection, clients, contacts, folders, matters, outbox, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::document_requests::upload_removed;
use crate::documents::{Uploaded, portal_contact, store, upload_limit};
use crate::error::{AppError, AppResult, OrUnknown};
use crate::events;
use crate::messaging::portal_shows;
use crate::notifications::{self, Notice};
use crate::places::Place;
use crate::portal_access::portal_of;
use crate::request_links::staff_link;
use crate::scanning;

/// Who on the client side handed a file over, as `document.uploaded` names them.
#[derive(Debug, Clone, Copy)]
pub enum Uploader<'a> {
    Contact(&'a str),
    AccessLink(&'a str),
}

impl Uploader<'_> {
    /// The data of the `document.uploaded` event about `document`, with the request item it
    /// answers, if any.
    pub fn event_data(self, document: &DocumentRow, item: Option<&ItemRow>) -> Value {
        let (kind, id) = match self {
            Self::Contact(id) => ("contact", id),
            Self::AccessLink(id) => ("access_link", id),
        };
        json!({
            "id": document.id,
            "client_id": document.client_id,
            "matter_id": document.matter_id,
            "uploaded_by": { "type": kind, "id": id },
            "document_request_id": item.map(|i| &i.request_id),
            "item_id": item.map(|i| &i.id),
        })
    }
}

/// Where the contact's upload goes and the firm's limit per file, checked before any byte is
/// read: a client or matter the portal shows, and optionally a folder of it. Anything else is
/// unknown to the contact.
#[tracing::instrument(skip(conn, ctx))]
pub fn upload_target(
    conn: &mut DbConnection,
    ctx: &Context,
    (client, matter, folder): (Option<&ClientId>, Option<&MatterId>, Option<&FolderId>),
) -> AppResult<(Place, u64)> {
    let place = portal_place(conn, ctx, (client, matter, folder))?;
    Ok((place, upload_limit(conn, ctx.firm_id())?))
}

fn portal_place(
    conn: &mut DbConnection,
    ctx: &Context,
    (client, matter, folder): (Option<&ClientId>, Option<&MatterId>, Option<&FolderId>),
) -> AppResult<Place> {
    let me = portal_contact(ctx)?;
    let portal = portal_of(conn, me)?;
    let firm_id = ctx.firm_id();
    let unknown = |pointer: &str| AppError::field(pointer, "unknown_reference", "not in your portal");
    let (client_id, matter_id) = match (client, matter) {
        (_, Some(matter)) => {
            let row = matters::get(conn, firm_id, matter.as_str(), &MatterVisibility::All)
                .or_unknown("#/query/matter_id", "not in your portal")?;
            if client.is_some_and(|c| c.as_str() != row.client_id) {
                return Err(unknown("#/query/matter_id"));
            }
            (row.client_id, Some(row.id))
        }
        (Some(client), None) => (client.to_string(), None),
        (None, None) => return Err(AppError::field("#/query/client_id", "required", "name a client or matter")),
    };
    if !portal_shows(conn, &portal, &client_id, matter_id.as_deref())? {
        return Err(unknown(if matter_id.is_some() { "#/query/matter_id" } else { "#/query/client_id" }));
    }
    let folder_id = match folder {
        Some(id) => {
            let row = folders::get(conn, firm_id, id.as_str(), &MatterVisibility::All)
                .or_unknown("#/query/folder_id", "not in your portal")?;
            if row.client_id != client_id || row.matter_id != matter_id {
                return Err(unknown("#/query/folder_id"));
            }
            Some(row.id)
        }
        // The client's inbox, for an upload to the client itself.
        None if matter_id.is_none() => clients::get(conn, firm_id, &client_id)?.row.portal_inbox_folder_id,
        None => None,
    };
    Ok(Place { client_id, matter_id, folder_id })
}

/// Records the stored files as the contact's documents, all or none. The portal is asked
/// again: its access may have changed while the files streamed.
#[tracing::instrument(skip(conn, ctx, files))]
pub fn save(
    conn: &mut DbConnection,
    ctx: &Context,
    place: &Place,
    files: Vec<Uploaded>,
) -> AppResult<Vec<DocumentRow>> {
    write_tx(conn, |conn| {
        let me = portal_contact(ctx)?;
        let portal = portal_of(conn, me)?;
        if !portal_shows(conn, &portal, &place.client_id, place.matter_id.as_deref())? {
            return Err(AppError::NotFound);
        }
        record_client_files(conn, ctx, place, files, None)
    })
}

/// Makes the files documents of the contact in `place`, tells integrations and the staff the
/// firm's policy names; with `item`, the files answer that request item.
pub(crate) fn record_client_files(
    conn: &mut DbConnection,
    ctx: &Context,
    place: &Place,
    files: Vec<Uploaded>,
    item: Option<&ItemRow>,
) -> AppResult<Vec<DocumentRow>> {
    let me = portal_contact(ctx)?;
    let now = vestibule_storage::now();
    let mut rows = Vec::with_capacity(files.len());
    let mut first_event = None;
    for file in files {
        let row = DocumentRow {
            id: file.id.into(),
            firm_id: ctx.firm_id().to_owned(),
            client_id: place.client_id.clone(),
            matter_id: place.matter_id.clone(),
            folder_id: place.folder_id.clone(),
            name: file.name,
            content_type: file.content_type,
            size: file.size,
            sha256: file.sha256,
            blob_key: file.blob_key,
            visible_to_client: true,
            uploaded_by: me.contact_id.to_string(),
            version: 1,
            deleted_at: None,
            created_at: now,
            updated_at: now,
            scan_status: scanning::on_upload(&ctx.settings).as_str().to_owned(),
            scan_threat: None,
            scanned_at: None,
        };
        store(conn, &row)?;
        if let Some(item) = item {
            document_requests::attach_upload(conn, &row.firm_id, &item.id, &row.id)?;
        }
        let entry = Entry::success("document.created", "document", &row.id)
            .with_details(json!({ "size": row.size, "sha256": row.sha256, "uploaded_in": "portal" }))
            .publishes(EventType::DocumentCreated);
        audit::record(conn, ctx, entry)?;
        let data = Uploader::Contact(me.contact_id.as_str()).event_data(&row, item);
        let event = events::publish_data(conn, &row.firm_id, EventType::DocumentUploaded, &data)?;
        first_event.get_or_insert(event);
        rows.push(row);
    }
    if let Some(event) = first_event {
        tell_staff(conn, ctx, place, &rows, &event, item)?;
    }
    Ok(rows)
}

fn tell_staff(
    conn: &mut DbConnection,
    ctx: &Context,
    place: &Place,
    rows: &[DocumentRow],
    event: &EventRow,
    item: Option<&ItemRow>,
) -> AppResult<()> {
    let firm_id = ctx.firm_id();
    let me = portal_contact(ctx)?;
    let members = notifications::staff_to_tell(conn, firm_id, &place.client_id, place.matter_id.as_deref())?;
    let contact = contacts::get(conn, firm_id, me.contact_id.as_str())?;
    let client = clients::get(conn, firm_id, &place.client_id)?;
    let link = match item {
        Some(item) => staff_link(&ctx.settings, &item.request_id),
        None => ctx.settings.link(&format!("/clients/{}/documents", place.client_id)),
    };
    let content = Email::ClientUploaded(mail::ClientUpload {
        link,
        client_name: client.row.name,
        uploader: format!("{} {}", contact.first_name, contact.last_name).trim().to_owned(),
        files: rows.iter().map(|r| r.name.clone()).collect(),
    });
    for member in &members {
        outbox::queue_email(conn, event, &member.email, &content)?;
    }
    let notice = match (item, rows.first()) {
        (Some(item), _) => Notice::new(
            NotificationKind::RequestItemUploaded,
            &place.client_id,
            (SubjectType::DocumentRequest, &item.request_id),
        ),
        (None, Some(first)) => {
            Notice::new(NotificationKind::UploadReceived, &place.client_id, (SubjectType::Document, &first.id))
        }
        (None, None) => return Ok(()),
    };
    notifications::notify(conn, firm_id, notifications::to_staff(&members), notice)
}

/// Removes a file the contact uploaded, unless staff accepted the request item it answers;
/// an item left without files is asked for again.
#[tracing::instrument(skip(conn, ctx))]
pub fn remove(conn: &mut DbConnection, ctx: &Context, id: &DocumentId) -> AppResult<()> {
    let me = portal_contact(ctx)?;
    write_tx(conn, |conn| {
        let portal = portal_of(conn, me)?;
        let row = documents::get_for_portal(conn, &portal, id.as_str())?;
        if row.uploaded_by != me.contact_id.as_str() {
            return Err(AppError::Forbidden("you can remove only files you uploaded".to_owned()));
        }
        let item = document_requests::item_of_document(conn, &row.id)?;
        let status = item.as_ref().map(|i| ItemStatus::parse(&i.status).unwrap_or(ItemStatus::Requested));
        rules::may_remove_upload(status).map_err(|refused| AppError::conflict(refused.code, refused.detail))?;
        documents::soft_delete(conn, &row.id, vestibule_storage::now())?;
        let entry = Entry::success("document.deleted", "document", &row.id).publishes(EventType::DocumentDeleted);
        audit::record(conn, ctx, entry)?;
        upload_removed(conn, &row.id)?;
        Ok(())
    })
}

/// Where an upload into a request item goes: the item's folder, else the request's, else
/// (for a request about the client itself) the client's inbox.
pub(crate) fn item_place(conn: &mut DbConnection, request: &RequestRow, item: &ItemRow) -> AppResult<Place> {
    let folder_id = match item.folder_id.clone().or_else(|| request.folder_id.clone()) {
        Some(folder) => Some(folder),
        None if request.matter_id.is_none() => {
            clients::get(conn, &request.firm_id, &request.client_id)?.row.portal_inbox_folder_id
        }
        None => None,
    };
    Ok(Place { client_id: request.client_id.clone(), matter_id: request.matter_id.clone(), folder_id })
}
