//! Live updates: a Server-Sent Events stream per signed-in person.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;

/// An open stream, read event by event.
pub(crate) struct Stream {
    response: reqwest::Response,
    buffer: String,
}

#[derive(Debug)]
pub(crate) struct Event {
    id: String,
    pub(crate) name: String,
    pub(crate) data: serde_json::Value,
}

impl Stream {
    async fn open(app: &TestApp, path: &str, bearer: Option<&str>, last_event_id: Option<&str>) -> reqwest::Response {
        Self::open_at(&app.url(path), bearer, last_event_id).await
    }

    async fn open_at(url: &str, bearer: Option<&str>, last_event_id: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        crate::support::open(request).await
    }

    async fn connect(app: &TestApp, path: &str, bearer: Option<&str>, last_event_id: Option<&str>) -> Self {
        Self::connect_at(&app.url(path), bearer, last_event_id).await
    }

    pub(crate) async fn connect_at(url: &str, bearer: Option<&str>, last_event_id: Option<&str>) -> Self {
        let response = Self::open_at(url, bearer, last_event_id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let mut stream = Self { response, buffer: String::new() };
        // The greeting arrives at once, so the stream is subscribed before the test acts.
        stream.fill_until(|b| b.contains(": connected")).await;
        stream
    }

    async fn fill_until(&mut self, done: impl Fn(&str) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done(&self.buffer) {
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.expect("stream went quiet");
            let chunk = chunk.expect("stream failed").expect("stream ended");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event (comment lines skipped).
    pub(crate) async fn next(&mut self) -> Event {
        loop {
            self.fill_until(|b| b.contains("\n\n")).await;
            let end = self.buffer.find("\n\n").unwrap();
            let block: String = self.buffer.drain(..end + 2).collect();
            let field =
                |name: &str| block.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned));
            if let (Some(id), Some(name), Some(data)) = (field("id"), field("event"), field("data")) {
                return Event { id, name, data: serde_json::from_str(&data).unwrap() };
            }
        }
    }
}

on_both_backends! {
    async fn a_connected_contact_hears_of_a_new_message_at_once(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        let contact_id = contact["id"].as_str().unwrap();
        let contact_token = app.contact_token(&firm, contact_id, "cora@client.test").await;

        // EventSource cannot send headers: a short-lived ticket goes in the URL instead.
        let ticket = app.call(Method::POST, "/v1/live/tickets", Some(&contact_token), None).await;
        assert_eq!(ticket.status, 200, "{}", ticket.body);
        assert_eq!(ticket.header("cache-control"), Some("no-store"));
        let ticket = ticket.body["ticket"].as_str().unwrap().to_owned();
        app.get(&format!("/v1/conversations?ticket={ticket}"), &ticket).await.assert_problem(401, "invalid_token");
        let mut stream = Stream::connect(&app, &format!("/v1/live?ticket={ticket}"), None, None).await;

        let started = app.post("/v1/conversations", &firm.owner_token, &json!({ "contact_id": contact_id, "subject": "News", "body": "Your papers are ready." })).await;
        assert_eq!(started.status, 201, "{}", started.body);
        let event = stream.next().await;
        assert_eq!(event.name, "message.created");
        assert_eq!(event.data["conversation_id"], started.id());
        assert_eq!(event.data["message_id"], started.body["last_message"]["id"]);
        assert!(event.id.starts_with("lve_"));

        // Reconnecting with Last-Event-ID replays what came after it.
        drop(stream);
        let reply = app.post(&format!("/v1/conversations/{}/messages", started.id()), &firm.owner_token, &json!({ "body": "One more thing." })).await;
        assert_eq!(reply.status, 201);
        let mut resumed = Stream::connect(&app, "/v1/live", Some(&contact_token), Some(&event.id)).await;
        // The first message's in-app notification followed its event; then the reply.
        let missed = resumed.next().await;
        assert_eq!(missed.name, "notification.created");
        assert_eq!(missed.data["kind"], "new_message");
        assert_eq!(missed.data["message_id"], event.data["message_id"]);
        let missed = resumed.next().await;
        assert_eq!(missed.name, "message.created");
        assert_eq!(missed.data["message_id"], reply.id());
    }

    async fn a_message_posted_through_one_instance_reaches_a_stream_on_another(backend) {
        let app = TestApp::spawn(backend).await;
        let other = app.second_instance();
        let firm = app.firm("harbor").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        let contact_id = contact["id"].as_str().unwrap();
        let contact_token = app.contact_token(&firm, contact_id, "cora@client.test").await;
        let mut stream = Stream::connect_at(&format!("{other}/v1/live"), Some(&contact_token), None).await;

        let started = app.post("/v1/conversations", &firm.owner_token, &json!({ "contact_id": contact_id, "subject": "News", "body": "Ready." })).await;
        assert_eq!(started.status, 201, "{}", started.body);
        let event = stream.next().await;
        assert_eq!(event.data["conversation_id"], started.id());
    }

    async fn staff_hear_of_client_messages_through_their_notifications(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let (_, member_token) = app.staff(&firm, "member", "mia@harbor.test").await;
        let client = app.client(&firm.owner_token, "Ada Lovelace").await;
        let contact = app.contact(&firm.owner_token, client["id"].as_str().unwrap(), "cora@client.test").await;
        let contact_token = app.contact_token(&firm, contact["id"].as_str().unwrap(), "cora@client.test").await;
        app.patch("/v1/firm", &firm.owner_token, &json!({ "thread_notification_policy": "all_members" })).await;
        let mut stream = Stream::connect(&app, "/v1/live", Some(&member_token), None).await;

        let started = app.post("/v1/portal/conversations", &contact_token, &json!({ "subject": "Question", "body": "Hello?" })).await;
        assert_eq!(started.status, 201, "{}", started.body);
        let event = stream.next().await;
        assert_eq!(event.name, "notification.created");
        assert_eq!(event.data["kind"], "conversation_started");
        assert_eq!(event.data["conversation_id"], started.id());
    }

    async fn a_stream_needs_a_person_and_a_valid_ticket_and_ends_with_the_session(backend) {
        let app = TestApp::spawn_with(backend, &[("LIVE_HEARTBEAT_SECS", "1")]).await;
        let firm = app.firm("harbor").await;
        let (_, key) = app.api_key(&firm.owner_token, &["messages:read"]).await;
        app.call(Method::POST, "/v1/live/tickets", Some(&key), None).await.assert_problem(403, "forbidden");
        let anonymous = Stream::open(&app, "/v1/live", None, None).await;
        assert_eq!(anonymous.status(), 401);
        let forged = Stream::open(&app, "/v1/live?ticket=not.a.ticket", None, None).await;
        assert_eq!(forged.status(), 401);
        // An access token is not a ticket: URLs get logged, so it must never work there.
        let in_url = Stream::open(&app, &format!("/v1/live?ticket={}", firm.owner_token), None, None).await;
        assert_eq!(in_url.status(), 401);
        let bad_resume = Stream::open(&app, "/v1/live", Some(&firm.owner_token), Some("evil")).await;
        assert_eq!(bad_resume.status(), 400);
        let problem: serde_json::Value = bad_resume.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_last_event_id");

        let mut stream = Stream::connect(&app, "/v1/live", Some(&firm.owner_token), None).await;
        let logout = app.call(Method::POST, "/v1/auth/logout", Some(&firm.owner_token), None).await;
        assert_eq!(logout.status, 204);
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while stream.response.chunk().await.expect("stream failed").is_some() {}
        })
        .await;
        assert!(ended.is_ok(), "the stream outlived its session");
    }
}

