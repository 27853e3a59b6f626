//! Checkpoints of the audit chain: each firm's head as it was signed and published, one row
//! per firm and head; inserting the row is the claim on publishing it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::{DbConnection, write_tx};
use crate::error::StorageResult;
use crate::schema::{audit_checkpoints, audit_heads};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
pub struct CheckpointRow {
    pub firm_id: String,
    pub seq: i64,
    pub head_hash: String,
    pub signed_at: NaiveDateTime,
    pub key_id: String,
    pub signature: String,
}

/// A firm's audit head: its last sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub firm_id: String,
    pub seq: i64,
    pub hash: String,
}

/// The heads of every firm with events that moved past its last checkpoint (or never had
/// one), read together so each sequence number comes with its own hash.
pub fn heads_since_checkpoint(conn: &mut DbConnection) -> StorageResult<Vec<Head>> {
    let checkpointed: Vec<(String, Option<i64>)> = audit_checkpoints::table
        .group_by(audit_checkpoints::firm_id)
        .select((audit_checkpoints::firm_id, diesel::dsl::max(audit_checkpoints::seq)))
        .load(conn)?;
    let last: std::collections::HashMap<String, i64> =
        checkpointed.into_iter().filter_map(|(firm, seq)| seq.map(|s| (firm, s))).collect();
    let heads: Vec<(String, i64, String)> = audit_heads::table
        .filter(audit_heads::seq.gt(0_i64))
        .order(audit_heads::firm_id.asc())
        .select((audit_heads::firm_id, audit_heads::seq, audit_heads::hash))
        .load(conn)?;
    Ok(heads
        .into_iter()
        .filter(|(firm, seq, _)| last.get(firm).is_none_or(|done| seq > done))
        .map(|(firm_id, seq, hash)| Head { firm_id, seq, hash })
        .collect())
}

/// Claims and records the checkpoint of a head; false when it was already published (by
/// this instance or another). Runs in a savepoint, so a lost claim leaves the caller's
/// transaction usable.
pub fn claim(conn: &mut DbConnection, checkpoint: &CheckpointRow) -> StorageResult<bool> {
    let inserted =
        write_tx(conn, |conn| diesel::insert_into(audit_checkpoints::table).values(checkpoint).execute(conn));
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(other) => Err(other.into()),
    }
}
