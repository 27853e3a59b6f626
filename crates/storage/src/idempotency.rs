//! Stored first responses of POST requests sent with an `Idempotency-Key`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredRequest {
    pub request_hash: String,
    pub response_status: Option<i32>,
    /// JSON object of the response headers worth replaying.
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
}

#[derive(Debug)]
pub enum Begin {
    /// This request holds the key now and must complete or release it.
    Started,
    /// `body` is `None` when the first response held a secret and was not stored.
    Replay { status: i32, headers: Option<String>, body: Option<String> },
    /// The first request with this key has not finished yet.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}

/// Claims the key. Runs outside any transaction: the insert either wins or meets the
/// row of an earlier request.
pub fn begin(
    conn: &mut DbConnection,
    principal_id: &str,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
) -> StorageResult<Begin> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal_id.eq(principal_id),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn);
    match inserted.map_err(StorageError::from) {
        Ok(_) => return Ok(Begin::Started),
        Err(StorageError::Conflict(_)) => {}
        Err(other) => return Err(other),
    }
    let stored: StoredRequest = idempotency_keys::table
        .find((principal_id, key))
        .select(StoredRequest::as_select())
        .limit_literal(1)
        .get_result(conn)?;
    Ok(if stored.request_hash != request_hash {
        Begin::Mismatch
    } else {
        match stored.response_status {
            Some(status) => Begin::Replay { status, headers: stored.response_headers, body: stored.response_body },
            None => Begin::InFlight,
        }
    })
}

pub fn complete(
    conn: &mut DbConnection,
    principal_id: &str,
    key: &str,
    status: i32,
    headers: &str,
    body: Option<&str>,
) -> StorageResult<()> {
    diesel::update(idempotency_keys::table.find((principal_id, key)))
        .set((
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_headers.eq(headers),
            idempotency_keys::response_body.eq(body),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees the key after a failure the client may retry (a server error).
pub fn release(conn: &mut DbConnection, principal_id: &str, key: &str) -> StorageResult<()> {
    diesel::delete(idempotency_keys::table.find((principal_id, key))).execute(conn)?;
    Ok(())
}

pub fn purge_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff))).execute(conn)?)
}
