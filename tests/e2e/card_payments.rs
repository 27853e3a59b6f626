//! Seed 004's promise end to end against a real card-processor protocol (localstripe): a
//! contact saves a card, pays an invoice with it and gets a receipt; a declined card
//! allocates nothing; refunds go through the processor; processor webhooks are verified,
//! acted on once, and settle what the processor reports.

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use vestibule_stripe::testing::Localstripe;

use crate::on_both_backends;
use crate::payments::invoice;
use crate::support::smtp::SmtpListener;
use crate::support::{Backend, Reply, TestApp};

const WEBHOOK_SECRET: &str = "whsec_vestibule_tests";

async fn with_stripe(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let stripe = Localstripe::shared();
    let mut settings = vec![
        ("PAYMENTS_PROCESSOR", "stripe"),
        ("STRIPE_SECRET_KEY", stripe.secret_key()),
        ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_vestibule"),
        ("STRIPE_API_BASE", stripe.url.as_str()),
    ];
    settings.extend_from_slice(extra);
    TestApp::spawn_with(backend, &settings).await
}

async fn pay(app: &TestApp, token: &str, invoice_id: &str, body: &Value, key: &str) -> Reply {
    let path = format!("/v1/portal/invoices/{invoice_id}/payments");
    app.call_with(Method::POST, &path, Some(token), Some(body), &[("Idempotency-Key", key)]).await
}

/// What the frontend does with the processor's JavaScript: start a setup, confirm the card
/// at the processor, then confirm here.
async fn save_card(app: &TestApp, token: &str, card: &str) -> Reply {
    let setup = app.call(Method::POST, "/v1/portal/payment-methods/setups", Some(token), None).await;
    assert_eq!(setup.status, 201, "{}", setup.body);
    assert_eq!(setup.header("cache-control"), Some("no-store"));
    let secret = setup.body["client_secret"].as_str().unwrap();
    let _ = Localstripe::shared().confirm_setup(secret, card).await.unwrap();
    app.call(Method::POST, &format!("/v1/portal/payment-methods/setups/{}/confirm", setup.id()), Some(token), None)
        .await
}

fn signed(payload: &str, secret: &str, at: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{at}.{payload}").as_bytes());
    format!("t={at},v1={}", hex::encode(mac.finalize().into_bytes()))
}

