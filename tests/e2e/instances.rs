//! Several instances on one database, as behind a load balancer: the limits per address are
//! shared, and on PostgreSQL work committed through one instance wakes the others at once
//! rather than at their next poll.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::access_links::{create_link, wrong_code};
use crate::live::Stream;
use crate::on_both_backends;
use crate::support::receiver::Receiver;
use crate::support::{Backend, Reply, TestApp, database};
use crate::webhooks::endpoint;

async fn post_at(app: &TestApp, base: &str, path: &str, body: &Value) -> Reply {
    app.exchange(app.http.post(format!("{base}{path}")).json(body)).await
}

on_both_backends! {
    async fn the_sign_in_limit_per_address_holds_across_instances(backend) {
        let app = TestApp::spawn_with(backend, &[("LOGIN_ATTEMPTS_PER_MINUTE", "3")]).await;
        let bases = [app.base.clone(), app.second_instance(), app.second_instance()];
        let attempt = json!({ "firm": "x", "email": "a@b.test", "password": "whatever" });
        for base in &bases {
            post_at(&app, base, "/v1/auth/login", &attempt).await.assert_problem(401, "invalid_credentials");
        }
        for base in &bases {
            let throttled = post_at(&app, base, "/v1/auth/login", &attempt).await;
            throttled.assert_problem(429, "rate_limited");
            assert!(throttled.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
        }
    }

    async fn the_link_code_limit_per_address_holds_across_instances(backend) {
        let app = TestApp::spawn_with(backend, &[("LINK_ATTEMPTS_PER_MINUTE", "2")]).await;
        let other = app.second_instance();
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await["id"].as_str().unwrap().to_owned();
        let link = create_link(&app, &firm, json!({ "client_id": client, "kind": "download" })).await;
        let path = format!("/v1/links/{}/sessions", link.token);
        let wrong = json!({ "code": wrong_code(&link.code) });
        post_at(&app, &app.base, &path, &wrong).await.assert_problem(401, "invalid_code");
        post_at(&app, &other, &path, &wrong).await.assert_problem(401, "invalid_code");
        // The right code, on either instance: the address has had its two tries this minute.
        post_at(&app, &app.base, &path, &json!({ "code": link.code })).await.assert_problem(429, "rate_limited");
        post_at(&app, &other, &path, &json!({ "code": link.code })).await.assert_problem(429, "rate_limited");
    }
}

/// PostgreSQL only: SQLite serves one instance and finds work by polling.
async fn postgres_app(overrides: &[(&str, &str)]) -> Option<TestApp> {
    if !database::postgres_available() {
        return None;
    }
    Some(TestApp::spawn_with(Backend::Postgres, overrides).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_a_stream_on_another_instance_without_waiting_for_a_poll() {
    // Polls every 30 s: anything sooner came from the notification.
    let Some(app) = postgres_app(&[("LIVE_POLL_MS", "30000")]).await else { return };
    let other = app.second_instance();
    let firm = app.firm("harbor").await;
    let client = app.client(&firm.owner_token, "Ada Lovelace").await;
    let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
    let contact_id = contact["id"].as_str().unwrap();
    let contact_token = app.contact_token(&firm, contact_id, "cora@client.test").await;
    let mut stream = Stream::connect_at(&format!("{other}/v1/live"), Some(&contact_token), None).await;
    let started = app
        .post(
            "/v1/conversations",
            &firm.owner_token,
            &json!({ "contact_id": contact_id, "subject": "News", "body": "Ready." }),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let conversation = started.id();
    while stream.next().await.name != "message.created" {}
    let mut latencies = Vec::new();
    for n in 0..20 {
        let sent = Instant::now();
        let reply = app
            .call(
                Method::POST,
                &format!("/v1/conversations/{conversation}/messages"),
                Some(&firm.owner_token),
                Some(&json!({ "body": format!("Update {n}") })),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        loop {
            let event = stream.next().await;
            if event.name == "message.created" && event.data["message_id"] == reply.id() {
                break;
            }
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    println!("cross-instance live latency over 20 messages: median {:?}, max {:?}", latencies[10], latencies[19]);
    assert!(latencies[19] < Duration::from_secs(5), "a message waited for the poll: {latencies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_webhook_goes_out_without_waiting_for_a_poll() {
    let Some(app) = postgres_app(&[("DISPATCH_POLL_MS", "30000")]).await else { return };
    let firm = app.firm("harbor").await;
    let hook = Receiver::start().await;
    let (endpoint_id, _) = endpoint(&app, &firm.owner_token, &hook.url, &[]).await;
    // Past the dispatcher's first look, which runs at its start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Instant::now();
    let test = app
        .call(Method::POST, &format!("/v1/webhook-endpoints/{endpoint_id}/test"), Some(&firm.owner_token), None)
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    hook.wait_for(1).await;
    println!("a queued webhook went out after {:?}", sent.elapsed());
    assert!(sent.elapsed() < Duration::from_secs(5));
}
