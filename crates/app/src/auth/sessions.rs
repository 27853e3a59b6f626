//! The signed-in sessions of a person: listed and ended by themselves, all ended at once by
//! an admin. Ending one stops its refresh token and, at the next request, its access tokens.

use vestibule_domain::authz::may_reset_staff_sign_in;
use vestibule_domain::ids::StaffId;
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::StaffRole;
use vestibule_storage::sessions::SessionRow;
use vestibule_storage::{DbConnection, sessions, staff, write_tx};

use super::two_factor::own_account;
use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult};

/// The caller's live sessions, newest first, and which one is the caller's own.
#[tracing::instrument(skip_all)]
pub fn list(conn: &mut DbConnection, ctx: &Context) -> AppResult<(Vec<SessionRow>, String)> {
    let (_, _, owner_id) = own_account(&ctx.principal)?;
    let current = match &ctx.principal {
        Principal::Staff(me) => me.session_id.as_str(),
        Principal::Contact(me) => me.session_id.as_str(),
        Principal::Integration(_) => "",
    };
    Ok((sessions::list_active_of(conn, owner_id, vestibule_storage::now())?, current.to_owned()))
}

/// Ends one of the caller's sessions (the current one too: that is a logout).
#[tracing::instrument(skip(conn, ctx))]
pub fn end(conn: &mut DbConnection, ctx: &Context, session_id: &str) -> AppResult<()> {
    let (kind, _, owner_id) = own_account(&ctx.principal)?;
    write_tx(conn, |conn| {
        if !sessions::revoke_of(conn, owner_id, session_id, vestibule_storage::now())? {
            return Err(AppError::NotFound);
        }
        let entry = Entry::success("auth.session_ended", "session", session_id)
            .with_details(serde_json::json!({ kind.target_kind(): owner_id }));
        audit::record(conn, ctx, entry)?;
        Ok(())
    })
}

/// Ends every session of a staff member (a lost laptop); returns how many.
#[tracing::instrument(skip(conn, ctx))]
pub fn end_all_of_staff(conn: &mut DbConnection, ctx: &Context, staff_id: &str) -> AppResult<usize> {
    let member = staff::get(conn, ctx.firm_id(), staff_id)?;
    let role = StaffRole::from_stored(&member.role).ok_or_else(|| anyhow::anyhow!("unknown stored role"))?;
    may_reset_staff_sign_in(&ctx.principal, (&StaffId::from_trusted(member.id.clone()), role))?;
    write_tx(conn, |conn| {
        let ended = sessions::revoke_all_of(conn, &member.id, vestibule_storage::now())?;
        let entry = Entry::success("staff.sessions_ended", "staff", &member.id)
            .with_details(serde_json::json!({ "sessions_ended": ended }));
        audit::record(conn, ctx, entry)?;
        Ok(ended)
    })
}
