//! Secrets the server reads back (webhook signing secrets, authenticator secrets) are stored
//! sealed, keep working when they were stored plain before, and follow a key rotation.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use vestibule_server::{keys, startup};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::fixtures::PASSWORD;
use crate::support::receiver::{Receiver, signature_is_valid};
use crate::two_factor::{challenge_of, code, enrol};
use crate::webhooks::endpoint;

/// The one text value `sql` selects, as the database holds it.
fn stored(app: &TestApp, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    diesel::sql_query(sql).get_result::<Value>(&mut *app.conn()).expect("stored value").value
}

fn endpoint_secret(app: &TestApp, id: &str) -> String {
    stored(app, &format!("SELECT secret AS value FROM webhook_endpoints WHERE id = '{id}'"))
}

fn authenticator_secret(app: &TestApp, owner_id: &str) -> String {
    stored(app, &format!("SELECT secret AS value FROM two_factor WHERE owner_id = '{owner_id}'"))
}

fn sealed_with(value: &str) -> Option<&str> {
    value.strip_prefix("sealed:v1:").and_then(|rest| rest.split(':').next())
}

/// Sends a test event to the endpoint and checks the receiver can verify it with `secret`.
async fn signs_with(app: &TestApp, token: &str, hook: &Receiver, endpoint_id: &str, secret: &str, nth: usize) {
    let test = app.call(Method::POST, &format!("/v1/webhook-endpoints/{endpoint_id}/test"), Some(token), None).await;
    assert_eq!(test.status, 202, "{}", test.body);
    let message = hook.wait_for(nth).await.remove(nth - 1);
    assert!(signature_is_valid(secret, &message), "the delivery is not signed with the endpoint's secret");
}

on_both_backends! {
    async fn webhook_and_authenticator_secrets_are_stored_sealed_and_still_work(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (endpoint_id, secret) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        let at_rest = endpoint_secret(&app, &endpoint_id);
        assert!(sealed_with(&at_rest).is_some(), "{at_rest}");
        assert!(!at_rest.contains(&secret) && !at_rest.contains(secret.trim_start_matches("whsec_")));
        signs_with(&app, &firm.owner_token, &hook, &endpoint_id, &secret, 1).await;

        let (staff_id, token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (totp_secret, _) = enrol(&app, "/v1/me", &token).await;
        let at_rest = authenticator_secret(&app, &staff_id);
        assert!(sealed_with(&at_rest).is_some(), "{at_rest}");
        assert!(!at_rest.contains(&totp_secret));
        let challenge = challenge_of(&app.login("harbor", "mia@harbor.test", PASSWORD).await, "two_factor_required");
        let body = json!({ "challenge_token": challenge, "code": code(&totp_secret, 1) });
        let signed_in = app.call(Method::POST, "/v1/auth/login/two-factor", None, Some(&body)).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    }

    async fn a_secret_moved_to_another_row_does_not_open_there(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (first, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        let (second, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        let copied = endpoint_secret(&app, &first);
        diesel::sql_query(format!("UPDATE webhook_endpoints SET secret = '{copied}' WHERE id = '{second}'"))
            .execute(&mut *app.conn())
            .unwrap();
        let test = app.call(Method::POST, &format!("/v1/webhook-endpoints/{second}/test"), Some(&firm.owner_token), None).await;
        assert_eq!(test.status, 202);
        for _ in 0..200 {
            let log = app.get(&format!("/v1/webhook-endpoints/{second}/deliveries"), &firm.owner_token).await;
            let error = log.body["data"][0]["last_error"].as_str().unwrap_or_default().to_owned();
            if !error.is_empty() {
                assert!(error.contains("does not open"), "{error}");
                assert!(hook.received().is_empty(), "nothing was sent unsigned or signed with another endpoint's secret");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the delivery did not fail");
    }

    async fn secrets_stored_before_sealing_keep_working_and_are_sealed_at_the_next_start(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        let legacy = "whsec_c3RvcmVkIGJlZm9yZSBzZWFsaW5nIGV4aXN0ZWQhISE=";
        diesel::sql_query(format!("UPDATE webhook_endpoints SET secret = '{legacy}' WHERE id = '{endpoint_id}'"))
            .execute(&mut *app.conn())
            .unwrap();
        signs_with(&app, &firm.owner_token, &hook, &endpoint_id, legacy, 1).await;

        startup::connect(&app.config).expect("a restart");
        assert!(sealed_with(&endpoint_secret(&app, &endpoint_id)).is_some());
        signs_with(&app, &firm.owner_token, &hook, &endpoint_id, legacy, 2).await;
    }

    async fn a_new_key_reseals_every_secret_and_an_instance_started_after_opens_them(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        let (staff_id, token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (totp_secret, _) = enrol(&app, "/v1/me", &token).await;
        let old_key = sealed_with(&endpoint_secret(&app, &endpoint_id)).unwrap().to_owned();

        let new_key = keys::add_secret_key(&app.config.secret_keys).expect("a new key");
        assert_ne!(new_key, old_key);
        startup::connect(&app.config).expect("the start that reseals");
        assert_eq!(sealed_with(&endpoint_secret(&app, &endpoint_id)), Some(new_key.as_str()));
        assert_eq!(sealed_with(&authenticator_secret(&app, &staff_id)), Some(new_key.as_str()));

        let restarted = app.second_instance();
        let credentials = json!({ "firm": "harbor", "email": "mia@harbor.test", "password": PASSWORD });
        let login = app.exchange(app.http.post(format!("{restarted}/v1/auth/login")).json(&credentials)).await;
        let challenge = challenge_of(&login, "two_factor_required");
        let second_step = json!({ "challenge_token": challenge, "code": code(&totp_secret, 1) });
        let signed_in =
            app.exchange(app.http.post(format!("{restarted}/v1/auth/login/two-factor")).json(&second_step)).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    }
}
