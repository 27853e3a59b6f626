use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn a_restricted_matter_is_invisible_to_staff_outside_it(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (member_id, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let (_, admin_token) = app.staff(&firm, "admin", "adam@harbor.test").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let open = app.matter(&firm.owner_token, client_id, false).await;
        let secret = app.matter(&firm.owner_token, client_id, true).await;
        let secret_path = format!("/v1/matters/{}", secret["id"].as_str().unwrap());

        app.get(&secret_path, &member_token).await.assert_problem(404, "not_found");
        app.patch(&secret_path, &member_token, &json!({ "title": "Peek" })).await.assert_problem(404, "not_found");
        app.get(&format!("{secret_path}/members"), &member_token).await.assert_problem(404, "not_found");
        let listed = app.get("/v1/matters", &member_token).await;
        let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![open["id"].as_str().unwrap()]);
        assert_eq!(app.get(&secret_path, &admin_token).await.status, 200);

        let added = app.put(&format!("{secret_path}/members/{member_id}"), &firm.owner_token, &json!({ "role": "assistant" })).await;
        assert_eq!(added.status, 200, "{}", added.body);
        assert_eq!(added.body["role"], "assistant");
        assert_eq!(app.get(&secret_path, &member_token).await.status, 200);
        assert_eq!(app.get(&secret_path, &member_token).await.body["title"], "Estate of A.");
    }

    async fn only_case_handlers_and_admins_manage_members(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (assistant_id, assistant_token) = app.staff(&firm, "member", "asa@harbor.test").await;
        let (other_id, _) = app.staff(&firm, "member", "otto@harbor.test").await;
        let (handler_id, handler_token) = app.staff(&firm, "member", "hal@harbor.test").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let matter = app.matter(&firm.owner_token, client["id"].as_str().unwrap(), false).await;
        let base = format!("/v1/matters/{}/members", matter["id"].as_str().unwrap());
        assert_eq!(app.put(&format!("{base}/{assistant_id}"), &firm.owner_token, &json!({ "role": "assistant" })).await.status, 200);
        assert_eq!(app.put(&format!("{base}/{handler_id}"), &firm.owner_token, &json!({ "role": "case_handler" })).await.status, 200);

        app.put(&format!("{base}/{other_id}"), &assistant_token, &json!({ "role": "assistant" })).await.assert_problem(403, "forbidden");
        assert_eq!(app.put(&format!("{base}/{other_id}"), &handler_token, &json!({ "role": "assistant" })).await.status, 200);
        app.delete(&format!("{base}/{other_id}"), &assistant_token).await.assert_problem(403, "forbidden");
        assert_eq!(app.delete(&format!("{base}/{other_id}"), &handler_token).await.status, 204);

        let members = app.get(&base, &firm.owner_token).await;
        let mut roles: Vec<(String, String)> = members.body.as_array().unwrap().iter().map(|m| (m["staff_id"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned())).collect();
        roles.sort();
        let mut expected = vec![(firm.owner_id.clone(), "case_handler".to_owned()), (assistant_id, "assistant".to_owned()), (handler_id, "case_handler".to_owned())];
        expected.sort();
        assert_eq!(roles, expected, "the creator is a case handler; the removed member is gone");
    }

    async fn a_matter_must_belong_to_a_client_of_the_firm(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let reply = app.post("/v1/matters", &firm.owner_token, &json!({ "client_id": "cli_00000000000000000000000000000000", "title": "X" })).await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.body["errors"][0]["pointer"], "/client_id");
        assert_eq!(app.count("matters"), 0);
    }

    async fn matters_are_upserted_and_filtered(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let client_id = client["id"].as_str().unwrap();
        let body = json!({ "client_id": client_id, "title": "Probate", "reference": "P-1", "email": "Probate@Firm.test" });
        let created = app.put("/v1/matters/external/M-1", &firm.owner_token, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["email"], "probate@firm.test");
        let same = app.put("/v1/matters/external/M-1", &firm.owner_token, &body).await;
        assert_eq!(same.status, 200);
        assert_eq!(same.body["version"], 1);
        app.matter(&firm.owner_token, client_id, true).await;
        let restricted = app.get("/v1/matters?restricted=true", &firm.owner_token).await;
        assert_eq!(restricted.body["data"].as_array().unwrap().len(), 1);
        let by_title = app.get("/v1/matters?q=probate", &firm.owner_token).await;
        assert_eq!(by_title.body["data"][0]["id"], created.body["id"]);
        let by_member = app.get(&format!("/v1/matters?member_staff_id={}", firm.owner_id), &firm.owner_token).await;
        assert_eq!(by_member.body["data"].as_array().unwrap().len(), 2);
    }
}
