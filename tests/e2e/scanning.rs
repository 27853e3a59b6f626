//! Malware scanning against a real clamd whose signatures the tests write (the EICAR test
//! file): every upload waits, `pending`, until the scanner has judged it; an infected one is
//! quarantined for good; a scanner that is down delays downloads, never loses a document.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use vestibule_clamd::testing::{EICAR, MAX_STREAM_BYTES, TestClamd};
use vestibule_storage::schema::scan_jobs;

use crate::on_both_backends;
use crate::support::fixtures::Firm;
use crate::support::receiver::Receiver;
use crate::support::{Reply, TestApp, multipart};

const CONTACT_EMAIL: &str = "ada@client.test";

async fn scanning_app(backend: crate::support::Backend, clamd: &TestClamd, max_stream_bytes: u64) -> TestApp {
    let address = clamd.address_setting();
    let max = max_stream_bytes.to_string();
    let settings = [
        ("SCANNER", "clamd"),
        ("CLAMD_ADDRESS", address.as_str()),
        ("CLAMD_MAX_STREAM_BYTES", max.as_str()),
        ("SCAN_POLL_MS", "50"),
    ];
    TestApp::spawn_with(backend, &settings).await
}

/// A client assigned to the owner (so the firm's policy tells them of uploads and alerts).
async fn client_of(app: &TestApp, firm: &Firm) -> String {
    let body = json!({ "kind": "person", "name": "Ada Lovelace", "assignee_staff_ids": [firm.owner_id] });
    let client = app.post("/v1/clients", &firm.owner_token, &body).await;
    assert_eq!(client.status, 201, "{}", client.body);
    client.id()
}

async fn staff_upload(app: &TestApp, token: &str, client_id: &str, name: &str, bytes: &[u8]) -> Reply {
    let path = format!("/v1/documents?client_id={client_id}&name={name}&visible_to_client=true");
    app.send_raw(Method::POST, &path, token, "application/octet-stream", bytes.to_vec()).await
}

