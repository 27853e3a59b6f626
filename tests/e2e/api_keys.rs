use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn an_api_key_can_do_what_its_scopes_allow_and_nothing_else(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let (key_id, secret) = app.api_key(&firm.owner_token, &["clients:read"]).await;
        assert!(secret.starts_with("vsk_"));
        let listed = app.get("/v1/clients", &secret).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
        app.post("/v1/clients", &secret, &json!({ "kind": "person", "name": "X" })).await.assert_problem(403, "forbidden");
        app.get("/v1/matters", &secret).await.assert_problem(403, "forbidden");
        app.get("/v1/api-keys", &secret).await.assert_problem(403, "forbidden");
        app.post("/v1/api-keys", &secret, &json!({ "name": "escalate", "scopes": ["clients:write"] })).await.assert_problem(403, "forbidden");
        app.patch("/v1/firm", &secret, &json!({ "name": "Mine" })).await.assert_problem(403, "forbidden");

        let shown = app.get(&format!("/v1/api-keys/{key_id}"), &firm.owner_token).await;
        assert!(shown.body.get("secret").is_none(), "the secret is shown only once");
        assert!(shown.body["last_used_at"].is_string());
        assert_eq!(shown.body["scopes"], json!(["clients:read"]));
    }

    async fn a_revoked_or_tampered_key_stops_working(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (key_id, secret) = app.api_key(&firm.owner_token, &["clients:read"]).await;
        let mut tampered = secret.clone();
        tampered.pop();
        tampered.push(if secret.ends_with('A') { 'B' } else { 'A' });
        app.get("/v1/clients", &tampered).await.assert_problem(401, "invalid_token");
        let revoked = app.delete(&format!("/v1/api-keys/{key_id}"), &firm.owner_token).await;
        assert_eq!(revoked.status, 200);
        assert!(revoked.body["revoked_at"].is_string());
        app.get("/v1/clients", &secret).await.assert_problem(401, "invalid_token");
        app.delete(&format!("/v1/api-keys/{key_id}"), &firm.owner_token).await.assert_problem(404, "not_found");
        let active = app.get("/v1/api-keys", &firm.owner_token).await;
        assert_eq!(active.body["data"].as_array().unwrap().len(), 0);
        let all = app.get("/v1/api-keys?include_revoked=true", &firm.owner_token).await;
        assert_eq!(all.body["data"].as_array().unwrap().len(), 1);
    }

    async fn creating_using_and_revoking_keys_is_audited(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (key_id, secret) = app.api_key(&firm.owner_token, &["clients:read"]).await;
        app.get("/v1/clients", &secret).await;
        app.get("/v1/clients", &secret).await;
        app.delete(&format!("/v1/api-keys/{key_id}"), &firm.owner_token).await;
        let events = app.get(&format!("/v1/audit-events?target_id={key_id}"), &firm.owner_token).await;
        let actions: Vec<&str> = events.body["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["api_key.created", "api_key.used", "api_key.revoked"]);
    }

    async fn members_cannot_create_keys_and_keys_need_scopes(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        app.post("/v1/api-keys", &member_token, &json!({ "name": "x", "scopes": ["clients:read"] })).await.assert_problem(403, "forbidden");
        app.post("/v1/api-keys", &firm.owner_token, &json!({ "name": "x", "scopes": [] })).await.assert_problem(422, "validation_failed");
        let unknown = app.post("/v1/api-keys", &firm.owner_token, &json!({ "name": "x", "scopes": ["everything"] })).await;
        unknown.assert_problem(422, "validation_failed");
        assert_eq!(unknown.body["errors"][0]["pointer"], "/scopes/0");
        assert_eq!(app.count("api_keys"), 0);
    }
}
