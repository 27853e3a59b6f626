//! What is outstanding with a client, at a glance, for a firm's dashboard.

use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::ClientId;
use vestibule_storage::outstanding::{self, Outstanding};
use vestibule_storage::{DbConnection, clients};

use crate::context::Context;
use crate::error::AppResult;

/// The counts of the client's open work as the caller sees it: the matters they may see,
/// and conversations unread by them.
#[tracing::instrument(skip(conn, ctx))]
pub fn of_client(conn: &mut DbConnection, ctx: &Context, id: &ClientId) -> AppResult<Outstanding> {
    authorize(&ctx.principal, Action::ReadClients)?;
    authorize(&ctx.principal, Action::ReadDocuments)?;
    if !clients::exists(conn, ctx.firm_id(), id.as_str())? {
        return Err(crate::error::AppError::NotFound);
    }
    let reader = ctx.principal.actor().1;
    Ok(outstanding::of_client(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal), reader)?)
}
