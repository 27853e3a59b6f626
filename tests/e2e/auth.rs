use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::fixtures::PASSWORD;

on_both_backends! {
    async fn an_owner_signs_in_and_sees_their_firm(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let me = app.get("/v1/me", &firm.owner_token).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["staff"]["id"], firm.owner_id);
        assert_eq!(me.body["staff"]["role"], "owner");
        assert_eq!(me.body["firm"]["slug"], "harbor");
    }

    async fn a_wrong_password_is_refused_and_audited(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let before = app.audit_count(&firm.id);
        let reply = app.login("harbor", "owner@harbor.test", "not the password").await;
        reply.assert_problem(401, "invalid_credentials");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert!(reply.body.get("access_token").is_none());
        assert_eq!(app.audit_count(&firm.id), before + 1);
        let events = app.get("/v1/audit-events?action=auth.login", &firm.owner_token).await;
        let last = events.body["data"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["outcome"], "failure");
        assert_eq!(last["actor_id"], firm.owner_id);
    }

    async fn an_unknown_firm_or_email_gets_the_same_answer(backend) {
        let app = TestApp::spawn(backend).await;
        app.firm("harbor").await;
        app.login("nowhere", "owner@harbor.test", PASSWORD).await.assert_problem(401, "invalid_credentials");
        app.login("harbor", "nobody@harbor.test", PASSWORD).await.assert_problem(401, "invalid_credentials");
    }

    async fn repeated_failures_lock_the_account_even_for_the_right_password(backend) {
        let app = TestApp::spawn_with(backend, &[("LOGIN_LOCKOUT_THRESHOLD", "3"), ("LOGIN_LOCKOUT_SECS", "600")]).await;
        app.firm("harbor").await;
        for _ in 0..3 {
            app.login("harbor", "owner@harbor.test", "wrong wrong").await.assert_problem(401, "invalid_credentials");
        }
        let locked = app.login("harbor", "owner@harbor.test", PASSWORD).await;
        locked.assert_problem(429, "rate_limited");
        let retry_after: u64 = locked.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=600).contains(&retry_after));
    }

    async fn too_many_attempts_from_one_address_are_throttled(backend) {
        let app = TestApp::spawn_with(backend, &[("LOGIN_ATTEMPTS_PER_MINUTE", "2")]).await;
        app.login("x", "a@b.test", "whatever1").await.assert_problem(401, "invalid_credentials");
        app.login("x", "a@b.test", "whatever2").await.assert_problem(401, "invalid_credentials");
        let throttled = app.login("x", "a@b.test", "whatever3").await;
        throttled.assert_problem(429, "rate_limited");
        assert!(throttled.header("retry-after").is_some());
    }

    async fn a_refresh_token_works_once_and_its_reuse_ends_the_session(backend) {
        let app = TestApp::spawn(backend).await;
        app.firm("harbor").await;
        let login = app.login("harbor", "owner@harbor.test", PASSWORD).await;
        let first_refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
        let refreshed = app.call(Method::POST, "/v1/auth/refresh", None, Some(&json!({ "refresh_token": first_refresh }))).await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
        let new_access = refreshed.body["access_token"].as_str().unwrap().to_owned();
        let new_refresh = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(new_refresh, first_refresh);
        assert_eq!(app.get("/v1/me", &new_access).await.status, 200);

        let reused = app.call(Method::POST, "/v1/auth/refresh", None, Some(&json!({ "refresh_token": first_refresh }))).await;
        reused.assert_problem(401, "refresh_token_reused");
        app.get("/v1/me", &new_access).await.assert_problem(401, "invalid_token");
        app.call(Method::POST, "/v1/auth/refresh", None, Some(&json!({ "refresh_token": new_refresh }))).await.assert_problem(401, "invalid_token");
    }

    async fn logout_ends_the_access_and_refresh_tokens(backend) {
        let app = TestApp::spawn(backend).await;
        app.firm("harbor").await;
        let login = app.login("harbor", "owner@harbor.test", PASSWORD).await;
        let access = login.body["access_token"].as_str().unwrap();
        let refresh = login.body["refresh_token"].as_str().unwrap();
        let out = app.call(Method::POST, "/v1/auth/logout", Some(access), None).await;
        assert_eq!(out.status, 204);
        app.get("/v1/me", access).await.assert_problem(401, "invalid_token");
        app.call(Method::POST, "/v1/auth/refresh", None, Some(&json!({ "refresh_token": refresh }))).await.assert_problem(401, "invalid_token");
    }

    async fn disabling_a_member_ends_their_sessions(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member_id, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        assert_eq!(app.get("/v1/me", &member_token).await.status, 200);
        let disabled = app.call(Method::POST, &format!("/v1/staff/{member_id}/disable"), Some(&firm.owner_token), None).await;
        assert_eq!(disabled.status, 200, "{}", disabled.body);
        assert!(disabled.body["disabled_at"].is_string());
        app.get("/v1/me", &member_token).await.assert_problem(401, "invalid_token");
        app.login("harbor", "mia@harbor.test", PASSWORD).await.assert_problem(403, "forbidden");
        let enabled = app.call(Method::POST, &format!("/v1/staff/{member_id}/enable"), Some(&firm.owner_token), None).await;
        assert_eq!(enabled.status, 200);
        assert_eq!(app.login("harbor", "mia@harbor.test", PASSWORD).await.status, 200);
    }

    async fn nobody_can_disable_themselves(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let reply = app.call(Method::POST, &format!("/v1/staff/{}/disable", firm.owner_id), Some(&firm.owner_token), None).await;
        reply.assert_problem(403, "forbidden");
        assert_eq!(app.get("/v1/me", &firm.owner_token).await.status, 200);
    }

    async fn forged_expired_and_foreign_tokens_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let login = app.login("harbor", "owner@harbor.test", PASSWORD).await;
        let claims = decode_claims(login.body["access_token"].as_str().unwrap());
        let now = chrono::Utc::now().timestamp();
        let forged = |changes: serde_json::Value, secret: &[u8], kid: &str| {
            let mut claims = claims.clone();
            for (key, value) in changes.as_object().unwrap() {
                claims[key] = value.clone();
            }
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.kid = Some(kid.to_owned());
            jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
        };
        let key = crate::support::TEST_JWT_SECRET.as_slice();
        let kid = crate::support::TEST_JWT_KID;
        // The harness's key signs a valid token, so the refusals below are about the claim changed.
        assert_eq!(app.get("/v1/me", &forged(json!({}), key, kid)).await.status, 200);
        let refused = [
            ("expired", forged(json!({ "exp": now - 120, "iat": now - 1000, "nbf": now - 1000 }), key, kid)),
            ("not yet valid", forged(json!({ "nbf": now + 3600 }), key, kid)),
            ("wrong audience", forged(json!({ "aud": "someone-else" }), key, kid)),
            ("portal audience", forged(json!({ "aud": "vestibule:portal" }), key, kid)),
            ("wrong issuer", forged(json!({ "iss": "https://evil.test" }), key, kid)),
            ("wrong type", forged(json!({ "typ": "refresh" }), key, kid)),
            ("other firm", forged(json!({ "firm": "frm_00000000000000000000000000000000" }), key, kid)),
            ("unknown key id", forged(json!({}), key, "other")),
            ("wrong key", forged(json!({}), b"another-signing-key-0123456789ab", kid)),
        ];
        for (what, token) in refused {
            let reply = app.get("/v1/me", &token).await;
            assert_eq!(reply.status, 401, "{what} was accepted: {}", reply.body);
        }
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT","kid":"test"}"#), b64(&claims.to_string()));
        app.get("/v1/me", &unsigned).await.assert_problem(401, "invalid_token");
        app.call(Method::GET, "/v1/me", None, None).await.assert_problem(401, "unauthenticated");
        let _ = firm;
    }

    async fn a_portal_contact_signs_in_to_the_portal_only(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Client").await;
        let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        let token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "cora@client.test").await;
        let me = app.get("/v1/portal/me", &token).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["contact"]["id"], contact["id"]);
        assert_eq!(me.body["portal"]["status"], "active");
        assert_eq!(me.body["clients"][0]["id"], client["id"]);
        app.get("/v1/me", &token).await.assert_problem(403, "forbidden");
        app.get("/v1/clients", &token).await.assert_problem(403, "forbidden");
        app.get("/v1/portal/me", &firm.owner_token).await.assert_problem(403, "forbidden");
        let staff_login = app.login("harbor", "cora@client.test", PASSWORD).await;
        staff_login.assert_problem(401, "invalid_credentials");
    }

    async fn changing_my_password_ends_my_other_sessions(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let other_device = app.token("harbor", "owner@harbor.test").await;
        let path = "/v1/me/password";
        let wrong = app.post(path, &firm.owner_token, &json!({ "current_password": "nope nope", "new_password": "brand new passphrase" })).await;
        wrong.assert_problem(422, "validation_failed");
        assert_eq!(wrong.body["errors"][0]["pointer"], "/current_password");
        let weak = app.post(path, &firm.owner_token, &json!({ "current_password": PASSWORD, "new_password": "qwerty123" })).await;
        assert_eq!(weak.body["errors"][0]["pointer"], "/new_password");
        let changed = app.post(path, &firm.owner_token, &json!({ "current_password": PASSWORD, "new_password": "brand new passphrase" })).await;
        assert_eq!(changed.status, 204, "{}", changed.body);
        assert_eq!(app.get("/v1/me", &firm.owner_token).await.status, 200, "this session stays");
        app.get("/v1/me", &other_device).await.assert_problem(401, "invalid_token");
        app.login("harbor", "owner@harbor.test", PASSWORD).await.assert_problem(401, "invalid_credentials");
        assert_eq!(app.login("harbor", "owner@harbor.test", "brand new passphrase").await.status, 200);
    }

}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
