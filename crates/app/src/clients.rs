//! Clients: the people and organisations the firm works for, kept in step with the firm's
//! practice-management software by their external id.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, FolderId, StaffId};
use vestibule_domain::roles::ClientKind;
use vestibule_domain::{FieldError, ValidationErrors};
use vestibule_storage::clients::{self, ClientChanges, ClientFilter, ClientRecord, ClientRow};
use vestibule_storage::{DbConnection, staff, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;
use crate::places::folder_in;
use crate::upsert::Upserted;

pub const MAX_EMAILS: usize = 20;
pub const MAX_ASSIGNEES: usize = 50;

/// A client to create, or to become under an external id; values already validated.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub kind: ClientKind,
    pub name: String,
    /// Normalised and without repeats, in order of preference.
    pub emails: Vec<String>,
    pub external_id: Option<String>,
    pub owner: Option<StaffId>,
    pub assignees: Vec<StaffId>,
}

/// Fields to change: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct ClientUpdate {
    pub kind: Option<ClientKind>,
    pub name: Option<String>,
    pub emails: Option<Vec<String>>,
    pub external_id: Option<Option<String>>,
    pub owner: Option<Option<StaffId>>,
    pub assignees: Option<Vec<StaffId>>,
    /// A folder of the client itself (not of a matter), for portal uploads.
    pub portal_inbox: Option<Option<FolderId>>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &ClientFilter,
    page: &Page,
) -> AppResult<Listed<ClientRecord>> {
    authorize(&ctx.principal, Action::ReadClients)?;
    let rows = clients::list(conn, ctx.firm_id(), filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.row.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &ClientId) -> AppResult<ClientRecord> {
    authorize(&ctx.principal, Action::ReadClients)?;
    Ok(clients::get(conn, ctx.firm_id(), id.as_str())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewClient) -> AppResult<ClientRecord> {
    authorize(&ctx.principal, Action::WriteClients)?;
    write_tx(conn, |conn| insert(conn, ctx, new))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &ClientId,
    expected_version: Option<i64>,
    update: ClientUpdate,
) -> AppResult<ClientRecord> {
    authorize(&ctx.principal, Action::WriteClients)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let owner = update.owner.clone().flatten();
        check_staff(conn, firm_id, owner.as_ref(), update.assignees.as_deref())?;
        let changes = ClientChanges {
            kind: update.kind.map(|k| k.as_str().to_owned()),
            name: update.name,
            external_id: update.external_id,
            owner_staff_id: update.owner.map(|o| o.map(String::from)),
            portal_inbox_folder_id: match &update.portal_inbox {
                Some(Some(folder)) => Some(Some(inbox_folder(conn, ctx, id, folder)?)),
                Some(None) => Some(None),
                None => None,
            },
            updated_at: vestibule_storage::now(),
        };
        let assignees: Option<Vec<String>> = update.assignees.map(|a| a.into_iter().map(String::from).collect());
        let record = clients::update(
            conn,
            firm_id,
            id.as_str(),
            expected_version,
            &changes,
            update.emails.as_deref(),
            assignees.as_deref(),
        )?;
        let entry = Entry::success("client.updated", "client", id.as_str()).publishes(EventType::ClientUpdated);
        audit::record(conn, ctx, entry)?;
        Ok(record)
    })
}

/// A folder of the client itself, where portal uploads without a folder go; anything else is
/// refused at `/portal_inbox_folder_id`.
fn inbox_folder(conn: &mut DbConnection, ctx: &Context, client: &ClientId, folder: &FolderId) -> AppResult<String> {
    let pointer = "/portal_inbox_folder_id";
    Ok(folder_in(conn, &ctx.principal, folder, (client.as_str(), None), pointer)?.id)
}

/// Deletes a client that has no matters or contacts left.
#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &ClientId, expected_version: Option<i64>) -> AppResult<()> {
    authorize(&ctx.principal, Action::WriteClients)?;
    write_tx(conn, |conn| {
        clients::delete(conn, ctx.firm_id(), id.as_str(), expected_version)?;
        let entry = Entry::success("client.deleted", "client", id.as_str()).publishes(EventType::ClientDeleted);
        audit::record(conn, ctx, entry)?;
        Ok(())
    })
}