/// Polls the document until the scanner has moved it past `pending`.
async fn judged(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..400 {
        let document = app.get(&format!("/v1/documents/{id}"), token).await;
        assert_eq!(document.status, 200, "{}", document.body);
        if document.body["scan_status"] != "pending" {
            return document.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("document {id} still pending after 10 s");
}

async fn download(app: &TestApp, path: &str, token: &str) -> Reply {
    app.get(path, token).await
}

on_both_backends! {
    async fn an_eicar_upload_through_an_access_link_is_quarantined_and_never_downloadable(backend) {
        let app = scanning_app(backend, TestClamd::shared(), MAX_STREAM_BYTES).await;
        let firm = app.firm("harbor").await;
        let client = client_of(&app, &firm).await;
        let hook = Receiver::start().await;
        let types = ["document.infected", "document.scanned"];
        let endpoint = app.post("/v1/webhook-endpoints", &firm.owner_token, &json!({ "url": hook.url, "event_types": types })).await;
        assert_eq!(endpoint.status, 201, "{}", endpoint.body);
        let created = app.post("/v1/access-links", &firm.owner_token, &json!({ "client_id": client, "kind": "upload" })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let token = created.body["access_link"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let code = created.body["security_code"].as_str().unwrap().to_owned();
        let opened = app.call(Method::POST, &format!("/v1/links/{token}/sessions"), None, Some(&json!({ "code": code }))).await;
        assert_eq!(opened.status, 201, "{}", opened.body);
        let session = opened.body["token"].as_str().unwrap().to_owned();

        let (content_type, body) = multipart(&[("invoice.pdf", EICAR), ("ledger.txt", b"Opening balance 1,200.00")]);
        let uploaded = app.send_raw(Method::POST, "/v1/link/documents", &session, &content_type, body).await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.body);
        let ids: Vec<String> = uploaded.body["uploaded"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
        assert!(uploaded.body["uploaded"].as_array().unwrap().iter().all(|d| d["scan_status"] == "pending"), "{}", uploaded.body);
        let (infected, clean) = (&ids[0], &ids[1]);

        let quarantined = judged(&app, &firm.owner_token, infected).await;
        assert_eq!(quarantined["scan_status"], "infected");
        assert!(quarantined["scan_threat"].as_str().unwrap().starts_with("Eicar-Test-Signature"), "{quarantined}");
        assert!(!quarantined["scanned_at"].is_null());
        assert_eq!(judged(&app, &firm.owner_token, clean).await["scan_status"], "clean");

        download(&app, &format!("/v1/documents/{infected}/content"), &firm.owner_token).await.assert_problem(409, "document_quarantined");
        let ok = download(&app, &format!("/v1/documents/{clean}/content"), &firm.owner_token).await;
        assert_eq!(ok.status, 200);

        // Shown to the client, the quarantined file still reaches no one outside the firm.
        let shown = app.post("/v1/documents/visibility", &firm.owner_token, &json!({ "document_ids": ids, "visible_to_client": true })).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        let download_link = app.post("/v1/access-links", &firm.owner_token, &json!({ "client_id": client, "kind": "download" })).await;
        let dl_token = download_link.body["access_link"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let dl_code = download_link.body["security_code"].as_str().unwrap().to_owned();
        let dl = app.call(Method::POST, &format!("/v1/links/{dl_token}/sessions"), None, Some(&json!({ "code": dl_code }))).await;
        let dl_session = dl.body["token"].as_str().unwrap().to_owned();
        let listed = app.get("/v1/link/documents", &dl_session).await;
        let names: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["ledger.txt"], "{}", listed.body);
        download(&app, &format!("/v1/link/documents/{infected}/content"), &dl_session).await.assert_problem(404, "not_found");
        let contact = app.contact(&firm.owner_token, &client, CONTACT_EMAIL).await;
        let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), CONTACT_EMAIL).await;
        let portal = app.get("/v1/portal/documents", &contact_token).await;
        assert_eq!(portal.body["data"].as_array().unwrap().len(), 1, "{}", portal.body);
        app.get(&format!("/v1/portal/documents/{infected}"), &contact_token).await.assert_problem(404, "not_found");
        let archive = crate::support::open(app.http.get(app.url(&format!("/v1/documents/archive?client_id={client}"))).bearer_auth(&firm.owner_token)).await;
        assert_eq!(archive.status(), 200);
        let zip = archive.bytes().await.unwrap();
        assert!(!zip.windows(11).any(|w| w == b"invoice.pdf"), "Download All leaves the quarantined file out");
        assert!(zip.windows(10).any(|w| w == b"ledger.txt"));
        let share = app.post("/v1/documents/share", &firm.owner_token, &json!({ "document_ids": [infected], "contact_id": contact["id"] })).await;
        share.assert_problem(409, "document_quarantined");

        // The quarantine, for admins to see and delete; the alert, to the client's staff.
        let listed = app.get("/v1/documents?scan_status=infected", &firm.owner_token).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 1, "{}", listed.body);
        let notices = app.get("/v1/notifications", &firm.owner_token).await;
        assert!(notices.body["data"].as_array().unwrap().iter().any(|n| n["kind"] == "document_quarantined" && n["subject_id"] == infected.as_str()), "{}", notices.body);
        let alerts = "deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE e.event_type = 'document.infected' AND d.channel = 'email'";
        assert_eq!(app.count(alerts), 1, "the owner, assigned to the client, is emailed");
        let events = hook.wait_for(2).await;
        let infected_event = events.iter().map(|e| e.json()).find(|e| e["type"] == "document.infected").expect("document.infected");
        assert_eq!(infected_event["data"]["id"], infected.as_str());
        assert!(infected_event["data"]["threat"].as_str().unwrap().starts_with("Eicar-Test-Signature"));
        let (_, member_token) = app.staff(&firm, "member", "member@harbor.test").await;
        app.delete(&format!("/v1/documents/{infected}"), &member_token).await.assert_problem(403, "forbidden");
        assert_eq!(app.delete(&format!("/v1/documents/{infected}"), &firm.owner_token).await.status, 204);
        app.get(&format!("/v1/documents/{infected}"), &firm.owner_token).await.assert_problem(404, "not_found");
    }

    async fn a_clean_upload_is_pending_until_scanned_then_downloads(backend) {
        let app = scanning_app(backend, TestClamd::shared(), MAX_STREAM_BYTES).await;
        let firm = app.firm("harbor").await;
        let client = client_of(&app, &firm).await;
        let uploaded = staff_upload(&app, &firm.owner_token, &client, "engagement.txt", b"Engagement letter, signed.").await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.body);
        assert_eq!(uploaded.body["scan_status"], "pending");
        let id = uploaded.id();
        let scanned = judged(&app, &firm.owner_token, &id).await;
        assert_eq!(scanned["scan_status"], "clean");
        assert!(scanned["scan_threat"].is_null());
        let content = crate::support::open(app.http.get(app.url(&format!("/v1/documents/{id}/content"))).bearer_auth(&firm.owner_token)).await;
        assert_eq!(content.bytes().await.unwrap().as_ref(), b"Engagement letter, signed.");
        let audit = app.get(&format!("/v1/audit-events?target_id={id}"), &firm.owner_token).await;
        assert!(audit.body["data"].as_array().unwrap().iter().any(|e| e["action"] == "document.scanned"), "{}", audit.body);
    }

    async fn a_stopped_clamd_leaves_documents_pending_until_it_returns(backend) {
        let clamd = TestClamd::start();
        let app = scanning_app(backend, &clamd, MAX_STREAM_BYTES).await;
        let firm = app.firm("harbor").await;
        let client = client_of(&app, &firm).await;
        let contact = app.contact(&firm.owner_token, &client, CONTACT_EMAIL).await;
        let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), CONTACT_EMAIL).await;
        clamd.stop();

        let uploaded = staff_upload(&app, &firm.owner_token, &client, "statement.txt", b"Statement of account").await;
        let id = uploaded.id();
        for _ in 0..200 {
            let attempts: i32 = scan_jobs::table.find(&id).select(scan_jobs::attempts).first(&mut app.conn()).unwrap();
            if attempts > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let document = app.get(&format!("/v1/documents/{id}"), &firm.owner_token).await;
        assert_eq!(document.body["scan_status"], "pending", "a scanner outage judges nothing");
        download(&app, &format!("/v1/documents/{id}/content"), &firm.owner_token).await.assert_problem(409, "scan_pending");
        let portal = app.get("/v1/portal/documents", &contact_token).await;
        assert_eq!(portal.body["data"][0]["scan_status"], "pending", "the client sees it coming");
        download(&app, &format!("/v1/portal/documents/{id}/content"), &contact_token).await.assert_problem(409, "scan_pending");
        let error: Option<String> = scan_jobs::table.find(&id).select(scan_jobs::last_error).first(&mut app.conn()).unwrap();
        assert!(error.is_some());

        clamd.resume();
        // The job waits out its back-off (5 s after the first failure); bring it forward.
        diesel::update(scan_jobs::table.find(&id)).set(scan_jobs::next_attempt_at.eq(vestibule_storage::now())).execute(&mut app.conn()).unwrap();
        assert_eq!(judged(&app, &firm.owner_token, &id).await["scan_status"], "clean");
        let content = download(&app, &format!("/v1/portal/documents/{id}/content"), &contact_token).await;
        assert_eq!(content.status, 200);
        assert_eq!(app.count("scan_jobs"), 0);
    }

    async fn a_file_too_large_for_the_scanner_fails_and_admins_can_have_it_scanned_again(backend) {
        let app = scanning_app(backend, TestClamd::shared(), 16).await;
        let firm = app.firm("harbor").await;
        let client = client_of(&app, &firm).await;
        let contact = app.contact(&firm.owner_token, &client, CONTACT_EMAIL).await;
        let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), CONTACT_EMAIL).await;
        let uploaded = staff_upload(&app, &firm.owner_token, &client, "archive.txt", b"more than sixteen bytes of text").await;
        let id = uploaded.id();
        let failed = judged(&app, &firm.owner_token, &id).await;
        assert_eq!(failed["scan_status"], "failed");
        assert!(failed["scan_threat"].as_str().unwrap().contains("larger than the scanner accepts"), "{failed}");
        download(&app, &format!("/v1/documents/{id}/content"), &firm.owner_token).await.assert_problem(409, "scan_failed");
        assert_eq!(app.get("/v1/portal/documents", &contact_token).await.body["data"], json!([]));

        let (_, member_token) = app.staff(&firm, "member", "member@harbor.test").await;
        app.post(&format!("/v1/documents/{id}/rescan"), &member_token, &json!({})).await.assert_problem(403, "forbidden");
        let before = app.audit_count(&firm.id);
        let again = app.post(&format!("/v1/documents/{id}/rescan"), &firm.owner_token, &json!({})).await;
        assert_eq!(again.status, 202, "{}", again.body);
        assert_eq!(again.body["scan_status"], "pending");
        assert!(app.audit_count(&firm.id) > before);
        assert_eq!(judged(&app, &firm.owner_token, &id).await["scan_status"], "failed", "still too large");
    }

    async fn without_a_scanner_uploads_are_unscanned_and_download_at_once(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = client_of(&app, &firm).await;
        let uploaded = staff_upload(&app, &firm.owner_token, &client, "note.txt", EICAR).await;
        assert_eq!(uploaded.body["scan_status"], "unscanned");
        assert_eq!(download(&app, &format!("/v1/documents/{}/content", uploaded.id()), &firm.owner_token).await.status, 200);
        app.post(&format!("/v1/documents/{}/rescan", uploaded.id()), &firm.owner_token, &json!({})).await.assert_problem(409, "scanning_disabled");
        assert_eq!(app.count("scan_jobs"), 0);
    }
}
