//! Outbox and webhook delivery against a real HTTP receiver, signatures checked with an
//! HMAC of the test's own, emails caught by a real SMTP listener.

use reqwest::Method;
use serde_json::json;
use vestibule_domain::events::EventType;
use vestibule_storage::outbox;

use crate::on_both_backends;
use crate::support::receiver::{Receiver, signature_is_valid};
use crate::support::smtp::SmtpListener;
use crate::support::{Reply, TestApp};

pub(crate) async fn endpoint(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let reply = app.post("/v1/webhook-endpoints", token, &json!({ "url": url, "event_types": types })).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (reply.id(), reply.body["secret"].as_str().unwrap().to_owned())
}

async fn deliveries(app: &TestApp, token: &str, endpoint_id: &str) -> Reply {
    app.get(&format!("/v1/webhook-endpoints/{endpoint_id}/deliveries"), token).await
}

/// Polls the delivery log until its first delivery reaches `status`.
async fn settled(app: &TestApp, token: &str, endpoint_id: &str, status: &str) -> serde_json::Value {
    for _ in 0..300 {
        let log = deliveries(app, token, endpoint_id).await;
        if log.body["data"][0]["status"] == status {
            return log.body["data"][0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("delivery never became {status}: {}", deliveries(app, token, endpoint_id).await.body);
}

on_both_backends! {
    async fn a_change_reaches_subscribed_endpoints_signed_and_without_content(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let clients_hook = Receiver::start().await;
        let matters_hook = Receiver::start().await;
        let created = app.post("/v1/webhook-endpoints", &firm.owner_token, &json!({ "url": clients_hook.url, "event_types": ["client.created"] })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.header("cache-control"), Some("no-store"));
        let secret = created.body["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        endpoint(&app, &firm.owner_token, &matters_hook.url, &["matter.created"]).await;

        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let received = clients_hook.wait_for(1).await;
        let message = &received[0];
        assert!(signature_is_valid(&secret, message), "signature {:?}", message.signature);
        assert!(message.id.starts_with("evt_"));
        let age = chrono::Utc::now().timestamp() - message.timestamp.parse::<i64>().unwrap();
        assert!((0..60).contains(&age));
        let body = message.json();
        assert_eq!(body["type"], "client.created");
        assert_eq!(body["data"], json!({ "id": client["id"], "firm_id": firm.id }));
        assert!(!String::from_utf8_lossy(&message.body).contains("Lovelace"), "payloads stay thin");

        let delivered = settled(&app, &firm.owner_token, &created.id(), "delivered").await;
        assert_eq!(delivered["attempts"], 1);
        assert_eq!(delivered["attempt_log"][0]["status_code"], 200);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(matters_hook.received().is_empty(), "a filtered endpoint gets only its types");
    }

    async fn a_change_that_fails_publishes_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        app.matter(&firm.owner_token, client["id"].as_str().unwrap(), false).await;
        app.delete(&format!("/v1/clients/{}", client["id"].as_str().unwrap()), &firm.owner_token).await.assert_problem(409, "in_use");
        app.post("/v1/clients", &firm.owner_token, &json!({ "kind": "person", "name": "" })).await.assert_problem(422, "validation_failed");
        assert_eq!(app.count("outbox_events WHERE event_type = 'client.deleted'"), 0);
        assert_eq!(app.count("outbox_events WHERE event_type = 'client.created'"), 1);
    }

    async fn a_failing_receiver_gets_the_same_message_until_it_accepts(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        hook.answer(&[500, 503], None);
        let (endpoint_id, secret) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let received = hook.wait_for(3).await;
        assert!(received.iter().all(|m| m.id == received[0].id), "one webhook-id for every attempt");
        assert!(received.iter().all(|m| signature_is_valid(&secret, m)));
        let delivery = settled(&app, &firm.owner_token, &endpoint_id, "delivered").await;
        let codes: Vec<i64> = delivery["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
        assert_eq!(codes, vec![500, 503, 200]);
        assert!(app.get(&format!("/v1/webhook-endpoints/{endpoint_id}"), &firm.owner_token).await.body["failing_since"].is_null());
    }

    async fn retries_stop_after_the_last_attempt(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        hook.answer(&[500; 10], None);
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &["client.created"]).await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let dead = settled(&app, &firm.owner_token, &endpoint_id, "dead").await;
        assert_eq!(dead["attempts"], 4, "the first attempt and one per scheduled retry");
        assert_eq!(hook.received().len(), 4);
        let endpoint = app.get(&format!("/v1/webhook-endpoints/{endpoint_id}"), &firm.owner_token).await;
        assert!(endpoint.body["failing_since"].is_string());
        assert!(endpoint.body["disabled_at"].is_null());
    }

    async fn redirects_are_not_followed(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        hook.answer(&[302], None);
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let delivery = settled(&app, &firm.owner_token, &endpoint_id, "delivered").await;
        assert_eq!(delivery["attempt_log"][0]["status_code"], 302);
        assert!(delivery["attempt_log"][0]["error"].as_str().unwrap().contains("redirects are not followed"));
        assert_eq!(hook.received().len(), 2, "the redirect target was never called");
    }

    async fn a_gone_receiver_disables_its_endpoint_and_the_admins_get_an_email(backend) {
        let smtp = SmtpListener::start().await;
        let app = TestApp::spawn_with(backend, &[("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", &smtp.url)]).await;
        let firm = app.firm("harbor").await;
        app.staff(&firm, "member", "mia@harbor.test").await;
        let hook = Receiver::start().await;
        hook.answer(&[410], None);
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let dead = settled(&app, &firm.owner_token, &endpoint_id, "dead").await;
        assert_eq!(dead["attempts"], 1, "410 is not retried");
        let endpoint = app.get(&format!("/v1/webhook-endpoints/{endpoint_id}"), &firm.owner_token).await;
        assert_eq!(endpoint.body["disabled_reason"], "gone");
        let again = app.patch(&format!("/v1/webhook-endpoints/{endpoint_id}"), &firm.owner_token, &json!({ "disabled": true })).await;
        assert_eq!(again.body["disabled_reason"], "gone", "turning off what is off keeps why it went off");
        let by_system = app.get(&format!("/v1/audit-events?target_id={endpoint_id}&action=webhook_endpoint.disabled"), &firm.owner_token).await;
        assert_eq!(by_system.body["data"][0]["actor_kind"], "system");
        let mails = smtp.wait_for(1).await;
        assert_eq!(mails[0].to, vec!["owner@harbor.test"], "owners and admins only");
        assert_eq!(mails[0].from, "no-reply@localhost");
        assert!(mails[0].data.contains("A webhook endpoint was disabled"));
        assert!(mails[0].data.contains(&hook.url));
        assert!(mails[0].data.contains("harbor LLP"));
        // The listener has the email; the delivery is recorded right after it was accepted.
        let mut emails = app.get("/v1/deliveries?channel=email&status=delivered", &firm.owner_token).await;
        for _ in 0..100 {
            if emails.body["data"][0].is_object() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            emails = app.get("/v1/deliveries?channel=email&status=delivered", &firm.owner_token).await;
        }
        assert_eq!(emails.body["data"][0]["recipient"], "owner@harbor.test", "{}", emails.body);
        assert_eq!(emails.body["data"][0]["event_type"], "webhook_endpoint.disabled");
        // Sent again after a crash, it would carry the same id: it names its delivery.
        let delivery_id = emails.body["data"][0]["id"].as_str().unwrap();
        assert!(mails[0].data.contains(&format!("Message-ID: <{delivery_id}@")), "{}", mails[0].data);
        app.client(&firm.owner_token, "Grace Hopper").await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(hook.received().len(), 1, "a disabled endpoint receives nothing");
    }

    async fn an_endpoint_failing_for_too_long_is_disabled(backend) {
        let app = TestApp::spawn_with(backend, &[("WEBHOOK_DISABLE_AFTER_SECS", "1")]).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        hook.answer(&[500; 10], None);
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &["client.created"]).await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        for _ in 0..200 {
            let endpoint = app.get(&format!("/v1/webhook-endpoints/{endpoint_id}"), &firm.owner_token).await;
            let mail_dir = app.data_dir.join("mail");
            let emails = std::fs::read_dir(&mail_dir).map(|dir| dir.filter_map(Result::ok).count()).unwrap_or(0);
            // The email is queued with the change that disables the endpoint, and sent after it.
            if endpoint.body["disabled_reason"] == "failing" && emails == 1 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the endpoint was not disabled, or the folder transport wrote no email to the admin");
    }

    async fn a_rotated_secret_signs_alongside_the_old_one_for_a_while(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (endpoint_id, old_secret) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
        let rotated = app.call(Method::POST, &format!("/v1/webhook-endpoints/{endpoint_id}/rotate-secret"), Some(&firm.owner_token), None).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        assert_eq!(rotated.header("cache-control"), Some("no-store"));
        let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
        assert_ne!(new_secret, old_secret);
        let test = app.call(Method::POST, &format!("/v1/webhook-endpoints/{endpoint_id}/test"), Some(&firm.owner_token), None).await;
        assert_eq!(test.status, 202);
        let message = hook.wait_for(1).await.remove(0);
        assert_eq!(message.signature.split(' ').count(), 2);
        assert!(signature_is_valid(&old_secret, &message));
        assert!(signature_is_valid(&new_secret, &message));
        assert_eq!(message.json()["type"], "webhook.test");
    }

    async fn a_delivery_is_replayed_with_its_webhook_id(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &["matter.created"]).await;
        let test = app.call(Method::POST, &format!("/v1/webhook-endpoints/{endpoint_id}/test"), Some(&firm.owner_token), None).await;
        let first = hook.wait_for(1).await.remove(0);
        let replay_path = format!("/v1/webhook-endpoints/{endpoint_id}/deliveries/{}/replay", test.id());
        let replayed = app.call(Method::POST, &replay_path, Some(&firm.owner_token), None).await;
        assert_eq!(replayed.status, 202, "{}", replayed.body);
        assert_ne!(replayed.id(), test.id());
        let second = hook.wait_for(2).await.remove(1);
        assert_eq!(second.id, first.id);
        assert_eq!(second.body, first.body);
    }

    async fn a_disabled_endpoint_receives_nothing_until_enabled(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &["client.created"]).await;
        let path = format!("/v1/webhook-endpoints/{endpoint_id}");
        let off = app.patch(&path, &firm.owner_token, &json!({ "disabled": true })).await;
        assert_eq!(off.body["disabled_reason"], "manual");
        let test = app.call(Method::POST, &format!("{path}/test"), Some(&firm.owner_token), None).await;
        test.assert_problem(409, "endpoint_disabled");
        app.client(&firm.owner_token, "Ada Lovelace").await;
        assert_eq!(app.patch(&path, &firm.owner_token, &json!({ "disabled": false })).await.status, 200);
        app.client(&firm.owner_token, "Grace Hopper").await;
        let received = hook.wait_for(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(hook.received().len(), 1);
        assert_eq!(received[0].json()["type"], "client.created");
    }

    async fn internal_targets_are_refused_unless_allowed(backend) {
        let app = TestApp::spawn_with(backend, &[("WEBHOOK_ALLOWED_HOSTS", "")]).await;
        let firm = app.firm("harbor").await;
        for (url, code) in [
            ("http://hooks.example.com/x", "insecure_url"),
            ("https://10.0.0.5/x", "private_address"),
            ("https://169.254.169.254/latest", "private_address"),
            ("https://[::1]/x", "private_address"),
            ("https://localhost/x", "private_address"),
            ("https://crm.internal/x", "private_address"),
            ("https://user:pw@hooks.example.com/x", "invalid_url"),
            ("not a url", "invalid_url"),
        ] {
            let reply = app.post("/v1/webhook-endpoints", &firm.owner_token, &json!({ "url": url })).await;
            reply.assert_problem(422, "validation_failed");
            assert_eq!(reply.body["errors"][0]["code"], code, "{url}");
            assert_eq!(reply.body["errors"][0]["pointer"], "/url");
        }
        assert_eq!(app.post("/v1/webhook-endpoints", &firm.owner_token, &json!({ "url": "https://hooks.example.com/x" })).await.status, 201);
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        app.get("/v1/webhook-endpoints", &member_token).await.assert_problem(403, "forbidden");
    }

    async fn two_dispatchers_share_the_work_without_sending_anything_twice(backend) {
        let app = TestApp::spawn(backend).await;
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        vestibule_server::startup::spawn_dispatcher(&app.config, app.pool.clone(), stopped).unwrap();
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        endpoint(&app, &firm.owner_token, &hook.url, &["client.created"]).await;
        for n in 0..20 {
            app.client(&firm.owner_token, &format!("Client {n}")).await;
        }
        let received = hook.wait_for(20).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let ids: std::collections::HashSet<String> = hook.received().into_iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), 20);
        assert_eq!(hook.received().len(), 20, "each delivery was claimed by one dispatcher: {}", received.len());
    }

    async fn a_receiver_asking_to_wait_is_not_called_sooner(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        hook.answer(&[429], Some("3"));
        let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &["client.created"]).await;
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let delivery = settled(&app, &firm.owner_token, &endpoint_id, "delivered").await;
        let times: Vec<chrono::DateTime<chrono::Utc>> =
            delivery["attempt_log"].as_array().unwrap().iter().map(|a| a["attempted_at"].as_str().unwrap().parse().unwrap()).collect();
        assert_eq!(delivery["attempt_log"][0]["status_code"], 429);
        assert!(times[1] - times[0] >= chrono::Duration::seconds(3), "Retry-After: 3 outweighs the 1 s schedule");
    }

    async fn an_email_that_cannot_be_read_is_given_up_at_once(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        // An invitation email without its link, which no handler can queue any more.
        let id = {
            let mut conn = app.conn();
            let data = json!({ "id": "por_missing" });
            let event = outbox::publish(&mut conn, &firm.id, EventType::PortalInvited, &data).unwrap();
            outbox::queue(&mut conn, &event, outbox::EMAIL, None, Some("ada@harbor.test")).unwrap()
        };
        let mut dead = app.get("/v1/deliveries?channel=email&status=dead", &firm.owner_token).await;
        for _ in 0..300 {
            if dead.body["data"][0].is_object() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            dead = app.get("/v1/deliveries?channel=email&status=dead", &firm.owner_token).await;
        }
        let delivery = &dead.body["data"][0];
        assert_eq!(delivery["id"], id.as_str(), "{}", dead.body);
        assert_eq!(delivery["attempts"], 1, "reading it again would not help");
        assert!(delivery["last_error"].as_str().unwrap().contains("without its content"), "{delivery}");
        let mails = std::fs::read_dir(app.data_dir.join("mail")).map(|dir| dir.count()).unwrap_or(0);
        assert_eq!(mails, 0);
    }
}
