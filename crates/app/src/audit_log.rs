//! Reading the audit log: its events with filters, and verification of the hash chain.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_storage::DbConnection;
use vestibule_storage::audit::{self, AuditEventRow, AuditFilter, Verification};

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;

/// The firm's events in chain order; the cursor is a sequence number.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &AuditFilter,
    page: &Page,
) -> AppResult<Listed<AuditEventRow>> {
    authorize(&ctx.principal, Action::ReadAudit)?;
    let after_seq =
        page.after.as_deref().map(str::parse::<i64>).transpose().map_err(|_| {
            AppError::field("#/query/cursor", "invalid_cursor", "is not a cursor returned by this list")
        })?;
    let rows = audit::list(conn, ctx.firm_id(), filter, after_seq, page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.seq.to_string()))
}

/// Recomputes the firm's chain.
#[tracing::instrument(skip(conn, ctx))]
pub fn verify(conn: &mut DbConnection, ctx: &Context) -> AppResult<Verification> {
    authorize(&ctx.principal, Action::ReadAudit)?;
    Ok(audit::verify(conn, ctx.firm_id())?)
}
