//! Invitations of staff members: one-time tokens stored as digests.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::invitation::InvitationState;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::staff_invitations;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff_invitations)]
pub struct StaffInvitationRow {
    pub id: String,
    pub firm_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub portal_permission: bool,
    pub token_hash: String,
    pub invited_by: Option<String>,
    /// The member the accepted invitation created.
    pub staff_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl StaffInvitationRow {
    pub fn state(&self) -> InvitationState {
        InvitationState { accepted_at: self.accepted_at, revoked_at: self.revoked_at, expires_at: self.expires_at }
    }
}

/// Which invitations a list shows, by their state at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffInvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Debug, Default)]
pub struct StaffInvitationFilter {
    pub state: Option<StaffInvitationState>,
}

pub fn insert(conn: &mut DbConnection, row: &StaffInvitationRow) -> StorageResult<()> {
    diesel::insert_into(staff_invitations::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<StaffInvitationRow> {
    Ok(staff_invitations::table
        .filter(staff_invitations::firm_id.eq(firm_id).and(staff_invitations::id.eq(id)))
        .select(StaffInvitationRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn find_by_token(conn: &mut DbConnection, token_hash: &str) -> StorageResult<Option<StaffInvitationRow>> {
    Ok(staff_invitations::table
        .filter(staff_invitations::token_hash.eq(token_hash))
        .select(StaffInvitationRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &StaffInvitationFilter,
    now: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<StaffInvitationRow>> {
    let mut query = staff_invitations::table.filter(staff_invitations::firm_id.eq(firm_id)).into_boxed();
    let open = || staff_invitations::accepted_at.is_null().and(staff_invitations::revoked_at.is_null());
    query = match filter.state {
        None => query,
        Some(StaffInvitationState::Accepted) => query.filter(staff_invitations::accepted_at.is_not_null()),
        Some(StaffInvitationState::Revoked) => {
            query.filter(staff_invitations::accepted_at.is_null()).filter(staff_invitations::revoked_at.is_not_null())
        }
        Some(StaffInvitationState::Pending) => query.filter(open()).filter(staff_invitations::expires_at.gt(now)),
        Some(StaffInvitationState::Expired) => query.filter(open()).filter(staff_invitations::expires_at.le(now)),
    };
    if let Some(after) = after {
        query = query.filter(staff_invitations::id.gt(after));
    }
    Ok(query
        .order(staff_invitations::id.asc())
        .select(StaffInvitationRow::as_select())
        .limit_literal(limit + 1)
        .load(conn)?)
}

/// Revokes every open invitation to `email` in the firm (a newer one replaces them).
pub fn revoke_open(conn: &mut DbConnection, firm_id: &str, email: &str, now: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::update(
        staff_invitations::table
            .filter(staff_invitations::firm_id.eq(firm_id).and(staff_invitations::email.eq(email)))
            .filter(staff_invitations::accepted_at.is_null().and(staff_invitations::revoked_at.is_null())),
    )
    .set(staff_invitations::revoked_at.eq(now))
    .execute(conn)?)
}

/// Revokes the invitation if it still was open; returns whether this call did it.
pub fn revoke(conn: &mut DbConnection, firm_id: &str, id: &str, now: NaiveDateTime) -> StorageResult<bool> {
    let updated = diesel::update(
        staff_invitations::table
            .filter(staff_invitations::firm_id.eq(firm_id).and(staff_invitations::id.eq(id)))
            .filter(staff_invitations::accepted_at.is_null().and(staff_invitations::revoked_at.is_null())),
    )
    .set(staff_invitations::revoked_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Marks the invitation accepted by `staff_id` if it still was open; returns whether this
/// call did it, so that two racing accepts cannot both succeed.
pub fn accept(conn: &mut DbConnection, id: &str, staff_id: &str, now: NaiveDateTime) -> StorageResult<bool> {
    Ok(diesel::update(
        staff_invitations::table
            .filter(staff_invitations::id.eq(id))
            .filter(staff_invitations::accepted_at.is_null().and(staff_invitations::revoked_at.is_null())),
    )
    .set((staff_invitations::accepted_at.eq(now), staff_invitations::staff_id.eq(staff_id)))
    .execute(conn)?
        == 1)
}