async fn deliver(app: &TestApp, event: &Value, signature: &str) -> Reply {
    let request = reqwest::Client::new()
        .post(app.url("/v1/payment-processor/webhook"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(event.to_string());
    app.exchange(request).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

on_both_backends! {
    async fn a_contact_saves_a_card_pays_an_invoice_with_it_and_gets_a_receipt(backend) {
        let smtp = SmtpListener::start().await;
        let app = with_stripe(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let invoice_id = invoice(&app, &firm.owner_token, client_id, "2026-7", 12_050, "2026-11-01").await;
        // Seed 004: invited from the invoice's email; the email links to the payment page.
        let emailed = app.post(&format!("/v1/invoices/{invoice_id}/email"), &firm.owner_token, &json!({ "to": "ada@client.test", "invite_recipients": true })).await;
        assert_eq!(emailed.status, 202, "{}", emailed.body);
        let mails = smtp.wait_for(2).await;
        let invoice_mail = mails.iter().find(|m| m.text().contains("Invoice 2026-7 is available")).unwrap();
        assert!(invoice_mail.text().contains(&format!("Pay it online:\nhttp://vestibule.test/portal/invoices/{invoice_id}/pay")), "{}", invoice_mail.text());
        let invitation = mails.iter().find(|m| m.text().contains("invites you to its client portal")).unwrap();
        let text = invitation.text();
        let marker = "http://vestibule.test/portal/accept-invitation?token=";
        let start = text.find(marker).unwrap() + marker.len();
        let invitation_token: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        let registered = app.call(Method::POST, "/v1/portal/invitations/accept", None, Some(&json!({ "token": invitation_token, "password": "a sturdy passphrase" }))).await;
        assert_eq!(registered.status, 200, "{}", registered.body);
        let token = registered.body["access_token"].as_str().unwrap().to_owned();
        let contact = app.get("/v1/portal/me", &token).await.body["contact"].clone();

        let settings = app.get("/v1/portal/payment-settings", &token).await;
        assert_eq!(settings.body, json!({ "card_payments": true, "processor": "stripe", "publishable_key": "pk_test_vestibule" }));
        let card = save_card(&app, &token, "4242424242424242").await;
        assert_eq!(card.status, 200, "{}", card.body);
        assert_eq!((card.body["brand"].as_str(), card.body["last4"].as_str(), card.body["is_default"].as_bool()), (Some("visa"), Some("4242"), Some(true)));
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment_method.saved'"), 1);
        let cards = app.get("/v1/portal/payment-methods", &token).await;
        assert_eq!(cards.body["data"].as_array().unwrap().len(), 1);

        let body = json!({ "payment_method_id": card.body["id"] });
        pay(&app, &token, &invoice_id, &json!({ "payment_method_id": card.body["id"], "amount_minor": 0 }), "zero").await.assert_problem(422, "validation_failed");
        app.call(Method::POST, &format!("/v1/portal/invoices/{invoice_id}/payments"), Some(&token), Some(&body), ).await.assert_problem(400, "idempotency_key_required");
        let paid = pay(&app, &token, &invoice_id, &body, "pay-2026-7").await;
        assert_eq!(paid.status, 201, "{}", paid.body);
        assert_eq!(paid.body["status"], "succeeded");
        assert_eq!(paid.body["amount_minor"], 12_050);
        assert_eq!(paid.body["card"]["payment_method_id"], card.body["id"]);
        let again = pay(&app, &token, &invoice_id, &body, "pay-2026-7").await;
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "a second click is the first answer again");
        assert_eq!(again.body["id"], paid.body["id"]);
        assert_eq!(app.count("payments"), 1, "charged once");
        pay(&app, &token, &invoice_id, &body, "pay-again").await.assert_problem(409, "invoice_not_payable");

        let staff_view = app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await;
        assert_eq!((staff_view.body["balance_minor"].as_i64(), staff_view.body["status"].as_str()), (Some(0), Some("paid")));
        let against = app.get(&format!("/v1/payments?invoice_id={invoice_id}"), &firm.owner_token).await;
        assert_eq!(against.body["data"][0]["id"], paid.body["id"]);
        assert_eq!(against.body["data"][0]["card"]["paid_by_contact_id"], contact["id"]);
        for event in ["payment.succeeded", "invoice.paid"] {
            assert_eq!(app.count(&format!("outbox_events WHERE event_type = '{event}'")), 1, "{event}");
        }
        let history = app.get(&format!("/v1/portal/clients/{client_id}/statement"), &token).await;
        let balances: Vec<i64> = history.body["data"].as_array().unwrap().iter().map(|l| l["balance_minor"].as_i64().unwrap()).collect();
        assert_eq!(balances, vec![12_050, 0]);
        let receipt = app.get(&format!("/v1/portal/payments/{}", paid.id()), &token).await;
        assert_eq!(receipt.status, 200);

        let mut mails = smtp.wait_for(3).await;
        for _ in 0..100 {
            if mails.iter().any(|m| m.text().contains("we received your payment")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            mails = smtp.wait_for(3).await;
        }
        let mail = mails.iter().find(|m| m.text().contains("we received your payment"));
        let mail = mail.unwrap_or_else(|| panic!("a receipt among {:?}", mails.iter().map(|m| m.text()).collect::<Vec<_>>()));
        assert_eq!(mail.to, vec!["ada@client.test"]);
        assert!(mail.text().contains("EUR 120.50 with your visa ending 4242"), "{}", mail.text());
        assert!(mail.text().contains(&format!("http://vestibule.test/portal/payments/{}", paid.id())));

        // Staff give part of it back through the processor; the invoice owes it again.
        let refund = app.post(&format!("/v1/payments/{}/refunds", paid.id()), &firm.owner_token, &json!({ "amount_minor": 2_050 })).await;
        assert_eq!(refund.status, 201, "{}", refund.body);
        assert_eq!(refund.body["status"], "partially_refunded");
        assert_eq!(refund.body["refunds"][0]["status"], "succeeded");
        let reopened = app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await;
        assert_eq!((reopened.body["balance_minor"].as_i64(), reopened.body["status"].as_str()), (Some(2_050), Some("partially_paid")));

        // A card is removed: detached at the processor, forgotten here.
        let card_id = card.body["id"].as_str().unwrap();
        assert_eq!(app.delete(&format!("/v1/portal/payment-methods/{card_id}"), &token).await.status, 204);
        assert_eq!(app.get("/v1/portal/payment-methods", &token).await.body["data"], json!([]));
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment_method.removed'"), 1);
        app.delete(&format!("/v1/portal/payment-methods/{card_id}"), &token).await.assert_problem(404, "not_found");
    }

    async fn a_declined_card_is_a_clear_402_and_allocates_nothing(backend) {
        let app = with_stripe(backend, &[]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let invoice_id = invoice(&app, &firm.owner_token, client_id, "2026-8", 5_000, "2026-11-01").await;
        let contact = app.contact(&firm.owner_token, client_id, "ada@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "ada@client.test").await;

        let declined_at_setup = save_card(&app, &token, "4000000000000002").await;
        assert_eq!(declined_at_setup.status, 402, "{}", declined_at_setup.body);
        assert_eq!(app.count("payment_methods"), 0);

        let refused = Localstripe::shared().new_card_token("4000000000000341").await.unwrap();
        let declined = pay(&app, &token, &invoice_id, &json!({ "card_token": refused, "amount_minor": 2_000 }), "try-1").await;
        declined.assert_problem(402, "card_declined");
        assert!(declined.body["decline_code"].is_string(), "{}", declined.body);
        let staff_view = app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await;
        assert_eq!((staff_view.body["balance_minor"].as_i64(), staff_view.body["status"].as_str()), (Some(5_000), Some("open")));
        assert_eq!(app.count("payment_allocations"), 0, "a declined card allocates nothing");
        let failed = app.get("/v1/payments?status=failed", &firm.owner_token).await;
        assert_eq!(failed.body["data"].as_array().unwrap().len(), 1, "the firm sees the attempt");
        assert!(failed.body["data"][0]["card"]["failure_reason"].is_string());
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment.failed'"), 1);
        assert_eq!(app.get("/v1/portal/payments", &token).await.body["data"], json!([]), "the client sees no failed payment");
        // A token the processor does not know: refused after the hold, which is released.
        let unknown = pay(&app, &token, &invoice_id, &json!({ "card_token": "pm_unknown" }), "try-unknown").await;
        unknown.assert_problem(409, "processor_refused");
        assert_eq!(app.count("payment_allocations"), 0);
        assert_eq!(app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await.body["balance_minor"], 5_000);

        let good = Localstripe::shared().new_card_token("4242424242424242").await.unwrap();
        let part = pay(&app, &token, &invoice_id, &json!({ "card_token": good, "amount_minor": 2_000 }), "try-2").await;
        assert_eq!(part.status, 201, "{}", part.body);
        let over = pay(&app, &token, &invoice_id, &json!({ "card_token": good, "amount_minor": 3_001 }), "try-3").await;
        over.assert_problem(409, "exceeds_balance");
        assert_eq!(over.body["balance_minor"], 3_000);

        // Someone else's invoice, another contact's card: not found, nothing charged.
        let other_client = app.client(&firm.owner_token, "Bob Babbage").await;
        let theirs = invoice(&app, &firm.owner_token, other_client["id"].as_str().unwrap(), "2026-9", 100, "2026-11-01").await;
        pay(&app, &token, &theirs, &json!({ "card_token": good }), "try-4").await.assert_problem(404, "not_found");
        pay(&app, &token, &invoice_id, &json!({ "payment_method_id": "pmt_0193d0c0a1b27f3c9e4d5a6b7c8d9e0f" }), "try-5").await.assert_problem(422, "validation_failed");
        pay(&app, &token, &invoice_id, &json!({}), "try-6").await.assert_problem(422, "validation_failed");
        assert_eq!(app.count("payments"), 3, "two failed attempts and the part payment");
    }

    async fn processor_webhooks_are_verified_acted_on_once_and_settle_what_the_processor_says(backend) {
        let app = with_stripe(backend, &[]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let invoice_id = invoice(&app, &firm.owner_token, client_id, "2026-10", 9_000, "2026-11-01").await;
        let contact = app.contact(&firm.owner_token, client_id, "ada@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "ada@client.test").await;
        let stripe = Localstripe::shared();
        stripe.register_webhook(&format!("vestibule-{}", firm.id), &app.url("/v1/payment-processor/webhook"), WEBHOOK_SECRET, &["payment_intent.succeeded"]).await.unwrap();
        let card = stripe.new_card_token("4242424242424242").await.unwrap();
        let paid = pay(&app, &token, &invoice_id, &json!({ "card_token": card }), "webhook-1").await;
        assert_eq!(paid.status, 201, "{}", paid.body);
        // localstripe's own signed event about the charge arrives and is verified; the payment
        // was settled already, so it changes nothing.
        // localstripe sends every event to every registered endpoint, so other tests' charges
        // may arrive here too (verified, then ignored): wait for at least ours.
        for _ in 0..1200 {
            if app.count("processor_events WHERE event_type = 'payment_succeeded'") >= 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(app.count("processor_events WHERE event_type = 'payment_succeeded'") >= 1, "localstripe's event arrived");
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment.succeeded'"), 1);

        let charge_ref: String = {
            use diesel::prelude::*;
            use vestibule_storage::schema::card_charges;
            card_charges::table.select(card_charges::processor_ref.assume_not_null()).first(&mut *app.conn()).unwrap()
        };
        let dispute = json!({ "id": "evt_dispute_1", "object": "event", "type": "charge.dispute.created", "created": now(),
            "data": { "object": { "id": "dp_1", "object": "dispute", "charge": "ch_1", "payment_intent": charge_ref, "amount": 9000 } } });
        deliver(&app, &dispute, &signed(&dispute.to_string(), "whsec_wrong", now())).await.assert_problem(401, "invalid_signature");
        deliver(&app, &dispute, &signed(&dispute.to_string(), WEBHOOK_SECRET, now() - 3600)).await.assert_problem(401, "invalid_signature");
        let unsigned = reqwest::Client::new().post(app.url("/v1/payment-processor/webhook")).header("content-type", "application/json").body(dispute.to_string());
        app.exchange(unsigned).await.assert_problem(401, "invalid_signature");
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment.disputed'"), 0, "nothing unverified is acted on");
        let acted = deliver(&app, &dispute, &signed(&dispute.to_string(), WEBHOOK_SECRET, now())).await;
        assert_eq!(acted.body, json!({ "received": "acted" }), "{}", acted.body);
        let replayed = deliver(&app, &dispute, &signed(&dispute.to_string(), WEBHOOK_SECRET, now())).await;
        assert_eq!(replayed.body, json!({ "received": "replayed" }));
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment.disputed'"), 1);
        assert_eq!(app.get(&format!("/v1/payments/{}", paid.id()), &firm.owner_token).await.body["card"]["disputed"], true);

        // A refund made in the processor's dashboard is recorded here too.
        let refunded = json!({ "id": "evt_refund_1", "object": "event", "type": "charge.refunded", "created": now(),
            "data": { "object": { "id": "ch_1", "object": "charge", "payment_intent": charge_ref, "amount": 9000, "amount_refunded": 4000 } } });
        let acted = deliver(&app, &refunded, &signed(&refunded.to_string(), WEBHOOK_SECRET, now())).await;
        assert_eq!(acted.body["received"], "acted");
        let payment = app.get(&format!("/v1/payments/{}", paid.id()), &firm.owner_token).await;
        assert_eq!((payment.body["status"].as_str(), payment.body["refunded_minor"].as_i64()), (Some("partially_refunded"), Some(4000)));
        assert_eq!(app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await.body["balance_minor"], 4000);

        let unknown = json!({ "id": "evt_other", "object": "event", "type": "customer.created", "created": now(), "data": { "object": { "id": "cus_1" } } });
        assert_eq!(deliver(&app, &unknown, &signed(&unknown.to_string(), WEBHOOK_SECRET, now())).await.body["received"], "ignored");
        let garbage = "not an event";
        let request = reqwest::Client::new().post(app.url("/v1/payment-processor/webhook")).header("content-type", "application/json")
            .header("stripe-signature", signed(garbage, WEBHOOK_SECRET, now())).body(garbage);
        app.exchange(request).await.assert_problem(422, "validation_failed");
    }

    async fn when_the_processor_cannot_be_reached_nothing_is_charged_or_allocated(backend) {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
        drop(closed);
        let app = with_stripe(backend, &[("STRIPE_API_BASE", &base)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let invoice_id = invoice(&app, &firm.owner_token, client_id, "2026-11", 1_000, "2026-11-01").await;
        let contact = app.contact(&firm.owner_token, client_id, "ada@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "ada@client.test").await;
        let down = pay(&app, &token, &invoice_id, &json!({ "card_token": "pm_card_visa" }), "down-1").await;
        down.assert_problem(503, "processor_unavailable");
        assert!(down.header("retry-after").is_some());
        assert_eq!(app.count("payment_allocations"), 0);
        assert_eq!(app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await.body["balance_minor"], 1_000);
        app.call(Method::POST, "/v1/portal/payment-methods/setups", Some(&token), None).await.assert_problem(503, "processor_unavailable");
    }
}
