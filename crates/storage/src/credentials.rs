//! Password hashes and lockout state, shared by staff and contacts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::credentials;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credentials)]
pub struct CredentialRow {
    pub owner_id: String,
    pub password_hash: String,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
}

pub fn find(conn: &mut DbConnection, owner_id: &str) -> StorageResult<Option<CredentialRow>> {
    Ok(credentials::table
        .find(owner_id)
        .select(CredentialRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// Sets (or replaces) the password of a staff member or contact and clears any lockout.
pub fn set_password(conn: &mut DbConnection, firm_id: &str, owner_id: &str, hash: &str) -> StorageResult<()> {
    let now = crate::now();
    let updated = diesel::update(credentials::table.find(owner_id))
        .set((
            credentials::password_hash.eq(hash),
            credentials::failed_logins.eq(0),
            credentials::locked_until.eq(None::<NaiveDateTime>),
            credentials::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(credentials::table)
            .values((
                credentials::owner_id.eq(owner_id),
                credentials::firm_id.eq(firm_id),
                credentials::password_hash.eq(hash),
                credentials::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Counts a failed login; the `lock_after`-th consecutive failure locks the account until
/// `lock_until` and starts the count again. Returns whether this failure locked it.
pub fn record_failure(
    conn: &mut DbConnection,
    owner_id: &str,
    lock_after: i32,
    lock_until: NaiveDateTime,
) -> StorageResult<bool> {
    let failures: i32 = diesel::update(credentials::table.find(owner_id))
        .set(credentials::failed_logins.eq(credentials::failed_logins + 1))
        .returning(credentials::failed_logins)
        .get_result(conn)?;
    if failures < lock_after {
        return Ok(false);
    }
    diesel::update(credentials::table.find(owner_id))
        .set((credentials::locked_until.eq(lock_until), credentials::failed_logins.eq(0)))
        .execute(conn)?;
    Ok(true)
}

pub fn record_success(conn: &mut DbConnection, owner_id: &str) -> StorageResult<()> {
    diesel::update(credentials::table.find(owner_id))
        .set((credentials::failed_logins.eq(0), credentials::locked_until.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    Ok(())
}
