//! Certificates of completion of signature requests: a PDF and a JSON document that name the
//! signed document's hash, the same bytes on every download, for staff and for the signer,
//! and checkable against the audit chain by `vestibule admin verify-certificate`.

use reqwest::Method;
use serde_json::{Value, json};
use vestibule_app::certificates::{self, Verification};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::fixtures::Firm;

struct Asked {
    firm: Firm,
    contact_token: String,
    document_id: String,
    document_sha256: String,
    request_id: String,
}

/// A firm that asked Cora to sign `Vollmacht.txt`.
async fn asked(app: &TestApp) -> Asked {
    let firm = app.firm("harbor").await;
    let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
    let contact = app.contact(&firm.owner_token, &client, "cora@client.test").await;
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let contact_token = app.contact_token(&firm, &contact_id, "cora@client.test").await;
    let up = app
        .send_raw(
            Method::POST,
            &format!("/v1/documents?client_id={client}&name=Vollmacht.txt"),
            &firm.owner_token,
            "text/plain",
            b"I hereby authorise".to_vec(),
        )
        .await;
    let request = app
        .post(
            &format!("/v1/documents/{}/signature-requests", up.id()),
            &firm.owner_token,
            &json!({ "contact_id": contact_id }),
        )
        .await;
    assert_eq!(request.status, 201, "{}", request.body);
    Asked {
        document_id: up.id(),
        document_sha256: up.body["sha256"].as_str().unwrap().to_owned(),
        request_id: request.id(),
        firm,
        contact_token,
    }
}

/// A raw GET, for a PDF.
async fn bytes(app: &TestApp, path: &str, token: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = crate::support::open(app.http.get(app.url(path)).bearer_auth(token)).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, content_type, response.bytes().await.unwrap().to_vec())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

