use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn a_retried_post_with_the_same_key_is_replayed_not_repeated(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let body = json!({ "kind": "person", "name": "Ada Lovelace" });
        let key = [("idempotency-key", "create-ada-1")];
        let first = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&body), &key).await;
        assert_eq!(first.status, 201);
        assert!(first.header("idempotent-replayed").is_none());
        let retry = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&body), &key).await;
        assert_eq!(retry.status, 201);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.body, first.body);
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(retry.header("etag"), first.header("etag"));
        assert_eq!(app.count("clients"), 1);
    }

    async fn the_same_key_with_another_body_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let key = [("idempotency-key", "k-1")];
        app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&json!({ "kind": "person", "name": "A" })), &key).await;
        let other = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&json!({ "kind": "person", "name": "B" })), &key).await;
        other.assert_problem(422, "idempotency_key_reused");
        assert_eq!(app.count("clients"), 1);
    }

    async fn keys_are_scoped_to_the_caller(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let body = json!({ "kind": "person", "name": "Same" });
        let key = [("idempotency-key", "shared-key")];
        let a = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&body), &key).await;
        let b = app.call_with(Method::POST, "/v1/clients", Some(&member_token), Some(&body), &key).await;
        assert_eq!((a.status.as_u16(), b.status.as_u16()), (201, 201));
        assert_ne!(a.id(), b.id());
    }

    async fn a_failed_request_is_replayed_with_its_failure(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let key = [("idempotency-key", "bad-1")];
        let body = json!({ "kind": "person", "name": " " });
        let first = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&body), &key).await;
        first.assert_problem(422, "validation_failed");
        let again = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&body), &key).await;
        again.assert_problem(422, "validation_failed");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        let invalid = app.call_with(Method::POST, "/v1/clients", Some(&firm.owner_token), Some(&body), &[("idempotency-key", "")]).await;
        invalid.assert_problem(400, "invalid_idempotency_key");
    }

    async fn a_response_showing_a_secret_is_neither_stored_nor_replayed(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let body = json!({ "name": "sync", "scopes": ["clients:read"] });
        let key = [("idempotency-key", "key-create-1")];
        let first = app.call_with(Method::POST, "/v1/api-keys", Some(&firm.owner_token), Some(&body), &key).await;
        assert_eq!(first.status, 201);
        assert_eq!(first.header("cache-control"), Some("no-store"));
        let secret = first.body["secret"].as_str().unwrap().to_owned();
        let retry = app.call_with(Method::POST, "/v1/api-keys", Some(&firm.owner_token), Some(&body), &key).await;
        retry.assert_problem(409, "idempotent_replay_unavailable");
        assert!(!retry.body.to_string().contains(&secret));
        assert_eq!(app.count("idempotency_keys WHERE response_body IS NULL AND response_status = 201"), 1);
        assert_eq!(app.count("api_keys"), 1);
    }

    async fn sign_in_ignores_idempotency_keys_and_is_never_replayed(backend) {
        let app = TestApp::spawn(backend).await;
        app.firm("harbor").await;
        let body = json!({ "firm": "harbor", "email": "owner@harbor.test", "password": crate::support::fixtures::PASSWORD });
        let key = [("idempotency-key", "login-1")];
        let first = app.call_with(Method::POST, "/v1/auth/login", None, Some(&body), &key).await;
        let second = app.call_with(Method::POST, "/v1/auth/login", None, Some(&body), &key).await;
        assert_eq!((first.status.as_u16(), second.status.as_u16()), (200, 200));
        assert_eq!(first.header("cache-control"), Some("no-store"));
        assert_ne!(first.body["refresh_token"], second.body["refresh_token"]);
        assert_eq!(app.count("idempotency_keys"), 0);
    }
}