/// Creates or replaces the client with this external id. The same values again change
/// nothing (the version stays).
#[tracing::instrument(skip(conn, ctx))]
pub fn upsert(
    conn: &mut DbConnection,
    ctx: &Context,
    external_id: &str,
    new: NewClient,
) -> AppResult<Upserted<ClientRecord>> {
    authorize(&ctx.principal, Action::WriteClients)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let Some(existing) = clients::find_by_external_id(conn, firm_id, external_id)? else {
            return Ok(Upserted::Created(insert(conn, ctx, new)?));
        };
        let mut assignees: Vec<String> = new.assignees.iter().map(ToString::to_string).collect();
        assignees.sort();
        let unchanged = existing.row.kind == new.kind.as_str()
            && existing.row.name == new.name
            && existing.emails == new.emails
            && existing.row.owner_staff_id.as_deref() == new.owner.as_ref().map(StaffId::as_str)
            && existing.assignees == assignees;
        if unchanged {
            return Ok(Upserted::Existed(existing));
        }
        check_staff(conn, firm_id, new.owner.as_ref(), Some(&new.assignees))?;
        let changes = ClientChanges {
            kind: Some(new.kind.as_str().to_owned()),
            name: Some(new.name),
            external_id: None,
            owner_staff_id: Some(new.owner.map(String::from)),
            portal_inbox_folder_id: None,
            updated_at: vestibule_storage::now(),
        };
        let record =
            clients::update(conn, firm_id, &existing.row.id, None, &changes, Some(&new.emails), Some(&assignees))?;
        let entry = Entry::success("client.updated", "client", &record.row.id).publishes(EventType::ClientUpdated);
        audit::record(conn, ctx, entry)?;
        Ok(Upserted::Existed(record))
    })
}

fn insert(conn: &mut DbConnection, ctx: &Context, new: NewClient) -> AppResult<ClientRecord> {
    let firm_id = ctx.firm_id();
    check_staff(conn, firm_id, new.owner.as_ref(), Some(&new.assignees))?;
    let now = vestibule_storage::now();
    let row = ClientRow {
        id: ClientId::generate().into(),
        firm_id: firm_id.to_owned(),
        kind: new.kind.as_str().to_owned(),
        name: new.name,
        external_id: new.external_id,
        portal_inbox_folder_id: None,
        owner_staff_id: new.owner.map(String::from),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let assignees: Vec<String> = new.assignees.into_iter().map(String::from).collect();
    clients::insert(conn, &row, &new.emails, &assignees)?;
    audit::record(conn, ctx, Entry::success("client.created", "client", &row.id).publishes(EventType::ClientCreated))?;
    Ok(clients::get(conn, firm_id, &row.id)?)
}

/// Every referenced staff member must be an active member of the caller's firm.
fn check_staff(
    conn: &mut DbConnection,
    firm_id: &str,
    owner: Option<&StaffId>,
    assignees: Option<&[StaffId]>,
) -> AppResult<()> {
    let mut errors = ValidationErrors::default();
    if let Some(owner) = owner
        && staff::count_active(conn, firm_id, &[owner.to_string()])? != 1
    {
        errors.push(FieldError::new(
            "/owner_staff_id",
            "unknown_reference",
            "no such active staff member in this firm",
        ));
    }
    if let Some(assignees) = assignees {
        let mut ids: Vec<String> = assignees.iter().map(ToString::to_string).collect();
        ids.sort();
        ids.dedup();
        if ids.len() > MAX_ASSIGNEES {
            errors.push(FieldError::new("/assignee_staff_ids", "too_many", format!("at most {MAX_ASSIGNEES}")));
        } else if staff::count_active(conn, firm_id, &ids)? != ids.len() as i64 {
            errors.push(FieldError::new(
                "/assignee_staff_ids",
                "unknown_reference",
                "each must be an active staff member of this firm",
            ));
        }
    }
    errors.into_result().map_err(AppError::from)
}
