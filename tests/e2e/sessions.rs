use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::fixtures::PASSWORD;
use crate::support::smtp::SmtpListener;
use crate::support::{Reply, TestApp};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

async fn sign_in_from(app: &TestApp, path: &str, firm: &str, email: &str, agent: &str) -> Reply {
    let body = json!({ "firm": firm, "email": email, "password": PASSWORD });
    let reply = app.call_with(Method::POST, path, None, Some(&body), &[("user-agent", agent)]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

fn access(reply: &Reply) -> String {
    reply.body["access_token"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn a_member_lists_their_sessions_and_ends_one(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let laptop = sign_in_from(&app, "/v1/auth/login", "harbor", "owner@harbor.test", FIREFOX).await;
        let phone = sign_in_from(&app, "/v1/auth/login", "harbor", "owner@harbor.test", IPHONE).await;
        let listed = app.get("/v1/me/sessions", &access(&phone)).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let sessions = listed.body["data"].as_array().unwrap();
        assert_eq!(sessions.len(), 3, "the fixture's, the laptop's and the phone's: {}", listed.body);
        assert_eq!(sessions[0]["device"], "Safari on iOS");
        assert_eq!(sessions[0]["current"], true);
        assert_eq!(sessions[0]["ip_address"], "127.0.0.1");
        assert!(sessions[0]["last_used_at"].is_string());
        assert_eq!(sessions[1]["device"], "Firefox on Linux");
        assert_eq!(sessions[1]["current"], false);
        let laptop_session = sessions[1]["id"].as_str().unwrap().to_owned();

        let ended = app.delete(&format!("/v1/me/sessions/{laptop_session}"), &access(&phone)).await;
        assert_eq!(ended.status, 204, "{}", ended.body);
        app.get("/v1/me", &access(&laptop)).await.assert_problem(401, "invalid_token");
        let refresh = json!({ "refresh_token": laptop.body["refresh_token"] });
        app.call(Method::POST, "/v1/auth/refresh", None, Some(&refresh)).await.assert_problem(401, "invalid_token");
        assert_eq!(app.get("/v1/me/sessions", &access(&phone)).await.body["data"].as_array().unwrap().len(), 2);
        app.delete(&format!("/v1/me/sessions/{laptop_session}"), &access(&phone)).await.assert_problem(404, "not_found");
        assert_eq!(app.get("/v1/me", &firm.owner_token).await.status, 200);
    }

    async fn nobody_ends_someone_elses_session_but_an_admin_ends_all_of_a_members(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member_id, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let owner_sessions = app.get("/v1/me/sessions", &firm.owner_token).await;
        let owner_session = owner_sessions.body["data"][0]["id"].as_str().unwrap().to_owned();
        app.delete(&format!("/v1/me/sessions/{owner_session}"), &member_token).await.assert_problem(404, "not_found");
        app.delete(&format!("/v1/staff/{}/sessions", firm.owner_id), &member_token).await.assert_problem(403, "forbidden");
        assert_eq!(app.get("/v1/me", &firm.owner_token).await.status, 200);

        let ended = app.delete(&format!("/v1/staff/{member_id}/sessions"), &firm.owner_token).await;
        assert_eq!(ended.status, 204, "{}", ended.body);
        app.get("/v1/me", &member_token).await.assert_problem(401, "invalid_token");
        let audited = app.count(&format!("audit_events WHERE firm_id = '{}' AND action = 'staff.sessions_ended'", firm.id));
        assert_eq!(audited, 1);
    }

    async fn a_contact_lists_and_ends_their_portal_sessions(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        let first = app.contact_token(&firm, contact["id"].as_str().unwrap(), "cora@client.test").await;
        let phone = sign_in_from(&app, "/v1/portal/auth/login", "harbor", "cora@client.test", IPHONE).await;
        let listed = app.get("/v1/portal/me/sessions", &access(&phone)).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let sessions = listed.body["data"].as_array().unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[1]["current"], false);
        let ended = app.delete(&format!("/v1/portal/me/sessions/{}", sessions[1]["id"].as_str().unwrap()), &access(&phone)).await;
        assert_eq!(ended.status, 204, "{}", ended.body);
        app.get("/v1/portal/me", &first).await.assert_problem(401, "invalid_token");
        assert_eq!(app.get("/v1/portal/me", &access(&phone)).await.status, 200);
    }
}

fn alerts(app: &TestApp) -> i64 {
    app.count("deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.channel = 'email' AND e.event_type = 'auth.new_device_sign_in'")
}

on_both_backends! {
    async fn a_sign_in_from_a_new_device_is_emailed_once(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let laptop = sign_in_from(&app, "/v1/auth/login", "harbor", "owner@harbor.test", FIREFOX).await;
        let mail = smtp.wait_for(1).await.remove(0);
        assert_eq!(mail.to, vec!["owner@harbor.test"]);
        let text = mail.text();
        assert!(text.contains("Firefox on Linux") && text.contains("127.0.0.1"), "{text}");
        for token in ["access_token", "refresh_token"] {
            assert!(!text.contains(laptop.body[token].as_str().unwrap()), "the email carries no {token}");
        }
        sign_in_from(&app, "/v1/auth/login", "harbor", "owner@harbor.test", FIREFOX).await;
        assert_eq!(alerts(&app), 1, "the same device again is no news");
        sign_in_from(&app, "/v1/auth/login", "harbor", "owner@harbor.test", IPHONE).await;
        assert_eq!(alerts(&app), 2);

        let off = app.patch("/v1/firm", &firm.owner_token, &json!({ "new_device_alerts": false })).await;
        assert_eq!(off.body["settings"]["new_device_alerts"], false, "{}", off.body);
        sign_in_from(&app, "/v1/auth/login", "harbor", "owner@harbor.test", "curl/8.5.0").await;
        assert_eq!(alerts(&app), 2, "the firm turned the alerts off");
    }
}
