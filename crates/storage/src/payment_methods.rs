//! What Vestibule keeps of a contact's cards at the processor: the processor's customer and
//! card tokens with their display fields, the "save a card" flows in progress, and the
//! processor events already acted on. Never a card number.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{payment_customers, payment_methods, payment_setups, processor_events};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_methods)]
pub struct PaymentMethodRow {
    pub id: String,
    pub firm_id: String,
    pub contact_id: String,
    pub processor: String,
    pub processor_ref: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_setups)]
pub struct SetupRow {
    pub id: String,
    pub firm_id: String,
    pub contact_id: String,
    pub processor: String,
    pub processor_ref: String,
    pub payment_method_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn customer_of(conn: &mut DbConnection, contact_id: &str, processor: &str) -> StorageResult<Option<String>> {
    Ok(payment_customers::table
        .find((contact_id, processor))
        .select(payment_customers::customer_ref)
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn insert_customer(
    conn: &mut DbConnection,
    firm_id: &str,
    contact_id: &str,
    processor: &str,
    customer_ref: &str,
) -> StorageResult<()> {
    diesel::insert_into(payment_customers::table)
        .values((
            payment_customers::contact_id.eq(contact_id),
            payment_customers::processor.eq(processor),
            payment_customers::firm_id.eq(firm_id),
            payment_customers::customer_ref.eq(customer_ref),
            payment_customers::created_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_setup(conn: &mut DbConnection, row: &SetupRow) -> StorageResult<()> {
    diesel::insert_into(payment_setups::table).values(row).execute(conn)?;
    Ok(())
}

/// A contact's own setup: another contact's answers not found.
pub fn setup_of(conn: &mut DbConnection, contact_id: &str, id: &str) -> StorageResult<SetupRow> {
    Ok(payment_setups::table
        .filter(payment_setups::id.eq(id).and(payment_setups::contact_id.eq(contact_id)))
        .select(SetupRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn setup_by_processor_ref(
    conn: &mut DbConnection,
    processor: &str,
    processor_ref: &str,
) -> StorageResult<Option<SetupRow>> {
    Ok(payment_setups::table
        .filter(payment_setups::processor.eq(processor).and(payment_setups::processor_ref.eq(processor_ref)))
        .select(SetupRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn complete_setup(conn: &mut DbConnection, id: &str, method_id: &str) -> StorageResult<()> {
    diesel::update(payment_setups::table.find(id))
        .set(payment_setups::payment_method_id.eq(method_id))
        .execute(conn)?;
    Ok(())
}

pub fn insert(conn: &mut DbConnection, row: &PaymentMethodRow) -> StorageResult<()> {
    diesel::insert_into(payment_methods::table).values(row).execute(conn)?;
    Ok(())
}

pub fn by_processor_ref(
    conn: &mut DbConnection,
    processor: &str,
    processor_ref: &str,
) -> StorageResult<Option<PaymentMethodRow>> {
    Ok(payment_methods::table
        .filter(payment_methods::processor.eq(processor).and(payment_methods::processor_ref.eq(processor_ref)))
        .select(PaymentMethodRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn list_of(conn: &mut DbConnection, contact_id: &str) -> StorageResult<Vec<PaymentMethodRow>> {
    Ok(payment_methods::table
        .filter(payment_methods::contact_id.eq(contact_id))
        .order(payment_methods::id.asc())
        .select(PaymentMethodRow::as_select())
        .load(conn)?)
}

pub fn get_of(conn: &mut DbConnection, contact_id: &str, id: &str) -> StorageResult<PaymentMethodRow> {
    Ok(payment_methods::table
        .filter(payment_methods::id.eq(id).and(payment_methods::contact_id.eq(contact_id)))
        .select(PaymentMethodRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Makes `id` the contact's one default card.
pub fn set_default(conn: &mut DbConnection, contact_id: &str, id: &str) -> StorageResult<()> {
    diesel::update(payment_methods::table.filter(payment_methods::contact_id.eq(contact_id)))
        .set(payment_methods::is_default.eq(payment_methods::id.eq(id)))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: &str) -> StorageResult<()> {
    diesel::update(payment_setups::table.filter(payment_setups::payment_method_id.eq(id)))
        .set(payment_setups::payment_method_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(payment_methods::table.find(id)).execute(conn)?;
    Ok(())
}

/// Notes a processor event; `false` when it was seen before (a replay or a retry). Two
/// deliveries of one event at the same moment: the second fails on the primary key and its
/// transaction rolls back, which the caller reports as a conflict for the processor to retry.
pub fn first_sight_of_event(
    conn: &mut DbConnection,
    processor: &str,
    event_id: &str,
    event_type: &str,
) -> StorageResult<bool> {
    let seen = processor_events::table.find((processor, event_id)).count().get_result::<i64>(conn)? > 0;
    if seen {
        return Ok(false);
    }
    diesel::insert_into(processor_events::table)
        .values((
            processor_events::processor.eq(processor),
            processor_events::event_id.eq(event_id),
            processor_events::event_type.eq(event_type),
            processor_events::received_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(true)
}
