//! Document requests, staff side: ask a contact for a list of items, follow what arrives,
//! accept or return each item, remind, cancel. The contact's side is `portal_requests`.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::json;
use vestibule_domain::authz::{Action, authorize, matter_visibility, may_request_documents};
use vestibule_domain::cursor::Page;
use vestibule_domain::document_request::{self as rules, ItemStatus, RequestStatus};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, ContactId, DocumentRequestId, FolderId, MatterId, RequestItemId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::portal::Delivery;
use vestibule_domain::principal::Principal;
use vestibule_domain::reminder::ReminderRule;
use vestibule_storage::document_requests::{self, ItemChanges, ItemRow, RequestFilter, RequestRow};
use vestibule_storage::documents::DocumentRow;
use vestibule_storage::{DbConnection, contacts, outbox, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::notifications::{self, Notice, Recipient};
use crate::page::Listed;
use crate::places::{Place, folder_in, role_on_matter};
use crate::request_links::portal_link;
use crate::{events, messaging, reminders};

/// A request with its items, their files, and the contact's name.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub row: RequestRow,
    pub contact_name: String,
    pub items: Vec<ItemRecord>,
}

#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub row: ItemRow,
    /// What the contact uploaded into it, oldest first.
    pub documents: Vec<DocumentRow>,
}

impl RequestRecord {
    pub fn status(&self) -> RequestStatus {
        RequestStatus::parse(&self.row.status).unwrap_or(RequestStatus::Open)
    }

    pub fn item_statuses(&self) -> Vec<ItemStatus> {
        self.items.iter().map(ItemRecord::status).collect()
    }
}

impl ItemRecord {
    pub fn status(&self) -> ItemStatus {
        ItemStatus::parse(&self.row.status).unwrap_or(ItemStatus::Requested)
    }
}

/// A request to send, its values already checked one by one.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub contact_id: ContactId,
    pub title: String,
    pub message: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub folder_id: Option<FolderId>,
    pub items: Vec<NewItem>,
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub name: String,
    pub description: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub folder_id: Option<FolderId>,
}

