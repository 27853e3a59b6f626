use diesel::prelude::*;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn changes_and_logins_are_recorded_with_who_what_and_where(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let id = client["id"].as_str().unwrap();
        app.patch(&format!("/v1/clients/{id}"), &firm.owner_token, &json!({ "name": "Ada King" })).await;
        let events = app.get(&format!("/v1/audit-events?target_id={id}"), &firm.owner_token).await;
        assert_eq!(events.status, 200);
        let data = events.body["data"].as_array().unwrap();
        let actions: Vec<&str> = data.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["client.created", "client.updated"]);
        assert_eq!(data[0]["actor_kind"], "staff");
        assert_eq!(data[0]["actor_id"], firm.owner_id);
        assert_eq!(data[0]["ip"], "127.0.0.1");
        assert_eq!(data[0]["outcome"], "success");

        let by_actor = app.get(&format!("/v1/audit-events?actor_id={}&action=auth.login", firm.owner_id), &firm.owner_token).await;
        assert_eq!(by_actor.body["data"].as_array().unwrap().len(), 1);
        let future = app.get("/v1/audit-events?from=2999-01-01T00:00:00Z", &firm.owner_token).await;
        assert_eq!(future.body["data"].as_array().unwrap().len(), 0);
        let past = app.get("/v1/audit-events?to=2000-01-01T00:00:00Z", &firm.owner_token).await;
        assert_eq!(past.body["data"].as_array().unwrap().len(), 0);
    }

    async fn the_chain_verifies_and_detects_tampering(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        for name in ["A", "B", "C"] {
            app.client(&firm.owner_token, name).await;
        }
        let intact = app.get("/v1/audit-events/verification", &firm.owner_token).await;
        assert_eq!(intact.status, 200, "{}", intact.body);
        assert_eq!(intact.body["intact"], true);
        let head = intact.body["head_seq"].as_i64().unwrap();
        assert_eq!(intact.body["events_checked"], head);

        use vestibule_storage::schema::audit_events::dsl::*;
        diesel::update(audit_events.filter(firm_id.eq(&firm.id).and(seq.eq(3))))
            .set(details.eq(r#"{"forged":true}"#))
            .execute(&mut *app.conn())
            .unwrap();
        let altered = app.get("/v1/audit-events/verification", &firm.owner_token).await;
        assert_eq!(altered.body["intact"], false);
        assert_eq!(altered.body["first_break"]["seq"], 3);
        assert_eq!(altered.body["events_checked"], 2);
    }

    async fn a_removed_event_breaks_the_chain(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        for name in ["A", "B"] {
            app.client(&firm.owner_token, name).await;
        }
        use vestibule_storage::schema::audit_events::dsl::*;
        diesel::delete(audit_events.filter(firm_id.eq(&firm.id).and(seq.eq(2)))).execute(&mut *app.conn()).unwrap();
        let result = app.get("/v1/audit-events/verification", &firm.owner_token).await;
        assert_eq!(result.body["intact"], false);
        assert_eq!(result.body["first_break"]["seq"], 2);
        assert_eq!(result.body["first_break"]["reason"], "an event is missing");
    }

    async fn only_admins_read_the_audit_log(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        app.get("/v1/audit-events", &member_token).await.assert_problem(403, "forbidden");
        app.get("/v1/audit-events/verification", &member_token).await.assert_problem(403, "forbidden");
        let (_, key) = app.api_key(&firm.owner_token, &["audit:read"]).await;
        assert_eq!(app.get("/v1/audit-events", &key).await.status, 200);
    }

    async fn the_log_pages_in_chain_order(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        for name in ["A", "B", "C", "D"] {
            app.client(&firm.owner_token, name).await;
        }
        let mut seqs = Vec::new();
        let mut path = "/v1/audit-events?limit=2".to_owned();
        loop {
            let page = app.get(&path, &firm.owner_token).await;
            assert_eq!(page.status, 200, "{}", page.body);
            seqs.extend(page.body["data"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/v1/audit-events?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        let head = app.get("/v1/audit-events/verification", &firm.owner_token).await.body["head_seq"].as_i64().unwrap();
        assert_eq!(seqs, (1..=head).collect::<Vec<_>>());
    }
}
