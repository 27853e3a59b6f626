//! The adapter against a real localstripe (the `testing` harness): the flows the payments use
//! cases run, and the answers they must tell apart.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vestibule_app::payments::processor::{
    CardProcessor, ChargeOutcome, ChargeRequest, EventKind, NewCustomer, ProcessorError, RefundRequest, SetupState,
    WebhookError,
};
use vestibule_stripe::testing::{CARD_EXPIRY, Localstripe};
use vestibule_stripe::{StripeConfig, StripeProcessor};

const WEBHOOK_SECRET: &str = "whsec_localstripe_tests";

fn processor() -> StripeProcessor {
    StripeProcessor::new(Localstripe::shared().config(WEBHOOK_SECRET)).unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos())
}

async fn customer(stripe: &StripeProcessor) -> String {
    let new =
        NewCustomer { email: "ada@example.com".into(), name: "Ada Lovelace".into(), reference: unique("contact") };
    let id = stripe.create_customer(&new).await.unwrap();
    assert!(id.starts_with("cus_"), "{id}");
    id
}

/// A customer with a card saved the way the portal saves one: a setup, confirmed by the
/// browser, then read back.
async fn saved_card(stripe: &StripeProcessor, method: &str) -> (String, String) {
    let customer = customer(stripe).await;
    let setup = stripe.start_setup(&customer).await.unwrap();
    let answer = Localstripe::shared().confirm_setup(&setup.client_secret, method).await.unwrap();
    assert_eq!(answer["status"], "succeeded", "{answer}");
    let SetupState::Succeeded(card) = stripe.setup_state(&setup.processor_ref).await.unwrap() else {
        panic!("the setup did not succeed");
    };
    (customer, card.processor_ref)
}

fn charge_of(customer: &str, method: &str, amount_minor: i64, key: &str) -> ChargeRequest {
    ChargeRequest {
        customer: customer.into(),
        method: method.into(),
        amount_minor,
        currency: "EUR".into(),
        idempotency_key: key.into(),
        reference: unique("payment"),
        description: "Invoice 2024-0042".into(),
    }
}

async fn charged(stripe: &StripeProcessor, charge: &ChargeRequest) -> String {
    match stripe.charge(charge).await.unwrap() {
        ChargeOutcome::Succeeded { charge_ref } => charge_ref,
        other => panic!("the charge did not succeed: {other:?}"),
    }
}

