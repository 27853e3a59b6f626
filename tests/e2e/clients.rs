use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn a_client_is_created_read_changed_and_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let body = json!({ "kind": "organisation", "name": "  Northwind Ltd ", "emails": ["Ops@Northwind.test", "ops@northwind.test", "billing@northwind.test"], "owner_staff_id": firm.owner_id, "assignee_staff_ids": [firm.owner_id] });
        let created = app.post("/v1/clients", &firm.owner_token, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.id();
        assert_eq!(created.header("location"), Some(format!("/v1/clients/{id}").as_str()));
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.body["name"], "Northwind Ltd");
        assert_eq!(created.body["emails"], json!(["ops@northwind.test", "billing@northwind.test"]));
        assert_eq!(created.body["assignee_staff_ids"], json!([firm.owner_id]));

        let fetched = app.get(&format!("/v1/clients/{id}"), &firm.owner_token).await;
        assert_eq!(fetched.body, created.body);

        let changed = app.call_with(reqwest::Method::PATCH, &format!("/v1/clients/{id}"), Some(&firm.owner_token), Some(&json!({ "name": "Northwind Traders", "owner_staff_id": null })), &[("if-match", "\"1\"")]).await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(changed.body["version"], 2);
        assert_eq!(changed.header("etag"), Some("\"2\""));
        assert!(changed.body["owner_staff_id"].is_null());
        assert_eq!(changed.body["emails"], created.body["emails"], "absent fields stay");

        let deleted = app.delete(&format!("/v1/clients/{id}"), &firm.owner_token).await;
        assert_eq!(deleted.status, 204);
        app.get(&format!("/v1/clients/{id}"), &firm.owner_token).await.assert_problem(404, "not_found");
    }

    async fn a_stale_if_match_is_refused_and_changes_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let id = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/clients/{id}");
        let first = app.call_with(reqwest::Method::PATCH, &path, Some(&firm.owner_token), Some(&json!({ "name": "First" })), &[("if-match", "\"1\"")]).await;
        assert_eq!(first.status, 200);
        let second = app.call_with(reqwest::Method::PATCH, &path, Some(&firm.owner_token), Some(&json!({ "name": "Second" })), &[("if-match", "\"1\"")]).await;
        second.assert_problem(412, "precondition_failed");
        let garbage = app.call_with(reqwest::Method::PATCH, &path, Some(&firm.owner_token), Some(&json!({ "name": "Third" })), &[("if-match", "nonsense")]).await;
        garbage.assert_problem(412, "precondition_failed");
        let stale_delete = app.call_with(reqwest::Method::DELETE, &path, Some(&firm.owner_token), None, &[("if-match", "\"1\"")]).await;
        stale_delete.assert_problem(412, "precondition_failed");
        let now = app.get(&path, &firm.owner_token).await;
        assert_eq!(now.body["name"], "First");
        assert_eq!(now.body["version"], 2);
    }

    async fn a_client_with_matters_cannot_be_deleted(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let id = client["id"].as_str().unwrap();
        app.matter(&firm.owner_token, id, false).await;
        app.delete(&format!("/v1/clients/{id}"), &firm.owner_token).await.assert_problem(409, "in_use");
        assert_eq!(app.get(&format!("/v1/clients/{id}"), &firm.owner_token).await.status, 200);
    }

    async fn clients_page_through_a_cursor_without_gaps_or_repeats(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let mut expected = Vec::new();
        for n in 0..5 {
            expected.push(app.client(&firm.owner_token, &format!("Client {n}")).await["id"].as_str().unwrap().to_owned());
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/clients?limit=2&cursor={c}"),
                None => "/v1/clients?limit=2".to_owned(),
            };
            let page = app.get(&path, &firm.owner_token).await;
            assert_eq!(page.status, 200, "{}", page.body);
            pages += 1;
            seen.extend(page.body["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()));
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, expected);
    }

    async fn clients_are_filtered_by_name_email_kind_and_assignee(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member_id, _) = app.staff(&firm, "member", "mia@harbor.test").await;
        let ada = app.client(&firm.owner_token, "Ada Lovelace").await;
        app.client(&firm.owner_token, "Grace Hopper").await;
        let org = app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "organisation", "name": "100% Ltd_", "assignee_staff_ids": [member_id] })).await;
        let ids = |reply: &crate::support::Reply| -> Vec<String> { reply.body["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect() };
        assert_eq!(ids(&app.get("/v1/clients?q=LOVE", &firm.owner_token).await), vec![ada["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.get("/v1/clients?email=ADA.LOVELACE@client.test", &firm.owner_token).await), vec![ada["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.get("/v1/clients?kind=organisation", &firm.owner_token).await), vec![org.id()]);
        assert_eq!(ids(&app.get(&format!("/v1/clients?assignee_staff_id={member_id}"), &firm.owner_token).await), vec![org.id()]);
        assert_eq!(ids(&app.get("/v1/clients?q=%25", &firm.owner_token).await), vec![org.id()], "LIKE wildcards match literally");
        app.get("/v1/clients?kind=robot", &firm.owner_token).await.assert_problem(400, "invalid_query");
    }

    async fn invalid_fields_are_all_reported_with_pointers(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let before = app.count("clients");
        let reply = app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "person", "name": " ", "emails": ["ok@x.test", "not-an-email"], "external_id": "has spaces" })).await;
        reply.assert_problem(422, "validation_failed");
        let pointers: Vec<&str> = reply.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, vec!["/name", "/emails/1", "/external_id"]);
        let unknown_staff = app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "person", "name": "A", "assignee_staff_ids": ["stf_00000000000000000000000000000000"] })).await;
        unknown_staff.assert_problem(422, "validation_failed");
        assert_eq!(unknown_staff.body["errors"][0]["pointer"], "/assignee_staff_ids");
        let wrong_id_type = app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "person", "name": "A", "owner_staff_id": "cli_00000000000000000000000000000000" })).await;
        wrong_id_type.assert_problem(422, "validation_failed");
        assert_eq!(wrong_id_type.body["errors"][0]["pointer"], "/owner_staff_id");
        assert_eq!(app.count("clients"), before);
    }

    async fn an_integration_upserts_a_client_by_external_id(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, key) = app.api_key(&firm.owner_token, &["clients:read", "clients:write"]).await;
        let body = json!({ "kind": "person", "name": "Ada Lovelace", "emails": ["ada@client.test"] });
        let created = app.put("/v1/clients/external/PM-1001", &key, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["external_id"], "PM-1001");
        assert!(created.header("location").unwrap().ends_with(&created.id()));
        let again = app.put("/v1/clients/external/PM-1001", &key, &body).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, created.body, "an identical PUT changes nothing");
        let changed = app.put("/v1/clients/external/PM-1001", &key, &json!({ "kind": "person", "name": "Ada King", "emails": ["ada@client.test"] })).await;
        assert_eq!(changed.status, 200);
        assert_eq!(changed.body["version"], 2);
        assert_eq!(changed.id(), created.id());
        assert_eq!(app.count("clients"), 1);
        let mismatch = app.put("/v1/clients/external/PM-1001", &key, &json!({ "kind": "person", "name": "A", "external_id": "PM-2" })).await;
        mismatch.assert_problem(422, "validation_failed");
        let taken = app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "person", "name": "Copy", "external_id": "PM-1001" })).await;
        taken.assert_problem(409, "external_id_taken");
    }
}
