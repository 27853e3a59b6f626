//! Payments, their allocations to invoices and their refunds. The invoice balance moves in
//! the same statement that checks it, so concurrent payments can never overdraw one.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{card_charges, invoices, payment_allocations, payments, refunds};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub external_id: Option<String>,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub received_on: NaiveDate,
    pub method: String,
    pub reference: Option<String>,
    pub status: String,
    pub recorded_by_staff_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = card_charges)]
pub struct ChargeRow {
    pub payment_id: String,
    pub processor: String,
    /// Unknown until the processor answered.
    pub processor_ref: Option<String>,
    pub contact_id: String,
    pub payment_method_id: Option<String>,
    pub failure_reason: Option<String>,
    pub disputed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_allocations)]
pub struct AllocationRow {
    pub payment_id: String,
    pub invoice_id: String,
    pub position: i32,
    pub amount_minor: i64,
    pub refunded_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds)]
pub struct RefundRow {
    pub id: String,
    pub firm_id: String,
    pub payment_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub refunded_on: NaiveDate,
    pub reason: Option<String>,
    pub status: String,
    pub processor_ref: Option<String>,
    pub created_by_staff_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct PaymentFilter {
    pub client_id: Option<String>,
    pub invoice_id: Option<String>,
    pub status: Option<String>,
}

type Boxed<'a> = payments::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

fn visible<'a>(query: Boxed<'a>, visibility: &'a MatterVisibility) -> Boxed<'a> {
    matter_visible!(query, payments::matter_id, payments::id, visibility)
}

pub fn insert(conn: &mut DbConnection, row: &PaymentRow) -> StorageResult<()> {
    diesel::insert_into(payments::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<PaymentRow> {
    let query = payments::table.filter(payments::firm_id.eq(firm_id).and(payments::id.eq(id))).into_boxed();
    Ok(visible(query, visibility).select(PaymentRow::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn find_by_external_id(
    conn: &mut DbConnection,
    firm_id: &str,
    external_id: &str,
) -> StorageResult<Option<PaymentRow>> {
    Ok(payments::table
        .filter(payments::firm_id.eq(firm_id).and(payments::external_id.eq(external_id)))
        .select(PaymentRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn set_status(conn: &mut DbConnection, id: &str, status: &str, refunded_minor: i64) -> StorageResult<()> {
    diesel::update(payments::table.find(id))
        .set((
            payments::status.eq(status),
            payments::refunded_minor.eq(refunded_minor),
            payments::updated_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_charge(conn: &mut DbConnection, row: &ChargeRow) -> StorageResult<()> {
    diesel::insert_into(card_charges::table).values(row).execute(conn)?;
    Ok(())
}

/// The card side of these payments: one query for a page.
pub fn charges_of(conn: &mut DbConnection, payment_ids: &[String]) -> StorageResult<Vec<ChargeRow>> {
    Ok(card_charges::table
        .filter(card_charges::payment_id.eq_any(payment_ids))
        .select(ChargeRow::as_select())
        .load(conn)?)
}

/// The payment a processor's charge belongs to (in whichever firm), or, for a charge the
/// processor made but never answered for, the payment its metadata names.
pub fn find_charged(
    conn: &mut DbConnection,
    processor: &str,
    processor_ref: &str,
    payment_id: Option<&str>,
) -> StorageResult<Option<(PaymentRow, ChargeRow)>> {
    let by_ref = card_charges::processor.eq(processor).and(card_charges::processor_ref.eq(processor_ref));
    let by_id = card_charges::processor
        .eq(processor)
        .and(card_charges::processor_ref.is_null())
        .and(card_charges::payment_id.eq(payment_id.unwrap_or_default()));
    Ok(payments::table
        .inner_join(card_charges::table)
        .filter(by_ref.or(by_id))
        .select((PaymentRow::as_select(), ChargeRow::as_select()))
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn update_charge(
    conn: &mut DbConnection,
    payment_id: &str,
    processor_ref: Option<&str>,
    failure_reason: Option<&str>,
) -> StorageResult<()> {
    diesel::update(card_charges::table.find(payment_id))
        .set((card_charges::processor_ref.eq(processor_ref), card_charges::failure_reason.eq(failure_reason)))
        .execute(conn)?;
    Ok(())
}

pub fn mark_disputed(conn: &mut DbConnection, payment_id: &str) -> StorageResult<()> {
    diesel::update(card_charges::table.find(payment_id))
        .set(card_charges::disputed_at.eq(crate::now()))
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &PaymentFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<PaymentRow>> {
    let mut query = visible(payments::table.filter(payments::firm_id.eq(firm_id)).into_boxed(), visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(payments::client_id.eq(client));
    }
    if let Some(invoice) = &filter.invoice_id {
        let of_invoice = payment_allocations::table
            .filter(payment_allocations::invoice_id.eq(invoice))
            .select(payment_allocations::payment_id);
        query = query.filter(payments::id.eq_any(of_invoice));
    }
    if let Some(status) = &filter.status {
        query = query.filter(payments::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(payments::id.gt(after));
    }
    Ok(query.order(payments::id.asc()).select(PaymentRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Payments a portal shows: of its granted clients or matters, and only money that came in.
fn of_portal<'a>(portal_id: &'a str) -> Boxed<'a> {
    payments::table
        .filter(granted_to_portal!(payments::client_id, payments::matter_id, portal_id))
        .filter(payments::status.ne("failed"))
        .into_boxed()
}

pub fn list_for_portal(
    conn: &mut DbConnection,
    portal_id: &str,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<PaymentRow>> {
    let mut query = of_portal(portal_id);
    if let Some(after) = after {
        query = query.filter(payments::id.gt(after));
    }
    Ok(query.order(payments::id.asc()).select(PaymentRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn get_for_portal(conn: &mut DbConnection, portal_id: &str, id: &str) -> StorageResult<PaymentRow> {
    Ok(of_portal(portal_id)
        .filter(payments::id.eq(id))
        .select(PaymentRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn insert_allocations(conn: &mut DbConnection, rows: &[AllocationRow]) -> StorageResult<()> {
    // One by one: batch inserts are not portable across the two backends here.
    for row in rows {
        diesel::insert_into(payment_allocations::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The allocations of these payments, in the order they were made: one query for a page.
pub fn allocations_of(conn: &mut DbConnection, payment_ids: &[String]) -> StorageResult<Vec<AllocationRow>> {
    Ok(payment_allocations::table
        .filter(payment_allocations::payment_id.eq_any(payment_ids))
        .order((payment_allocations::payment_id.asc(), payment_allocations::position.asc()))
        .select(AllocationRow::as_select())
        .load(conn)?)
}

pub fn set_allocation_refunded(
    conn: &mut DbConnection,
    payment_id: &str,
    invoice_id: &str,
    refunded_minor: i64,
) -> StorageResult<()> {
    diesel::update(payment_allocations::table.find((payment_id, invoice_id)))
        .set(payment_allocations::refunded_minor.eq(refunded_minor))
        .execute(conn)?;
    Ok(())
}

/// A payment that never went through allocates nothing.
pub fn delete_allocations(conn: &mut DbConnection, payment_id: &str) -> StorageResult<()> {
    diesel::delete(payment_allocations::table.filter(payment_allocations::payment_id.eq(payment_id))).execute(conn)?;
    Ok(())
}

/// Moves an invoice's balance by `delta` (negative when money arrives) only if it stays
/// between zero and the total and the invoice takes payments: `false` when it would not.
/// The check and the change are one statement, so two payments racing for the last euro of
/// a balance cannot both win, on either database.
pub fn move_balance(conn: &mut DbConnection, invoice_id: &str, delta: i64, now: NaiveDateTime) -> StorageResult<bool> {
    let moved = diesel::update(
        invoices::table
            .filter(invoices::id.eq(invoice_id))
            .filter(invoices::status.ne_all(["draft", "void"]))
            .filter((invoices::balance_minor + delta).ge(0))
            .filter((invoices::balance_minor + delta).le(invoices::total_minor)),
    )
    .set((invoices::balance_minor.eq(invoices::balance_minor + delta), invoices::updated_at.eq(now)))
    .execute(conn)?;
    Ok(moved == 1)
}

pub fn set_invoice_status(conn: &mut DbConnection, invoice_id: &str, status: &str) -> StorageResult<()> {
    diesel::update(invoices::table.find(invoice_id)).set(invoices::status.eq(status)).execute(conn)?;
    Ok(())
}

pub fn insert_refund(conn: &mut DbConnection, row: &RefundRow) -> StorageResult<()> {
    diesel::insert_into(refunds::table).values(row).execute(conn)?;
    Ok(())
}

pub fn refunds_of(conn: &mut DbConnection, payment_ids: &[String]) -> StorageResult<Vec<RefundRow>> {
    Ok(refunds::table
        .filter(refunds::payment_id.eq_any(payment_ids))
        .order(refunds::id.asc())
        .select(RefundRow::as_select())
        .load(conn)?)
}

/// Holds `amount` of the payment for a refund, only if that much is left to give back.
pub fn reserve_refund(conn: &mut DbConnection, id: &str, amount_minor: i64) -> StorageResult<bool> {
    let reserved = diesel::update(
        payments::table
            .filter(payments::id.eq(id))
            .filter((payments::refunded_minor + amount_minor).le(payments::amount_minor)),
    )
    .set((payments::refunded_minor.eq(payments::refunded_minor + amount_minor), payments::updated_at.eq(crate::now())))
    .execute(conn)?;
    Ok(reserved == 1)
}

/// Gives back a hold of a refund that did not happen.
pub fn unreserve_refund(conn: &mut DbConnection, id: &str, amount_minor: i64) -> StorageResult<()> {
    diesel::update(payments::table.find(id))
        .set(payments::refunded_minor.eq(payments::refunded_minor - amount_minor))
        .execute(conn)?;
    Ok(())
}

pub fn set_refund_status(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    processor_ref: Option<&str>,
) -> StorageResult<()> {
    diesel::update(refunds::table.find(id))
        .set((refunds::status.eq(status), refunds::processor_ref.eq(processor_ref)))
        .execute(conn)?;
    Ok(())
}
