//! Certificates of completion of signature requests, kept byte for byte as issued.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::signature_certificates;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signature_certificates)]
pub struct CertificateRow {
    pub signature_request_id: String,
    pub firm_id: String,
    pub json: String,
    pub pdf: Vec<u8>,
    pub json_sha256: String,
    pub pdf_sha256: String,
    /// The audit event that recorded both SHA-256s.
    pub audit_event_id: String,
    pub issued_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &CertificateRow) -> StorageResult<()> {
    diesel::insert_into(signature_certificates::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, signature_request_id: &str) -> StorageResult<CertificateRow> {
    Ok(signature_certificates::table
        .filter(
            signature_certificates::firm_id
                .eq(firm_id)
                .and(signature_certificates::signature_request_id.eq(signature_request_id)),
        )
        .select(CertificateRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}
