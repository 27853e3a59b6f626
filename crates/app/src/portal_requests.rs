//! Document requests, the contact's side: what the firm asks for, and uploading into an item.

use serde_json::json;
use vestibule_domain::cursor::Page;
use vestibule_domain::document_request::{ItemStatus, RequestStatus};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{DocumentRequestId, RequestItemId};
use vestibule_storage::document_requests::{self, ItemChanges, ItemRow, RequestRow};
use vestibule_storage::{DbConnection, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::document_requests::{RequestRecord, with_items};
use crate::documents::{Uploaded, portal_contact, upload_limit};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::page::Listed;
use crate::places::Place;
use crate::portal_access::portal_of;
use crate::portal_uploads::{item_place, record_client_files};

/// The request as its contact sees it: addressed to them, of what their portal shows.
fn mine(conn: &mut DbConnection, ctx: &Context, id: &str) -> AppResult<RequestRow> {
    let me = portal_contact(ctx)?;
    let portal = portal_of(conn, me)?;
    Ok(document_requests::get_for_contact(conn, (ctx.firm_id(), me.contact_id.as_str(), &portal), id)?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    status: Option<RequestStatus>,
    page: &Page,
) -> AppResult<Listed<RequestRecord>> {
    let me = portal_contact(ctx)?;
    let portal = portal_of(conn, me)?;
    let rows = document_requests::list_for_contact(
        conn,
        (ctx.firm_id(), me.contact_id.as_str(), &portal),
        status.map(RequestStatus::as_str),
        page.after.as_deref(),
        page.limit,
    )?;
    let listed = Listed::finish(page, rows, |r| r.id.clone());
    Ok(Listed { items: with_items(conn, listed.items)?, next_cursor: listed.next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &DocumentRequestId) -> AppResult<RequestRecord> {
    let row = mine(conn, ctx, id.as_str())?;
    with_items(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

fn uploadable(conn: &mut DbConnection, ctx: &Context, id: &str, item_id: &str) -> AppResult<(RequestRow, ItemRow)> {
    let request = mine(conn, ctx, id)?;
    let item = document_requests::item(conn, &request.id, item_id)?;
    let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Open);
    ItemStatus::parse(&item.status)
        .unwrap_or(ItemStatus::Requested)
        .upload(status)
        .map_err(|refused| AppError::conflict(refused.code, refused.detail))?;
    Ok((request, item))
}

/// Where an upload into the item goes and the firm's limit, checked before any byte is read.
#[tracing::instrument(skip(conn, ctx))]
pub fn upload_target(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &DocumentRequestId,
    item_id: &RequestItemId,
) -> AppResult<(Place, u64)> {
    let (request, item) = uploadable(conn, ctx, id.as_str(), item_id.as_str())?;
    Ok((item_place(conn, &request, &item)?, upload_limit(conn, ctx.firm_id())?))
}

/// Records the stored files as the item's answer, all or none: the request and item are read
/// again, since staff may have cancelled or accepted while the files streamed.
#[tracing::instrument(skip(conn, ctx, files))]
pub fn upload(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &DocumentRequestId,
    item_id: &RequestItemId,
    files: Vec<Uploaded>,
) -> AppResult<RequestRecord> {
    write_tx(conn, |conn| {
        let (request, item) = uploadable(conn, ctx, id.as_str(), item_id.as_str())?;
        let place = item_place(conn, &request, &item)?;
        record_client_files(conn, ctx, &place, files, Some(&item))?;
        let now = vestibule_storage::now();
        let changes = ItemChanges {
            status: Some(ItemStatus::Uploaded.as_str().to_owned()),
            uploaded_at: Some(Some(now)),
            updated_at: Some(now),
            ..ItemChanges::default()
        };
        document_requests::update_item(conn, &item.id, &changes)?;
        let data = json!({ "id": request.id, "item_id": item.id });
        events::publish_data(conn, ctx.firm_id(), EventType::DocumentRequestItemUploaded, &data)?;
        let entry = Entry::success("document_request.item_uploaded", "document_request", &request.id)
            .with_details(json!({ "item_id": item.id }));
        audit::record(conn, ctx, entry)?;
        with_items(conn, vec![request])?.pop().ok_or(AppError::NotFound)
    })
}
