//! [`CardProcessor`] over Stripe's customers, setup intents, payment methods, payment intents
//! and refunds.

use async_trait::async_trait;
use vestibule_app::payments::processor::{
    Card, CardProcessor, ChargeOutcome, ChargeRequest, NewCustomer, ProcessorError, ProcessorEvent, RefundOutcome,
    RefundRequest, Setup, SetupState, WebhookError,
};

use crate::api::{Api, segment};
use crate::config::StripeConfig;
use crate::wire::{ApiError, List, Object, PaymentIntent, PaymentMethod, Refund, SetupIntent};
use crate::{events, signature};

/// Stripe answers at most 100 objects a page.
const PAGE: &str = "100";

#[derive(Debug)]
pub struct StripeProcessor {
    api: Api,
    webhook_secret: String,
}

impl StripeProcessor {
    pub fn new(config: StripeConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(!config.webhook_secret.is_empty(), "the Stripe webhook signing secret is empty");
        Ok(Self { api: Api::new(&config)?, webhook_secret: config.webhook_secret })
    }

    async fn payment_method(&self, id: &str) -> Result<PaymentMethod, ProcessorError> {
        self.api.get(&format!("/v1/payment_methods/{}", segment(id)?), &[]).await
    }
}

#[async_trait]
impl CardProcessor for StripeProcessor {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn create_customer(&self, customer: &NewCustomer) -> Result<String, ProcessorError> {
        let form = [
            ("email", customer.email.as_str()),
            ("name", customer.name.as_str()),
            ("metadata[contact_id]", customer.reference.as_str()),
        ];
        let created: Object = self.api.post("/v1/customers", &form, None).await?;
        Ok(created.id)
    }

    async fn start_setup(&self, customer: &str) -> Result<Setup, ProcessorError> {
        let form = [("customer", customer), ("usage", "off_session"), ("payment_method_types[]", "card")];
        let setup: SetupIntent = self.api.post("/v1/setup_intents", &form, None).await?;
        let client_secret = setup.client_secret.ok_or_else(|| {
            ProcessorError::Uncertain(format!("setup intent {} came without a client secret", setup.id))
        })?;
        Ok(Setup { processor_ref: setup.id, client_secret })
    }

    async fn setup_state(&self, setup_ref: &str) -> Result<SetupState, ProcessorError> {
        let setup: SetupIntent = self.api.get(&format!("/v1/setup_intents/{}", segment(setup_ref)?), &[]).await?;
        match (setup.status.as_str(), setup.last_setup_error) {
            ("succeeded", _) => {}
            // Real Stripe puts a declined setup back to requires_payment_method with the
            // reason (the card holder may try another card on it); localstripe cancels it.
            ("requires_payment_method" | "canceled", Some(error)) => {
                return Ok(SetupState::Failed(error.message.unwrap_or_else(|| "declined".to_owned())));
            }
            ("canceled", None) => return Ok(SetupState::Failed("cancelled".to_owned())),
            // Waiting for a card, a confirmation, 3-D Secure or the bank; or a status Stripe adds.
            _ => return Ok(SetupState::Pending),
        }
        let Some(method) = setup.payment_method else {
            return Err(ProcessorError::Uncertain(format!(
                "setup intent {} succeeded without a payment method",
                setup.id
            )));
        };
        let mut method = self.payment_method(&method).await?;
        // Stripe attaches the card to the setup's customer when it confirms; localstripe does
        // not, and the card would not be listed or chargeable off-session.
        if let (None, Some(customer)) = (&method.customer, &setup.customer) {
            let path = format!("/v1/payment_methods/{}/attach", segment(&method.id)?);
            match self.api.post_answer(&path, &[("customer", customer.as_str())], None).await? {
                Ok(attached) => method = attached,
                Err(refusal) if refusal.status == 402 => {
                    return Ok(SetupState::Failed(refusal.error.message.unwrap_or_else(|| "declined".to_owned())));
                }
                Err(refusal) => return Err(refusal.into_rejected()),
            }
        }
        match card_of(method) {
            Some(card) => Ok(SetupState::Succeeded(card)),
            None => Ok(SetupState::Failed("the saved payment method is not a card".to_owned())),
        }
    }

