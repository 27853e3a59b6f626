//! A portal contact pays an invoice (its whole balance or a part) with a saved card or one
//! the processor's JavaScript just tokenised. The balance is held first, so two payments
//! cannot both take the last of it; the processor is asked outside any transaction; what it
//! answers settles the payment. A declined card leaves nothing allocated.

use std::sync::Arc;

use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{InvoiceId, PaymentId, PaymentMethodId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::money;
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::payment::{InvoiceStatus, PaymentMethod, PaymentStatus};
use vestibule_storage::payments::{self as rows, ChargeRow, PaymentRow};
use vestibule_storage::{DbConnection, contacts, invoices, outbox, payment_methods, write_tx};

use super::ledger::{self, Actor, Allocation};
use super::methods::customer;
use super::processor::{CardProcessor, ChargeOutcome, ChargeRequest, ProcessorError};
use super::{PaymentRecord, record_of};
use crate::audit::Entry;
use crate::context::{Context, Settings};
use crate::documents::portal_contact;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::notifications::{self, Notice};
use crate::portal_access::portal_of;
use crate::runner::Db;

/// Which card pays.
#[derive(Debug, Clone)]
pub enum Card {
    Saved(PaymentMethodId),
    /// A token the processor's JavaScript made in the contact's browser.
    New(String),
}

#[derive(Debug, Clone)]
pub struct PayInvoice {
    pub invoice_id: InvoiceId,
    /// Without one, the whole balance.
    pub amount_minor: Option<i64>,
    pub card: Card,
}

/// What the portal offers for paying: the processor's name and its publishable key, or
/// nothing when card payment is off.
pub fn offered(ctx: &Context) -> AppResult<Option<(&'static str, Option<String>)>> {
    portal_contact(ctx)?;
    Ok(ctx.settings.processor.as_ref().map(|p| (p.name(), ctx.settings.processor_publishable_key.clone())))
}

/// The processor the firm takes cards through; without one, card payment is not offered.
pub(super) fn processor_of(settings: &Settings) -> AppResult<Arc<dyn CardProcessor>> {
    settings.processor.clone().ok_or_else(|| {
        AppError::conflict("card_payments_unavailable", "card payment is not available; pay as the invoice says")
    })
}

/// What the processor's failure means to the caller.
pub(super) fn unavailable(error: ProcessorError) -> AppError {
    match error {
        ProcessorError::Unreachable(_) | ProcessorError::Uncertain(_) => {
            AppError::ProcessorUnavailable("the card processor could not be reached; nothing was charged".to_owned())
        }
        ProcessorError::Rejected { status: 401 | 403, message, .. } => {
            tracing::error!(message, "the card processor refused our credentials");
            AppError::ProcessorUnavailable("card payments are not working at the moment".to_owned())
        }
        ProcessorError::Rejected { message, .. } => AppError::conflict("processor_refused", message),
    }
}

struct Held {
    payment: PaymentRow,
    method_ref: String,
    number: String,
}

#[tracing::instrument(skip(db, ctx))]
pub async fn pay(db: &Db, ctx: &Context, pay: PayInvoice) -> AppResult<PaymentRecord> {
    portal_contact(ctx)?;
    let processor = processor_of(&ctx.settings)?;
    let customer_ref = customer(db, ctx, processor.as_ref()).await?;
    let step = ctx.clone();
    let name = processor.name();
    let held = db.run(move |conn| write_tx(conn, |conn| hold(conn, &step, name, &pay))).await?;
    let asked = ChargeRequest {
        customer: customer_ref,
        method: held.method_ref.clone(),
        amount_minor: held.payment.amount_minor,
        currency: held.payment.currency.clone(),
        idempotency_key: held.payment.id.clone(),
        reference: held.payment.id.clone(),
        description: format!("Invoice {}", held.number),
    };
    let answer = processor.charge(&asked).await;
    let step = ctx.clone();
    let outcome = db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let actor = Actor::of(&step);
                let payment = &held.payment;
                let failure = match answer {
                    Ok(ChargeOutcome::Succeeded { charge_ref }) => {
                        rows::update_charge(conn, &payment.id, Some(&charge_ref), None)?;
                        succeeded(conn, actor, &step.settings, payment)?;
                        None
                    }
                    Ok(ChargeOutcome::Pending { charge_ref }) => {
                        rows::update_charge(conn, &payment.id, Some(&charge_ref), None)?;
                        None
                    }
                    // Sent but unanswered: the payment stays pending (its balance held) until
                    // the processor's webhook says how it ended.
                    Err(ProcessorError::Uncertain(_)) => None,
                    Ok(ChargeOutcome::Declined { charge_ref, code, message }) => {
                        rows::update_charge(conn, &payment.id, charge_ref.as_deref(), Some(&message))?;
                        failed(conn, actor, payment)?;
                        Some(AppError::Declined { decline_code: code, message })
                    }
                    Err(error) => {
                        rows::update_charge(conn, &payment.id, None, Some(&error.to_string()))?;
                        failed(conn, actor, payment)?;
                        Some(unavailable(error))
                    }
                };
                let row = rows::get(conn, &payment.firm_id, &payment.id, &MatterVisibility::All)?;
                Ok((record_of(conn, row)?, failure))
            })
        })
        .await?;
    // Answered after the commit, so that the failed payment stays on record.
    match outcome {
        (_, Some(failure)) => Err(failure),
        (record, None) => Ok(record),
    }
}

