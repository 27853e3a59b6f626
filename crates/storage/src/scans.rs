//! Scan jobs: documents waiting for the malware scanner. A job is claimed with a lease, as a
//! delivery is, so several instances share the work and a dead instance's claim runs out; it
//! is deleted in the transaction that records the verdict.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::DbConnection;
use crate::documents::DocumentRow;
use crate::error::StorageResult;
use crate::schema::{documents, scan_jobs};

/// A claimed job with what the scanner needs of its document.
#[derive(Debug, Clone)]
pub struct ScanWork {
    pub document_id: String,
    pub firm_id: String,
    pub blob_key: String,
    pub size: i64,
    /// Attempts before this one.
    pub attempts: i32,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    document_id: String,
}

/// Queues a new document for the scanner.
pub fn enqueue(conn: &mut DbConnection, document: &DocumentRow) -> StorageResult<()> {
    let now = crate::now();
    diesel::insert_into(scan_jobs::table)
        .values((
            scan_jobs::document_id.eq(&document.id),
            scan_jobs::firm_id.eq(&document.firm_id),
            scan_jobs::next_attempt_at.eq(now),
            scan_jobs::created_at.eq(now),
        ))
        .execute(conn)?;
    crate::wake::notify(conn, crate::wake::Channel::Scan)
}

/// Claims up to `limit` due jobs (new, to be retried, or whose claim ran out) until
/// `lease_until`, and returns them with their documents.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> StorageResult<Vec<ScanWork>> {
    const DUE: &str = "next_attempt_at <= {now} AND (lease_until IS NULL OR lease_until < {now})";
    let claimed: Vec<Claimed> = match conn {
        DbConnection::Postgres(pg) => diesel::sql_query(format!(
            "UPDATE scan_jobs SET lease_until = $1 WHERE document_id IN \
             (SELECT document_id FROM scan_jobs WHERE {} ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING document_id",
            DUE.replace("{now}", "$2")
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(format!(
            "UPDATE scan_jobs SET lease_until = ?1 WHERE document_id IN \
             (SELECT document_id FROM scan_jobs WHERE {} ORDER BY next_attempt_at LIMIT ?3) RETURNING document_id",
            DUE.replace("{now}", "?2")
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(sqlite)?,
    };
    let ids: Vec<String> = claimed.into_iter().map(|c| c.document_id).collect();
    let rows: Vec<(String, String, String, i64, i32)> = scan_jobs::table
        .inner_join(documents::table)
        .filter(scan_jobs::document_id.eq_any(&ids))
        .select((documents::id, documents::firm_id, documents::blob_key, documents::size, scan_jobs::attempts))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(document_id, firm_id, blob_key, size, attempts)| ScanWork {
            document_id,
            firm_id,
            blob_key,
            size,
            attempts,
        })
        .collect())
}

/// Records the scanner's verdict on the document and ends its job.
pub fn record_verdict(
    conn: &mut DbConnection,
    document_id: &str,
    status: &str,
    threat: Option<&str>,
    at: NaiveDateTime,
) -> StorageResult<()> {
    diesel::update(documents::table.find(document_id))
        .set((documents::scan_status.eq(status), documents::scan_threat.eq(threat), documents::scanned_at.eq(at)))
        .execute(conn)?;
    diesel::delete(scan_jobs::table.find(document_id)).execute(conn)?;
    Ok(())
}

/// The scanner could not be asked: the job waits until `next_attempt_at`.
pub fn retry_later(
    conn: &mut DbConnection,
    document_id: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> StorageResult<()> {
    diesel::update(scan_jobs::table.find(document_id))
        .set((
            scan_jobs::attempts.eq(scan_jobs::attempts + 1),
            scan_jobs::next_attempt_at.eq(next_attempt_at),
            scan_jobs::lease_until.eq(None::<NaiveDateTime>),
            scan_jobs::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets the document back to `pending` and queues it, for a scan asked for again.
pub fn rescan(conn: &mut DbConnection, document: &DocumentRow, pending: &str) -> StorageResult<()> {
    diesel::update(documents::table.find(&document.id))
        .set((documents::scan_status.eq(pending), documents::scan_threat.eq(None::<String>)))
        .execute(conn)?;
    diesel::delete(scan_jobs::table.find(&document.id)).execute(conn)?;
    enqueue(conn, document)
}
