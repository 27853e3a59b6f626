//! What a client still owes the firm, or the firm the client, counted for a dashboard: open
//! document requests and their items, unsigned signature requests, conversations with
//! client messages the reader has not read, and documents made available but never
//! downloaded. One counting query each, within the matters the reader may see.

use diesel::dsl::{not, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::document_request::{ItemStatus, RequestStatus};

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::schema::{
    conversations, document_request_items, document_requests, documents, download_receipts, link_downloads, shares,
    signature_requests,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outstanding {
    pub open_requests: i64,
    pub items_waiting_for_client: i64,
    pub items_to_review: i64,
    pub unsigned_signature_requests: i64,
    pub unread_conversations: i64,
    pub documents_never_downloaded: i64,
}

/// Counts for the client as `reader_id` (a staff member or API key) sees it.
pub fn of_client(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    visibility: &MatterVisibility,
    reader_id: &str,
) -> StorageResult<Outstanding> {
    let open = RequestStatus::Open.as_str();
    let requests = document_requests::table
        .filter(document_requests::firm_id.eq(firm_id).and(document_requests::client_id.eq(client_id)))
        .filter(document_requests::status.eq(open))
        .into_boxed();
    let open_requests: i64 = matter_visible!(requests, document_requests::matter_id, document_requests::id, visibility)
        .count()
        .get_result(conn)?;

    let mut items_in = |statuses: &[ItemStatus]| -> StorageResult<i64> {
        let wanted: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        let items = document_request_items::table
            .inner_join(document_requests::table.on(document_requests::id.eq(document_request_items::request_id)))
            .filter(document_requests::firm_id.eq(firm_id).and(document_requests::client_id.eq(client_id)))
            .filter(document_requests::status.eq(open))
            .filter(document_request_items::status.eq_any(wanted))
            .into_boxed();
        Ok(matter_visible!(items, document_requests::matter_id, document_requests::id, visibility)
            .count()
            .get_result(conn)?)
    };
    let items_waiting_for_client = items_in(&[ItemStatus::Requested, ItemStatus::Returned])?;
    let items_to_review = items_in(&[ItemStatus::Uploaded])?;

    let unsigned = signature_requests::table
        .inner_join(documents::table.on(documents::id.eq(signature_requests::document_id)))
        .filter(documents::firm_id.eq(firm_id).and(documents::client_id.eq(client_id)))
        .filter(documents::deleted_at.is_null())
        .filter(signature_requests::status.eq("pending"))
        .into_boxed();
    let unsigned_signature_requests: i64 =
        matter_visible!(unsigned, documents::matter_id, documents::id, visibility).count().get_result(conn)?;

    // Correlated on the outer row, which diesel's typed subqueries cannot express.
    let read_up_to_date = sql::<Bool>(
        "EXISTS (SELECT 1 FROM conversation_reads r WHERE r.conversation_id = conversations.id AND r.reader_id = ",
    )
    .bind::<Text, _>(reader_id.to_owned())
    .sql(" AND r.last_read_message_id >= conversations.last_contact_message_id)");
    let unread = conversations::table
        .filter(conversations::firm_id.eq(firm_id).and(conversations::client_id.eq(client_id)))
        .filter(conversations::last_contact_message_id.is_not_null())
        .filter(not(read_up_to_date))
        .into_boxed();
    let unread_conversations: i64 =
        matter_visible!(unread, conversations::matter_id, conversations::id, visibility).count().get_result(conn)?;

    let shared = shares::table.filter(shares::ended_at.is_null()).select(shares::document_id);
    let downloaded = download_receipts::table.select(download_receipts::document_id);
    let through_links = link_downloads::table.select(link_downloads::document_id);
    let waiting = documents::table
        .filter(documents::firm_id.eq(firm_id).and(documents::client_id.eq(client_id)))
        .filter(documents::deleted_at.is_null())
        // What the client side uploaded is theirs already.
        .filter(not(documents::uploaded_by.like("con\\_%").escape('\\')))
        .filter(not(documents::uploaded_by.like("alk\\_%").escape('\\')))
        .filter(documents::visible_to_client.eq(true).or(documents::id.eq_any(shared)))
        .filter(not(documents::id.eq_any(downloaded)))
        .filter(not(documents::id.eq_any(through_links)))
        .into_boxed();
    let documents_never_downloaded: i64 =
        matter_visible!(waiting, documents::matter_id, documents::id, visibility).count().get_result(conn)?;

    Ok(Outstanding {
        open_requests,
        items_waiting_for_client,
        items_to_review,
        unsigned_signature_requests,
        unread_conversations,
        documents_never_downloaded,
    })
}
