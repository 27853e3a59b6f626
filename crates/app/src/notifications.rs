//! In-app notifications of a staff member (seed 001): a client started a conversation, or
//! answered one. `messaging` writes them.

use vestibule_domain::cursor::Page;
use vestibule_domain::ids::NotificationId;
use vestibule_domain::principal::{Principal, StaffPrincipal};
use vestibule_storage::notifications::{self, NotificationRow};
use vestibule_storage::{DbConnection, clients, write_tx};

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;

/// A notification with the name of the client it is about.
#[derive(Debug)]
pub struct NotificationRecord {
    pub row: NotificationRow,
    pub client_name: String,
}

/// Notifications belong to a person: a staff member signed in with a password.
pub fn recipient(principal: &Principal) -> AppResult<&StaffPrincipal> {
    match principal {
        Principal::Staff(me) => Ok(me),
        _ => Err(AppError::Forbidden("only staff members signed in with a password may do this".to_owned())),
    }
}

/// Newest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    unread_only: bool,
    page: &Page,
) -> AppResult<Listed<NotificationRecord>> {
    let me = recipient(&ctx.principal)?;
    let rows =
        notifications::list(conn, ctx.firm_id(), me.staff_id.as_str(), unread_only, page.after.as_deref(), page.limit)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.clone());
    Ok(Listed { items: with_client_names(conn, ctx, rows)?, next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn unread_count(conn: &mut DbConnection, ctx: &Context) -> AppResult<i64> {
    let me = recipient(&ctx.principal)?;
    Ok(notifications::unread_count(conn, ctx.firm_id(), me.staff_id.as_str())?)
}

/// Marks one of the caller's notifications read; reading it again keeps the first time.
#[tracing::instrument(skip(conn, ctx))]
pub fn mark_read(conn: &mut DbConnection, ctx: &Context, id: &NotificationId) -> AppResult<NotificationRecord> {
    let me = recipient(&ctx.principal)?;
    write_tx(conn, |conn| {
        let row = notifications::mark_read(conn, ctx.firm_id(), me.staff_id.as_str(), id.as_str())?;
        with_client_names(conn, ctx, vec![row])?.pop().ok_or(AppError::NotFound)
    })
}

/// Marks every unread notification of the caller read; returns how many there were.
#[tracing::instrument(skip(conn, ctx))]
pub fn mark_all_read(conn: &mut DbConnection, ctx: &Context) -> AppResult<usize> {
    let me = recipient(&ctx.principal)?;
    Ok(notifications::mark_all_read(conn, ctx.firm_id(), me.staff_id.as_str())?)
}

fn with_client_names(
    conn: &mut DbConnection,
    ctx: &Context,
    rows: Vec<NotificationRow>,
) -> AppResult<Vec<NotificationRecord>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
    let names = clients::names(conn, ctx.firm_id(), &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| NotificationRecord { client_name: names.get(&row.client_id).cloned().unwrap_or_default(), row })
        .collect())
}
