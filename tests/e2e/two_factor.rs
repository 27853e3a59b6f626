use reqwest::Method;
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::on_both_backends;
use crate::support::fixtures::PASSWORD;
use crate::support::{Reply, TestApp};

/// The code an authenticator app shows `steps` periods of 30 seconds from now.
pub(crate) fn code(secret: &str, steps: u64) -> String {
    let bytes = Secret::try_from_base32(secret).unwrap().as_bytes().to_vec();
    let totp = Builder::new().with_secret(bytes).build().unwrap();
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    totp.generate(now + 30 * steps).to_string()
}

/// A code that is not the current one (nor, but for a one-in-a-million chance, a neighbour).
fn wrong(secret: &str) -> String {
    let right = code(secret, 0);
    let last = right.chars().last().unwrap().to_digit(10).unwrap();
    format!("{}{}", &right[..5], (last + 1) % 10)
}

/// Starts and confirms an authenticator for the signed-in person under `base` (`/v1/me` or
/// `/v1/portal/me`); returns its secret and the recovery codes.
pub(crate) async fn enrol(app: &TestApp, base: &str, token: &str) -> (String, Vec<String>) {
    let started = app.call(Method::POST, &format!("{base}/two-factor/enrolment"), Some(token), None).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.body["secret"].as_str().unwrap().to_owned();
    let confirmed =
        app.post(&format!("{base}/two-factor/confirmation"), token, &json!({ "code": code(&secret, 0) })).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes =
        confirmed.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes)
}

async fn second_step(app: &TestApp, path: &str, challenge: &str, answer: Value) -> Reply {
    let mut body = json!({ "challenge_token": challenge });
    body.as_object_mut().unwrap().extend(answer.as_object().unwrap().clone());
    app.call(Method::POST, path, None, Some(&body)).await
}

pub(crate) fn challenge_of(reply: &Reply, status: &str) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], status, "{}", reply.body);
    assert!(reply.body.get("access_token").is_none(), "a challenge carries no tokens: {}", reply.body);
    reply.body["challenge_token"].as_str().unwrap().to_owned()
}

fn audited(app: &TestApp, firm_id: &str, action: &str) -> i64 {
    app.count(&format!("audit_events WHERE firm_id = '{firm_id}' AND action = '{action}'"))
}

