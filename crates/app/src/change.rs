//! The common shape of a change to one record of the caller's firm: authorized, in its own
//! transaction, and recorded in the audit log together with the event it publishes, if any.
//! Updates and deletes of offices, contacts, matters, templates and webhook endpoints differ
//! only in the storage call they make inside it.

use vestibule_domain::authz::{Action, authorize};
use vestibule_storage::{DbConnection, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::AppResult;

/// Runs `change` with the caller's firm id once `permission` is granted, and records `entry`
/// if it succeeds.
pub(crate) fn audited<T>(
    conn: &mut DbConnection,
    ctx: &Context,
    permission: Action,
    entry: Entry<'_>,
    change: impl FnOnce(&mut DbConnection, &str) -> AppResult<T>,
) -> AppResult<T> {
    authorize(&ctx.principal, permission)?;
    write_tx(conn, |conn| {
        let done = change(conn, ctx.firm_id())?;
        audit::record(conn, ctx, entry)?;
        Ok(done)
    })
}
