//! Payments against invoices (seed 004): recorded offline by staff and integrations, or
//! charged to a card through a [`processor::CardProcessor`]; refunds as their children; the
//! client's account history; the cards portal contacts save.

mod access;
pub mod card;
mod ledger;
pub mod methods;
pub mod processor;
pub mod record;
pub mod refunds;
pub mod statement;
pub mod webhook;

use std::collections::HashMap;

use vestibule_storage::DbConnection;
use vestibule_storage::payments::{self, AllocationRow, ChargeRow, PaymentRow, RefundRow};

use crate::error::AppResult;

/// A payment with what hangs off it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub payment: PaymentRow,
    /// For card payments: the processor's side.
    pub charge: Option<ChargeRow>,
    pub allocations: Vec<AllocationRow>,
    pub refunds: Vec<RefundRow>,
}

/// The records of these payments, in their order: three queries whatever the number.
pub(crate) fn records(conn: &mut DbConnection, rows: Vec<PaymentRow>) -> AppResult<Vec<PaymentRecord>> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut charges: HashMap<String, ChargeRow> =
        payments::charges_of(conn, &ids)?.into_iter().map(|c| (c.payment_id.clone(), c)).collect();
    let mut allocations: HashMap<String, Vec<AllocationRow>> = HashMap::new();
    for allocation in payments::allocations_of(conn, &ids)? {
        allocations.entry(allocation.payment_id.clone()).or_default().push(allocation);
    }
    let mut refunds: HashMap<String, Vec<RefundRow>> = HashMap::new();
    for refund in payments::refunds_of(conn, &ids)? {
        refunds.entry(refund.payment_id.clone()).or_default().push(refund);
    }
    Ok(rows
        .into_iter()
        .map(|payment| PaymentRecord {
            charge: charges.remove(&payment.id),
            allocations: allocations.remove(&payment.id).unwrap_or_default(),
            refunds: refunds.remove(&payment.id).unwrap_or_default(),
            payment,
        })
        .collect())
}

pub(crate) fn record_of(conn: &mut DbConnection, row: PaymentRow) -> AppResult<PaymentRecord> {
    let mut all = records(conn, vec![row])?;
    all.pop().ok_or_else(|| anyhow::anyhow!("a payment's record went missing").into())
}
