//! Authenticators (TOTP secrets) and recovery codes of staff and contacts. The secret is
//! stored sealed (see `sealing`): `start` seals it, `secret_of` opens it, nothing else reads it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{recovery_codes, two_factor};
use crate::sealing::{self, SecretKeys};

/// An authenticator without its secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = two_factor)]
pub struct TwoFactorRow {
    pub owner_id: String,
    pub firm_id: String,
    pub confirmed_at: Option<NaiveDateTime>,
    pub pending_expires_at: NaiveDateTime,
    pub last_step: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, firm_id: &str, owner_id: &str) -> StorageResult<Option<TwoFactorRow>> {
    Ok(two_factor::table
        .filter(two_factor::owner_id.eq(owner_id).and(two_factor::firm_id.eq(firm_id)))
        .select(TwoFactorRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// Whether the account has a confirmed authenticator.
pub fn is_enabled(conn: &mut DbConnection, firm_id: &str, owner_id: &str) -> StorageResult<bool> {
    Ok(find(conn, firm_id, owner_id)?.is_some_and(|row| row.confirmed_at.is_some()))
}

/// The base32 secret of the account's authenticator.
pub fn secret_of(
    conn: &mut DbConnection,
    keys: &SecretKeys,
    firm_id: &str,
    owner_id: &str,
) -> StorageResult<Option<String>> {
    let stored: Option<String> = two_factor::table
        .filter(two_factor::owner_id.eq(owner_id).and(two_factor::firm_id.eq(firm_id)))
        .select(two_factor::secret)
        .limit_literal(1)
        .get_result(conn)
        .optional()?;
    stored.map(|stored| keys.open(&stored, &binding(owner_id))).transpose()
}

fn binding(owner_id: &str) -> String {
    format!("two_factor:{owner_id}")
}

/// Seals every secret not sealed with the current key yet; returns how many changed.
pub fn reseal(conn: &mut DbConnection, keys: &SecretKeys) -> StorageResult<usize> {
    let stale: Vec<(String, String)> = two_factor::table
        .filter(two_factor::secret.not_like(sealing::current_pattern(keys)))
        .select((two_factor::owner_id, two_factor::secret))
        .load(conn)?;
    for (owner_id, secret) in &stale {
        if let Some(sealed) = keys.reseal(secret, &binding(owner_id))? {
            diesel::update(two_factor::table.find(owner_id)).set(two_factor::secret.eq(sealed)).execute(conn)?;
        }
    }
    Ok(stale.len())
}

/// Starts a pending enrolment, replacing any earlier pending one. Call inside a write
/// transaction, after checking that no confirmed authenticator exists.
pub fn start(
    conn: &mut DbConnection,
    keys: &SecretKeys,
    firm_id: &str,
    owner_id: &str,
    secret: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> StorageResult<()> {
    remove(conn, owner_id)?;
    diesel::insert_into(two_factor::table)
        .values((
            two_factor::owner_id.eq(owner_id),
            two_factor::firm_id.eq(firm_id),
            two_factor::secret.eq(keys.seal(secret, &binding(owner_id))?),
            two_factor::pending_expires_at.eq(expires_at),
            two_factor::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records `step` as accepted, only if it is later than the last accepted one (so a code
/// works once, even between racing requests); `confirm` also activates a pending
/// enrolment. Returns whether the step was taken.
pub fn accept_step(
    conn: &mut DbConnection,
    owner_id: &str,
    step: i64,
    confirm_at: Option<NaiveDateTime>,
) -> StorageResult<bool> {
    let fresh =
        two_factor::owner_id.eq(owner_id).and(two_factor::last_step.is_null().or(two_factor::last_step.lt(step)));
    let updated = match confirm_at {
        Some(at) => diesel::update(two_factor::table.filter(fresh))
            .set((two_factor::last_step.eq(step), two_factor::confirmed_at.eq(at)))
            .execute(conn)?,
        None => diesel::update(two_factor::table.filter(fresh)).set(two_factor::last_step.eq(step)).execute(conn)?,
    };
    Ok(updated == 1)
}

/// Removes the authenticator and the recovery codes of an account.
pub fn remove(conn: &mut DbConnection, owner_id: &str) -> StorageResult<bool> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::owner_id.eq(owner_id))).execute(conn)?;
    Ok(diesel::delete(two_factor::table.filter(two_factor::owner_id.eq(owner_id))).execute(conn)? == 1)
}

/// Replaces the account's recovery codes with these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    firm_id: &str,
    owner_id: &str,
    hashes: &[String],
    now: NaiveDateTime,
) -> StorageResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::owner_id.eq(owner_id))).execute(conn)?;
    for hash in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::code_hash.eq(hash),
                recovery_codes::owner_id.eq(owner_id),
                recovery_codes::firm_id.eq(firm_id),
                recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses up a recovery code of the account: whether it existed.
pub fn use_recovery_code(conn: &mut DbConnection, owner_id: &str, hash: &str) -> StorageResult<bool> {
    Ok(diesel::delete(
        recovery_codes::table.filter(recovery_codes::owner_id.eq(owner_id).and(recovery_codes::code_hash.eq(hash))),
    )
    .execute(conn)?
        == 1)
}

pub fn recovery_codes_left(conn: &mut DbConnection, owner_id: &str) -> StorageResult<i64> {
    Ok(recovery_codes::table.filter(recovery_codes::owner_id.eq(owner_id)).count().get_result(conn)?)
}
