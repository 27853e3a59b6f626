//! `make bench`: the real application over HTTP on loopback, as in the end-to-end suites,
//! with a few thousand clients seeded. Reports latency percentiles and throughput per
//! endpoint; list pages of 50 and 200 rows show whether the cost per row stays flat.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::large_futures, dead_code)]

#[path = "../e2e/support/mod.rs"]
mod support;

mod files;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::{Backend, TestApp};
use vestibule_domain::ids::ClientId;
use vestibule_storage::clients::{self, ClientRow};

const CLIENTS: usize = 3_000;
const REQUESTS: usize = 400;
const CONCURRENCY: usize = 8;
const EVENTS: usize = 2_000;
const CONVERSATIONS: usize = 1_000;
const MESSAGES_EACH: usize = 4;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !support::database::postgres_available() {
            continue;
        }
        run(backend).await;
    }
    large_files().await;
}

/// A large file through both blob stores (the database hardly matters here: SQLite).
async fn large_files() {
    println!("\nlarge files ({} MiB), SQLite:", files::SIZE / (1024 * 1024));
    let s3 = support::s3::S3Server::start().await;
    let settings = s3.settings();
    let s3_settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (store, overrides) in [("fs", Vec::new()), ("s3", s3_settings)] {
        let mut overrides = overrides;
        overrides.push(("WORKERS", "2"));
        let app = TestApp::spawn_with(Backend::Sqlite, &overrides).await;
        let firm = app.firm("bench").await;
        app.patch("/v1/firm", &firm.owner_token, &json!({ "upload_limit_bytes": 1_u64 << 40 })).await;
        let client = app.client(&firm.owner_token, "Large Files").await;
        files::measure(&app, &firm.owner_token, client["id"].as_str().unwrap(), store).await;
    }
}

async fn run(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, &[("WORKERS", "2"), ("DATABASE_POOL_SIZE", "8"), ("DISPATCH_BATCH_SIZE", "64")])
            .await;
    let firm = app.firm("bench").await;
    let seeded = Instant::now();
    seed(&app, &firm.id, &firm.owner_id);
    println!("\n{backend:?}: seeded {CLIENTS} clients in {:.1}s", seeded.elapsed().as_secs_f64());
    println!("{:<34} {:>9} {:>9} {:>9} {:>10}", "endpoint", "p50 ms", "p95 ms", "p99 ms", "req/s");
    let token = firm.owner_token.clone();
    let some_client = app.get("/v1/clients?limit=1", &token).await.body["data"][0]["id"].as_str().unwrap().to_owned();

    measure(&app, "GET /v1/clients?limit=50", REQUESTS, |_| {
        (Method::GET, "/v1/clients?limit=50".to_owned(), None, token.clone())
    })
    .await;
    measure(&app, "GET /v1/clients?limit=200", REQUESTS, |_| {
        (Method::GET, "/v1/clients?limit=200".to_owned(), None, token.clone())
    })
    .await;
    measure(&app, "GET /v1/clients?q=client 12", REQUESTS, |_| {
        (Method::GET, "/v1/clients?q=client%2012".to_owned(), None, token.clone())
    })
    .await;
    measure(&app, "GET /v1/clients/{id}", REQUESTS, |_| {
        (Method::GET, format!("/v1/clients/{some_client}"), None, token.clone())
    })
    .await;
    measure(&app, "POST /v1/clients", REQUESTS, |n| {
        (
            Method::POST,
            "/v1/clients".to_owned(),
            Some(json!({ "kind": "person", "name": format!("New {n}"), "emails": [format!("new{n}@bench.test")] })),
            token.clone(),
        )
    })
    .await;
    let login = json!({ "firm": "bench", "email": "owner@bench.test", "password": support::fixtures::PASSWORD });
    measure(&app, "POST /v1/auth/login (argon2id)", 40, |_| {
        (Method::POST, "/v1/auth/login".to_owned(), Some(login.clone()), String::new())
    })
    .await;
    messaging(&app, &firm, &some_client).await;
    dispatch_throughput(&app, &firm).await;
}

/// The inbox of a firm and of a portal contact with many conversations: each page is a
/// fixed number of queries (rows, last messages, read positions, unread counts, names).
async fn messaging(app: &TestApp, firm: &support::fixtures::Firm, client_id: &str) {
    let contact = app.contact(&firm.owner_token, client_id, "inbox@bench.test").await;
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let contact_token = app.contact_token(firm, &contact_id, "inbox@bench.test").await;
    let seeded = Instant::now();
    seed_conversations(app, &firm.id, &firm.owner_id, client_id, &contact_id);
    println!(
        "seeded {CONVERSATIONS} conversations of {MESSAGES_EACH} messages in {:.1}s",
        seeded.elapsed().as_secs_f64()
    );
    let token = firm.owner_token.clone();
    let one = app.get("/v1/conversations?limit=1", &token).await.body["data"][0]["id"].as_str().unwrap().to_owned();
    measure(app, "GET /v1/conversations?limit=50", REQUESTS, |_| {
        (Method::GET, "/v1/conversations?limit=50".to_owned(), None, token.clone())
    })
    .await;
    measure(app, "GET /v1/conversations?unread=true", REQUESTS, |_| {
        (Method::GET, "/v1/conversations?unread=true&limit=50".to_owned(), None, token.clone())
    })
    .await;
    measure(app, "GET /v1/portal/conversations", REQUESTS, |_| {
        (Method::GET, "/v1/portal/conversations?limit=50".to_owned(), None, contact_token.clone())
    })
    .await;
    measure(app, "POST /v1/conversations/{id}/messages", REQUESTS, |n| {
        (
            Method::POST,
            format!("/v1/conversations/{one}/messages"),
            Some(json!({ "body": format!("Reply {n}") })),
            token.clone(),
        )
    })
    .await;
}

