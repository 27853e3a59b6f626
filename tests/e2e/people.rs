//! Staff, offices and contacts.

use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn a_contact_belongs_to_a_client_staff_member_or_office(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let office = app.office(&firm.owner_token).await;
        let of_client = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        assert_eq!(of_client["of"], json!({ "kind": "client", "id": client["id"] }));
        let of_office = app.post("/v1/contacts", &firm.owner_token, &json!({ "first_name": "Otto", "last_name": "Office", "of": { "kind": "office", "id": office["id"] } })).await;
        assert_eq!(of_office.status, 201, "{}", of_office.body);
        let of_staff = app.post("/v1/contacts", &firm.owner_token, &json!({ "first_name": "Sue", "last_name": "Staff", "of": { "kind": "staff", "id": firm.owner_id } })).await;
        assert_eq!(of_staff.status, 201, "{}", of_staff.body);

        let mismatched = app.post("/v1/contacts", &firm.owner_token, &json!({ "first_name": "X", "last_name": "Y", "of": { "kind": "office", "id": client["id"] } })).await;
        mismatched.assert_problem(422, "validation_failed");
        assert_eq!(mismatched.body["errors"][0]["pointer"], "/of/id");

        let moved = app.patch(&format!("/v1/contacts/{}", of_client["id"].as_str().unwrap()), &firm.owner_token, &json!({ "of": { "kind": "office", "id": office["id"] }, "phone": "+44 20 7946 0000" })).await;
        assert_eq!(moved.status, 200, "{}", moved.body);
        assert_eq!(moved.body["of"]["kind"], "office");
        let by_office = app.get(&format!("/v1/contacts?office_id={}", office["id"].as_str().unwrap()), &firm.owner_token).await;
        assert_eq!(by_office.body["data"].as_array().unwrap().len(), 2);

        let duplicate = app.post("/v1/contacts", &firm.owner_token, &json!({ "first_name": "C", "last_name": "D", "email": "CORA@client.test", "of": { "kind": "client", "id": client["id"] } })).await;
        duplicate.assert_problem(409, "email_taken");
        app.delete(&format!("/v1/offices/{}", office["id"].as_str().unwrap()), &firm.owner_token).await.assert_problem(409, "in_use");
        assert_eq!(app.delete(&format!("/v1/contacts/{}", of_client["id"].as_str().unwrap()), &firm.owner_token).await.status, 204);
    }

    async fn contacts_are_upserted_by_external_id(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let body = json!({ "first_name": "Cora", "last_name": "Contact", "email": "cora@client.test", "of": { "kind": "client", "id": client["id"] } });
        let created = app.put("/v1/contacts/external/C-1", &firm.owner_token, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let same = app.put("/v1/contacts/external/C-1", &firm.owner_token, &body).await;
        assert_eq!(same.status, 200);
        assert_eq!(same.body, created.body);
        assert_eq!(app.count("contacts"), 1);
    }

    async fn admins_manage_staff_but_only_owners_touch_owners(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (admin_id, admin_token) = app.staff(&firm, "admin", "adam@harbor.test").await;
        let (member_id, _) = app.staff(&firm, "member", "mia@harbor.test").await;

        let promoted = app.patch(&format!("/v1/staff/{member_id}"), &admin_token, &json!({ "role": "admin", "portal_permission": true })).await;
        assert_eq!(promoted.status, 200, "{}", promoted.body);
        assert_eq!(promoted.body["portal_permission"], true);
        app.patch(&format!("/v1/staff/{}", firm.owner_id), &admin_token, &json!({ "role": "member" })).await.assert_problem(403, "forbidden");
        app.patch(&format!("/v1/staff/{admin_id}"), &admin_token, &json!({ "role": "member" })).await.assert_problem(403, "forbidden");
    }

    async fn firm_settings_are_changed_by_admins(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let changed = app.patch("/v1/firm", &firm.owner_token, &json!({ "thread_notification_policy": "all_members", "default_link_expiry_days": 30 })).await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(changed.body["settings"]["thread_notification_policy"], "all_members");
        assert_eq!(changed.body["settings"]["default_link_expiry_days"], 30);
        app.patch("/v1/firm", &member_token, &json!({ "name": "Mine" })).await.assert_problem(403, "forbidden");
        let bad = app.patch("/v1/firm", &firm.owner_token, &json!({ "default_link_expiry_days": 0, "thread_notification_policy": "everyone" })).await;
        bad.assert_problem(422, "validation_failed");
        assert_eq!(app.get("/v1/firm", &member_token).await.body["settings"]["default_link_expiry_days"], 30);
    }
}
