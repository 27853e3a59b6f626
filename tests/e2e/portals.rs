//! Portals, invitations and registration (seeds 000, 001, 004), with emails caught by a real
//! SMTP listener.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::fixtures::{Firm, PASSWORD};
use crate::support::smtp::{Mail, SmtpListener};
use crate::support::{Reply, TestApp};

async fn app_with_mail(backend: crate::support::Backend) -> (TestApp, SmtpListener) {
    let smtp = SmtpListener::start().await;
    let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
    (app, smtp)
}

/// A client with a contact; returns (client id, contact id).
async fn client_with_contact(app: &TestApp, firm: &Firm, name: &str, email: &str) -> (String, String) {
    let client = app.client(&firm.owner_token, name).await;
    let client_id = client["id"].as_str().unwrap().to_owned();
    let contact = app.contact(&firm.owner_token, &client_id, email).await;
    (client_id, contact["id"].as_str().unwrap().to_owned())
}

/// The one-time token of the link in an email.
fn token_in(mail: &Mail, path: &str) -> String {
    let text = mail.text();
    let marker = format!("http://vestibule.test{path}?token=");
    let start = text.find(&marker).unwrap_or_else(|| panic!("no {path} link in {text}")) + marker.len();
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Reply {
    app.call(
        Method::POST,
        "/v1/portal/invitations/accept",
        None,
        Some(&json!({ "token": token, "password": password })),
    )
    .await
}

async fn portal_login(app: &TestApp, email: &str, password: &str) -> Reply {
    let body = json!({ "firm": "harbor", "email": email, "password": password });
    app.call(Method::POST, "/v1/portal/auth/login", None, Some(&body)).await
}

fn mails_to<'a>(mails: &'a [Mail], to: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to.iter().any(|t| t == to)).collect()
}