fn seed_conversations(app: &TestApp, firm_id: &str, owner_id: &str, client_id: &str, contact_id: &str) {
    use vestibule_storage::conversations::{self, ConversationRow, MessageRow};
    let mut conn = app.conn();
    vestibule_storage::write_tx(&mut conn, |conn| {
        for n in 0..CONVERSATIONS {
            let row = ConversationRow {
                id: vestibule_domain::ids::ConversationId::generate().into(),
                firm_id: firm_id.to_owned(),
                client_id: client_id.to_owned(),
                matter_id: None,
                contact_id: contact_id.to_owned(),
                channel: None,
                subject: format!("Conversation {n}"),
                started_by_kind: conversations::STAFF.to_owned(),
                started_by_id: owner_id.to_owned(),
                last_message_id: String::new(),
                last_staff_message_id: None,
                last_contact_message_id: None,
                created_at: vestibule_storage::now(),
                staff_messages: 0,
                contact_messages: 0,
            };
            conversations::insert(conn, &row)?;
            for m in 0..MESSAGES_EACH {
                let (kind, author) =
                    if m % 2 == 0 { (conversations::STAFF, owner_id) } else { (conversations::CONTACT, contact_id) };
                let message = MessageRow {
                    id: vestibule_domain::ids::MessageId::generate().into(),
                    firm_id: firm_id.to_owned(),
                    conversation_id: row.id.clone(),
                    author_kind: kind.to_owned(),
                    author_id: author.to_owned(),
                    body: format!("Message {m} of conversation {n}"),
                    created_at: vestibule_storage::now(),
                };
                conversations::insert_message(conn, &message)?;
            }
        }
        Ok::<_, vestibule_storage::StorageError>(())
    })
    .unwrap();
}

/// Events published straight into the outbox, delivered to a loopback receiver that answers
/// at once: the dispatcher's own cost per delivery (claim, sign, send, record).
async fn dispatch_throughput(app: &TestApp, firm: &support::fixtures::Firm) {
    let receiver = support::receiver::Receiver::start().await;
    let body = json!({ "url": receiver.url, "event_types": ["client.updated"] });
    let endpoint = app.post("/v1/webhook-endpoints", &firm.owner_token, &body).await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.body);
    let started = Instant::now();
    vestibule_storage::write_tx(&mut app.conn(), |conn| {
        for n in 0..EVENTS {
            let data = json!({ "id": format!("cli_{n:032x}") });
            vestibule_storage::outbox::publish(
                conn,
                &firm.id,
                vestibule_domain::events::EventType::ClientUpdated,
                &data,
            )?;
        }
        Ok::<_, vestibule_storage::StorageError>(())
    })
    .unwrap();
    let published = started.elapsed();
    receiver.wait_for(EVENTS).await;
    let total = started.elapsed();
    println!(
        "dispatch to a loopback receiver: {EVENTS} events published in {:.2}s, all delivered {:.2}s later = {:.0} deliveries/s",
        published.as_secs_f64(),
        (total - published).as_secs_f64(),
        EVENTS as f64 / (total - published).as_secs_f64()
    );
}

fn seed(app: &TestApp, firm_id: &str, owner_id: &str) {
    let mut conn = app.conn();
    let now = vestibule_storage::now();
    vestibule_storage::write_tx(&mut conn, |conn| {
        for n in 0..CLIENTS {
            let row = ClientRow {
                id: ClientId::generate().into(),
                firm_id: firm_id.to_owned(),
                kind: "person".to_owned(),
                name: format!("Client {n}"),
                external_id: Some(format!("EXT-{n}")),
                portal_inbox_folder_id: None,
                owner_staff_id: Some(owner_id.to_owned()),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            clients::insert(
                conn,
                &row,
                &[format!("c{n}@bench.test"), format!("c{n}@home.test")],
                &[owner_id.to_owned()],
            )?;
        }
        Ok::<_, vestibule_storage::StorageError>(())
    })
    .unwrap();
}

type Request = (Method, String, Option<Value>, String);

/// Sends `count` requests, `CONCURRENCY` at a time, and prints the latency distribution.
async fn measure(app: &TestApp, name: &str, count: usize, request: impl Fn(usize) -> Request) {
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::with_capacity(count);
    let requests: Vec<Request> = (0..count).map(request).collect();
    for chunk in requests.chunks(CONCURRENCY) {
        let calls = chunk.iter().map(|(method, path, body, token)| {
            let token = (!token.is_empty()).then_some(token.as_str());
            async move {
                let sent = Instant::now();
                let reply = app.call(method.clone(), path, token, body.as_ref()).await;
                assert!(reply.status.is_success(), "{name}: {} {}", reply.status, reply.body);
                sent.elapsed()
            }
        });
        latencies.extend(futures_util::future::join_all(calls).await);
    }
    let total = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "{name:<34} {:>9.2} {:>9.2} {:>9.2} {:>10.0}",
        at(0.5),
        at(0.95),
        at(0.99),
        count as f64 / total.as_secs_f64()
    );
}
