//! Staff members of the firm: who may sign in, with which role, and in which office.

use serde_json::json;
use vestibule_domain::authz::{Action, authorize, may_change_staff};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{OfficeId, StaffId};
use vestibule_domain::roles::StaffRole;
use vestibule_storage::staff::{StaffChanges, StaffFilter, StaffRow};
use vestibule_storage::{DbConnection, offices, sessions, staff, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppResult, OrUnknown};
use crate::page::Listed;

/// Fields to change: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct StaffUpdate {
    pub name: Option<String>,
    pub role: Option<StaffRole>,
    pub portal_permission: Option<bool>,
    pub office: Option<Option<OfficeId>>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(conn: &mut DbConnection, ctx: &Context, filter: &StaffFilter, page: &Page) -> AppResult<Listed<StaffRow>> {
    authorize(&ctx.principal, Action::ReadStaff)?;
    let rows = staff::list(conn, ctx.firm_id(), filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &StaffId) -> AppResult<StaffRow> {
    authorize(&ctx.principal, Action::ReadStaff)?;
    Ok(staff::get(conn, ctx.firm_id(), id.as_str())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(conn: &mut DbConnection, ctx: &Context, id: &StaffId, update: StaffUpdate) -> AppResult<StaffRow> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        may_change_staff(&ctx.principal, Some((id, role_of(conn, firm_id, id)?)), update.role, false)?;
        if let Some(office) = &update.office {
            check_office(conn, firm_id, office.as_ref())?;
        }
        let changes = StaffChanges {
            name: update.name,
            role: update.role.map(|r| r.as_str().to_owned()),
            portal_permission: update.portal_permission,
            office_id: update.office.map(|o| o.map(String::from)),
            updated_at: vestibule_storage::now(),
        };
        let row = staff::update(conn, firm_id, id.as_str(), &changes)?;
        let details = json!({ "role": changes.role, "portal_permission": changes.portal_permission });
        audit::record(conn, ctx, Entry::success("staff.updated", "staff", id.as_str()).with_details(details))?;
        Ok(row)
    })
}

/// Disables a member (every session of theirs ends now) or enables them again.
#[tracing::instrument(skip(conn, ctx))]
pub fn set_disabled(conn: &mut DbConnection, ctx: &Context, id: &StaffId, disable: bool) -> AppResult<StaffRow> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        may_change_staff(&ctx.principal, Some((id, role_of(conn, firm_id, id)?)), None, disable)?;
        let now = vestibule_storage::now();
        staff::set_disabled(conn, firm_id, id.as_str(), disable.then_some(now))?;
        let action = if disable {
            let ended = sessions::revoke_all_of(conn, id.as_str(), now)?;
            tracing::info!(sessions = ended, "disabled a staff member");
            "staff.disabled"
        } else {
            "staff.enabled"
        };
        audit::record(conn, ctx, Entry::success(action, "staff", id.as_str()))?;
        Ok(staff::get(conn, firm_id, id.as_str())?)
    })
}

fn role_of(conn: &mut DbConnection, firm_id: &str, id: &StaffId) -> AppResult<StaffRole> {
    let current = staff::get(conn, firm_id, id.as_str())?;
    Ok(StaffRole::from_stored(&current.role).unwrap_or(StaffRole::Member))
}

fn check_office(conn: &mut DbConnection, firm_id: &str, office: Option<&OfficeId>) -> AppResult<()> {
    if let Some(id) = office {
        offices::get(conn, firm_id, id.as_str()).or_unknown("/office_id", "no such office in this firm")?;
    }
    Ok(())
}
