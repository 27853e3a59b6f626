//! Signature-required documents (seed 000): asked by staff, signed or declined in the portal.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn a_signed_document_records_the_signature_and_can_no_longer_change(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await;
        let contact_id = contact["id"].as_str().unwrap();
        let contact_token = app.contact_token(&firm, contact_id, "cora@client.test").await;
        let up = app.send_raw(Method::POST, &format!("/v1/documents?client_id={client}&name=Vollmacht.txt"), &firm.owner_token, "text/plain", b"I hereby authorise".to_vec()).await;
        let doc = up.id();

        let asked = app.post(&format!("/v1/documents/{doc}/signature-requests"), &firm.owner_token, &json!({ "contact_id": contact_id })).await;
        assert_eq!(asked.status, 201, "{}", asked.body);
        assert_eq!(asked.body["status"], "pending");
        let request = asked.id();
        app.post(&format!("/v1/documents/{doc}/signature-requests"), &firm.owner_token, &json!({ "contact_id": contact_id })).await.assert_problem(409, "signature_pending");
        let portal_docs = app.get("/v1/portal/documents", &contact_token).await;
        assert_eq!(portal_docs.body["data"][0]["id"], doc, "asking shares the document with the signer");
        assert_eq!(app.count("deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE e.event_type = 'signature.requested' AND d.channel = 'email'"), 1);
        let pending = app.get("/v1/portal/signature-requests?status=pending", &contact_token).await;
        assert_eq!(pending.body["data"][0]["id"], request);

        let no_consent = app.post(&format!("/v1/portal/signature-requests/{request}/sign"), &contact_token, &json!({ "typed_name": "Cora Contact", "consent": false })).await;
        assert_eq!(no_consent.body["errors"][0]["code"], "consent_required", "{}", no_consent.body);
        let signed = app.call_with(Method::POST, &format!("/v1/portal/signature-requests/{request}/sign"), Some(&contact_token), Some(&json!({ "typed_name": "Cora Contact", "consent": true })), &[("User-Agent", "SignerBrowser/1.0")]).await;
        assert_eq!(signed.status, 200, "{}", signed.body);
        assert_eq!(signed.body["status"], "signed");
        assert_eq!(signed.body["signed_name"], "Cora Contact");
        assert_eq!(signed.body["document_sha256"], up.body["sha256"]);
        assert_eq!(signed.body["ip"], "127.0.0.1");
        assert_eq!(signed.body["user_agent"], "SignerBrowser/1.0");
        assert!(signed.body["decided_at"].is_string());
        app.post(&format!("/v1/portal/signature-requests/{request}/decline"), &contact_token, &json!({})).await.assert_problem(409, "signature_decided");

        let staff_view = app.get(&format!("/v1/documents/{doc}/signature-requests"), &firm.owner_token).await;
        assert_eq!(staff_view.body[0]["status"], "signed");
        app.patch(&format!("/v1/documents/{doc}"), &firm.owner_token, &json!({ "name": "other.txt" })).await.assert_problem(409, "document_signed");
        app.delete(&format!("/v1/documents/{doc}"), &firm.owner_token).await.assert_problem(409, "document_signed");
        assert_eq!(app.count("audit_events WHERE action = 'signature.signed'"), 1);
        assert_eq!(app.count("outbox_events WHERE event_type = 'signature.signed'"), 1);
    }

    async fn a_contact_declines_and_nobody_else_can_answer(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await;
        let contact_id = contact["id"].as_str().unwrap();
        let contact_token = app.contact_token(&firm, contact_id, "cora@client.test").await;
        let other = app.contact(&firm.owner_token, &client, "otto@client.test").await;
        let other_token = app.contact_token(&firm, other["id"].as_str().unwrap(), "otto@client.test").await;
        let doc = app.send_raw(Method::POST, &format!("/v1/documents?client_id={client}&name=x.txt"), &firm.owner_token, "text/plain", b"x".to_vec()).await.id();
        let request = app.post(&format!("/v1/documents/{doc}/signature-requests"), &firm.owner_token, &json!({ "contact_id": contact_id })).await.id();

        app.post(&format!("/v1/portal/signature-requests/{request}/sign"), &other_token, &json!({ "typed_name": "Otto", "consent": true })).await.assert_problem(404, "not_found");
        let declined = app.post(&format!("/v1/portal/signature-requests/{request}/decline"), &contact_token, &json!({ "reason": "Wrong amount" })).await;
        assert_eq!(declined.status, 200, "{}", declined.body);
        assert_eq!(declined.body["status"], "declined");
        assert_eq!(declined.body["decline_reason"], "Wrong amount");
        assert!(declined.body["document_sha256"].is_null());
        let renamed = app.patch(&format!("/v1/documents/{doc}"), &firm.owner_token, &json!({ "name": "y.txt" })).await;
        assert_eq!(renamed.status, 200, "a declined document can still change");
    }
}
