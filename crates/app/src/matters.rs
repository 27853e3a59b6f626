//! Matters of clients and their members. A restricted matter is visible only to its members
//! and the firm's admins; to anyone else it does not exist.

use serde_json::json;
use vestibule_domain::authz::{Action, authorize, creator_membership, matter_visibility, may_manage_matter_members};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, MatterId, StaffId};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::MatterRole;
use vestibule_storage::matters::{self, MatterChanges, MatterFilter, MatterRow, MemberRow};
use vestibule_storage::{DbConnection, clients, staff, write_tx};

use crate::audit::{self, Entry};
use crate::change::audited;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;
use crate::upsert::Upserted;

/// A matter to create, or to become under an external id; values already validated.
#[derive(Debug, Clone)]
pub struct NewMatter {
    pub client_id: ClientId,
    pub title: String,
    pub reference: Option<String>,
    pub email: Option<String>,
    pub restricted: bool,
    pub external_id: Option<String>,
}

/// Fields to change: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct MatterUpdate {
    pub client_id: Option<ClientId>,
    pub title: Option<String>,
    pub reference: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub restricted: Option<bool>,
    pub external_id: Option<Option<String>>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &MatterFilter,
    page: &Page,
) -> AppResult<Listed<MatterRow>> {
    authorize(&ctx.principal, Action::ReadMatters)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = matters::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &MatterId) -> AppResult<MatterRow> {
    authorize(&ctx.principal, Action::ReadMatters)?;
    Ok(matters::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewMatter) -> AppResult<MatterRow> {
    authorize(&ctx.principal, Action::WriteMatters)?;
    write_tx(conn, |conn| insert(conn, ctx, new))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &MatterId,
    expected_version: Option<i64>,
    update: MatterUpdate,
) -> AppResult<MatterRow> {
    let entry = Entry::success("matter.updated", "matter", id.as_str()).publishes(EventType::MatterUpdated);
    audited(conn, ctx, Action::WriteMatters, entry, |conn, firm_id| {
        let visibility = matter_visibility(&ctx.principal);
        matters::get(conn, firm_id, id.as_str(), &visibility)?;
        if let Some(client) = &update.client_id {
            check_client(conn, firm_id, client)?;
        }
        let changes = MatterChanges {
            client_id: update.client_id.map(String::from),
            title: update.title,
            reference: update.reference,
            email: update.email,
            restricted: update.restricted,
            external_id: update.external_id,
            updated_at: vestibule_storage::now(),
        };
        Ok(matters::update(conn, firm_id, id.as_str(), &visibility, expected_version, &changes)?)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &MatterId, expected_version: Option<i64>) -> AppResult<()> {
    let entry = Entry::success("matter.deleted", "matter", id.as_str()).publishes(EventType::MatterDeleted);
    audited(conn, ctx, Action::WriteMatters, entry, |conn, firm_id| {
        let visibility = matter_visibility(&ctx.principal);
        Ok(matters::delete(conn, firm_id, id.as_str(), &visibility, expected_version)?)
    })
}

/// Creates or replaces the matter with this external id. The same values again change
/// nothing; a matter the caller cannot see stays invisible, even through its external id.
#[tracing::instrument(skip(conn, ctx))]
pub fn upsert(
    conn: &mut DbConnection,
    ctx: &Context,
    external_id: &str,
    new: NewMatter,
) -> AppResult<Upserted<MatterRow>> {
    authorize(&ctx.principal, Action::WriteMatters)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let Some(existing) = matters::find_by_external_id(conn, firm_id, external_id)? else {
            return Ok(Upserted::Created(insert(conn, ctx, new)?));
        };
        let visibility = matter_visibility(&ctx.principal);
        matters::get(conn, firm_id, &existing.id, &visibility)?;
        let unchanged = existing.client_id == new.client_id.as_str()
            && existing.title == new.title
            && existing.reference == new.reference
            && existing.email == new.email
            && existing.restricted == new.restricted;
        if unchanged {
            return Ok(Upserted::Existed(existing));
        }
        check_client(conn, firm_id, &new.client_id)?;
        let changes = MatterChanges {
            client_id: Some(new.client_id.into()),
            title: Some(new.title),
            reference: Some(new.reference),
            email: Some(new.email),
            restricted: Some(new.restricted),
            external_id: None,
            updated_at: vestibule_storage::now(),
        };
        let row = matters::update(conn, firm_id, &existing.id, &visibility, None, &changes)?;
        let entry = Entry::success("matter.updated", "matter", &row.id).publishes(EventType::MatterUpdated);
        audit::record(conn, ctx, entry)?;
        Ok(Upserted::Existed(row))
    })
}

/// The staff members of a matter the caller can see.
#[tracing::instrument(skip(conn, ctx))]
pub fn members(conn: &mut DbConnection, ctx: &Context, id: &MatterId) -> AppResult<Vec<MemberRow>> {
    authorize(&ctx.principal, Action::ReadMatters)?;
    matters::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
    Ok(matters::members(conn, ctx.firm_id(), id.as_str())?)
}

/// Adds an active staff member to the matter or changes their role.
#[tracing::instrument(skip(conn, ctx))]
pub fn put_member(
    conn: &mut DbConnection,
    ctx: &Context,
    matter_id: &MatterId,
    staff_id: &StaffId,
    role: MatterRole,
) -> AppResult<MemberRow> {
    authorize(&ctx.principal, Action::WriteMatters)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let caller = caller_role(conn, ctx, matter_id)?;
        may_manage_matter_members(&ctx.principal, caller)?;
        if staff::count_active(conn, firm_id, &[staff_id.to_string()])? != 1 {
            return Err(AppError::NotFound);
        }
        let row = MemberRow {
            matter_id: matter_id.to_string(),
            staff_id: staff_id.to_string(),
            firm_id: firm_id.to_owned(),
            role: role.as_str().to_owned(),
            created_at: vestibule_storage::now(),
        };
        matters::put_member(conn, &row)?;
        let entry = Entry::success("matter.member_set", "matter", matter_id.as_str())
            .with_details(json!({ "staff_id": staff_id, "role": row.role }))
            .publishes(EventType::MatterMembersChanged);
        audit::record(conn, ctx, entry)?;
        let stored =
            matters::members(conn, firm_id, matter_id.as_str())?.into_iter().find(|m| m.staff_id == staff_id.as_str());
        Ok(stored.unwrap_or(row))
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn remove_member(
    conn: &mut DbConnection,
    ctx: &Context,
    matter_id: &MatterId,
    staff_id: &StaffId,
) -> AppResult<()> {
    let entry = Entry::success("matter.member_removed", "matter", matter_id.as_str())
        .with_details(json!({ "staff_id": staff_id }))
        .publishes(EventType::MatterMembersChanged);
    audited(conn, ctx, Action::WriteMatters, entry, |conn, firm_id| {
        let caller = caller_role(conn, ctx, matter_id)?;
        may_manage_matter_members(&ctx.principal, caller)?;
        Ok(matters::remove_member(conn, firm_id, matter_id.as_str(), staff_id.as_str())?)
    })
}

/// Inserts the matter with the membership its creator starts with.
fn insert(conn: &mut DbConnection, ctx: &Context, new: NewMatter) -> AppResult<MatterRow> {
    let firm_id = ctx.firm_id();
    check_client(conn, firm_id, &new.client_id)?;
    let now = vestibule_storage::now();
    let row = MatterRow {
        id: MatterId::generate().into(),
        firm_id: firm_id.to_owned(),
        client_id: new.client_id.into(),
        title: new.title,
        reference: new.reference,
        email: new.email,
        restricted: new.restricted,
        external_id: new.external_id,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    matters::insert(conn, &row)?;
    if let Some((staff_id, role)) = creator_membership(&ctx.principal) {
        let member = MemberRow {
            matter_id: row.id.clone(),
            staff_id: staff_id.to_string(),
            firm_id: firm_id.to_owned(),
            role: role.as_str().to_owned(),
            created_at: now,
        };
        matters::put_member(conn, &member)?;
    }
    audit::record(conn, ctx, Entry::success("matter.created", "matter", &row.id).publishes(EventType::MatterCreated))?;
    Ok(row)
}

fn check_client(conn: &mut DbConnection, firm_id: &str, client: &ClientId) -> AppResult<()> {
    if clients::exists(conn, firm_id, client.as_str())? {
        Ok(())
    } else {
        Err(AppError::field("/client_id", "unknown_reference", "no such client in this firm"))
    }
}

/// The caller's role on the matter, after checking they can see it at all.
fn caller_role(conn: &mut DbConnection, ctx: &Context, matter: &MatterId) -> AppResult<Option<MatterRole>> {
    let firm_id = ctx.firm_id();
    matters::get(conn, firm_id, matter.as_str(), &matter_visibility(&ctx.principal))?;
    Ok(match &ctx.principal {
        Principal::Staff(me) => matters::role_of(conn, firm_id, matter.as_str(), me.staff_id.as_str())?
            .as_deref()
            .and_then(MatterRole::from_stored),
        _ => None,
    })
}