/// `vestibule_live_streams` of the app's one instance.
async fn open_streams(app: &TestApp) -> i64 {
    let metrics = crate::support::open(app.http.get(app.url("/metrics"))).await.text().await.unwrap();
    let line = metrics.lines().find(|l| l.starts_with("vestibule_live_streams ")).expect("the gauge is exported");
    line.trim_start_matches("vestibule_live_streams ").parse().unwrap()
}

/// Waits, up to `within`, for the gauge to read `expected`; returns how long it took.
async fn wait_for_streams(app: &TestApp, expected: i64, within: Duration) -> Duration {
    let started = std::time::Instant::now();
    while open_streams(app).await != expected {
        assert!(started.elapsed() < within, "{} streams open, not {expected}", open_streams(app).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

on_both_backends! {
    async fn a_stream_whose_client_left_is_gone_within_seconds(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let stream = Stream::connect(&app, "/v1/live", Some(&firm.owner_token), None).await;
        assert_eq!(open_streams(&app).await, 1);
        drop(stream);
        // The heartbeat is 20 s: the stream must go well before one.
        let took = wait_for_streams(&app, 0, Duration::from_secs(10)).await;
        println!("a closed stream stayed registered for {took:?}");
    }

    async fn a_newer_stream_beyond_the_cap_closes_the_oldest(backend) {
        let app = TestApp::spawn_with(backend, &[("LIVE_MAX_STREAMS_PER_PRINCIPAL", "3")]).await;
        let firm = app.firm("harbor").await;
        let mut streams = Vec::new();
        for _ in 0..4 {
            streams.push(Stream::connect(&app, "/v1/live", Some(&firm.owner_token), None).await);
        }
        wait_for_streams(&app, 3, Duration::from_secs(5)).await;
        let mut oldest = streams.remove(0);
        // Told to wait before reconnecting, so that it does not take its place back at once.
        oldest.fill_until(|b| b.contains("retry: 60000\n: replaced by a newer stream")).await;
        let end = tokio::time::timeout(Duration::from_secs(10), oldest.response.chunk()).await.unwrap();
        assert!(end.unwrap().is_none(), "the replaced stream ended");
        // The newer ones still hear what happens.
        let mut newest = streams.pop().unwrap();
        newest.fill_until(|b| b.contains(": connected")).await;
        let other = app.firm("other").await;
        let again = Stream::connect(&app, "/v1/live", Some(&other.owner_token), None).await;
        wait_for_streams(&app, 4, Duration::from_secs(5)).await;
        drop(again);
    }
}
