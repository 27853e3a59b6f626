//! Giving money back on a payment, wholly or in part: a refund is the payment's child, never
//! an edit of it. A card payment's refund goes through the processor; an offline one is
//! recorded as made.

use chrono::NaiveDate;
use vestibule_domain::authz::{Action, matter_visibility};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{PaymentId, RefundId};
use vestibule_domain::payment::PaymentStatus;
use vestibule_domain::principal::Principal;
use vestibule_storage::payments::{self as rows, PaymentRow, RefundRow};
use vestibule_storage::{DbConnection, write_tx};

use super::ledger::{self, Actor};
use super::processor::{ProcessorError, RefundRequest};
use super::{PaymentRecord, access, record_of};
use crate::audit::Entry;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::runner::Db;

#[derive(Debug, Clone, Default)]
pub struct NewRefund {
    /// Without one, all that is left of the payment.
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
    /// Defaults to today.
    pub refunded_on: Option<NaiveDate>,
}

/// What the first step left for the processor, for a card payment.
struct Started {
    refund: RefundRow,
    charge_ref: String,
}

#[tracing::instrument(skip(db, ctx))]
pub async fn refund(db: &Db, ctx: &Context, id: PaymentId, new: NewRefund) -> AppResult<PaymentRecord> {
    let step = ctx.clone();
    let started = db.run(move |conn| start(conn, &step, &id, new)).await?;
    let (started, payment) = match started {
        Begun::Done(record) => return Ok(*record),
        Begun::AtProcessor(at) => *at,
    };
    let processor = ctx
        .settings
        .processor
        .clone()
        .ok_or_else(|| AppError::conflict("card_payments_unavailable", "no card processor is configured"))?;
    let asked = RefundRequest {
        charge_ref: started.charge_ref.clone(),
        amount_minor: started.refund.amount_minor,
        idempotency_key: started.refund.id.clone(),
        reference: started.refund.id.clone(),
    };
    let answer = processor.refund(&asked).await;
    let step = ctx.clone();
    db.run(move |conn| {
        write_tx(conn, |conn| {
            let actor = Actor::of(&step);
            match answer {
                Ok(done) if done.succeeded => complete(conn, actor, &payment, &started.refund, Some(&done.refund_ref))?,
                Ok(done) => rows::set_refund_status(conn, &started.refund.id, "pending", Some(&done.refund_ref))?,
                // Sent but unanswered: the processor's webhook says how it ended.
                Err(ProcessorError::Uncertain(_)) => {}
                Err(error) => {
                    rows::set_refund_status(conn, &started.refund.id, "failed", None)?;
                    rows::unreserve_refund(conn, &payment.id, started.refund.amount_minor)?;
                    return Ok(Err(error));
                }
            }
            let row = rows::get(conn, &payment.firm_id, &payment.id, &matter_visibility(&step.principal))?;
            Ok(Ok(record_of(conn, row)?))
        })
    })
    .await?
    .map_err(super::card::unavailable)
}

enum Begun {
    Done(Box<PaymentRecord>),
    AtProcessor(Box<(Started, PaymentRow)>),
}

fn start(conn: &mut DbConnection, ctx: &Context, id: &PaymentId, new: NewRefund) -> AppResult<Begun> {
    access::check(conn, ctx, Action::RefundPayments)?;
    write_tx(conn, |conn| {
        let payment = rows::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?;
        let status = PaymentStatus::parse(&payment.status).unwrap_or(PaymentStatus::Failed);
        if !status.refundable() {
            return Err(AppError::conflict(
                "not_refundable",
                format!("a {} payment cannot be refunded", status.as_str()),
            ));
        }
        let left = payment.amount_minor - payment.refunded_minor;
        let amount = new.amount_minor.unwrap_or(left);
        if amount <= 0 {
            return Err(AppError::field("/amount_minor", "out_of_range", "refund a positive amount"));
        }
        if !rows::reserve_refund(conn, &payment.id, amount)? {
            return Err(AppError::conflict("exceeds_refundable", format!("at most {left} is left to refund")));
        }
        let charge = rows::charges_of(conn, std::slice::from_ref(&payment.id))?.pop();
        let staff = match &ctx.principal {
            Principal::Staff(staff) => Some(staff.staff_id.to_string()),
            _ => None,
        };
        let refund = RefundRow {
            refunded_on: new.refunded_on.unwrap_or(today()),
            ..pending(&payment, amount, new.reason, staff)
        };
        rows::insert_refund(conn, &refund)?;
        match charge {
            None => {
                complete(conn, Actor::of(ctx), &payment, &refund, None)?;
                let row = rows::get(conn, &payment.firm_id, &payment.id, &matter_visibility(&ctx.principal))?;
                Ok(Begun::Done(Box::new(record_of(conn, row)?)))
            }
            Some(charge) => {
                let charge_ref = charge.processor_ref.ok_or_else(|| {
                    AppError::conflict("not_refundable", "the card payment is not settled at the processor yet")
                })?;
                Ok(Begun::AtProcessor(Box::new((Started { refund, charge_ref }, payment))))
            }
        }
    })
}

fn today() -> NaiveDate {
    vestibule_storage::now().date()
}

/// A refund of `amount` of the payment, not done yet, dated today.
pub(super) fn pending(
    payment: &PaymentRow,
    amount_minor: i64,
    reason: Option<String>,
    staff: Option<String>,
) -> RefundRow {
    RefundRow {
        id: RefundId::generate().into(),
        firm_id: payment.firm_id.clone(),
        payment_id: payment.id.clone(),
        client_id: payment.client_id.clone(),
        matter_id: payment.matter_id.clone(),
        amount_minor,
        currency: payment.currency.clone(),
        refunded_on: today(),
        reason,
        status: "pending".to_owned(),
        processor_ref: None,
        created_by_staff_id: staff,
        created_at: vestibule_storage::now(),
    }
}

/// The refund happened: the invoices owe it again and the payment says how much went back.
pub(super) fn complete(
    conn: &mut DbConnection,
    actor: Actor<'_>,
    payment: &PaymentRow,
    refund: &RefundRow,
    processor_ref: Option<&str>,
) -> AppResult<()> {
    rows::set_refund_status(conn, &refund.id, "succeeded", processor_ref)?;
    ledger::give_back(conn, payment, refund.amount_minor)?;
    let now = rows::get(conn, &payment.firm_id, &payment.id, &vestibule_domain::authz::MatterVisibility::All)?;
    let status = PaymentStatus::after_refunds(now.amount_minor, now.refunded_minor);
    rows::set_status(conn, &payment.id, status.as_str(), now.refunded_minor)?;
    let entry = Entry::success("payment.refunded", "payment", &payment.id)
        .with_details(serde_json::json!({ "refund_id": refund.id, "amount_minor": refund.amount_minor }))
        .publishes(EventType::PaymentRefunded);
    actor.record(conn, entry)?;
    Ok(())
}
