//! Requests to sign documents, and the signatures (or refusals) that answer them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::signature_requests;

pub const PENDING: &str = "pending";
pub const SIGNED: &str = "signed";
pub const DECLINED: &str = "declined";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signature_requests)]
pub struct SignatureRow {
    pub id: String,
    pub firm_id: String,
    pub document_id: String,
    pub contact_id: String,
    pub requested_by: String,
    pub status: String,
    pub signed_name: Option<String>,
    pub document_sha256: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub decline_reason: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// How a contact answered.
pub struct Decision {
    pub status: &'static str,
    pub signed_name: Option<String>,
    pub document_sha256: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub decline_reason: Option<String>,
    pub at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &SignatureRow) -> StorageResult<()> {
    diesel::insert_into(signature_requests::table).values(row).execute(conn)?;
    Ok(())
}

pub fn of_document(conn: &mut DbConnection, document_id: &str) -> StorageResult<Vec<SignatureRow>> {
    Ok(signature_requests::table
        .filter(signature_requests::document_id.eq(document_id))
        .order(signature_requests::id.asc())
        .select(SignatureRow::as_select())
        .load(conn)?)
}

pub fn of_contact(
    conn: &mut DbConnection,
    contact_id: &str,
    status: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<SignatureRow>> {
    let mut query = signature_requests::table.filter(signature_requests::contact_id.eq(contact_id)).into_boxed();
    if let Some(status) = status {
        query = query.filter(signature_requests::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(signature_requests::id.gt(after));
    }
    Ok(query
        .order(signature_requests::id.asc())
        .select(SignatureRow::as_select())
        .limit_literal(limit + 1)
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<SignatureRow> {
    Ok(signature_requests::table
        .filter(signature_requests::firm_id.eq(firm_id).and(signature_requests::id.eq(id)))
        .select(SignatureRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn get_for_contact(conn: &mut DbConnection, contact_id: &str, id: &str) -> StorageResult<SignatureRow> {
    Ok(signature_requests::table
        .filter(signature_requests::contact_id.eq(contact_id).and(signature_requests::id.eq(id)))
        .select(SignatureRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Whether anyone signed the document: a signed document no longer changes.
pub fn is_signed(conn: &mut DbConnection, document_id: &str) -> StorageResult<bool> {
    let signed: i64 = signature_requests::table
        .filter(signature_requests::document_id.eq(document_id).and(signature_requests::status.eq(SIGNED)))
        .count()
        .get_result(conn)?;
    Ok(signed > 0)
}

/// Records the answer to a pending request; a request is answered once.
pub fn decide(conn: &mut DbConnection, id: &str, decision: &Decision) -> StorageResult<()> {
    let updated = diesel::update(
        signature_requests::table.filter(signature_requests::id.eq(id).and(signature_requests::status.eq(PENDING))),
    )
    .set((
        signature_requests::status.eq(decision.status),
        signature_requests::signed_name.eq(&decision.signed_name),
        signature_requests::document_sha256.eq(&decision.document_sha256),
        signature_requests::ip.eq(&decision.ip),
        signature_requests::user_agent.eq(&decision.user_agent),
        signature_requests::decline_reason.eq(&decision.decline_reason),
        signature_requests::decided_at.eq(Some(decision.at)),
    ))
    .execute(conn)?;
    if updated == 0 { Err(StorageError::Conflict("signature_decided".to_owned())) } else { Ok(()) }
}
