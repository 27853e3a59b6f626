//! Offices of the firm; staff members and contacts may belong to one.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::OfficeId;
use vestibule_storage::DbConnection;
use vestibule_storage::offices::{self, OfficeChanges, OfficeRow};

use crate::audit::Entry;
use crate::change::audited;
use crate::context::Context;
use crate::error::AppResult;
use crate::page::Listed;

/// An office to create; values already validated.
#[derive(Debug, Clone)]
pub struct NewOffice {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Fields to change: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct OfficeUpdate {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(conn: &mut DbConnection, ctx: &Context, page: &Page) -> AppResult<Listed<OfficeRow>> {
    authorize(&ctx.principal, Action::ReadOffices)?;
    let rows = offices::list(conn, ctx.firm_id(), page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &OfficeId) -> AppResult<OfficeRow> {
    authorize(&ctx.principal, Action::ReadOffices)?;
    Ok(offices::get(conn, ctx.firm_id(), id.as_str())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewOffice) -> AppResult<OfficeRow> {
    let now = vestibule_storage::now();
    let row = OfficeRow {
        id: OfficeId::generate().into(),
        firm_id: ctx.firm_id().to_owned(),
        name: new.name,
        email: new.email,
        phone: new.phone,
        created_at: now,
        updated_at: now,
    };
    let id = row.id.clone();
    audited(conn, ctx, Action::ManageOffices, Entry::success("office.created", "office", &id), |conn, _| {
        offices::insert(conn, &row)?;
        Ok(row)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(conn: &mut DbConnection, ctx: &Context, id: &OfficeId, update: OfficeUpdate) -> AppResult<OfficeRow> {
    let entry = Entry::success("office.updated", "office", id.as_str());
    audited(conn, ctx, Action::ManageOffices, entry, |conn, firm_id| {
        let changes = OfficeChanges {
            name: update.name,
            email: update.email,
            phone: update.phone,
            updated_at: vestibule_storage::now(),
        };
        Ok(offices::update(conn, firm_id, id.as_str(), &changes)?)
    })
}

/// Deletes an office no staff member or contact belongs to.
#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &OfficeId) -> AppResult<()> {
    let entry = Entry::success("office.deleted", "office", id.as_str());
    audited(conn, ctx, Action::ManageOffices, entry, |conn, firm_id| Ok(offices::delete(conn, firm_id, id.as_str())?))
}
