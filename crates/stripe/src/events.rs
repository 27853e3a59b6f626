//! Stripe's webhook events as the port's [`EventKind`]s; only the fields read are parsed.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use vestibule_app::payments::processor::{EventKind, ProcessorEvent, WebhookError};

use crate::wire::ApiError;

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct Intent {
    id: String,
    metadata: Option<BTreeMap<String, String>>,
    last_payment_error: Option<ApiError>,
}

impl Intent {
    /// Our payment id, which `charge` put in the metadata.
    fn reference(&mut self) -> Option<String> {
        self.metadata.as_mut().and_then(|m| m.remove("payment_id"))
    }
}

/// A charge (charge.refunded) or a dispute (charge.dispute.created): both name their intent.
#[derive(Deserialize)]
struct OfIntent {
    payment_intent: Option<String>,
    #[serde(default)]
    amount_refunded: i64,
}

#[derive(Deserialize)]
struct Setup {
    id: String,
}

pub fn parse_event(payload: &[u8]) -> Result<ProcessorEvent, WebhookError> {
    let event: Event = serde_json::from_slice(payload).map_err(|_| WebhookError::Malformed)?;
    let object = event.data.object;
    let kind = match event.event_type.as_str() {
        "payment_intent.succeeded" => {
            let mut intent: Intent = parse(object)?;
            EventKind::PaymentSucceeded { reference: intent.reference(), charge_ref: intent.id }
        }
        "payment_intent.payment_failed" => {
            let mut intent: Intent = parse(object)?;
            let message = intent.last_payment_error.take().and_then(|e| e.message);
            EventKind::PaymentFailed {
                reference: intent.reference(),
                charge_ref: intent.id,
                message: message.unwrap_or_else(|| "The payment failed.".to_owned()),
            }
        }
        // A charge made without a payment intent is not one of ours.
        "charge.refunded" => match parse::<OfIntent>(object)? {
            OfIntent { payment_intent: Some(charge_ref), amount_refunded } => {
                EventKind::Refunded { charge_ref, amount_refunded }
            }
            OfIntent { payment_intent: None, .. } => EventKind::Ignored { event_type: event.event_type },
        },
        "charge.dispute.created" => match parse::<OfIntent>(object)?.payment_intent {
            Some(charge_ref) => EventKind::Disputed { charge_ref },
            None => EventKind::Ignored { event_type: event.event_type },
        },
        "setup_intent.succeeded" => EventKind::SetupSucceeded { setup_ref: parse::<Setup>(object)?.id },
        _ => EventKind::Ignored { event_type: event.event_type },
    };
    Ok(ProcessorEvent { id: event.id, kind })
}

fn parse<T: DeserializeOwned>(object: serde_json::Value) -> Result<T, WebhookError> {
    serde_json::from_value(object).map_err(|_| WebhookError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(payload: &str) -> EventKind {
        parse_event(payload.as_bytes()).unwrap().kind
    }

    #[test]
    fn a_succeeded_payment_names_the_intent_and_our_payment() {
        let event = parse_event(
            br#"{"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "api_version": "2024-06-20",
                 "data": {"object": {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 1200,
                                     "metadata": {"payment_id": "pay_7", "other": "x"}}}}"#,
        )
        .unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(
            event.kind,
            EventKind::PaymentSucceeded { charge_ref: "pi_1".into(), reference: Some("pay_7".into()) }
        );
    }

    #[test]
    fn a_payment_without_our_metadata_has_no_reference() {
        assert_eq!(
            kind(
                r#"{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", "metadata": {}}}}"#
            ),
            EventKind::PaymentSucceeded { charge_ref: "pi_1".into(), reference: None }
        );
    }

    #[test]
    fn a_failed_payment_carries_stripes_message() {
        assert_eq!(
            kind(
                r#"{"id": "evt_2", "type": "payment_intent.payment_failed",
                    "data": {"object": {"id": "pi_2", "metadata": {"payment_id": "pay_8"},
                                        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds",
                                                               "message": "Your card has insufficient funds."}}}}"#
            ),
            EventKind::PaymentFailed {
                charge_ref: "pi_2".into(),
                reference: Some("pay_8".into()),
                message: "Your card has insufficient funds.".into()
            }
        );
    }

    #[test]
    fn a_refunded_charge_names_its_intent_and_the_total_refunded() {
        assert_eq!(
            kind(
                r#"{"id": "evt_3", "type": "charge.refunded",
                    "data": {"object": {"id": "ch_3", "object": "charge", "payment_intent": "pi_3", "amount": 5000,
                                        "amount_refunded": 3000, "refunded": false}}}"#
            ),
            EventKind::Refunded { charge_ref: "pi_3".into(), amount_refunded: 3000 }
        );
    }

    #[test]
    fn a_dispute_names_the_intent() {
        assert_eq!(
            kind(
                r#"{"id": "evt_4", "type": "charge.dispute.created",
                    "data": {"object": {"id": "dp_4", "object": "dispute", "charge": "ch_4", "payment_intent": "pi_4",
                                        "amount": 5000, "reason": "fraudulent"}}}"#
            ),
            EventKind::Disputed { charge_ref: "pi_4".into() }
        );
    }

    #[test]
    fn a_succeeded_setup_names_the_setup() {
        assert_eq!(
            kind(
                r#"{"id": "evt_5", "type": "setup_intent.succeeded", "data": {"object": {"id": "seti_5", "status": "succeeded"}}}"#
            ),
            EventKind::SetupSucceeded { setup_ref: "seti_5".into() }
        );
    }

    #[test]
    fn other_events_and_charges_of_no_intent_are_ignored() {
        assert_eq!(
            kind(r#"{"id": "evt_6", "type": "customer.created", "data": {"object": {"id": "cus_6"}}}"#),
            EventKind::Ignored { event_type: "customer.created".into() }
        );
        assert_eq!(
            kind(
                r#"{"id": "evt_7", "type": "charge.refunded", "data": {"object": {"id": "ch_7", "payment_intent": null, "amount_refunded": 10}}}"#
            ),
            EventKind::Ignored { event_type: "charge.refunded".into() }
        );
    }

    #[test]
    fn what_is_not_an_event_is_malformed() {
        for payload in [
            "",
            "not json",
            "[]",
            r#"{"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}"#,
            r#"{"id": "evt_1", "type": "payment_intent.succeeded"}"#,
            r#"{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"status": "succeeded"}}}"#,
            r#"{"id": "evt_1", "type": "charge.refunded", "data": {"object": {"payment_intent": 12}}}"#,
        ] {
            assert_eq!(parse_event(payload.as_bytes()), Err(WebhookError::Malformed), "{payload}");
        }
    }
}