/// Straight to the API, for what the port does not ask.
async fn stripe_get(path: &str) -> serde_json::Value {
    let localstripe = Localstripe::shared();
    let response = reqwest::Client::new()
        .get(format!("{}{path}", localstripe.url))
        .bearer_auth(localstripe.secret_key())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_card_is_saved_listed_charged_and_detached() {
    let stripe = processor();
    let customer = customer(&stripe).await;
    let setup = stripe.start_setup(&customer).await.unwrap();
    assert!(setup.processor_ref.starts_with("seti_"), "{setup:?}");
    assert!(setup.client_secret.starts_with(&format!("{}_secret_", setup.processor_ref)), "{setup:?}");
    assert_eq!(stripe.setup_state(&setup.processor_ref).await.unwrap(), SetupState::Pending, "before the browser");

    Localstripe::shared().confirm_setup(&setup.client_secret, "pm_card_visa").await.unwrap();
    let SetupState::Succeeded(card) = stripe.setup_state(&setup.processor_ref).await.unwrap() else {
        panic!("the setup did not succeed");
    };
    assert!(card.processor_ref.starts_with("pm_"), "{card:?}");
    assert_eq!((card.brand.as_str(), card.last4.as_str(), card.exp_month, card.exp_year), ("visa", "4242", 12, 2030));
    // Read again, it is the same card, attached once.
    assert_eq!(stripe.setup_state(&setup.processor_ref).await.unwrap(), SetupState::Succeeded(card.clone()));
    assert_eq!(stripe.list_methods(&customer).await.unwrap(), vec![card.clone()]);

    let charge = charge_of(&customer, &card.processor_ref, 4200, &unique("charge"));
    let intent_id = charged(&stripe, &charge).await;
    assert!(intent_id.starts_with("pi_"), "{intent_id}");
    let intent = stripe_get(&format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(intent["amount"], 4200);
    assert_eq!(intent["currency"], "eur");
    assert_eq!(intent["customer"], customer.as_str());
    assert_eq!(intent["payment_method"], card.processor_ref.as_str());
    assert_eq!(intent["metadata"]["payment_id"], charge.reference.as_str());
    assert_eq!(intent["description"], "Invoice 2024-0042");

    stripe.detach(&card.processor_ref).await.unwrap();
    assert_eq!(stripe.list_methods(&customer).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_card_typed_in_is_saved_with_its_number_and_expiry() {
    let stripe = processor();
    let customer = customer(&stripe).await;
    let setup = stripe.start_setup(&customer).await.unwrap();
    Localstripe::shared().confirm_setup(&setup.client_secret, "4000056655665556").await.unwrap();
    let SetupState::Succeeded(card) = stripe.setup_state(&setup.processor_ref).await.unwrap() else {
        panic!("the setup did not succeed");
    };
    assert_eq!((card.last4.as_str(), card.exp_month, card.exp_year), ("5556", CARD_EXPIRY.0, CARD_EXPIRY.1));
    assert_eq!(stripe.list_methods(&customer).await.unwrap(), vec![card]);
}

#[tokio::test]
async fn a_card_declined_at_setup_fails_the_setup() {
    let stripe = processor();
    let customer = customer(&stripe).await;
    let setup = stripe.start_setup(&customer).await.unwrap();
    let answer = Localstripe::shared().confirm_setup(&setup.client_secret, "4000000000000002").await.unwrap();
    assert_eq!(answer["error"]["code"], "card_declined", "{answer}");
    assert!(matches!(stripe.setup_state(&setup.processor_ref).await.unwrap(), SetupState::Failed(_)));
    assert_eq!(stripe.list_methods(&customer).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_saved_card_that_declines_charges_is_declined() {
    let stripe = processor();
    let (customer, method) = saved_card(&stripe, "pm_card_chargeCustomerFail").await;
    let outcome = stripe.charge(&charge_of(&customer, &method, 1500, &unique("charge"))).await.unwrap();
    let ChargeOutcome::Declined { code, message, .. } = outcome else {
        panic!("not declined: {outcome:?}");
    };
    assert_eq!(code, "card_declined");
    assert!(!message.is_empty());
}

#[tokio::test]
async fn a_card_token_from_the_browser_can_be_charged_once() {
    let stripe = processor();
    let customer = customer(&stripe).await;
    let token = Localstripe::shared().new_card_token("4242424242424242").await.unwrap();
    let intent_id = charged(&stripe, &charge_of(&customer, &token, 990, &unique("charge"))).await;
    assert_eq!(stripe_get(&format!("/v1/payment_intents/{intent_id}")).await["status"], "succeeded");
}

#[tokio::test]
async fn the_same_idempotency_key_makes_one_payment_intent() {
    let stripe = processor();
    let (customer, method) = saved_card(&stripe, "pm_card_visa").await;
    let key = unique("charge");
    let charge = charge_of(&customer, &method, 2500, &key);
    let first = charged(&stripe, &charge).await;
    let again = charged(&stripe, &charge).await;
    assert_eq!(first, again);
    let other = charged(&stripe, &charge_of(&customer, &method, 2500, &unique("charge"))).await;
    assert_ne!(first, other);

    let intents = stripe_get("/v1/payment_intents?limit=1000").await;
    let mine: Vec<&str> = intents["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pi| pi["customer"] == customer.as_str())
        .map(|pi| pi["id"].as_str().unwrap())
        .collect();
    assert_eq!(mine.len(), 2, "{mine:?}");

    // A key is for one request: other parameters with it are refused.
    let error = stripe.charge(&charge_of(&customer, &method, 2600, &key)).await.unwrap_err();
    assert!(matches!(error, ProcessorError::Rejected { status: 400, .. }), "{error:?}");
}

#[tokio::test]
async fn a_charge_is_refunded_in_part_then_the_rest() {
    let stripe = processor();
    let (customer, method) = saved_card(&stripe, "pm_card_visa").await;
    let intent_id = charged(&stripe, &charge_of(&customer, &method, 5000, &unique("charge"))).await;

    let part = RefundRequest {
        charge_ref: intent_id.clone(),
        amount_minor: 2000,
        idempotency_key: unique("refund"),
        reference: unique("refund"),
    };
    let first = stripe.refund(&part).await.unwrap();
    assert!(first.succeeded);
    assert!(first.refund_ref.starts_with("re_"), "{first:?}");
    assert_eq!(stripe.refund(&part).await.unwrap(), first, "the same key, the same refund");

    let rest =
        RefundRequest { amount_minor: 3000, idempotency_key: unique("refund"), reference: unique("refund"), ..part };
    let second = stripe.refund(&rest).await.unwrap();
    assert!(second.succeeded);
    assert_ne!(second.refund_ref, first.refund_ref);

    let intent = stripe_get(&format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(intent["latest_charge"]["amount_refunded"], 5000);
    let refund = stripe_get(&format!("/v1/refunds/{}", second.refund_ref)).await;
    assert_eq!(refund["metadata"]["refund_id"], rest.reference.as_str());
}

#[tokio::test]
async fn a_refused_request_says_why() {
    let stripe = processor();
    let error = stripe.setup_state("seti_nosuchsetup").await.unwrap_err();
    assert!(matches!(error, ProcessorError::Rejected { status: 404, .. }), "{error:?}");
    // An id that is no id never reaches Stripe as a path.
    let error = stripe.detach("../customers/cus_1").await.unwrap_err();
    assert!(
        matches!(&error, ProcessorError::Rejected { status: 404, code: Some(code), .. } if code == "resource_missing")
    );
    let missing = RefundRequest {
        charge_ref: "pi_nosuchintent".into(),
        amount_minor: 100,
        idempotency_key: unique("refund"),
        reference: unique("refund"),
    };
    let error = stripe.refund(&missing).await.unwrap_err();
    assert!(matches!(error, ProcessorError::Rejected { status: 404, .. }), "{error:?}");
}

#[tokio::test]
async fn a_processor_that_is_down_is_unreachable() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config =
        StripeConfig { api_base: format!("http://127.0.0.1:{port}"), ..Localstripe::shared().config("whsec_x") };
    let stripe = StripeProcessor::new(config).unwrap();
    let error = stripe.start_setup("cus_1").await.unwrap_err();
    assert!(matches!(error, ProcessorError::Unreachable(_)), "{error:?}");
}

#[tokio::test]
async fn a_processor_that_does_not_answer_is_uncertain() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    // Accepts and reads, never answers.
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    let config = StripeConfig {
        api_base: format!("http://127.0.0.1:{port}"),
        timeout: Duration::from_millis(500),
        ..Localstripe::shared().config("whsec_x")
    };
    let stripe = StripeProcessor::new(config).unwrap();
    let error = stripe.charge(&charge_of("cus_1", "pm_1", 100, "key")).await.unwrap_err();
    assert!(matches!(error, ProcessorError::Uncertain(_)), "{error:?}");
}

/// One webhook delivery: the signature header and the raw body.
type Delivery = (Option<String>, Vec<u8>);

/// A tiny HTTP server that answers 200 to every POST and hands over what it got.
fn webhook_receiver() -> (String, mpsc::Receiver<Delivery>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/stripe", listener.local_addr().unwrap());
    let (deliveries, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut signature, mut length) = (None, 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    match name.trim().to_ascii_lowercase().as_str() {
                        "stripe-signature" => signature = Some(value.trim().to_owned()),
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if deliveries.send((signature, body)).is_err() {
                return;
            }
        }
    });
    (url, received)
}

#[tokio::test]
async fn a_webhook_signed_by_localstripe_verifies() {
    let stripe = processor();
    let (url, received) = webhook_receiver();
    let localstripe = Localstripe::shared();
    let id = unique("hook");
    localstripe.register_webhook(&id, &url, WEBHOOK_SECRET, &["payment_intent.succeeded"]).await.unwrap();

    let (customer, method) = saved_card(&stripe, "pm_card_visa").await;
    let charge = charge_of(&customer, &method, 1234, &unique("charge"));
    let intent_id = charged(&stripe, &charge).await;

    // Other tests' charges in this binary are delivered here too: look for ours.
    let deadline = Instant::now() + Duration::from_secs(15);
    let now = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (signature, body, event) = loop {
        assert!(Instant::now() < deadline, "no webhook for {intent_id}");
        let Ok((signature, body)) = received.try_recv() else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let event = stripe.verify_webhook(&body, signature.as_deref(), now()).unwrap();
        if matches!(&event.kind, EventKind::PaymentSucceeded { charge_ref, .. } if *charge_ref == intent_id) {
            break (signature, body, event);
        }
    };
    assert!(event.id.starts_with("evt_"), "{event:?}");
    assert_eq!(event.kind, EventKind::PaymentSucceeded { charge_ref: intent_id, reference: Some(charge.reference) });

    let someone_else = StripeProcessor::new(localstripe.config("whsec_someone_else")).unwrap();
    assert_eq!(someone_else.verify_webhook(&body, signature.as_deref(), now()), Err(WebhookError::BadSignature));
}
