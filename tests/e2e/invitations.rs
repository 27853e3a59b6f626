//! Invites from the settings (seed 004).

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::smtp::SmtpListener;

on_both_backends! {
    async fn admins_invite_a_contact_entered_by_email_and_track_it(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let client = app.client(&firm.owner_token, "Northwind Ltd").await;
        let client_id = client["id"].as_str().unwrap();
        let body = json!({ "client_id": client_id, "email": "Finance@Northwind.test", "first_name": "Fay", "last_name": "Finance" });

        app.post("/v1/invitations", &member_token, &body).await.assert_problem(403, "forbidden");
        let nameless = app.post("/v1/invitations", &firm.owner_token, &json!({ "client_id": client_id, "email": "new@northwind.test" })).await;
        nameless.assert_problem(422, "validation_failed");
        assert_eq!(app.count("contacts"), 0, "a refused invite creates nothing");

        let invited = app.post("/v1/invitations", &firm.owner_token, &body).await;
        assert_eq!(invited.status, 201, "{}", invited.body);
        assert_eq!(invited.body["email"], "finance@northwind.test");
        assert_eq!(invited.body["status"], "pending");
        assert_eq!(invited.body["source"], "settings");
        assert_eq!(invited.body["invited_by"], firm.owner_id);
        let location = invited.header("location").unwrap().to_owned();
        assert_eq!(app.get(&location, &firm.owner_token).await.body, invited.body);
        let contact = app.get(&format!("/v1/contacts/{}", invited.body["contact_id"].as_str().unwrap()), &firm.owner_token).await;
        assert_eq!(contact.body["of"], json!({ "kind": "client", "id": client_id }));
        let portal = app.get(&format!("/v1/portals/{}", invited.body["portal_id"].as_str().unwrap()), &firm.owner_token).await;
        assert_eq!(portal.body["grants"][0]["client_id"], client_id);
        assert_eq!(smtp.wait_for(1).await[0].to, vec!["finance@northwind.test"]);

        let resent = app.call(Method::POST, &format!("/v1/invitations/{}/resend", invited.id()), Some(&firm.owner_token), None).await;
        assert_eq!(resent.status, 201, "{}", resent.body);
        smtp.wait_for(2).await;
        let listed = app.get("/v1/invitations", &firm.owner_token).await;
        let statuses: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, vec!["revoked", "pending"], "the resent invitation replaces the first");

        let revoked = app.call(Method::POST, &format!("/v1/invitations/{}/revoke", resent.id()), Some(&firm.owner_token), None).await;
        assert_eq!(revoked.body["status"], "revoked");
        app.call(Method::POST, &format!("/v1/invitations/{}/revoke", resent.id()), Some(&firm.owner_token), None)
            .await
            .assert_problem(409, "invitation_closed");
        app.call(Method::POST, &format!("/v1/invitations/{}/resend", resent.id()), Some(&firm.owner_token), None)
            .await
            .assert_problem(409, "invitation_closed");
        let by_owner = app.get(&format!("/v1/invitations?invited_by={}", firm.owner_id), &firm.owner_token).await;
        assert_eq!(by_owner.body["data"].as_array().unwrap().len(), 2);
    }
}