on_both_backends! {
    async fn a_member_with_two_factor_needs_a_code_after_the_password(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let started = app.call(Method::POST, "/v1/me/two-factor/enrolment", Some(&token), None).await;
        assert_eq!(started.status, 200, "{}", started.body);
        let uri = started.body["otpauth_uri"].as_str().unwrap();
        assert!(uri.starts_with("otpauth://totp/harbor%20LLP:mia%40harbor.test?"), "{uri}");
        assert!(uri.contains(&format!("secret={}", started.body["secret"].as_str().unwrap())), "{uri}");
        assert!(uri.contains("issuer=harbor%20LLP"), "{uri}");
        let secret = started.body["secret"].as_str().unwrap().to_owned();
        let confirmed = app.post("/v1/me/two-factor/confirmation", &token, &json!({ "code": code(&secret, 0) })).await;
        assert_eq!(confirmed.status, 200, "{}", confirmed.body);
        assert_eq!(confirmed.body["recovery_codes"].as_array().unwrap().len(), 10);
        assert_eq!(app.get("/v1/me/two-factor", &token).await.body["enabled"], true);
        assert_eq!(audited(&app, &firm.id, "auth.two_factor_enabled"), 1);

        let password_step = app.login("harbor", "mia@harbor.test", PASSWORD).await;
        let challenge = challenge_of(&password_step, "two_factor_required");
        app.get("/v1/me", &challenge).await.assert_problem(401, "invalid_token");
        second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": wrong(&secret) })).await.assert_problem(401, "wrong_code");
        let next = code(&secret, 1);
        let signed_in = second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": next })).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        assert!(signed_in.body.get("recovery_codes").is_none());
        assert_eq!(app.get("/v1/me", signed_in.body["access_token"].as_str().unwrap()).await.status, 200);
        second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": code(&secret, 1) })).await.assert_problem(401, "invalid_challenge");

        let again = challenge_of(&app.login("harbor", "mia@harbor.test", PASSWORD).await, "two_factor_required");
        second_step(&app, "/v1/auth/login/two-factor", &again, json!({ "code": next })).await.assert_problem(401, "code_used");
    }

    async fn a_recovery_code_signs_in_once(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, codes) = enrol(&app, "/v1/me", &firm.owner_token).await;
        let challenge = challenge_of(&app.login("harbor", "owner@harbor.test", PASSWORD).await, "two_factor_required");
        let signed_in = second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "recovery_code": codes[0].to_uppercase() })).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        assert_eq!(audited(&app, &firm.id, "auth.recovery_code_used"), 1);
        assert_eq!(app.get("/v1/me/two-factor", &firm.owner_token).await.body["recovery_codes_left"], 9);
        let again = challenge_of(&app.login("harbor", "owner@harbor.test", PASSWORD).await, "two_factor_required");
        second_step(&app, "/v1/auth/login/two-factor", &again, json!({ "recovery_code": codes[0] })).await.assert_problem(401, "wrong_code");
        second_step(&app, "/v1/auth/login/two-factor", &again, json!({ "code": "1", "recovery_code": codes[1] })).await.assert_problem(422, "validation_failed");
    }

    async fn five_wrong_codes_end_the_challenge(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (secret, _) = enrol(&app, "/v1/me", &firm.owner_token).await;
        let challenge = challenge_of(&app.login("harbor", "owner@harbor.test", PASSWORD).await, "two_factor_required");
        for _ in 0..4 {
            second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": wrong(&secret) })).await.assert_problem(401, "wrong_code");
        }
        second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": wrong(&secret) })).await.assert_problem(401, "invalid_challenge");
        second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": code(&secret, 1) })).await.assert_problem(401, "invalid_challenge");
        assert_eq!(audited(&app, &firm.id, "auth.two_factor"), 5);
    }

    async fn a_wrong_or_late_first_code_changes_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let started = app.call(Method::POST, "/v1/me/two-factor/enrolment", Some(&firm.owner_token), None).await;
        let secret = started.body["secret"].as_str().unwrap().to_owned();
        let refused = app.post("/v1/me/two-factor/confirmation", &firm.owner_token, &json!({ "code": wrong(&secret) })).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["code"], "wrong_code");
        assert_eq!(app.get("/v1/me/two-factor", &firm.owner_token).await.body["enabled"], false);
        diesel::RunQueryDsl::execute(
            diesel::sql_query("UPDATE two_factor SET pending_expires_at = created_at"),
            &mut *app.conn(),
        )
        .unwrap();
        let late = app.post("/v1/me/two-factor/confirmation", &firm.owner_token, &json!({ "code": code(&secret, 0) })).await;
        late.assert_problem(410, "enrolment_expired");
        let status = app.get("/v1/me/two-factor", &firm.owner_token).await;
        assert_eq!(status.body["enabled"], false);
        assert!(status.body["enrolment_expires_at"].is_null());
        assert_eq!(app.login("harbor", "owner@harbor.test", PASSWORD).await.body["status"], "signed_in");
    }

    async fn the_firm_requirement_makes_members_enrol_at_sign_in(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        app.staff(&firm, "member", "mia@harbor.test").await;
        let set = app.patch("/v1/firm", &firm.owner_token, &json!({ "require_two_factor_staff": true })).await;
        assert_eq!(set.status, 200, "{}", set.body);
        assert_eq!(set.body["settings"]["require_two_factor_staff"], true);
        let challenge = challenge_of(&app.login("harbor", "mia@harbor.test", PASSWORD).await, "two_factor_enrolment_required");
        app.get("/v1/me", &challenge).await.assert_problem(401, "invalid_token");
        let enrolment = app.call(Method::POST, "/v1/auth/login/two-factor/enrolment", None, Some(&json!({ "challenge_token": challenge }))).await;
        assert_eq!(enrolment.status, 200, "{}", enrolment.body);
        let secret = enrolment.body["secret"].as_str().unwrap().to_owned();
        let signed_in = second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": code(&secret, 0) })).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        assert_eq!(signed_in.body["recovery_codes"].as_array().unwrap().len(), 10);
        assert_eq!(app.get("/v1/me", signed_in.body["access_token"].as_str().unwrap()).await.status, 200);
        challenge_of(&app.login("harbor", "mia@harbor.test", PASSWORD).await, "two_factor_required");
        // Contacts are not required to unless the firm says so too.
        assert_eq!(set.body["settings"]["require_two_factor_contacts"], false);
    }

    async fn an_admin_reset_lets_the_member_sign_in_with_the_password_again(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member_id, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        enrol(&app, "/v1/me", &member_token).await;
        enrol(&app, "/v1/me", &firm.owner_token).await;
        app.delete(&format!("/v1/staff/{}/two-factor", firm.owner_id), &member_token).await.assert_problem(403, "forbidden");
        let reset = app.delete(&format!("/v1/staff/{member_id}/two-factor"), &firm.owner_token).await;
        assert_eq!(reset.status, 204, "{}", reset.body);
        assert_eq!(audited(&app, &firm.id, "auth.two_factor_reset"), 1);
        assert_eq!(app.login("harbor", "mia@harbor.test", PASSWORD).await.body["status"], "signed_in");
        app.delete(&format!("/v1/staff/{member_id}/two-factor"), &firm.owner_token).await.assert_problem(409, "two_factor_disabled");
    }

    async fn turning_two_factor_off_needs_the_password_or_a_code(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (secret, old_codes) = enrol(&app, "/v1/me", &firm.owner_token).await;
        let renewed = app.post("/v1/me/two-factor/recovery-codes", &firm.owner_token, &json!({ "code": code(&secret, 1) })).await;
        assert_eq!(renewed.status, 200, "{}", renewed.body);
        assert_ne!(renewed.body["recovery_codes"][0].as_str().unwrap(), old_codes[0]);
        let wrong_password = app.post("/v1/me/two-factor/disable", &firm.owner_token, &json!({ "password": "not it at all" })).await;
        wrong_password.assert_problem(422, "validation_failed");
        assert_eq!(app.get("/v1/me/two-factor", &firm.owner_token).await.body["enabled"], true);
        let off = app.post("/v1/me/two-factor/disable", &firm.owner_token, &json!({ "password": PASSWORD })).await;
        assert_eq!(off.status, 204, "{}", off.body);
        assert_eq!(audited(&app, &firm.id, "auth.two_factor_disabled"), 1);
        assert_eq!(app.login("harbor", "owner@harbor.test", PASSWORD).await.body["status"], "signed_in");
    }

    async fn a_contact_signs_in_to_the_portal_with_a_code(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        let contact_id = contact["id"].as_str().unwrap();
        let token = app.contact_token(&firm, contact_id, "cora@client.test").await;
        let (secret, _) = enrol(&app, "/v1/portal/me", &token).await;
        let body = json!({ "firm": "harbor", "email": "cora@client.test", "password": PASSWORD });
        let password_step = app.call(Method::POST, "/v1/portal/auth/login", None, Some(&body)).await;
        let challenge = challenge_of(&password_step, "two_factor_required");
        second_step(&app, "/v1/auth/login/two-factor", &challenge, json!({ "code": code(&secret, 1) })).await.assert_problem(401, "invalid_challenge");
        let signed_in = second_step(&app, "/v1/portal/auth/login/two-factor", &challenge, json!({ "code": code(&secret, 1) })).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        assert_eq!(app.get("/v1/portal/me", signed_in.body["access_token"].as_str().unwrap()).await.status, 200);
        let reset = app.delete(&format!("/v1/contacts/{contact_id}/two-factor"), &firm.owner_token).await;
        assert_eq!(reset.status, 204, "{}", reset.body);
        let again = app.call(Method::POST, "/v1/portal/auth/login", None, Some(&body)).await;
        assert_eq!(again.body["status"], "signed_in", "{}", again.body);
    }
}