on_both_backends! {
    async fn an_invited_contact_registers_and_sees_only_what_was_granted(backend) {
        let (app, smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        let (client_id, contact_id) = client_with_contact(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let matter = app.matter(&firm.owner_token, &client_id, false).await;
        let (other_client, _) = client_with_contact(&app, &firm, "Grace Hopper", "grace@client.test").await;
        app.matter(&firm.owner_token, &other_client, false).await;

        let created = app.post("/v1/portals", &firm.owner_token, &json!({ "contact_id": contact_id, "kind": "full", "grants": [{ "client_id": client_id }] })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["status"], "invited");
        assert_eq!(created.body["contact"]["email"], "ada@client.test");
        portal_login(&app, "ada@client.test", "anything at all").await.assert_problem(401, "invalid_credentials");

        let invitation = smtp.wait_for(1).await.remove(0);
        assert_eq!(invitation.to, vec!["ada@client.test"]);
        assert!(invitation.text().contains("harbor LLP invites you to its client portal"));
        let token = token_in(&invitation, "/portal/accept-invitation");
        assert!(token.len() >= 43, "at least 256 bits");
        assert_eq!(app.count(&format!("invitations WHERE token_hash = '{token}'")), 0, "only a digest is stored");

        accept(&app, &token, "password1").await.assert_problem(422, "validation_failed");
        let registered = accept(&app, &token, "a sturdy passphrase").await;
        assert_eq!(registered.status, 200, "{}", registered.body);
        let contact_token = registered.body["access_token"].as_str().unwrap().to_owned();
        accept(&app, &token, "a sturdy passphrase").await.assert_problem(409, "invitation_used");

        let me = app.get("/v1/portal/me", &contact_token).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["portal"]["status"], "active");
        assert_eq!(me.body["clients"], json!([{ "id": client_id, "name": "Ada Lovelace" }]));
        assert_eq!(me.body["matters"].as_array().unwrap().len(), 1);
        assert_eq!(me.body["matters"][0]["id"], matter["id"]);
        assert!(!me.body.to_string().contains("Grace"), "another client's data never shows");
        app.get(&format!("/v1/clients/{other_client}"), &contact_token).await.assert_problem(403, "forbidden");

        let welcome = smtp.wait_for(2).await;
        let welcome = mails_to(&welcome, "ada@client.test");
        assert!(welcome.iter().any(|m| m.text().contains("Welcome to the harbor LLP client portal")));
        assert_eq!(portal_login(&app, "ada@client.test", "a sturdy passphrase").await.status, 200);
        let listed = app.get("/v1/portals?status=active&email=ADA@client.test", &firm.owner_token).await;
        assert_eq!(listed.body["data"][0]["id"], created.body["id"]);
    }

    async fn expired_and_replaced_invitations_are_refused_and_change_nothing(backend) {
        let (app, smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        let (client_id, contact_id) = client_with_contact(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let portal = app.post("/v1/portals", &firm.owner_token, &json!({ "contact_id": contact_id, "kind": "full", "grants": [{ "client_id": client_id }] })).await;
        let first = token_in(&smtp.wait_for(1).await[0], "/portal/accept-invitation");
        let again = app.call(Method::POST, &format!("/v1/portals/{}/invitation", portal.id()), Some(&firm.owner_token), None).await;
        assert_eq!(again.status, 201, "{}", again.body);
        let second = token_in(&smtp.wait_for(2).await[1], "/portal/accept-invitation");
        accept(&app, &first, "a sturdy passphrase").await.assert_problem(410, "invitation_revoked");

        use diesel::prelude::*;
        use vestibule_storage::schema::invitations;
        diesel::update(invitations::table)
            .set(invitations::expires_at.eq(vestibule_storage::now() - chrono::Duration::minutes(1)))
            .execute(&mut *app.conn())
            .unwrap();
        accept(&app, &second, "a sturdy passphrase").await.assert_problem(410, "invitation_expired");
        accept(&app, "not-a-token", "a sturdy passphrase").await.assert_problem(404, "not_found");
        assert_eq!(app.count("credentials WHERE owner_id LIKE 'con_%'"), 0);
        assert_eq!(app.get(&format!("/v1/portals/{}", portal.id()), &firm.owner_token).await.body["status"], "invited");
    }

    async fn a_temporary_portal_stops_working_when_it_expires_and_says_so(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact_id) = client_with_contact(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let until = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
        let full_with_expiry = app.post("/v1/portals", &firm.owner_token, &json!({ "contact_id": contact_id, "kind": "full", "expires_at": until })).await;
        full_with_expiry.assert_problem(422, "validation_failed");
        let no_expiry = app.post("/v1/portals", &firm.owner_token, &json!({ "contact_id": contact_id, "kind": "temporary" })).await;
        assert_eq!(no_expiry.body["errors"][0]["pointer"], "/expires_at");
        let token = app.contact_token(&firm, &contact_id, "ada@client.test").await;
        let portal_id = app.get(&format!("/v1/portals?contact_id={contact_id}"), &firm.owner_token).await.body["data"][0]["id"].as_str().unwrap().to_owned();
        let made_temporary = app.patch(&format!("/v1/portals/{portal_id}"), &firm.owner_token, &json!({ "kind": "temporary", "expires_at": until })).await;
        assert_eq!(made_temporary.status, 200, "{}", made_temporary.body);
        assert_eq!(app.get("/v1/portal/me", &token).await.status, 200);

        use diesel::prelude::*;
        use vestibule_storage::schema::portals;
        diesel::update(portals::table)
            .set(portals::expires_at.eq(vestibule_storage::now() - chrono::Duration::seconds(1)))
            .execute(&mut *app.conn())
            .unwrap();
        app.get("/v1/portal/me", &token).await.assert_problem(403, "portal_expired");
        portal_login(&app, "ada@client.test", PASSWORD).await.assert_problem(403, "portal_expired");
        let listed = app.get("/v1/portals?status=expired", &firm.owner_token).await;
        assert_eq!(listed.body["data"][0]["id"], portal_id);
        assert_eq!(listed.body["data"][0]["status"], "expired");
    }

    async fn disabling_a_portal_signs_the_contact_out(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact_id) = client_with_contact(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let token = app.contact_token(&firm, &contact_id, "ada@client.test").await;
        let portal_id = app.get(&format!("/v1/portals?contact_id={contact_id}"), &firm.owner_token).await.body["data"][0]["id"].as_str().unwrap().to_owned();
        let disabled = app.call(Method::POST, &format!("/v1/portals/{portal_id}/disable"), Some(&firm.owner_token), None).await;
        assert_eq!(disabled.body["status"], "disabled");
        app.get("/v1/portal/me", &token).await.assert_problem(401, "invalid_token");
        portal_login(&app, "ada@client.test", PASSWORD).await.assert_problem(403, "portal_disabled");
        app.call(Method::POST, &format!("/v1/portals/{portal_id}/enable"), Some(&firm.owner_token), None).await;
        assert_eq!(portal_login(&app, "ada@client.test", PASSWORD).await.status, 200);
    }

    async fn only_staff_with_the_portal_permission_manage_portals(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member_id, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (client_id, contact_id) = client_with_contact(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let body = json!({ "contact_id": contact_id, "kind": "full", "invite": false });
        app.post("/v1/portals", &member_token, &body).await.assert_problem(403, "forbidden");
        app.patch(&format!("/v1/staff/{member_id}"), &firm.owner_token, &json!({ "portal_permission": true })).await;
        let secret = app.matter(&firm.owner_token, &client_id, true).await;
        let with_secret = json!({ "contact_id": contact_id, "kind": "full", "invite": false, "grants": [{ "matter_id": secret["id"] }] });
        let refused = app.post("/v1/portals", &member_token, &with_secret).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["pointer"], "/grants/0/matter_id", "a restricted matter is granted only by members and admins");
        assert_eq!(app.count("portals"), 0);
        let created = app.post("/v1/portals", &member_token, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        app.post("/v1/portals", &member_token, &body).await.assert_problem(409, "portal_exists");
        let granted = app.post(&format!("/v1/portals/{}/grants", created.id()), &firm.owner_token, &json!({ "matter_id": secret["id"] })).await;
        assert_eq!(granted.status, 201, "an admin may grant it");
    }

    async fn a_contact_resets_a_forgotten_password_by_email(backend) {
        let (app, smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        let (_, contact_id) = client_with_contact(&app, &firm, "Ada Lovelace", "ada@client.test").await;
        let old_session = app.contact_token(&firm, &contact_id, "ada@client.test").await;
        let ask = |email: &'static str| {
            let app = &app;
            async move { app.call(Method::POST, "/v1/portal/auth/password-reset", None, Some(&json!({ "firm": "harbor", "email": email }))).await }
        };
        assert_eq!(ask("nobody@client.test").await.status, 202, "the same answer for unknown addresses");
        assert_eq!(ask("ada@client.test").await.status, 202);
        let mails = smtp.wait_for(1).await;
        assert_eq!(mails.len(), 1, "no email for the unknown address");
        let token = token_in(&mails[0], "/portal/reset-password");
        let confirm = |password: &'static str| {
            let (app, token) = (&app, token.clone());
            async move { app.call(Method::POST, "/v1/portal/auth/password-reset/confirm", None, Some(&json!({ "token": token, "password": password }))).await }
        };
        confirm("qwerty123").await.assert_problem(422, "validation_failed");
        assert_eq!(confirm("a brand new passphrase").await.status, 204);
        confirm("yet another passphrase").await.assert_problem(410, "reset_link_invalid");
        app.get("/v1/portal/me", &old_session).await.assert_problem(401, "invalid_token");
        portal_login(&app, "ada@client.test", PASSWORD).await.assert_problem(401, "invalid_credentials");
        assert_eq!(portal_login(&app, "ada@client.test", "a brand new passphrase").await.status, 200);
    }
}
