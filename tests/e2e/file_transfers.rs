//! Seed 000's "Send Files to Contact": files with a message to a contact's portal, signatures
//! per file, secure or in-email delivery, and the three choices for a contact without a portal.

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::fixtures::Firm;
use crate::support::smtp::SmtpListener;

async fn upload(app: &TestApp, token: &str, client_id: &str, name: &str) -> String {
    let path = format!("/v1/documents?client_id={client_id}&name={name}");
    let reply = app.send_raw(Method::POST, &path, token, "application/octet-stream", name.as_bytes().to_vec()).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

/// A client with a contact (no portal yet) and two of its documents.
async fn client_with_files(app: &TestApp, firm: &Firm, email: &str) -> (String, String, Vec<String>) {
    let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
    let contact = app.contact(&firm.owner_token, &client, email).await["id"].as_str().unwrap().to_owned();
    let files = vec![
        upload(app, &firm.owner_token, &client, "Steuererklärung.pdf").await,
        upload(app, &firm.owner_token, &client, "Vollmacht.pdf").await,
    ];
    (client, contact, files)
}

fn transfer(contact_id: &str, files: &[String], extra: Value) -> Value {
    let mut body = json!({
        "contact_id": contact_id,
        "subject": "Your 2026 tax return",
        "message": "Please sign the power of attorney by Friday.",
        "files": [
            { "document_id": files[0] },
            { "document_id": files[1], "signature_required": true },
        ],
    });
    if let Value::Object(extra) = extra {
        body.as_object_mut().unwrap().extend(extra);
    }
    body
}

fn emails_to(app: &TestApp, recipient: &str, event_type: &str) -> i64 {
    app.count(&format!(
        "deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.channel = 'email' AND d.recipient = '{recipient}' AND e.event_type = '{event_type}'"
    ))
}

on_both_backends! {
    async fn files_sent_securely_arrive_in_the_portal_with_one_email_that_keeps_the_message_out(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let (client, contact, files) = client_with_files(&app, &firm, "cora@client.test").await;
        let contact_token = app.contact_token(&firm, &contact, "cora@client.test").await;

        let sent = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({}))).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        let id = sent.body["transfer"]["id"].as_str().unwrap().to_owned();
        assert_eq!(sent.header("location"), Some(format!("/v1/file-transfers/{id}").as_str()));
        assert_eq!(sent.body["portal_created"], false);
        assert_eq!(sent.body["portal"]["status"], "active");
        let t = &sent.body["transfer"];
        assert_eq!(t["from_staff_id"], firm.owner_id);
        assert_eq!(t["client_id"], client);
        assert_eq!(t["delivery"], "secure");
        assert_eq!(t["files"][0]["signature_required"], false);
        assert_eq!(t["files"][1]["signature_required"], true);
        assert_eq!(t["files"][1]["signature_status"], "pending");

        let in_portal = app.get("/v1/portal/documents", &contact_token).await;
        assert_eq!(in_portal.body["data"].as_array().unwrap().len(), 2, "{}", in_portal.body);
        let conversation = app.get(&format!("/v1/portal/conversations/{}/messages", t["conversation_id"].as_str().unwrap()), &contact_token).await;
        assert_eq!(conversation.status, 200, "{}", conversation.body);
        assert_eq!(conversation.body["data"][0]["body"], "Please sign the power of attorney by Friday.");
        assert_eq!(conversation.body["data"][0]["attachments"].as_array().unwrap().len(), 2);
        let pending = app.get("/v1/portal/signature-requests?status=pending", &contact_token).await;
        assert_eq!(pending.body["data"][0]["id"], t["files"][1]["signature_request_id"]);

        let mails = smtp.wait_for(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.wait_for(1).await.len(), 1, "one email for the transfer: no separate message or signature emails");
        let text = mails[0].text();
        assert!(text.contains("Subject: Your 2026 tax return"), "{text}");
        assert!(text.contains("Vollmacht.pdf") && text.contains("asks for your signature"), "{text}");
        assert!(text.contains(&format!("/portal/conversations/{}", t["conversation_id"].as_str().unwrap())), "{text}");
        assert!(!text.contains("power of attorney by Friday"), "secure delivery keeps the message in the portal: {text}");
        assert_eq!(app.count("deliveries WHERE content LIKE '%by Friday%'"), 0, "nor does the outbox hold it");

        let download = app.get(&format!("/v1/portal/documents/{}/content", files[0]), &contact_token).await;
        assert_eq!(download.status, 200);
        let followed = app.get(&format!("/v1/file-transfers/{id}"), &firm.owner_token).await;
        assert!(followed.body["files"][0]["first_downloaded_at"].is_string(), "{}", followed.body);
        assert!(followed.body["files"][1]["first_downloaded_at"].is_null());
        let listed = app.get(&format!("/v1/file-transfers?contact_id={contact}"), &firm.owner_token).await;
        assert_eq!(listed.body["data"][0]["id"], id);
        assert_eq!(app.count("audit_events WHERE action = 'file_transfer.sent'"), 1);
        assert_eq!(app.count("outbox_events WHERE event_type = 'file_transfer.sent'"), 1);
        let shared_with_message = app.get(&format!("/v1/shares?document_id={}", files[0]), &firm.owner_token).await;
        let share = shared_with_message.body["data"][0]["id"].as_str().unwrap().to_owned();
        app.call(Method::POST, &format!("/v1/shares/{share}/end"), Some(&firm.owner_token), None).await.assert_problem(409, "shared_with_message");
    }

    async fn delivery_by_email_puts_the_message_in_the_email(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let (_, contact, files) = client_with_files(&app, &firm, "cora@client.test").await;
        app.contact_token(&firm, &contact, "cora@client.test").await;
        let sent = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "delivery": "email" }))).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        let text = smtp.wait_for(1).await[0].text();
        assert!(text.contains("Please sign the power of attorney by Friday."), "{text}");
        assert!(text.contains("Steuererkl"), "{text}");
    }

    async fn a_contact_without_a_portal_is_offered_three_choices_and_gets_a_welcome_email_with_the_files(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let (_, contact, files) = client_with_files(&app, &firm, "cora@client.test").await;
        let before = app.audit_count(&firm.id);

        let refused = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({}))).await;
        refused.assert_problem(409, "portal_required");
        assert_eq!(refused.body["choices"], json!(["existing", "full", "temporary"]));
        for table in ["file_transfers", "shares", "conversations", "portals", "signature_requests"] {
            assert_eq!(app.count(table), 0, "{table}: nothing was sent");
        }
        assert_eq!(app.audit_count(&firm.id), before);

        let past = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "portal": { "choice": "temporary", "expires_at": "2020-01-01T00:00:00Z" } }))).await;
        assert_eq!(past.body["errors"][0]["pointer"], "/portal/expires_at", "{}", past.body);
        let in_a_month = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let sent = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "portal": { "choice": "temporary", "expires_at": in_a_month } }))).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        assert_eq!(sent.body["portal_created"], true);
        assert_eq!(sent.body["portal"]["kind"], "temporary");
        assert_eq!(sent.body["portal"]["status"], "invited", "the contact registers first");
        assert_eq!(sent.body["portal"]["grants"].as_array().unwrap().len(), 1, "the portal shows the client");
        assert_eq!(emails_to(&app, "cora@client.test", "portal.invited"), 1, "the welcome email");
        assert_eq!(emails_to(&app, "cora@client.test", "file_transfer.sent"), 1, "and the one about the files");
        // Its content is dropped once delivered: read what the contact received instead.
        let mails = smtp.wait_for(2).await;
        let files_mail = mails.iter().map(|m| m.text()).find(|t| t.contains("separate email to register")).unwrap_or_default();
        assert!(files_mail.contains("register first, then open the files"), "{mails:?}");

        let again = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "portal": { "choice": "full" } }))).await;
        again.assert_problem(409, "portal_exists");
    }

    async fn an_existing_portal_found_for_the_contact_receives_the_files(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (client, contact, files) = client_with_files(&app, &firm, "cora@client.test").await;
        let twin = app.contact(&firm.owner_token, &client, "cora.private@client.test").await["id"].as_str().unwrap().to_owned();
        let twin_token = app.contact_token(&firm, &twin, "cora.private@client.test").await;
        let portal = app.get(&format!("/v1/portals?contact_id={twin}"), &firm.owner_token).await.body["data"][0]["id"].as_str().unwrap().to_owned();

        let sent = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "portal": { "choice": "existing", "portal_id": portal } }))).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        assert_eq!(sent.body["transfer"]["contact_id"], twin, "the portal's contact receives them");
        assert_eq!(app.get("/v1/portal/documents", &twin_token).await.body["data"].as_array().unwrap().len(), 2);
        app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "portal": { "choice": "existing", "portal_id": "prt_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b" } })))
            .await
            .assert_problem(422, "validation_failed");
    }

    async fn only_admins_send_as_a_colleague_and_the_sender_needs_the_portal_permission(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact, files) = client_with_files(&app, &firm, "cora@client.test").await;
        app.contact_token(&firm, &contact, "cora@client.test").await;
        let pia = app.staff_member(&firm, "member", "pia@harbor.test", true);
        let pia_token = app.token("harbor", "pia@harbor.test").await;
        let (plain, plain_token) = app.staff(&firm, "member", "max@harbor.test").await;

        app.post("/v1/file-transfers", &plain_token, &transfer(&contact, &files, json!({}))).await.assert_problem(403, "forbidden");
        app.post("/v1/file-transfers", &pia_token, &transfer(&contact, &files, json!({ "from_staff_id": firm.owner_id }))).await.assert_problem(403, "forbidden");
        app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "from_staff_id": plain }))).await.assert_problem(403, "forbidden");
        assert_eq!(app.count("file_transfers"), 0);

        let sent = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "from_staff_id": pia }))).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        assert_eq!(sent.body["transfer"]["from_staff_id"], pia);
        assert_eq!(sent.body["transfer"]["sent_by"], firm.owner_id);
        let thread = app.get(&format!("/v1/conversations/{}/messages", sent.body["transfer"]["conversation_id"].as_str().unwrap()), &firm.owner_token).await;
        assert_eq!(thread.body["data"][0]["author"]["id"], pia, "{}", thread.body);
    }

    async fn bad_transfers_are_refused_where_they_are_wrong_and_send_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact, files) = client_with_files(&app, &firm, "cora@client.test").await;
        app.contact_token(&firm, &contact, "cora@client.test").await;
        let other_client = app.client(&firm.owner_token, "Grace Hopper").await["id"].as_str().unwrap().to_owned();
        let elsewhere = upload(&app, &firm.owner_token, &other_client, "other.pdf").await;

        let empty = app.post("/v1/file-transfers", &firm.owner_token, &json!({ "contact_id": contact, "subject": " ", "message": "", "files": [] })).await;
        empty.assert_problem(422, "validation_failed");
        let pointers: Vec<&str> = empty.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, vec!["/subject", "/message", "/files"]);
        let unknown = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &[files[0].clone(), "doc_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b".to_owned()], json!({}))).await;
        assert_eq!(unknown.body["errors"][0]["pointer"], "/files/1/document_id", "{}", unknown.body);
        let mixed = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &[files[0].clone(), elsewhere], json!({}))).await;
        assert_eq!(mixed.body["errors"][0]["code"], "mixed_places", "{}", mixed.body);
        let wrong_type = app.post("/v1/file-transfers", &firm.owner_token, &transfer(&contact, &files, json!({ "delivery": "fax" }))).await;
        assert_eq!(wrong_type.status, 422, "{}", wrong_type.body);
        for table in ["file_transfers", "conversations", "signature_requests"] {
            assert_eq!(app.count(table), 0, "{table}");
        }
    }
}