    async fn list_methods(&self, customer: &str) -> Result<Vec<Card>, ProcessorError> {
        let mut cards = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("customer", customer), ("type", "card"), ("limit", PAGE)];
            if let Some(last) = &after {
                query.push(("starting_after", last.as_str()));
            }
            let page: List<PaymentMethod> = self.api.get("/v1/payment_methods", &query).await?;
            after = page.data.last().map(|m| m.id.clone());
            let more = page.has_more && after.is_some();
            cards.extend(page.data.into_iter().filter_map(card_of));
            if !more {
                return Ok(cards);
            }
        }
    }

    async fn detach(&self, method_ref: &str) -> Result<(), ProcessorError> {
        let path = format!("/v1/payment_methods/{}/detach", segment(method_ref)?);
        let _: Object = self.api.post(&path, &[], None).await?;
        Ok(())
    }

    async fn charge(&self, charge: &ChargeRequest) -> Result<ChargeOutcome, ProcessorError> {
        let amount = charge.amount_minor.to_string();
        let currency = charge.currency.to_ascii_lowercase();
        let mut form = vec![
            ("amount", amount.as_str()),
            ("currency", currency.as_str()),
            ("customer", charge.customer.as_str()),
            ("payment_method", charge.method.as_str()),
            ("confirm", "true"),
            ("off_session", "true"),
            ("metadata[payment_id]", charge.reference.as_str()),
        ];
        if !charge.description.is_empty() {
            form.push(("description", charge.description.as_str()));
        }
        let answer = self.api.post_answer("/v1/payment_intents", &form, Some(&charge.idempotency_key)).await?;
        match answer {
            Ok(intent) => Ok(charge_outcome(intent)),
            // 402: the card was declined (or needs the card holder, off-session); the intent
            // exists at Stripe and the error names it.
            Err(refusal) if refusal.status == 402 => {
                let charge_ref = refusal.error.payment_intent.as_ref().map(|pi| pi.id.clone());
                Ok(declined(charge_ref, refusal.error))
            }
            Err(refusal) => Err(refusal.into_rejected()),
        }
    }

    async fn refund(&self, refund: &RefundRequest) -> Result<RefundOutcome, ProcessorError> {
        let amount = refund.amount_minor.to_string();
        let form = [
            ("payment_intent", refund.charge_ref.as_str()),
            ("amount", amount.as_str()),
            ("metadata[refund_id]", refund.reference.as_str()),
        ];
        let made: Refund = self.api.post("/v1/refunds", &form, Some(&refund.idempotency_key)).await?;
        match made.status.as_deref() {
            Some("succeeded") => Ok(RefundOutcome { refund_ref: made.id, succeeded: true }),
            // Stripe took the request (200) and the refund did not go through.
            Some("failed" | "canceled") => Err(ProcessorError::Rejected {
                status: 200,
                code: made.failure_reason,
                message: format!("refund {} {}", made.id, made.status.as_deref().unwrap_or_default()),
            }),
            // pending, requires_action, and whatever Stripe adds: a webhook tells the end.
            _ => Ok(RefundOutcome { refund_ref: made.id, succeeded: false }),
        }
    }

    fn verify_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
        now: i64,
    ) -> Result<ProcessorEvent, WebhookError> {
        signature::verify(self.webhook_secret.as_bytes(), payload, signature, now)?;
        events::parse_event(payload)
    }
}

fn card_of(method: PaymentMethod) -> Option<Card> {
    let card = method.card?;
    Some(Card {
        processor_ref: method.id,
        brand: card.brand,
        last4: card.last4,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
    })
}

fn charge_outcome(intent: PaymentIntent) -> ChargeOutcome {
    match intent.status.as_str() {
        "succeeded" => ChargeOutcome::Succeeded { charge_ref: intent.id },
        // Nothing was taken: declined, cancelled, or never confirmed.
        "requires_payment_method" | "canceled" | "requires_confirmation" => {
            let status = intent.status;
            let error = intent.last_payment_error.unwrap_or_else(|| ApiError {
                code: Some(status.clone()),
                message: Some(format!("the payment intent is {status}")),
                ..ApiError::default()
            });
            declined(Some(intent.id), error)
        }
        // processing, requires_action, requires_capture, and whatever Stripe adds.
        _ => ChargeOutcome::Pending { charge_ref: intent.id },
    }
}

fn declined(charge_ref: Option<String>, error: ApiError) -> ChargeOutcome {
    ChargeOutcome::Declined {
        charge_ref,
        code: error.decline_code.or(error.code).unwrap_or_else(|| "card_declined".to_owned()),
        message: error.message.unwrap_or_else(|| "The card was declined.".to_owned()),
    }
}
