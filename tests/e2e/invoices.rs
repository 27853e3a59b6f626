//! Invoices and the "email invoice" dialog (seed 004).

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::fixtures::Firm;
use crate::support::smtp::SmtpListener;

fn invoice_body(client_id: &str, matter_id: Option<&str>, number: &str, status: &str) -> Value {
    json!({
        "number": number, "client_id": client_id, "matter_id": matter_id,
        "issue_date": "2026-11-01", "due_date": "2026-11-30", "currency": "eur",
        "total_minor": 120000, "status": status,
        "lines": [{ "description": "Advice", "quantity_milli": 1500, "unit_price_minor": 80000, "amount_minor": 120000 }]
    })
}

async fn invoice(app: &TestApp, firm: &Firm, client_id: &str, matter_id: Option<&str>, number: &str) -> String {
    let reply = app.post("/v1/invoices", &firm.owner_token, &invoice_body(client_id, matter_id, number, "open")).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

async fn email(app: &TestApp, firm: &Firm, invoice_id: &str, body: Value) -> crate::support::Reply {
    app.call(Method::POST, &format!("/v1/invoices/{invoice_id}/email"), Some(&firm.owner_token), Some(&body)).await
}

on_both_backends! {
    async fn emailing_an_invoice_invites_only_the_to_recipients(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let matter = app.post("/v1/matters", &firm.owner_token, &json!({ "client_id": client_id, "title": "Estate", "email": "estate@client.test" })).await;
        let invoice_id = invoice(&app, &firm, client_id, Some(&matter.id()), "2026-001").await;

        let sent = email(&app, &firm, &invoice_id, json!({ "cc": "cc1@x.test; CC2@x.test", "bcc": "hidden@x.test", "message": "Please find our invoice.", "invite_recipients": true })).await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        assert_eq!(sent.body["to"], json!(["estate@client.test"]), "the matter's email overrides the client's");
        assert_eq!(sent.body["cc"], json!(["cc1@x.test", "cc2@x.test"]));
        assert_eq!(sent.body["invited"], json!(["estate@client.test"]));
        assert_eq!(app.count("outbox_events WHERE event_type = 'invoice.emailed'"), 1, "one event per email action");

        let invitations = app.get("/v1/invitations", &firm.owner_token).await;
        let invited: Vec<&str> = invitations.body["data"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
        assert_eq!(invited, vec!["estate@client.test"], "cc and bcc are never invited");
        assert_eq!(invitations.body["data"][0]["source"], "invoice");
        for never in ["cc1@x.test", "cc2@x.test", "hidden@x.test"] {
            assert_eq!(app.count(&format!("contacts WHERE email = '{never}'")), 0);
        }

        let mails = smtp.wait_for(2).await;
        let invoice_mail = mails.iter().find(|m| m.text().contains("Please find our invoice.")).unwrap();
        let mut envelope = invoice_mail.to.clone();
        envelope.sort();
        assert_eq!(envelope, vec!["cc1@x.test", "cc2@x.test", "estate@client.test", "hidden@x.test"]);
        assert!(invoice_mail.data.contains("Cc: cc1@x.test, cc2@x.test"));
        assert!(!invoice_mail.data.contains("hidden@x.test"), "bcc stays out of the headers");
        assert!(invoice_mail.text().contains(&format!("http://vestibule.test/portal/invoices/{invoice_id}")));
        let invitation_mail = mails.iter().find(|m| m.text().contains("invites you to its client portal")).unwrap();
        assert_eq!(invitation_mail.to, vec!["estate@client.test"]);
    }

    async fn without_a_matter_email_the_clients_address_is_used(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let matter = app.matter(&firm.owner_token, client_id, false).await;
        let invoice_id = invoice(&app, &firm, client_id, matter["id"].as_str(), "2026-002").await;
        let sent = email(&app, &firm, &invoice_id, json!({})).await;
        assert_eq!(sent.body["to"], json!(["ada.lovelace@client.test"]));
        assert_eq!(sent.body["invited"], json!([]));
        assert_eq!(app.count("portals"), 0, "nobody is invited unless asked");
    }

    async fn a_bad_address_in_a_list_is_named_and_nothing_is_sent(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let invoice_id = invoice(&app, &firm, client["id"].as_str().unwrap(), None, "2026-003").await;
        let refused = email(&app, &firm, &invoice_id, json!({ "to": "ok@x.test; not-an-address", "cc": "fine@x.test", "invite_recipients": true })).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "/to");
        assert!(refused.body["errors"][0]["detail"].as_str().unwrap().contains("not-an-address"));
        assert_eq!(app.count("outbox_events WHERE event_type = 'invoice.emailed'"), 0);
        assert_eq!(app.count("invitations"), 0);
    }

    async fn the_billing_system_upserts_invoices_and_contacts_see_only_their_clients(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, key) = app.api_key(&firm.owner_token, &["invoices:read", "invoices:write"]).await;
        let ada = app.client(&firm.owner_token, "Ada Lovelace").await;
        let grace = app.client(&firm.owner_token, "Grace Hopper").await;
        let (ada_id, grace_id) = (ada["id"].as_str().unwrap(), grace["id"].as_str().unwrap());
        let body = invoice_body(ada_id, None, "2026-010", "open");
        let created = app.put("/v1/invoices/external/BILL-10", &key, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["currency"], "EUR");
        let same = app.put("/v1/invoices/external/BILL-10", &key, &body).await;
        assert_eq!(same.status, 200);
        assert_eq!(same.body, created.body);
        app.put("/v1/invoices/external/BILL-11", &key, &invoice_body(ada_id, None, "2026-011", "draft")).await;
        let grace_invoice = app.put("/v1/invoices/external/BILL-12", &key, &invoice_body(grace_id, None, "2026-012", "open")).await;
        let mut bad = invoice_body(ada_id, None, "2026-013", "open");
        bad["total_minor"] = json!(-1);
        app.put("/v1/invoices/external/BILL-13", &key, &bad).await.assert_problem(422, "validation_failed");

        let contact = app.contact(&firm.owner_token, ada_id, "ada@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "ada@client.test").await;
        let mine = app.get("/v1/portal/invoices", &token).await;
        assert_eq!(mine.status, 200, "{}", mine.body);
        let numbers: Vec<&str> = mine.body["data"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap()).collect();
        assert_eq!(numbers, vec!["2026-010"], "drafts and other clients' invoices stay hidden");
        assert_eq!(app.get(&format!("/v1/portal/invoices/{}", created.id()), &token).await.body["lines"][0]["description"], "Advice");
        app.get(&format!("/v1/portal/invoices/{}", grace_invoice.id()), &token).await.assert_problem(404, "not_found");
        app.get("/v1/invoices", &token).await.assert_problem(403, "forbidden");
    }

    async fn an_invoice_of_a_restricted_matter_is_hidden_like_the_matter(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let secret = app.matter(&firm.owner_token, client_id, true).await;
        let hidden = invoice(&app, &firm, client_id, secret["id"].as_str(), "2026-020").await;
        let open = invoice(&app, &firm, client_id, None, "2026-021").await;
        let listed = app.get("/v1/invoices", &member_token).await;
        let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![open.as_str()]);
        app.get(&format!("/v1/invoices/{hidden}"), &member_token).await.assert_problem(404, "not_found");
        let emailed = app.call(Method::POST, &format!("/v1/invoices/{hidden}/email"), Some(&member_token), Some(&json!({}))).await;
        emailed.assert_problem(404, "not_found");
        assert_eq!(app.count("outbox_events WHERE event_type = 'invoice.emailed'"), 0);
        assert_eq!(app.get(&format!("/v1/invoices/{hidden}"), &firm.owner_token).await.status, 200);
    }
}
