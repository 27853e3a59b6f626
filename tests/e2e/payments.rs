//! Payments recorded by staff and integrations (seed 004): allocations settle invoices in the
//! same transaction, refunds give money back latest allocation first, bad payments store
//! nothing, concurrent payments never overdraw an invoice, and the account history runs a
//! balance in date order, for staff and for the portal.

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::fixtures::Firm;

pub async fn invoice(app: &TestApp, token: &str, client_id: &str, number: &str, total: i64, issued: &str) -> String {
    let body = json!({
        "number": number, "client_id": client_id, "issue_date": issued, "due_date": "2099-12-31",
        "currency": "EUR", "total_minor": total
    });
    let reply = app.post("/v1/invoices", token, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

fn payment(client_id: &str, amount: i64, on: &str, allocations: &[(&str, i64)]) -> Value {
    json!({
        "client_id": client_id, "amount_minor": amount, "currency": "EUR", "received_on": on, "method": "bank_transfer",
        "reference": "SEPA 4711",
        "allocations": allocations.iter().map(|(id, amount)| json!({ "invoice_id": id, "amount_minor": amount })).collect::<Vec<_>>()
    })
}

async fn balance(app: &TestApp, firm: &Firm, invoice_id: &str) -> (i64, String) {
    let invoice = app.get(&format!("/v1/invoices/{invoice_id}"), &firm.owner_token).await;
    (invoice.body["balance_minor"].as_i64().unwrap(), invoice.body["status"].as_str().unwrap().to_owned())
}

on_both_backends! {
    async fn a_payment_settles_its_invoices_and_a_refund_reopens_them_latest_first(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let first = invoice(&app, &firm.owner_token, client_id, "2026-1", 1000, "2026-11-01").await;
        let second = invoice(&app, &firm.owner_token, client_id, "2026-2", 500, "2026-11-02").await;

        let paid = app.post("/v1/payments", &firm.owner_token, &payment(client_id, 1300, "2026-11-05", &[(&first, 1000), (&second, 200)])).await;
        assert_eq!(paid.status, 201, "{}", paid.body);
        assert_eq!(paid.body["status"], "succeeded");
        assert_eq!(paid.body["allocations"].as_array().unwrap().len(), 2);
        assert_eq!(balance(&app, &firm, &first).await, (0, "paid".to_owned()));
        assert_eq!(balance(&app, &firm, &second).await, (300, "partially_paid".to_owned()));
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment.recorded'"), 1);
        assert_eq!(app.count(&format!("outbox_events WHERE event_type = 'invoice.paid' AND data LIKE '%{first}%'")), 1);
        let of_invoice = app.get(&format!("/v1/payments?invoice_id={second}"), &firm.owner_token).await;
        assert_eq!(of_invoice.body["data"][0]["id"], paid.body["id"]);

        let payment_id = paid.id();
        let refunded = app.post(&format!("/v1/payments/{payment_id}/refunds"), &firm.owner_token, &json!({ "amount_minor": 300, "reason": "overpaid" })).await;
        assert_eq!(refunded.status, 201, "{}", refunded.body);
        assert_eq!(refunded.body["status"], "partially_refunded");
        assert_eq!(refunded.body["refunded_minor"], 300);
        assert_eq!(refunded.body["refunds"][0]["status"], "succeeded");
        assert_eq!(balance(&app, &firm, &second).await, (500, "open".to_owned()), "the latest allocation is given back first");
        assert_eq!(balance(&app, &firm, &first).await, (100, "partially_paid".to_owned()));
        assert_eq!(app.count("outbox_events WHERE event_type = 'payment.refunded'"), 1);

        let too_much = app.post(&format!("/v1/payments/{payment_id}/refunds"), &firm.owner_token, &json!({ "amount_minor": 1001 })).await;
        too_much.assert_problem(409, "exceeds_refundable");
        let rest = app.post(&format!("/v1/payments/{payment_id}/refunds"), &firm.owner_token, &json!({})).await;
        assert_eq!(rest.body["status"], "refunded");
        assert_eq!(balance(&app, &firm, &first).await, (1000, "open".to_owned()));
        app.post(&format!("/v1/payments/{payment_id}/refunds"), &firm.owner_token, &json!({})).await.assert_problem(409, "not_refundable");
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        app.post(&format!("/v1/payments/{payment_id}/refunds"), &member_token, &json!({})).await.assert_problem(403, "forbidden");
    }

    async fn bad_payments_get_a_clear_answer_and_store_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let other = app.firm("other").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let neighbour = app.client(&firm.owner_token, "Bob Babbage").await;
        let open = invoice(&app, &firm.owner_token, client_id, "2026-1", 1000, "2026-11-01").await;
        let theirs = invoice(&app, &firm.owner_token, neighbour["id"].as_str().unwrap(), "2026-2", 1000, "2026-11-01").await;
        let foreign_client = app.client(&other.owner_token, "Foreign").await;
        let foreign = invoice(&app, &other.owner_token, foreign_client["id"].as_str().unwrap(), "F-1", 1000, "2026-11-01").await;
        let draft = app.post("/v1/invoices", &firm.owner_token, &json!({ "number": "D-1", "client_id": client_id, "issue_date": "2026-11-01", "currency": "EUR", "total_minor": 100, "status": "draft" })).await;
        let usd = app.post("/v1/invoices", &firm.owner_token, &json!({ "number": "U-1", "client_id": client_id, "issue_date": "2026-11-01", "currency": "USD", "total_minor": 100 })).await;

        let post = |body: Value| {
            let app = &app;
            let token = firm.owner_token.clone();
            async move { app.post("/v1/payments", &token, &body).await }
        };
        post(payment(client_id, 0, "2026-11-05", &[])).await.assert_problem(422, "validation_failed");
        post(payment(client_id, -5, "2026-11-05", &[])).await.assert_problem(422, "validation_failed");
        post(payment(client_id, 100, "2026-11-05", &[(&open, 0)])).await.assert_problem(422, "validation_failed");
        let over = post(payment(client_id, 2000, "2026-11-05", &[(&open, 1001)])).await;
        over.assert_problem(409, "exceeds_balance");
        assert_eq!(over.body["balance_minor"], 1000);
        assert_eq!(over.body["invoice_id"], open.as_str());
        post(payment(client_id, 100, "2026-11-05", &[(&open, 60), (&open, 40)])).await.assert_problem(422, "validation_failed");
        post(payment(client_id, 100, "2026-11-05", &[(&open, 101)])).await.assert_problem(422, "validation_failed");
        let wrong_client = post(payment(client_id, 100, "2026-11-05", &[(&theirs, 100)])).await;
        wrong_client.assert_problem(422, "validation_failed");
        assert_eq!(wrong_client.body["errors"][0]["code"], "wrong_client");
        let unknown = post(payment(client_id, 100, "2026-11-05", &[(&foreign, 100)])).await;
        assert_eq!(unknown.body["errors"][0]["code"], "unknown_reference", "{}", unknown.body);
        post(payment(client_id, 100, "2026-11-05", &[(&draft.id(), 100)])).await.assert_problem(409, "invoice_not_payable");
        let currency = post(payment(client_id, 100, "2026-11-05", &[(&usd.id(), 100)])).await;
        assert_eq!(currency.body["errors"][0]["code"], "wrong_currency", "{}", currency.body);
        let mut bad_currency = payment(client_id, 100, "2026-11-05", &[]);
        bad_currency["currency"] = json!("EURO");
        post(bad_currency).await.assert_problem(422, "validation_failed");
        let mut wrong_type = payment(client_id, 100, "2026-11-05", &[]);
        wrong_type["amount_minor"] = json!("100");
        post(wrong_type).await.assert_problem(422, "validation_failed");
        let mut bad_method = payment(client_id, 100, "2026-11-05", &[]);
        bad_method["method"] = json!("bitcoin");
        post(bad_method).await.assert_problem(422, "validation_failed");
        let mut nul = payment(client_id, 100, "2026-11-05", &[]);
        nul["reference"] = json!("SEPA\u{0}1");
        post(nul).await.assert_problem(422, "validation_failed");
        post(payment(foreign_client["id"].as_str().unwrap(), 100, "2026-11-05", &[])).await.assert_problem(422, "validation_failed");

        assert_eq!(app.count("payments"), 0, "nothing was stored");
        assert_eq!(app.count("payment_allocations"), 0);
        assert_eq!(balance(&app, &firm, &open).await, (1000, "open".to_owned()));
        let on_account = post(payment(client_id, 100, "2026-11-05", &[])).await;
        assert_eq!(on_account.status, 201, "a payment may stay on account: {}", on_account.body);
    }

    async fn simultaneous_payments_never_take_more_than_the_balance(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let open = invoice(&app, &firm.owner_token, client_id, "2026-1", 1000, "2026-11-01").await;
        let attempts = (0..8).map(|_| {
            let body = payment(client_id, 300, "2026-11-05", &[(&open, 300)]);
            let (app, token) = (&app, firm.owner_token.clone());
            async move { app.post("/v1/payments", &token, &body).await }
        });
        let replies = futures_util::future::join_all(attempts).await;
        let won = replies.iter().filter(|r| r.status == 201).count();
        let refused: Vec<_> = replies.iter().filter(|r| r.status != 201).collect();
        assert_eq!(won, 3, "three payments of 300 fit into 1000");
        for reply in &refused {
            reply.assert_problem(409, "exceeds_balance");
            assert!(reply.body["balance_minor"].as_i64().unwrap() < 300, "{}", reply.body);
        }
        assert_eq!(balance(&app, &firm, &open).await, (100, "partially_paid".to_owned()));
        assert_eq!(app.count("payments"), 3, "a refused payment leaves nothing behind");
        assert_eq!(app.count("payment_allocations"), 3);
    }

    async fn the_billing_system_records_a_payment_once_by_its_own_id(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, key) = app.api_key(&firm.owner_token, &["payments:read", "payments:write", "invoices:read"]).await;
        let (_, reader) = app.api_key(&firm.owner_token, &["payments:read"]).await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let open = invoice(&app, &firm.owner_token, client_id, "2026-1", 1000, "2026-11-01").await;
        let body = payment(client_id, 400, "2026-11-05", &[(&open, 400)]);
        let created = app.put("/v1/payments/external/PAY-7", &key, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["external_id"], "PAY-7");
        let again = app.put("/v1/payments/external/PAY-7", &key, &body).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, created.body);
        assert_eq!(balance(&app, &firm, &open).await.0, 600, "recorded once");
        let mut changed = body.clone();
        changed["amount_minor"] = json!(500);
        app.put("/v1/payments/external/PAY-7", &key, &changed).await.assert_problem(409, "payment_immutable");
        app.put("/v1/payments/external/PAY-8", &reader, &body).await.assert_problem(403, "forbidden");
        assert_eq!(app.get("/v1/payments", &reader).await.body["data"].as_array().unwrap().len(), 1);
    }

    async fn members_work_with_payments_as_the_firm_allows(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member) = app.staff(&firm, "member", "mia@harbor.test").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let body = payment(client_id, 100, "2026-11-05", &[]);
        assert_eq!(app.post("/v1/payments", &member, &body).await.status, 201, "members record by default");
        let set = |access: &str| {
            let (app, token, access) = (&app, firm.owner_token.clone(), access.to_owned());
            async move { app.patch("/v1/firm", &token, &json!({ "member_payment_access": access })).await }
        };
        assert_eq!(set("view").await.body["settings"]["member_payment_access"], "view");
        app.post("/v1/payments", &member, &body).await.assert_problem(403, "forbidden");
        assert_eq!(app.get("/v1/payments", &member).await.status, 200);
        assert_eq!(app.get(&format!("/v1/clients/{client_id}/statement"), &member).await.status, 200);
        set("none").await;
        app.get("/v1/payments", &member).await.assert_problem(403, "forbidden");
        app.get(&format!("/v1/clients/{client_id}/statement"), &member).await.assert_problem(403, "forbidden");
        assert_eq!(app.get("/v1/payments", &firm.owner_token).await.status, 200, "owners always see payments");
        set("everything").await.assert_problem(422, "validation_failed");
    }

    async fn the_account_history_runs_a_balance_in_date_order_and_the_portal_sees_its_grants_only(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap().to_owned();
        let matter = app.matter(&firm.owner_token, &client_id, false).await;
        let matter_id = matter["id"].as_str().unwrap().to_owned();
        let first = invoice(&app, &firm.owner_token, &client_id, "2026-1", 1000, "2026-11-01").await;
        let later = app.post("/v1/invoices", &firm.owner_token, &json!({ "number": "2026-2", "client_id": client_id, "matter_id": matter_id, "issue_date": "2026-11-10", "currency": "EUR", "total_minor": 500 })).await;
        app.post("/v1/invoices", &firm.owner_token, &json!({ "number": "D-1", "client_id": client_id, "issue_date": "2026-11-03", "currency": "EUR", "total_minor": 50, "status": "draft" })).await;
        app.post("/v1/invoices", &firm.owner_token, &json!({ "number": "V-1", "client_id": client_id, "issue_date": "2026-11-03", "currency": "EUR", "total_minor": 70, "status": "void" })).await;
        let paid = app.post("/v1/payments", &firm.owner_token, &payment(&client_id, 400, "2026-11-05", &[(&first, 400)])).await;
        app.post(&format!("/v1/payments/{}/refunds", paid.id()), &firm.owner_token, &json!({ "amount_minor": 100, "refunded_on": "2026-11-20" })).await;

        let path = format!("/v1/clients/{client_id}/statement");
        let whole = app.get(&path, &firm.owner_token).await;
        assert_eq!(whole.status, 200, "{}", whole.body);
        assert_eq!(whole.body["currency"], "EUR");
        let lines = |body: &Value| -> Vec<(String, i64, i64)> {
            body["data"].as_array().unwrap().iter()
                .map(|l| (l["kind"].as_str().unwrap().to_owned(), l["amount_minor"].as_i64().unwrap(), l["balance_minor"].as_i64().unwrap()))
                .collect()
        };
        let expected = vec![
            ("invoice".to_owned(), 1000, 1000),
            ("payment".to_owned(), 400, 600),
            ("invoice".to_owned(), 500, 1100),
            ("refund".to_owned(), 100, 1200),
        ];
        assert_eq!(lines(&whole.body), expected, "drafts and void invoices are not history");
        assert_eq!(whole.body["data"][2]["label"], "2026-2");
        assert_eq!(whole.body["data"][3]["payment_id"], paid.body["id"]);

        let page_one = app.get(&format!("{path}?limit=2"), &firm.owner_token).await;
        assert_eq!(lines(&page_one.body), expected[..2].to_vec());
        let cursor = page_one.body["next_cursor"].as_str().unwrap().to_owned();
        let page_two = app.get(&format!("{path}?limit=2&cursor={cursor}"), &firm.owner_token).await;
        assert_eq!(page_two.body["opening_balance_minor"], 600, "the next page opens where the last one closed");
        assert_eq!(lines(&page_two.body), expected[2..].to_vec());
        assert_eq!(page_two.body["next_cursor"], Value::Null);
        let from = app.get(&format!("{path}?from=2026-11-06"), &firm.owner_token).await;
        assert_eq!(from.body["opening_balance_minor"], 600);
        assert_eq!(lines(&from.body), expected[2..].to_vec());
        let until = app.get(&format!("{path}?to=2026-11-05"), &firm.owner_token).await;
        assert_eq!(lines(&until.body), expected[..2].to_vec());
        let of_matter = app.get(&format!("{path}?matter_id={matter_id}"), &firm.owner_token).await;
        assert_eq!(lines(&of_matter.body), vec![("invoice".to_owned(), 500, 500)]);
        app.get(&format!("{path}?from=2026-11-06&to=2026-11-01"), &firm.owner_token).await.assert_problem(422, "validation_failed");
        app.get(&format!("{path}?cursor=bm9wZQ"), &firm.owner_token).await.assert_problem(422, "validation_failed");
        assert_eq!(app.get(&format!("{path}?currency=USD"), &firm.owner_token).await.body["data"], json!([]), "one currency at a time");

        // The client's contact sees the same history; a contact granted only the matter sees
        // only the matter's lines; another client's contact sees nothing of it.
        let contact = app.contact(&firm.owner_token, &client_id, "ada@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "ada@client.test").await;
        let mine = app.get(&format!("/v1/portal/clients/{client_id}/statement"), &token).await;
        assert_eq!(mine.status, 200, "{}", mine.body);
        assert_eq!(lines(&mine.body), expected);
        let payments = app.get("/v1/portal/payments", &token).await;
        assert_eq!(payments.body["data"][0]["id"], paid.body["id"]);
        assert_eq!(payments.body["data"][0]["refunds"][0]["reason"], Value::Null, "staff's notes stay with staff");
        assert_eq!(payments.body["data"][0]["recorded_by_staff_id"], Value::Null);

        let helper = app.contact(&firm.owner_token, &client_id, "clerk@client.test").await;
        let helper_id = helper["id"].as_str().unwrap();
        let portal = app.post("/v1/portals", &firm.owner_token, &json!({ "contact_id": helper_id, "kind": "full", "invite": false, "grants": [{ "matter_id": matter_id }] })).await;
        assert_eq!(portal.status, 201, "{}", portal.body);
        vestibule_storage::portals::activate(&mut app.conn(), &portal.id(), vestibule_storage::now()).unwrap();
        let hash = vestibule_app::password::hash(crate::support::fixtures::PASSWORD).unwrap();
        vestibule_storage::credentials::set_password(&mut app.conn(), &firm.id, helper_id, &hash).unwrap();
        let login = app.call(Method::POST, "/v1/portal/auth/login", None, Some(&json!({ "firm": firm.slug, "email": "clerk@client.test", "password": crate::support::fixtures::PASSWORD }))).await;
        let clerk = login.body["access_token"].as_str().unwrap().to_owned();
        let of_matter = app.get(&format!("/v1/portal/clients/{client_id}/statement"), &clerk).await;
        assert_eq!(lines(&of_matter.body), vec![("invoice".to_owned(), 500, 500)], "{}", of_matter.body);
        assert_eq!(app.get("/v1/portal/payments", &clerk).await.body["data"], json!([]), "the payment was to the client's own invoice");
        app.get(&format!("/v1/portal/payments/{}", paid.id()), &clerk).await.assert_problem(404, "not_found");

        let stranger_client = app.client(&firm.owner_token, "Bob Babbage").await;
        let stranger = app.contact(&firm.owner_token, stranger_client["id"].as_str().unwrap(), "bob@client.test").await;
        let stranger_token = app.contact_token(&firm, stranger["id"].as_str().unwrap(), "bob@client.test").await;
        app.get(&format!("/v1/portal/clients/{client_id}/statement"), &stranger_token).await.assert_problem(404, "not_found");
        app.get(&format!("/v1/portal/payments/{}", paid.id()), &stranger_token).await.assert_problem(404, "not_found");
        assert_eq!(app.get("/v1/portal/payments", &stranger_token).await.body["data"], json!([]));
        assert_eq!(later.status, 201);
    }

    async fn an_invoice_with_payments_keeps_what_was_paid_when_the_billing_system_changes_it(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, key) = app.api_key(&firm.owner_token, &["invoices:read", "invoices:write", "payments:write"]).await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let body = json!({ "number": "B-1", "client_id": client_id, "issue_date": "2026-11-01", "currency": "EUR", "total_minor": 1000 });
        let created = app.put("/v1/invoices/external/BILL-1", &key, &body).await;
        app.put("/v1/payments/external/PAY-1", &key, &payment(client_id, 600, "2026-11-05", &[(&created.id(), 600)])).await;
        let mut raised = body.clone();
        raised["total_minor"] = json!(1200);
        let updated = app.put("/v1/invoices/external/BILL-1", &key, &raised).await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        assert_eq!((updated.body["balance_minor"].as_i64(), updated.body["status"].as_str()), (Some(600), Some("partially_paid")));
        let mut lowered = body.clone();
        lowered["total_minor"] = json!(500);
        app.put("/v1/invoices/external/BILL-1", &key, &lowered).await.assert_problem(409, "total_below_paid");
        let mut voided = body.clone();
        voided["status"] = json!("void");
        app.put("/v1/invoices/external/BILL-1", &key, &voided).await.assert_problem(409, "invoice_has_payments");
        let overdue = app.post("/v1/invoices", &firm.owner_token, &json!({ "number": "O-1", "client_id": client_id, "issue_date": "2026-01-01", "due_date": "2026-01-31", "currency": "EUR", "total_minor": 10 })).await;
        assert_eq!(overdue.body["status"], "overdue");
        let listed = app.get("/v1/invoices?status=overdue", &firm.owner_token).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(listed.body["data"][0]["id"], overdue.body["id"]);
        assert_eq!(app.get("/v1/invoices?status=open", &firm.owner_token).await.body["data"], json!([]));
    }

    async fn a_contact_opening_an_invoice_the_first_time_is_told_to_the_firm(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let open = invoice(&app, &firm.owner_token, client_id, "2026-1", 1000, "2026-11-01").await;
        let contact = app.contact(&firm.owner_token, client_id, "ada@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "ada@client.test").await;
        assert_eq!(app.get(&format!("/v1/invoices/{open}"), &firm.owner_token).await.body["viewed_at"], Value::Null);
        for _ in 0..2 {
            assert_eq!(app.get(&format!("/v1/portal/invoices/{open}"), &token).await.status, 200);
        }
        assert_eq!(app.count("outbox_events WHERE event_type = 'invoice.viewed'"), 1, "only the first view is news");
        assert!(app.get(&format!("/v1/invoices/{open}"), &firm.owner_token).await.body["viewed_at"].is_string());
        let settings = app.get("/v1/portal/payment-settings", &token).await;
        assert_eq!(settings.body, json!({ "card_payments": false, "processor": null, "publishable_key": null }));
        let pay = app.call_with(Method::POST, &format!("/v1/portal/invoices/{open}/payments"), Some(&token), Some(&json!({ "card_token": "pm_card_visa" })), &[("Idempotency-Key", "k-1")]).await;
        pay.assert_problem(409, "card_payments_unavailable");
        app.call(Method::POST, "/v1/portal/payment-methods/setups", Some(&token), None).await.assert_problem(409, "card_payments_unavailable");
    }
}
