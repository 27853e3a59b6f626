//! Sharing documents to a contact's portal (seed 003), with and without a message.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::fixtures::Firm;
use crate::support::{Reply, TestApp};

struct World {
    firm: Firm,
    client_id: String,
    matter_id: String,
    contact_id: String,
    contact_token: String,
}

async fn world(app: &TestApp) -> World {
    let firm = app.firm("harbor").await;
    let client = app.client(&firm.owner_token, "Ada Lovelace").await;
    let client_id = client["id"].as_str().unwrap().to_owned();
    let matter = app.matter(&firm.owner_token, &client_id, false).await;
    let contact = app.contact(&firm.owner_token, &client_id, "cora@client.test").await;
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let contact_token = app.contact_token(&firm, &contact_id, "cora@client.test").await;
    World { firm, client_id, matter_id: matter["id"].as_str().unwrap().to_owned(), contact_id, contact_token }
}

async fn upload(app: &TestApp, token: &str, place: &str, name: &str) -> String {
    let reply = app
        .send_raw(
            Method::POST,
            &format!("/v1/documents?{place}&name={name}"),
            token,
            "application/octet-stream",
            name.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

fn portal_ids(reply: &Reply) -> Vec<String> {
    reply.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect()
}

on_both_backends! {
    async fn a_share_without_a_message_shows_the_documents_until_it_is_ended(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let folder = app.post("/v1/folders", &w.firm.owner_token, &json!({ "matter_id": w.matter_id, "name": "Für Sie" })).await;
        let a = upload(&app, &w.firm.owner_token, &format!("matter_id={}", w.matter_id), "a.txt").await;
        let b = upload(&app, &w.firm.owner_token, &format!("matter_id={}", w.matter_id), "b.txt").await;
        assert_eq!(app.get("/v1/portal/documents", &w.contact_token).await.body["data"], json!([]), "hidden until shared");

        let shared = app.post("/v1/documents/share", &w.firm.owner_token, &json!({ "document_ids": [a, b], "contact_id": w.contact_id, "folder_id": folder.id() })).await;
        assert_eq!(shared.status, 201, "{}", shared.body);
        assert_eq!(shared.body["shares"].as_array().unwrap().len(), 2);
        assert_eq!(shared.body["shares"][0]["folder_id"], folder.id());
        assert!(shared.body["message"].is_null());
        assert_eq!(portal_ids(&app.get("/v1/portal/documents", &w.contact_token).await), vec![a.clone(), b.clone()]);
        assert_eq!(app.count("deliveries WHERE channel = 'email' AND recipient = 'cora@client.test'"), 1, "one email for the whole share");

        let listed = app.get(&format!("/v1/shares?matter_id={}&active=true", w.matter_id), &w.firm.owner_token).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(listed.body["data"][0]["shared_by"], w.firm.owner_id);
        let share_a = shared.body["shares"][0]["id"].as_str().unwrap().to_owned();
        let ended = app.call(Method::POST, &format!("/v1/shares/{share_a}/end"), Some(&w.firm.owner_token), None).await;
        assert_eq!(ended.status, 200, "{}", ended.body);
        assert!(ended.body["ended_at"].is_string());
        assert_eq!(portal_ids(&app.get("/v1/portal/documents", &w.contact_token).await), vec![b.clone()]);
        app.get(&format!("/v1/portal/documents/{a}"), &w.contact_token).await.assert_problem(404, "not_found");
        let again = app.call(Method::POST, &format!("/v1/shares/{share_a}/end"), Some(&w.firm.owner_token), None).await;
        assert_eq!(again.body["ended_at"], ended.body["ended_at"], "ending twice changes nothing");
        assert_eq!(app.get(&format!("/v1/shares?document_id={a}&active=false"), &w.firm.owner_token).await.body["data"].as_array().unwrap().len(), 1);
    }

    async fn a_share_with_a_message_attaches_the_documents_and_cannot_be_ended(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let doc = upload(&app, &w.firm.owner_token, &format!("client_id={}", w.client_id), "Vertrag.txt").await;
        let body = json!({ "document_ids": [doc], "contact_id": w.contact_id, "message": { "body": "Please sign the attached contract.", "channel": "Verträge" } });
        let shared = app.post("/v1/documents/share", &w.firm.owner_token, &body).await;
        assert_eq!(shared.status, 201, "{}", shared.body);
        assert_eq!(shared.body["message"]["attachments"][0]["document_id"], doc);
        assert_eq!(shared.body["message"]["attachments"][0]["name"], "Vertrag.txt");

        let inbox = app.get("/v1/portal/conversations?channel=Verträge", &w.contact_token).await;
        assert_eq!(inbox.body["data"][0]["subject"], "Documents");
        assert_eq!(inbox.body["data"][0]["last_message"]["attachments"][0]["document_id"], doc);
        let download = crate::support::open(app.http.get(app.url(&format!("/v1/portal/documents/{doc}/content"))).bearer_auth(&w.contact_token)).await;
        assert_eq!(download.status(), 200);
        assert_eq!(download.bytes().await.unwrap(), b"Vertrag.txt".as_slice());

        let share = shared.body["shares"][0]["id"].as_str().unwrap();
        app.call(Method::POST, &format!("/v1/shares/{share}/end"), Some(&w.firm.owner_token), None).await.assert_problem(409, "shared_with_message");
        assert_eq!(app.count("deliveries WHERE channel = 'email' AND recipient = 'cora@client.test'"), 1, "the message's email, not a second one");

        let conversation = inbox.body["data"][0]["id"].as_str().unwrap();
        let follow_up = json!({ "document_ids": [doc], "contact_id": w.contact_id, "message": { "body": "Reminder.", "conversation_id": conversation } });
        let again = app.post("/v1/documents/share", &w.firm.owner_token, &follow_up).await;
        assert_eq!(again.status, 201, "{}", again.body);
        assert_eq!(again.body["message"]["conversation_id"], conversation, "into the existing conversation");
    }

    async fn sharing_needs_the_portal_permission_a_role_on_the_matter_and_an_active_portal(backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let (member, member_token) = app.staff(&w.firm, "member", "mia@harbor.test").await;
        let doc = upload(&app, &w.firm.owner_token, &format!("matter_id={}", w.matter_id), "m.txt").await;
        let body = json!({ "document_ids": [doc], "contact_id": w.contact_id });
        app.post("/v1/documents/share", &member_token, &body).await.assert_problem(403, "forbidden");
        let granted = app.patch(&format!("/v1/staff/{member}"), &w.firm.owner_token, &json!({ "portal_permission": true })).await;
        assert_eq!(granted.status, 200, "{}", granted.body);
        let member_token = app.token(&w.firm.slug, "mia@harbor.test").await;
        app.post("/v1/documents/share", &member_token, &body).await.assert_problem(403, "forbidden");
        let joined = app.put(&format!("/v1/matters/{}/members/{member}", w.matter_id), &w.firm.owner_token, &json!({ "role": "assistant" })).await;
        assert!(joined.status.is_success(), "{}", joined.body);
        assert_eq!(app.post("/v1/documents/share", &member_token, &body).await.status, 201, "an assistant of the matter may share");

        let loose = upload(&app, &w.firm.owner_token, &format!("client_id={}", w.client_id), "c.txt").await;
        let mixed = app.post("/v1/documents/share", &w.firm.owner_token, &json!({ "document_ids": [doc, loose], "contact_id": w.contact_id })).await;
        assert_eq!(mixed.body["errors"][0]["code"], "mixed_places", "{}", mixed.body);
        let stranger = app.contact(&w.firm.owner_token, &w.client_id, "sam@client.test").await;
        let refused = app.post("/v1/documents/share", &w.firm.owner_token, &json!({ "document_ids": [loose], "contact_id": stranger["id"] })).await;
        refused.assert_problem(409, "portal_required");
        assert_eq!(app.count("shares"), 1);
    }
}