on_both_backends! {
    async fn a_signed_document_has_a_certificate_that_names_its_hash_and_verifies(backend) {
        let app = TestApp::spawn(backend).await;
        let Asked { firm, contact_token, document_id, document_sha256, request_id } = asked(&app).await;
        let viewed = bytes(&app, &format!("/v1/portal/documents/{document_id}/content"), &contact_token).await;
        assert_eq!(viewed.0, 200);
        let signed = app.call_with(Method::POST, &format!("/v1/portal/signature-requests/{request_id}/sign"), Some(&contact_token), Some(&json!({ "typed_name": "Cora Contact", "consent": true })), &[("User-Agent", "SignerBrowser/1.0")]).await;
        assert_eq!(signed.status, 200, "{}", signed.body);
        assert_eq!(app.count("audit_events WHERE action = 'signature.certificate_issued'"), 1, "issued once, when signed");

        let (status, content_type, pdf) = bytes(&app, &format!("/v1/signature-requests/{request_id}/certificate.pdf"), &firm.owner_token).await;
        assert_eq!(status, 200);
        assert_eq!(content_type.as_deref(), Some("application/pdf"));
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(contains(&pdf, &document_sha256), "the PDF names the document's hash");
        assert!(contains(&pdf, "Cora Contact") && contains(&pdf, "Vollmacht.txt") && contains(&pdf, "SignerBrowser/1.0"));
        let again = bytes(&app, &format!("/v1/signature-requests/{request_id}/certificate.pdf"), &firm.owner_token).await.2;
        assert_eq!(again, pdf, "the same certificate on every download");
        let (_, _, signers_pdf) = bytes(&app, &format!("/v1/portal/signature-requests/{request_id}/certificate.pdf"), &contact_token).await;
        assert_eq!(signers_pdf, pdf, "the signer downloads the same certificate");

        let certificate = app.get(&format!("/v1/signature-requests/{request_id}/certificate"), &firm.owner_token).await;
        assert_eq!(certificate.status, 200, "{}", certificate.body);
        let body = &certificate.body;
        assert_eq!(body["status"], "signed");
        assert_eq!(body["document"]["sha256"], document_sha256.as_str());
        assert_eq!(body["document"]["name"], "Vollmacht.txt");
        assert_eq!(body["signer"]["email"], "cora@client.test");
        assert_eq!(body["typed_signature"], "Cora Contact");
        assert_eq!(body["consent_text"], signed.body["consent_text"]);
        assert_eq!(body["ip"], "127.0.0.1");
        assert_eq!(body["user_agent"], "SignerBrowser/1.0");
        assert_eq!(body["firm"]["name"], "harbor LLP");
        let steps: Vec<&str> = body["history"].as_array().unwrap().iter().map(|h| h["step"].as_str().unwrap()).collect();
        assert_eq!(steps, ["asked", "viewed", "signed"]);
        let audit = app.get("/v1/audit-events?limit=200", &firm.owner_token).await;
        for step in body["history"].as_array().unwrap() {
            let event = audit.body["data"].as_array().unwrap().iter().find(|e| e["id"] == step["audit_event_id"]);
            assert!(event.is_some(), "history names audit event {}", step["audit_event_id"]);
        }
        let portal_json = app.get(&format!("/v1/portal/signature-requests/{request_id}/certificate"), &contact_token).await;
        assert_eq!(&portal_json.body, body);
        let json_bytes = bytes(&app, &format!("/v1/signature-requests/{request_id}/certificate"), &firm.owner_token).await.2;

        let Verification::Certified(found) = certificates::verify(&mut app.conn(), &pdf).unwrap() else { panic!("the PDF verifies") };
        assert_eq!((found.form, found.event.firm_id.as_str()), ("pdf", firm.id.as_str()));
        assert_eq!(found.details["document_sha256"], document_sha256.as_str());
        let Verification::Certified(found) = certificates::verify(&mut app.conn(), &json_bytes).unwrap() else { panic!("the JSON verifies") };
        assert_eq!(found.form, "json");
        let mut altered = pdf.clone();
        let at = altered.windows(12).position(|w| w == b"Cora Contact").unwrap();
        altered[at] = b'D';
        assert!(matches!(certificates::verify(&mut app.conn(), &altered).unwrap(), Verification::Unknown { .. }), "an altered file is unknown");

        let event_id = found.event.id.clone();
        diesel::RunQueryDsl::execute(diesel::sql_query(format!("UPDATE audit_events SET details = replace(details, 'cora', 'mallory') WHERE id = '{event_id}'")), &mut *app.conn()).unwrap();
        assert!(matches!(certificates::verify(&mut app.conn(), &pdf).unwrap(), Verification::Broken { .. }), "a rewritten chain fails");
    }

    async fn nobody_else_gets_the_certificate(backend) {
        let app = TestApp::spawn(backend).await;
        let Asked { firm, contact_token, request_id, .. } = asked(&app).await;
        app.post(&format!("/v1/portal/signature-requests/{request_id}/sign"), &contact_token, &json!({ "typed_name": "Cora Contact", "consent": true })).await;
        let other = app.firm("elsewhere").await;
        app.get(&format!("/v1/signature-requests/{request_id}/certificate"), &other.owner_token).await.assert_problem(404, "not_found");
        let (status, _, _) = bytes(&app, &format!("/v1/signature-requests/{request_id}/certificate.pdf"), &other.owner_token).await;
        assert_eq!(status, 404);
        let client = app.client(&firm.owner_token, "Bob").await["id"].as_str().unwrap().to_owned();
        let otto = app.contact(&firm.owner_token, &client, "otto@client.test").await;
        let otto_token = app.contact_token(&firm, otto["id"].as_str().unwrap(), "otto@client.test").await;
        app.get(&format!("/v1/portal/signature-requests/{request_id}/certificate"), &otto_token).await.assert_problem(404, "not_found");
        app.get(&format!("/v1/signature-requests/{request_id}/certificate"), &contact_token).await.assert_problem(403, "forbidden");
    }

    async fn a_pending_request_has_no_certificate_and_a_declined_one_certifies_the_refusal(backend) {
        let app = TestApp::spawn(backend).await;
        let Asked { firm, contact_token, request_id, .. } = asked(&app).await;
        let audited = app.audit_count(&firm.id);
        app.get(&format!("/v1/signature-requests/{request_id}/certificate"), &firm.owner_token).await.assert_problem(409, "signature_not_answered");
        app.get(&format!("/v1/portal/signature-requests/{request_id}/certificate"), &contact_token).await.assert_problem(409, "signature_not_answered");
        let (status, _, _) = bytes(&app, &format!("/v1/signature-requests/{request_id}/certificate.pdf"), &firm.owner_token).await;
        assert_eq!(status, 409);
        assert_eq!(app.audit_count(&firm.id), audited, "nothing changed");
        assert_eq!(app.count("signature_certificates"), 0);

        app.post(&format!("/v1/portal/signature-requests/{request_id}/decline"), &contact_token, &json!({ "reason": "Wrong amount" })).await;
        let certificate = app.get(&format!("/v1/portal/signature-requests/{request_id}/certificate"), &contact_token).await;
        assert_eq!(certificate.status, 200, "{}", certificate.body);
        assert_eq!(certificate.body["status"], "declined");
        assert_eq!(certificate.body["decline_reason"], "Wrong amount");
        assert_eq!(certificate.body["typed_signature"], Value::Null);
        let steps: Vec<&str> = certificate.body["history"].as_array().unwrap().iter().map(|h| h["step"].as_str().unwrap()).collect();
        assert_eq!(steps, ["asked", "declined"]);
    }
}
