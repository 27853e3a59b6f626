//! The challenge between the password step and the code step of a two-factor sign-in,
//! stored by the SHA-256 of its token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::login_challenges;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_challenges)]
pub struct ChallengeRow {
    pub token_hash: String,
    pub firm_id: String,
    /// `staff` or `contact`.
    pub account_kind: String,
    pub owner_id: String,
    /// `verify` (a code is asked) or `enrol` (an authenticator must be set up first).
    pub purpose: String,
    pub failures: i32,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn create(conn: &mut DbConnection, row: &ChallengeRow) -> StorageResult<()> {
    diesel::insert_into(login_challenges::table).values(row).execute(conn)?;
    Ok(())
}

/// A challenge of this account kind that is neither ended nor expired.
pub fn find_open(
    conn: &mut DbConnection,
    token_hash: &str,
    account_kind: &str,
    now: NaiveDateTime,
) -> StorageResult<Option<ChallengeRow>> {
    Ok(login_challenges::table
        .filter(login_challenges::token_hash.eq(token_hash))
        .filter(login_challenges::account_kind.eq(account_kind))
        .filter(login_challenges::ended_at.is_null().and(login_challenges::expires_at.gt(now)))
        .select(ChallengeRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// Counts a wrong code; the `limit`-th ends the challenge. Returns whether it ended.
pub fn record_failure(
    conn: &mut DbConnection,
    token_hash: &str,
    limit: i32,
    now: NaiveDateTime,
) -> StorageResult<bool> {
    let failures: i32 = diesel::update(login_challenges::table.find(token_hash))
        .set(login_challenges::failures.eq(login_challenges::failures + 1))
        .returning(login_challenges::failures)
        .get_result(conn)?;
    if failures < limit {
        return Ok(false);
    }
    end(conn, token_hash, now)?;
    Ok(true)
}

/// Ends a challenge; returns whether it was still open (so it is used once).
pub fn end(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> StorageResult<bool> {
    Ok(diesel::update(
        login_challenges::table
            .filter(login_challenges::token_hash.eq(token_hash).and(login_challenges::ended_at.is_null())),
    )
    .set(login_challenges::ended_at.eq(now))
    .execute(conn)?
        == 1)
}

/// Deletes challenges that expired or ended before `cutoff`.
pub fn purge_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::delete(
        login_challenges::table
            .filter(login_challenges::expires_at.lt(cutoff).or(login_challenges::ended_at.lt(cutoff))),
    )
    .execute(conn)?)
}