/// Holds the amount on the invoice as a pending card payment.
fn hold(conn: &mut DbConnection, ctx: &Context, processor: &str, pay: &PayInvoice) -> AppResult<Held> {
    let me = portal_contact(ctx)?;
    let portal = portal_of(conn, me)?;
    let invoice = invoices::get_for_portal(conn, &portal, pay.invoice_id.as_str())?;
    let amount = match pay.amount_minor {
        Some(asked) => money::positive(asked).map_err(|e| e.at("/amount_minor"))?,
        None if invoice.balance_minor > 0 => invoice.balance_minor,
        None => return Err(nothing_owed()),
    };
    let (method_ref, method_id) = match &pay.card {
        Card::Saved(id) => {
            let saved = payment_methods::get_of(conn, me.contact_id.as_str(), id.as_str())
                .or_unknown("/payment_method_id", "no such saved card of yours")?;
            (saved.processor_ref, Some(saved.id))
        }
        Card::New(token) => (token.clone(), None),
    };
    let now = vestibule_storage::now();
    let payment = PaymentRow {
        id: PaymentId::generate().into(),
        firm_id: invoice.firm_id.clone(),
        client_id: invoice.client_id.clone(),
        matter_id: invoice.matter_id.clone(),
        external_id: None,
        amount_minor: amount,
        refunded_minor: 0,
        currency: invoice.currency.clone(),
        received_on: now.date(),
        method: PaymentMethod::Card.as_str().to_owned(),
        reference: Some(format!("Invoice {}", invoice.number)),
        status: PaymentStatus::Pending.as_str().to_owned(),
        recorded_by_staff_id: None,
        created_at: now,
        updated_at: now,
    };
    rows::insert(conn, &payment)?;
    rows::insert_charge(
        conn,
        &ChargeRow {
            payment_id: payment.id.clone(),
            processor: processor.to_owned(),
            processor_ref: None,
            contact_id: me.contact_id.to_string(),
            payment_method_id: method_id,
            failure_reason: None,
            disputed_at: None,
        },
    )?;
    let asked = [Allocation { invoice_id: invoice.id.clone(), amount_minor: amount }];
    ledger::allocate(conn, &payment, &asked, &MatterVisibility::All)?;
    Actor::of(ctx).record(conn, Entry::success("payment.started", "payment", &payment.id))?;
    Ok(Held { payment, method_ref, number: invoice.number })
}

fn nothing_owed() -> AppError {
    AppError::conflict("invoice_not_payable", "the invoice owes nothing")
}

/// The card payment went through: the receipt goes to the contact who paid, and the invoices
/// it settled are announced as paid.
pub(super) fn succeeded(
    conn: &mut DbConnection,
    actor: Actor<'_>,
    settings: &Settings,
    payment: &PaymentRow,
) -> AppResult<()> {
    rows::set_status(conn, &payment.id, PaymentStatus::Succeeded.as_str(), payment.refunded_minor)?;
    let entry = Entry::success("payment.succeeded", "payment", &payment.id).publishes(EventType::PaymentSucceeded);
    let event = actor.record(conn, entry)?;
    let allocations = rows::allocations_of(conn, std::slice::from_ref(&payment.id))?;
    let mut numbers = Vec::new();
    let mut paid = Vec::new();
    for allocation in &allocations {
        let invoice = invoices::get(conn, &payment.firm_id, &allocation.invoice_id, &MatterVisibility::All)?;
        if InvoiceStatus::parse(&invoice.status) == Some(InvoiceStatus::Paid) {
            paid.push(invoice.id.clone());
        }
        numbers.push(invoice.number);
    }
    ledger::announce_paid(conn, actor, &paid)?;
    let members =
        notifications::staff_to_tell(conn, &payment.firm_id, &payment.client_id, payment.matter_id.as_deref())?;
    let notice =
        Notice::new(NotificationKind::PaymentReceived, &payment.client_id, (SubjectType::Payment, &payment.id));
    notifications::notify(conn, &payment.firm_id, notifications::to_staff(&members), notice)?;
    let charge = rows::charges_of(conn, std::slice::from_ref(&payment.id))?.pop();
    let Some((event, charge)) = event.zip(charge) else {
        return Ok(());
    };
    let contact = contacts::get(conn, &payment.firm_id, &charge.contact_id)?;
    let card = match &charge.payment_method_id {
        Some(id) => payment_methods::get_of(conn, &charge.contact_id, id)
            .ok()
            .map(|m| format!("{} ending {}", m.brand, m.last4)),
        None => None,
    };
    if let Some(address) = contact.email {
        let receipt = Email::PaymentReceipt(mail::Receipt {
            amount_minor: payment.amount_minor,
            currency: payment.currency.clone(),
            paid_on: payment.received_on,
            invoices: numbers,
            card,
            link: settings.link(&format!("/portal/payments/{}", payment.id)),
        });
        outbox::queue_email(conn, &event, &address, &receipt)?;
    }
    Ok(())
}

/// The card payment did not go through: it allocates nothing.
pub(super) fn failed(conn: &mut DbConnection, actor: Actor<'_>, payment: &PaymentRow) -> AppResult<()> {
    ledger::release(conn, payment)?;
    rows::set_status(conn, &payment.id, PaymentStatus::Failed.as_str(), 0)?;
    actor.record(conn, Entry::success("payment.failed", "payment", &payment.id).publishes(EventType::PaymentFailed))?;
    Ok(())
}
