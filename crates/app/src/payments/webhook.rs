//! The card processor's webhook: a verified event settles a pending card payment, records
//! refunds and disputes made at the processor, and saves a card whose setup the processor
//! confirmed. Each event is acted on once, however often it arrives.

use std::sync::Arc;

use vestibule_domain::events::EventType;
use vestibule_domain::payment::PaymentStatus;
use vestibule_storage::payments::{self as rows, PaymentRow};
use vestibule_storage::{DbConnection, payment_methods, write_tx};

use super::card::{failed, processor_of, succeeded};
use super::ledger::Actor;
use super::methods;
use super::processor::{EventKind, SetupState, WebhookError};
use super::refunds::complete;
use crate::audit::Entry;
use crate::context::Settings;
use crate::error::{AppError, AppResult};
use crate::runner::Db;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Acted,
    /// Seen before: a replay or the processor's retry.
    Replayed,
    /// About nothing of ours, or of a kind Vestibule does not act on.
    Ignored,
}

#[tracing::instrument(skip(db, settings, payload, signature))]
pub async fn receive(
    db: &Db,
    settings: &Arc<Settings>,
    payload: &[u8],
    signature: Option<&str>,
) -> AppResult<Received> {
    let processor = processor_of(settings).map_err(|_| AppError::NotFound)?;
    let now = vestibule_storage::now().and_utc().timestamp();
    let event = processor.verify_webhook(payload, signature, now).map_err(|error| {
        tracing::warn!(%error, "a processor webhook was refused");
        match error {
            WebhookError::Malformed => AppError::field("", "malformed_event", "the payload is not a processor event"),
            WebhookError::BadSignature | WebhookError::Stale => {
                AppError::Unauthenticated { code: "invalid_signature", detail: "the webhook signature does not verify" }
            }
        }
    })?;
    // The one event that needs the processor again, asked before any transaction.
    let card = match &event.kind {
        EventKind::SetupSucceeded { setup_ref } => match processor.setup_state(setup_ref).await {
            Ok(SetupState::Succeeded(card)) => Some(card),
            Ok(_) => None,
            Err(error) => return Err(super::card::unavailable(error)),
        },
        _ => None,
    };
    let name = processor.name();
    let settings = Arc::clone(settings);
    db.run(move |conn| {
        write_tx(conn, |conn| {
            if !payment_methods::first_sight_of_event(conn, name, &event.id, kind_name(&event.kind))? {
                return Ok(Received::Replayed);
            }
            act(conn, &settings, name, event.kind, card)
        })
    })
    .await
}

fn kind_name(kind: &EventKind) -> &str {
    match kind {
        EventKind::PaymentSucceeded { .. } => "payment_succeeded",
        EventKind::PaymentFailed { .. } => "payment_failed",
        EventKind::Refunded { .. } => "refunded",
        EventKind::Disputed { .. } => "disputed",
        EventKind::SetupSucceeded { .. } => "setup_succeeded",
        EventKind::Ignored { event_type } => event_type,
    }
}

fn act(
    conn: &mut DbConnection,
    settings: &Settings,
    processor: &str,
    kind: EventKind,
    card: Option<super::processor::Card>,
) -> AppResult<Received> {
    let pending = |payment: &PaymentRow| payment.status == PaymentStatus::Pending.as_str();
    match kind {
        EventKind::PaymentSucceeded { charge_ref, reference } => {
            let Some((payment, charge)) = rows::find_charged(conn, processor, &charge_ref, reference.as_deref())?
            else {
                return Ok(Received::Ignored);
            };
            if !pending(&payment) {
                return Ok(Received::Ignored);
            }
            if charge.processor_ref.is_none() {
                rows::update_charge(conn, &payment.id, Some(&charge_ref), None)?;
            }
            succeeded(conn, Actor::processor(&payment.firm_id, processor), settings, &payment)?;
        }
        EventKind::PaymentFailed { charge_ref, reference, message } => {
            let Some((payment, _)) = rows::find_charged(conn, processor, &charge_ref, reference.as_deref())? else {
                return Ok(Received::Ignored);
            };
            if !pending(&payment) {
                return Ok(Received::Ignored);
            }
            rows::update_charge(conn, &payment.id, Some(&charge_ref), Some(&message))?;
            failed(conn, Actor::processor(&payment.firm_id, processor), &payment)?;
        }
        EventKind::Refunded { charge_ref, amount_refunded } => {
            let Some((payment, _)) = rows::find_charged(conn, processor, &charge_ref, None)? else {
                return Ok(Received::Ignored);
            };
            reconcile_refunds(conn, Actor::processor(&payment.firm_id, processor), &payment, amount_refunded)?;
        }
        EventKind::Disputed { charge_ref } => {
            let Some((payment, _)) = rows::find_charged(conn, processor, &charge_ref, None)? else {
                return Ok(Received::Ignored);
            };
            rows::mark_disputed(conn, &payment.id)?;
            let entry =
                Entry::success("payment.disputed", "payment", &payment.id).publishes(EventType::PaymentDisputed);
            Actor::processor(&payment.firm_id, processor).record(conn, entry)?;
        }
        EventKind::SetupSucceeded { setup_ref } => {
            let (Some(setup), Some(card)) =
                (payment_methods::setup_by_processor_ref(conn, processor, &setup_ref)?, card)
            else {
                return Ok(Received::Ignored);
            };
            methods::save(conn, Actor::processor(&setup.firm_id, processor), &setup, card)?;
        }
        EventKind::Ignored { .. } => return Ok(Received::Ignored),
    }
    Ok(Received::Acted)
}

/// The processor has refunded `amount_refunded` of the charge in all: refunds still pending
/// here are done, and what was refunded at the processor directly is recorded too.
fn reconcile_refunds(
    conn: &mut DbConnection,
    actor: Actor<'_>,
    payment: &PaymentRow,
    amount_refunded: i64,
) -> AppResult<()> {
    let refunds = rows::refunds_of(conn, std::slice::from_ref(&payment.id))?;
    let mut done: i64 = refunds.iter().filter(|r| r.status == "succeeded").map(|r| r.amount_minor).sum();
    for refund in refunds.iter().filter(|r| r.status == "pending") {
        if done + refund.amount_minor <= amount_refunded {
            complete(conn, actor, payment, refund, refund.processor_ref.as_deref())?;
            done += refund.amount_minor;
        }
    }
    let extra = amount_refunded - done;
    if extra > 0 && rows::reserve_refund(conn, &payment.id, extra)? {
        let refund = super::refunds::pending(payment, extra, Some("refunded at the card processor".to_owned()), None);
        rows::insert_refund(conn, &refund)?;
        complete(conn, actor, payment, &refund, None)?;
    }
    Ok(())
}
