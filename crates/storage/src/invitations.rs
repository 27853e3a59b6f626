//! Invitations to portals, and contacts' password resets: one-time tokens stored as digests.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::invitation::InvitationState;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{invitations, password_resets};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub firm_id: String,
    pub portal_id: String,
    pub contact_id: String,
    pub client_id: Option<String>,
    pub email: String,
    pub token_hash: String,
    /// `settings`, `portal` or `invoice`.
    pub source: String,
    pub invited_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_sent_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl InvitationRow {
    pub fn state(&self) -> InvitationState {
        InvitationState { accepted_at: self.accepted_at, revoked_at: self.revoked_at, expires_at: self.expires_at }
    }
}

#[derive(Debug, Default)]
pub struct InvitationFilter {
    pub invited_by: Option<String>,
    pub portal_id: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &InvitationRow) -> StorageResult<()> {
    diesel::insert_into(invitations::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<InvitationRow> {
    Ok(invitations::table
        .filter(invitations::firm_id.eq(firm_id).and(invitations::id.eq(id)))
        .select(InvitationRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn find_by_token(conn: &mut DbConnection, token_hash: &str) -> StorageResult<Option<InvitationRow>> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &InvitationFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<InvitationRow>> {
    let mut query = invitations::table.filter(invitations::firm_id.eq(firm_id)).into_boxed();
    if let Some(by) = &filter.invited_by {
        query = query.filter(invitations::invited_by.eq(by));
    }
    if let Some(portal) = &filter.portal_id {
        query = query.filter(invitations::portal_id.eq(portal));
    }
    if let Some(after) = after {
        query = query.filter(invitations::id.gt(after));
    }
    Ok(query.order(invitations::id.asc()).select(InvitationRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Revokes every open invitation of a portal (a newer one replaces them).
pub fn revoke_open(conn: &mut DbConnection, portal_id: &str, now: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::update(
        invitations::table
            .filter(invitations::portal_id.eq(portal_id))
            .filter(invitations::accepted_at.is_null().and(invitations::revoked_at.is_null())),
    )
    .set(invitations::revoked_at.eq(now))
    .execute(conn)?)
}

pub fn revoke(conn: &mut DbConnection, firm_id: &str, id: &str, now: NaiveDateTime) -> StorageResult<bool> {
    let updated = diesel::update(
        invitations::table
            .filter(invitations::firm_id.eq(firm_id).and(invitations::id.eq(id)))
            .filter(invitations::accepted_at.is_null().and(invitations::revoked_at.is_null())),
    )
    .set(invitations::revoked_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Marks the invitation accepted if it still was open; returns whether this call did it, so
/// that two racing accepts cannot both succeed.
pub fn accept(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> StorageResult<bool> {
    Ok(diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::accepted_at.is_null().and(invitations::revoked_at.is_null())),
    )
    .set(invitations::accepted_at.eq(now))
    .execute(conn)?
        == 1)
}

pub fn create_reset(
    conn: &mut DbConnection,
    firm_id: &str,
    contact_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> StorageResult<()> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash),
            password_resets::firm_id.eq(firm_id),
            password_resets::contact_id.eq(contact_id),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Uses a reset token once: returns the firm and contact when it was valid and unused.
pub fn use_reset(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> StorageResult<Option<(String, String)>> {
    let found: Option<(String, String)> = password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::used_at.is_null().and(password_resets::expires_at.gt(now)))
        .select((password_resets::firm_id, password_resets::contact_id))
        .limit_literal(1)
        .get_result(conn)
        .optional()?;
    if found.is_some() {
        let claimed =
            diesel::update(password_resets::table.find(token_hash).filter(password_resets::used_at.is_null()))
                .set(password_resets::used_at.eq(now))
                .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
    }
    Ok(found)
}
