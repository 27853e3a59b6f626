//! Payments received outside the portal (bank transfer, cheque, cash, a card terminal),
//! recorded by staff or upserted by the billing system by its own id; and reading payments.

use chrono::NaiveDate;
use vestibule_domain::authz::{Action, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, MatterId, PaymentId};
use vestibule_domain::payment::{self, PaymentMethod, PaymentStatus};
use vestibule_domain::principal::Principal;
use vestibule_storage::payments::{self as rows, PaymentFilter, PaymentRow};
use vestibule_storage::{DbConnection, clients, invoices, matters, write_tx};

pub use super::ledger::Allocation;
use super::ledger::{self, Actor};
use super::{PaymentRecord, access, record_of, records};
use crate::audit::Entry;
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::page::Listed;
use crate::upsert::Upserted;

/// A payment to record; amounts and currency already validated.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub client_id: ClientId,
    /// Without one, the matter all its invoices share, if they share one.
    pub matter_id: Option<MatterId>,
    pub external_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub received_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub allocations: Vec<Allocation>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn record(conn: &mut DbConnection, ctx: &Context, new: NewPayment) -> AppResult<PaymentRecord> {
    access::check(conn, ctx, Action::RecordPayments)?;
    write_tx(conn, |conn| insert(conn, ctx, PaymentId::generate().into(), new))
}

/// Records the payment with this external id, once: the same payment again changes nothing;
/// different values are refused, since a payment is never edited (refund it instead).
#[tracing::instrument(skip(conn, ctx))]
pub fn upsert(
    conn: &mut DbConnection,
    ctx: &Context,
    external_id: &str,
    mut new: NewPayment,
) -> AppResult<Upserted<PaymentRecord>> {
    access::check(conn, ctx, Action::RecordPayments)?;
    new.external_id = Some(external_id.to_owned());
    write_tx(conn, |conn| {
        let Some(existing) = rows::find_by_external_id(conn, ctx.firm_id(), external_id)? else {
            return Ok(Upserted::Created(insert(conn, ctx, PaymentId::generate().into(), new)?));
        };
        let existing = record_of(conn, existing)?;
        if !same(&existing, &new) {
            return Err(AppError::conflict(
                "payment_immutable",
                "a payment with this external id exists with other values; payments are not edited, refund it and record another",
            ));
        }
        Ok(Upserted::Existed(existing))
    })
}

fn same(existing: &PaymentRecord, new: &NewPayment) -> bool {
    let p = &existing.payment;
    let allocations: Vec<(&str, i64)> =
        existing.allocations.iter().map(|a| (a.invoice_id.as_str(), a.amount_minor)).collect();
    let asked: Vec<(&str, i64)> = new.allocations.iter().map(|a| (a.invoice_id.as_str(), a.amount_minor)).collect();
    p.client_id == new.client_id.as_str()
        && new.matter_id.as_ref().is_none_or(|m| p.matter_id.as_deref() == Some(m.as_str()))
        && p.amount_minor == new.amount_minor
        && p.currency == new.currency
        && p.received_on == new.received_on
        && p.method == new.method.as_str()
        && p.reference == new.reference
        && allocations == asked
}

fn insert(conn: &mut DbConnection, ctx: &Context, id: String, new: NewPayment) -> AppResult<PaymentRecord> {
    payment::check_allocations(
        new.amount_minor,
        new.allocations.iter().map(|a| (a.invoice_id.as_str(), a.amount_minor)),
    )
    .map_err(|why| AppError::field("/allocations", "out_of_range", why))?;
    let firm_id = ctx.firm_id();
    let visibility = matter_visibility(&ctx.principal);
    if !clients::exists(conn, firm_id, new.client_id.as_str())? {
        return Err(AppError::field("/client_id", "unknown_reference", "no such client in this firm"));
    }
    let matter_id = match &new.matter_id {
        Some(matter) => {
            let found = matters::get(conn, firm_id, matter.as_str(), &visibility)
                .or_unknown("/matter_id", "no such matter visible to you")?;
            if found.client_id != new.client_id.as_str() {
                return Err(AppError::field("/matter_id", "wrong_client", "the matter belongs to another client"));
            }
            Some(found.id)
        }
        None => shared_matter(conn, firm_id, &new.allocations)?,
    };
    let now = vestibule_storage::now();
    let row = PaymentRow {
        id,
        firm_id: firm_id.to_owned(),
        client_id: new.client_id.into(),
        matter_id,
        external_id: new.external_id,
        amount_minor: new.amount_minor,
        refunded_minor: 0,
        currency: new.currency,
        received_on: new.received_on,
        method: new.method.as_str().to_owned(),
        reference: new.reference,
        status: PaymentStatus::Succeeded.as_str().to_owned(),
        recorded_by_staff_id: match &ctx.principal {
            Principal::Staff(staff) => Some(staff.staff_id.to_string()),
            _ => None,
        },
        created_at: now,
        updated_at: now,
    };
    rows::insert(conn, &row)?;
    let (_, paid) = ledger::allocate(conn, &row, &new.allocations, &visibility)?;
    let actor = Actor::of(ctx);
    let entry = Entry::success("payment.recorded", "payment", &row.id)
        .with_details(serde_json::json!({ "amount_minor": row.amount_minor, "currency": row.currency }))
        .publishes(EventType::PaymentRecorded);
    actor.record(conn, entry)?;
    ledger::announce_paid(conn, actor, &paid)?;
    record_of(conn, row)
}

/// The matter every allocated invoice belongs to, when they all belong to one.
fn shared_matter(conn: &mut DbConnection, firm_id: &str, allocations: &[Allocation]) -> AppResult<Option<String>> {
    let mut shared: Option<Option<String>> = None;
    for allocation in allocations {
        let matter = invoices::matter_of(conn, firm_id, &allocation.invoice_id)?;
        match &shared {
            None => shared = Some(matter),
            Some(seen) if *seen == matter => {}
            Some(_) => return Ok(None),
        }
    }
    Ok(shared.flatten())
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &PaymentId) -> AppResult<PaymentRecord> {
    access::check(conn, ctx, Action::ReadPayments)?;
    let row = rows::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
    record_of(conn, row)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &PaymentFilter,
    page: &Page,
) -> AppResult<Listed<PaymentRecord>> {
    access::check(conn, ctx, Action::ReadPayments)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = rows::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    let listed = Listed::finish(page, rows, |r| r.id.clone());
    Ok(Listed { items: records(conn, listed.items)?, next_cursor: listed.next_cursor })
}

/// Payments of the clients and matters the contact's portal grants (failed ones excepted).
#[tracing::instrument(skip(conn, ctx))]
pub fn list_mine(conn: &mut DbConnection, ctx: &Context, page: &Page) -> AppResult<Listed<PaymentRecord>> {
    let me = crate::documents::portal_contact(ctx)?;
    let portal = crate::portal_access::portal_of(conn, me)?;
    let rows = rows::list_for_portal(conn, &portal, page.after.as_deref(), page.limit)?;
    let listed = Listed::finish(page, rows, |r| r.id.clone());
    Ok(Listed { items: records(conn, listed.items)?, next_cursor: listed.next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get_mine(conn: &mut DbConnection, ctx: &Context, id: &PaymentId) -> AppResult<PaymentRecord> {
    let me = crate::documents::portal_contact(ctx)?;
    let portal = crate::portal_access::portal_of(conn, me)?;
    let row = rows::get_for_portal(conn, &portal, id.as_str())?;
    record_of(conn, row)
}
