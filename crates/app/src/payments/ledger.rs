//! The bookkeeping every payment path shares: drawing allocations on invoices, giving money
//! back, settling an invoice's status, and saying so in the audit log and the outbox. Each
//! runs inside its caller's transaction.

use vestibule_domain::audit::ActorKind;
use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::events::EventType;
use vestibule_domain::payment::{self, AllocationError, InvoiceStatus, Payable};
use vestibule_storage::outbox::EventRow;
use vestibule_storage::payments::{self, AllocationRow, PaymentRow};
use vestibule_storage::{DbConnection, StorageResult, invoices};

use crate::audit::{self, Entry};
use crate::context::{Context, Origin};
use crate::error::{AppError, AppResult, OrUnknown};

/// Who a payment change is recorded as: the caller, or the processor through its webhook.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Actor<'a> {
    pub firm_id: &'a str,
    kind: ActorKind,
    id: Option<&'a str>,
    origin: &'a Origin,
}

static NOWHERE: Origin = Origin { ip: None, user_agent: None };

impl<'a> Actor<'a> {
    pub fn of(ctx: &'a Context) -> Self {
        let (kind, id) = ctx.principal.actor();
        Self { firm_id: ctx.firm_id(), kind, id: Some(id), origin: &ctx.origin }
    }

    /// The card processor, reporting through its webhook.
    pub fn processor(firm_id: &'a str, name: &'a str) -> Self {
        Self { firm_id, kind: ActorKind::System, id: Some(name), origin: &NOWHERE }
    }

    pub fn record(&self, conn: &mut DbConnection, entry: Entry<'_>) -> StorageResult<Option<EventRow>> {
        audit::record_as(conn, self.origin, self.firm_id, self.kind, self.id, entry)
    }
}

/// One amount for one invoice, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub invoice_id: String,
    pub amount_minor: i64,
}

/// Draws each allocation on its invoice, in order. An invoice of another client (or one the
/// caller cannot see) is an unknown reference; one that owes less than asked answers 409 with
/// its balance. Returns the allocations made and the invoices that are now paid.
pub(crate) fn allocate(
    conn: &mut DbConnection,
    payment: &PaymentRow,
    asked: &[Allocation],
    visibility: &MatterVisibility,
) -> AppResult<(Vec<AllocationRow>, Vec<String>)> {
    let mut made = Vec::with_capacity(asked.len());
    let mut paid = Vec::new();
    for (position, allocation) in asked.iter().enumerate() {
        let pointer = format!("/allocations/{position}/invoice_id");
        let invoice = invoices::get(conn, &payment.firm_id, &allocation.invoice_id, visibility)
            .or_unknown(&pointer, "no such invoice visible to you")?;
        if invoice.client_id != payment.client_id {
            return Err(AppError::field(&pointer, "wrong_client", "the invoice is another client's"));
        }
        refuse(&invoice.id, payment::check_allocation(payable(&invoice), &payment.currency, allocation.amount_minor))?;
        if !payments::move_balance(conn, &invoice.id, -allocation.amount_minor, vestibule_storage::now())? {
            // Another payment drew on the balance since it was read: answer with what is left.
            let now = invoices::get(conn, &payment.firm_id, &invoice.id, &MatterVisibility::All)?;
            refuse(&now.id, payment::check_allocation(payable(&now), &payment.currency, allocation.amount_minor))?;
            return Err(AppError::OverBalance { invoice_id: now.id, balance_minor: now.balance_minor });
        }
        if settle(conn, &payment.firm_id, &invoice.id)? == Some(InvoiceStatus::Paid) {
            paid.push(invoice.id.clone());
        }
        made.push(AllocationRow {
            payment_id: payment.id.clone(),
            invoice_id: invoice.id,
            position: i32::try_from(position).unwrap_or(i32::MAX),
            amount_minor: allocation.amount_minor,
            refunded_minor: 0,
        });
    }
    payments::insert_allocations(conn, &made)?;
    Ok((made, paid))
}

fn payable(invoice: &invoices::InvoiceRow) -> Payable<'_> {
    Payable {
        status: InvoiceStatus::parse(&invoice.status).unwrap_or(InvoiceStatus::Void),
        currency: &invoice.currency,
        balance_minor: invoice.balance_minor,
    }
}

fn refuse(invoice_id: &str, checked: Result<(), AllocationError>) -> AppResult<()> {
    checked.map_err(|error| match error {
        AllocationError::ExceedsBalance { balance_minor } => {
            AppError::OverBalance { invoice_id: invoice_id.to_owned(), balance_minor }
        }
        AllocationError::NotPayable(_) => AppError::conflict("invoice_not_payable", error.to_string()),
        AllocationError::WrongCurrency { .. } => AppError::field("/currency", "wrong_currency", error.to_string()),
    })
}

/// Sets the invoice's stored status from its balance; the new status when it changed.
fn settle(conn: &mut DbConnection, firm_id: &str, invoice_id: &str) -> AppResult<Option<InvoiceStatus>> {
    let invoice = invoices::get(conn, firm_id, invoice_id, &MatterVisibility::All)?;
    let now = InvoiceStatus::settled(invoice.total_minor, invoice.balance_minor);
    if InvoiceStatus::parse(&invoice.status) == Some(now) {
        return Ok(None);
    }
    payments::set_invoice_status(conn, invoice_id, now.as_str())?;
    Ok(Some(now))
}

/// A payment that never went through gives every invoice its balance back.
pub(crate) fn release(conn: &mut DbConnection, payment: &PaymentRow) -> AppResult<()> {
    for allocation in payments::allocations_of(conn, std::slice::from_ref(&payment.id))? {
        move_back(conn, &payment.firm_id, &allocation.invoice_id, allocation.amount_minor - allocation.refunded_minor)?;
    }
    payments::delete_allocations(conn, &payment.id)?;
    Ok(())
}

/// Gives `amount` of a payment back, latest allocation first; what exceeds the allocations
/// was on account and touches no invoice.
pub(crate) fn give_back(conn: &mut DbConnection, payment: &PaymentRow, amount_minor: i64) -> AppResult<()> {
    let allocations = payments::allocations_of(conn, std::slice::from_ref(&payment.id))?;
    let open: Vec<i64> = allocations.iter().map(|a| a.amount_minor - a.refunded_minor).collect();
    for (index, back) in payment::spread_refund(&open, amount_minor) {
        let allocation = &allocations[index];
        payments::set_allocation_refunded(conn, &payment.id, &allocation.invoice_id, allocation.refunded_minor + back)?;
        move_back(conn, &payment.firm_id, &allocation.invoice_id, back)?;
    }
    Ok(())
}

fn move_back(conn: &mut DbConnection, firm_id: &str, invoice_id: &str, amount_minor: i64) -> AppResult<()> {
    if amount_minor == 0 {
        return Ok(());
    }
    if !payments::move_balance(conn, invoice_id, amount_minor, vestibule_storage::now())? {
        // Only a voided or re-totalled invoice can refuse its own money back; its balance
        // then stays as the firm set it.
        tracing::warn!(invoice_id, amount_minor, "an invoice did not take back a released allocation");
    }
    settle(conn, firm_id, invoice_id)?;
    Ok(())
}

/// Says that these invoices are paid now.
pub(crate) fn announce_paid(conn: &mut DbConnection, actor: Actor<'_>, invoice_ids: &[String]) -> AppResult<()> {
    for id in invoice_ids {
        actor.record(conn, Entry::success("invoice.paid", "invoice", id).publishes(EventType::InvoicePaid))?;
    }
    Ok(())
}
