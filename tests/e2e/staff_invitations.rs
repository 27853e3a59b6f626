//! Staff invitations: owners and admins invite people by email; the invited person chooses
//! their own password. Emails are caught by a real SMTP listener.

use reqwest::Method;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::smtp::{Mail, SmtpListener};
use crate::support::{Reply, TestApp};

const CHOSEN: &str = "my own passphrase";

async fn app_with_mail(backend: crate::support::Backend) -> (TestApp, SmtpListener) {
    let smtp = SmtpListener::start().await;
    let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
    (app, smtp)
}

/// The one-time token of the staff invitation link in an email.
fn token_in(mail: &Mail) -> String {
    let text = mail.text();
    let marker = "http://vestibule.test/staff/accept-invitation?token=";
    let start = text.find(marker).unwrap_or_else(|| panic!("no invitation link in {text}")) + marker.len();
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Reply {
    let body = json!({ "token": token, "password": password });
    app.call(Method::POST, "/v1/staff-invitations/accept", None, Some(&body)).await
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> Reply {
    app.call(Method::POST, &format!("/v1/staff-invitations/{id}/{action}"), Some(token), None).await
}

fn invitee(email: &str, role: &str) -> Value {
    json!({ "email": email, "name": "Nina New", "role": role, "portal_permission": true })
}

on_both_backends! {
    async fn an_invited_person_chooses_a_password_and_signs_in_with_the_role_given(backend) {
        let (app, smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        let invited = app.post("/v1/staff-invitations", &firm.owner_token, &invitee("Nina@Harbor.test", "admin")).await;
        assert_eq!(invited.status, 201, "{}", invited.body);
        assert_eq!(invited.body["status"], "pending");
        assert_eq!(invited.body["email"], "nina@harbor.test");
        assert_eq!(invited.body["invited_by"], firm.owner_id);
        assert!(!invited.body.to_string().contains("token"), "the link travels only in the email");
        let location = invited.header("location").unwrap().to_owned();
        assert_eq!(app.get(&location, &firm.owner_token).await.body, invited.body);
        let mails = smtp.wait_for(1).await;
        assert_eq!(mails[0].to, vec!["nina@harbor.test"]);
        let token = token_in(&mails[0]);

        let weak = accept(&app, &token, "password123").await;
        weak.assert_problem(422, "validation_failed");
        assert_eq!(app.count("staff"), 1, "a weak password creates nobody");

        let member = accept(&app, &token, CHOSEN).await;
        assert_eq!(member.status, 201, "{}", member.body);
        assert_eq!(member.body["role"], "admin");
        assert_eq!(member.body["portal_permission"], true);
        assert_eq!(member.body["email"], "nina@harbor.test");
        let signed_in = app.login("harbor", "nina@harbor.test", CHOSEN).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        accept(&app, &token, CHOSEN).await.assert_problem(409, "invitation_used");
        let shown = app.get(&location, &firm.owner_token).await;
        assert_eq!(shown.body["status"], "accepted");
        assert_eq!(shown.body["staff_id"], member.body["id"]);
        let accepted = app.get("/v1/staff-invitations?status=accepted", &firm.owner_token).await;
        assert_eq!(accepted.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.get("/v1/staff-invitations?status=pending", &firm.owner_token).await.body["data"], json!([]));
        assert!(app.audit_count(&firm.id) >= 2);
    }

    async fn resent_revoked_and_expired_links_stop_working(backend) {
        let (app, smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        let invited = app.post("/v1/staff-invitations", &firm.owner_token, &invitee("nina@harbor.test", "member")).await;
        let first = token_in(&smtp.wait_for(1).await[0]);
        let resent = act(&app, &firm.owner_token, &invited.id(), "resend").await;
        assert_eq!(resent.status, 201, "{}", resent.body);
        let second = token_in(&smtp.wait_for(2).await[1]);
        accept(&app, &first, CHOSEN).await.assert_problem(410, "invitation_revoked");
        let statuses: Vec<Value> = app.get("/v1/staff-invitations", &firm.owner_token).await.body["data"]
            .as_array().unwrap().iter().map(|i| i["status"].clone()).collect();
        assert_eq!(statuses, vec![json!("revoked"), json!("pending")]);

        use diesel::prelude::*;
        use vestibule_storage::schema::staff_invitations;
        diesel::update(staff_invitations::table)
            .set(staff_invitations::expires_at.eq(vestibule_storage::now() - chrono::Duration::minutes(1)))
            .execute(&mut *app.conn())
            .unwrap();
        accept(&app, &second, CHOSEN).await.assert_problem(410, "invitation_expired");
        assert_eq!(app.get(&format!("/v1/staff-invitations/{}", resent.id()), &firm.owner_token).await.body["status"], "expired");

        let again = act(&app, &firm.owner_token, &resent.id(), "resend").await;
        assert_eq!(again.status, 201, "an expired invitation can be sent again: {}", again.body);
        let third = token_in(&smtp.wait_for(3).await[2]);
        let revoked = act(&app, &firm.owner_token, &again.id(), "revoke").await;
        assert_eq!(revoked.body["status"], "revoked");
        act(&app, &firm.owner_token, &again.id(), "revoke").await.assert_problem(409, "invitation_closed");
        act(&app, &firm.owner_token, &again.id(), "resend").await.assert_problem(409, "invitation_closed");
        accept(&app, &third, CHOSEN).await.assert_problem(410, "invitation_revoked");
        accept(&app, "not-a-token", CHOSEN).await.assert_problem(404, "not_found");
        assert_eq!(app.count("staff"), 1, "no refused link created anyone");
    }

    async fn only_admins_invite_and_only_owners_invite_owners(backend) {
        let (app, _smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        let (_, admin_token) = app.staff(&firm, "admin", "adam@harbor.test").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        app.post("/v1/staff-invitations", &member_token, &invitee("x@harbor.test", "member")).await.assert_problem(403, "forbidden");
        app.post("/v1/staff-invitations", &admin_token, &invitee("o2@harbor.test", "owner")).await.assert_problem(403, "forbidden");
        app.post("/v1/staff-invitations", &firm.owner_token, &invitee("MIA@harbor.test", "member")).await.assert_problem(409, "email_taken");
        app.post("/v1/staff-invitations", &firm.owner_token, &invitee("not an address", "member")).await.assert_problem(422, "validation_failed");
        assert_eq!(app.count("staff_invitations"), 0, "refused invitations are not stored");

        let owner = app.post("/v1/staff-invitations", &firm.owner_token, &invitee("o2@harbor.test", "owner")).await;
        assert_eq!(owner.status, 201, "{}", owner.body);
        act(&app, &admin_token, &owner.id(), "revoke").await.assert_problem(403, "forbidden");
        act(&app, &admin_token, &owner.id(), "resend").await.assert_problem(403, "forbidden");
        let by_admin = app.post("/v1/staff-invitations", &admin_token, &invitee("m2@harbor.test", "member")).await;
        assert_eq!(by_admin.status, 201, "{}", by_admin.body);

        let other = app.firm("other").await;
        app.get(&format!("/v1/staff-invitations/{}", by_admin.id()), &other.owner_token).await.assert_problem(404, "not_found");
        act(&app, &other.owner_token, &by_admin.id(), "revoke").await.assert_problem(404, "not_found");
    }

    async fn someone_who_joined_meanwhile_cannot_accept_twice(backend) {
        let (app, smtp) = app_with_mail(backend).await;
        let firm = app.firm("harbor").await;
        app.post("/v1/staff-invitations", &firm.owner_token, &invitee("nina@harbor.test", "member")).await;
        let token = token_in(&smtp.wait_for(1).await[0]);
        app.staff(&firm, "member", "nina@harbor.test").await;
        accept(&app, &token, CHOSEN).await.assert_problem(409, "email_taken");
        assert_eq!(app.count("staff"), 2);
    }
}