/// How a request is found: as staff see it, or as its contact does.
pub(crate) fn with_items(conn: &mut DbConnection, rows: Vec<RequestRow>) -> AppResult<Vec<RequestRecord>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let items = document_requests::items(conn, &ids)?;
    let item_ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let mut uploads = document_requests::uploads(conn, &item_ids)?;
    let contact_ids: Vec<String> = rows.iter().map(|r| r.contact_id.clone()).collect();
    let names: HashMap<String, String> = contacts::by_ids(conn, &contact_ids)?
        .into_iter()
        .map(|c| (c.id, format!("{} {}", c.first_name, c.last_name).trim().to_owned()))
        .collect();
    let mut by_request: HashMap<String, Vec<ItemRecord>> = HashMap::new();
    for item in items {
        let documents = uploads.remove(&item.id).unwrap_or_default();
        by_request.entry(item.request_id.clone()).or_default().push(ItemRecord { row: item, documents });
    }
    Ok(rows
        .into_iter()
        .map(|row| RequestRecord {
            contact_name: names.get(&row.contact_id).cloned().unwrap_or_default(),
            items: by_request.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

fn one(conn: &mut DbConnection, row: RequestRow) -> AppResult<RequestRecord> {
    with_items(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// The request as the caller may see it, and whether they may work on it.
fn workable(conn: &mut DbConnection, ctx: &Context, id: &str) -> AppResult<RequestRow> {
    let row = document_requests::get(conn, ctx.firm_id(), id, &matter_visibility(&ctx.principal))?;
    may_request(conn, &ctx.principal, row.matter_id.as_deref())?;
    Ok(row)
}

fn may_request(conn: &mut DbConnection, principal: &Principal, matter_id: Option<&str>) -> AppResult<()> {
    let role = role_on_matter(conn, principal, matter_id)?;
    Ok(may_request_documents(principal, matter_id.is_some(), role)?)
}

fn check_due(errors: &mut vestibule_domain::ValidationErrors, pointer: &str, due: Option<NaiveDate>, today: NaiveDate) {
    if due.is_some_and(|d| d < today) {
        errors.push(vestibule_domain::FieldError::new(pointer, "in_the_past", "a due date cannot be in the past"));
    }
}

/// Sends the request: stored with its items, the contact told in the portal and by email.
#[tracing::instrument(skip(conn, ctx, new), fields(contact_id = %new.contact_id))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewRequest) -> AppResult<RequestRecord> {
    authorize(&ctx.principal, Action::RequestDocuments)?;
    if new.items.is_empty() || new.items.len() > rules::MAX_ITEMS {
        let detail = format!("ask for 1–{} items", rules::MAX_ITEMS);
        return Err(AppError::field("/items", "out_of_range", detail));
    }
    let today = vestibule_storage::now().date();
    let mut errors = vestibule_domain::ValidationErrors::default();
    check_due(&mut errors, "/due_on", new.due_on, today);
    for (i, item) in new.items.iter().enumerate() {
        check_due(&mut errors, &format!("/items/{i}/due_on"), item.due_on, today);
    }
    errors.into_result()?;
    write_tx(conn, |conn| {
        let place = Place::resolve(
            conn,
            &ctx.principal,
            new.client_id.as_ref(),
            new.matter_id.as_ref(),
            ("folder_id", new.folder_id.as_ref()),
            "",
        )?;
        may_request(conn, &ctx.principal, place.matter_id.as_deref())?;
        let firm_id = ctx.firm_id();
        let contact =
            contacts::get(conn, firm_id, new.contact_id.as_str()).or_unknown("/contact_id", "no such contact")?;
        messaging::portal_for(
            conn,
            firm_id,
            &contact.id,
            (&place.client_id, place.matter_id.as_deref()),
            Delivery::Files,
        )?;
        let now = vestibule_storage::now();
        let request = RequestRow {
            id: DocumentRequestId::generate().into(),
            firm_id: firm_id.to_owned(),
            client_id: place.client_id.clone(),
            matter_id: place.matter_id.clone(),
            contact_id: contact.id.clone(),
            title: new.title,
            message: new.message,
            due_on: new.due_on,
            folder_id: place.folder_id.clone(),
            status: RequestStatus::Open.as_str().to_owned(),
            created_by: ctx.principal.actor().1.to_owned(),
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        let mut items = Vec::with_capacity(new.items.len());
        for (i, item) in new.items.into_iter().enumerate() {
            let folder_id = match &item.folder_id {
                Some(folder) => {
                    let pointer = format!("/items/{i}/folder_id");
                    Some(
                        folder_in(
                            conn,
                            &ctx.principal,
                            folder,
                            (&place.client_id, place.matter_id.as_deref()),
                            &pointer,
                        )?
                        .id,
                    )
                }
                None => None,
            };
            items.push(ItemRow {
                id: RequestItemId::generate().into(),
                firm_id: firm_id.to_owned(),
                request_id: request.id.clone(),
                position: i32::try_from(i).unwrap_or(i32::MAX),
                name: item.name,
                description: item.description,
                due_on: item.due_on,
                folder_id,
                status: ItemStatus::Requested.as_str().to_owned(),
                return_reason: None,
                uploaded_at: None,
                reviewed_at: None,
                reviewed_by: None,
                updated_at: now,
            });
        }
        document_requests::insert(conn, &request, &items)?;
        let data = json!({ "id": request.id, "client_id": request.client_id, "contact_id": request.contact_id });
        let event = events::publish_data(conn, firm_id, EventType::DocumentRequestCreated, &data)?;
        let entry = Entry::success("document_request.created", "document_request", &request.id)
            .with_details(json!({ "contact_id": request.contact_id, "items": items.len() }));
        audit::record(conn, ctx, entry)?;
        if let Some(email) = contact.email.as_deref() {
            let due_on = items.iter().filter_map(|i| i.due_on.or(request.due_on)).min();
            let content = Email::DocumentRequested(mail::DocumentRequest {
                link: portal_link(&ctx.settings, &request.id),
                items: items.len(),
                due_on,
            });
            outbox::queue_email(conn, &event, email, &content)?;
        }
        let notice = Notice::new(
            NotificationKind::DocumentRequestCreated,
            &request.client_id,
            (SubjectType::DocumentRequest, &request.id),
        );
        notifications::notify(conn, firm_id, [Recipient::Contact(&request.contact_id)], notice)?;
        one(conn, request)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &RequestFilter,
    page: &Page,
) -> AppResult<Listed<RequestRecord>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = document_requests::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    let listed = Listed::finish(page, rows, |r| r.id.clone());
    Ok(Listed { items: with_items(conn, listed.items)?, next_cursor: listed.next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &DocumentRequestId) -> AppResult<RequestRecord> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let row = document_requests::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
    one(conn, row)
}

/// Accepts what the contact uploaded into an item; the last accepted item completes the
/// request.
#[tracing::instrument(skip(conn, ctx))]
pub fn accept_item(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &DocumentRequestId,
    item_id: &RequestItemId,
) -> AppResult<RequestRecord> {
    review(conn, ctx, id, item_id, None)
}

/// Returns an item to the contact with a reason; they upload again.
#[tracing::instrument(skip(conn, ctx, reason))]
pub fn return_item(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &DocumentRequestId,
    item_id: &RequestItemId,
    reason: &str,
) -> AppResult<RequestRecord> {
    review(conn, ctx, id, item_id, Some(reason))
}

fn review(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &DocumentRequestId,
    item_id: &RequestItemId,
    returned: Option<&str>,
) -> AppResult<RequestRecord> {
    authorize(&ctx.principal, Action::RequestDocuments)?;
    write_tx(conn, |conn| {
        let request = workable(conn, ctx, id.as_str())?;
        let item = document_requests::item(conn, &request.id, item_id.as_str())?;
        let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Open);
        let current = ItemStatus::parse(&item.status).unwrap_or(ItemStatus::Requested);
        let next = match returned {
            Some(_) => current.give_back(status),
            None => current.accept(status),
        }
        .map_err(|refused| AppError::conflict(refused.code, refused.detail))?;
        let now = vestibule_storage::now();
        let changes = ItemChanges {
            status: Some(next.as_str().to_owned()),
            return_reason: Some(returned.map(str::to_owned)),
            reviewed_at: Some(Some(now)),
            reviewed_by: Some(Some(ctx.principal.actor().1.to_owned())),
            updated_at: Some(now),
            ..ItemChanges::default()
        };
        document_requests::update_item(conn, &item.id, &changes)?;
        let firm_id = ctx.firm_id();
        let (action, event_type) = match returned {
            Some(_) => ("document_request.item_returned", EventType::DocumentRequestItemReturned),
            None => ("document_request.item_accepted", EventType::DocumentRequestItemAccepted),
        };
        let event = events::publish_data(conn, firm_id, event_type, &json!({ "id": request.id, "item_id": item.id }))?;
        let entry = Entry::success(action, "document_request", &request.id).with_details(json!({ "item_id": item.id }));
        audit::record(conn, ctx, entry)?;
        if returned.is_some() {
            tell_contact_returned(conn, ctx, &request, &event)?;
        }
        let record = one(conn, request)?;
        settle(conn, ctx, record)
    })
}

fn tell_contact_returned(
    conn: &mut DbConnection,
    ctx: &Context,
    request: &RequestRow,
    event: &vestibule_storage::outbox::EventRow,
) -> AppResult<()> {
    let contact = contacts::get(conn, &request.firm_id, &request.contact_id)?;
    if let Some(email) = contact.email.as_deref() {
        let content = Email::DocumentRequestReturned(mail::DocumentRequest {
            link: portal_link(&ctx.settings, &request.id),
            items: 1,
            due_on: request.due_on,
        });
        outbox::queue_email(conn, event, email, &content)?;
    }
    let notice = Notice::new(
        NotificationKind::RequestItemReturned,
        &request.client_id,
        (SubjectType::DocumentRequest, &request.id),
    );
    notifications::notify(conn, &request.firm_id, [Recipient::Contact(&request.contact_id)], notice)
}

/// Completes the request once every item is accepted.
fn settle(conn: &mut DbConnection, ctx: &Context, mut record: RequestRecord) -> AppResult<RequestRecord> {
    let before = record.status();
    let after = rules::settle(before, &record.item_statuses());
    if after != before {
        let now = vestibule_storage::now();
        document_requests::set_status(conn, &record.row.id, after.as_str(), Some(now))?;
        let entry = Entry::success("document_request.completed", "document_request", &record.row.id)
            .publishes(EventType::DocumentRequestCompleted);
        audit::record(conn, ctx, entry)?;
        record.row.status = after.as_str().to_owned();
        record.row.closed_at = Some(now);
    }
    Ok(record)
}

/// Withdraws an open request: nothing more can be uploaded into it and no reminder goes out.
#[tracing::instrument(skip(conn, ctx))]
pub fn cancel(conn: &mut DbConnection, ctx: &Context, id: &DocumentRequestId) -> AppResult<RequestRecord> {
    authorize(&ctx.principal, Action::RequestDocuments)?;
    write_tx(conn, |conn| {
        let mut request = workable(conn, ctx, id.as_str())?;
        let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Open);
        let next = rules::cancel(status).map_err(|refused| AppError::conflict(refused.code, refused.detail))?;
        let now = vestibule_storage::now();
        document_requests::set_status(conn, &request.id, next.as_str(), Some(now))?;
        let entry = Entry::success("document_request.cancelled", "document_request", &request.id)
            .publishes(EventType::DocumentRequestCancelled);
        audit::record(conn, ctx, entry)?;
        request.status = next.as_str().to_owned();
        request.closed_at = Some(now);
        one(conn, request)
    })
}

/// Emails the contact a reminder of the items still waiting for them, now; at most one per
/// item and day, as scheduled reminders are.
#[tracing::instrument(skip(conn, ctx))]
pub fn remind(conn: &mut DbConnection, ctx: &Context, id: &DocumentRequestId) -> AppResult<RequestRecord> {
    authorize(&ctx.principal, Action::RequestDocuments)?;
    write_tx(conn, |conn| {
        let request = workable(conn, ctx, id.as_str())?;
        let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Open);
        if status != RequestStatus::Open {
            return Err(AppError::conflict("request_closed", "the request is no longer open"));
        }
        let record = one(conn, request)?;
        let waiting: Vec<&ItemRow> =
            record.items.iter().filter(|i| i.status().waits_for_contact()).map(|i| &i.row).collect();
        if waiting.is_empty() {
            return Err(AppError::conflict("nothing_waiting", "every item was uploaded; nothing to remind of"));
        }
        let sent = reminders::send(conn, &ctx.settings, &record.row, &waiting, ReminderRule::Manual)?;
        if sent == 0 {
            return Err(AppError::conflict("already_reminded", "the contact was already reminded today"));
        }
        let entry = Entry::success("document_request.reminded", "document_request", &record.row.id)
            .with_details(json!({ "items": sent, "rule": ReminderRule::Manual.as_str() }));
        audit::record(conn, ctx, entry)?;
        Ok(record)
    })
}

/// A document was removed (by staff or by the contact who uploaded it): an uploaded item left
/// without files is asked for again.
pub(crate) fn upload_removed(conn: &mut DbConnection, document_id: &str) -> AppResult<()> {
    let Some(item) = document_requests::item_of_document(conn, document_id)? else { return Ok(()) };
    let status = ItemStatus::parse(&item.status).unwrap_or(ItemStatus::Requested);
    let left = document_requests::uploads(conn, &[item.id.as_str()])?.remove(&item.id).unwrap_or_default();
    let next = status.after_removal(left.len());
    if next != status {
        let changes = ItemChanges {
            status: Some(next.as_str().to_owned()),
            uploaded_at: Some(None),
            updated_at: Some(vestibule_storage::now()),
            ..ItemChanges::default()
        };
        document_requests::update_item(conn, &item.id, &changes)?;
    }
    Ok(())
}
