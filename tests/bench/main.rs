//! `make bench`: the real application over HTTP on loopback, as in the end-to-end suites,
//! beside a bare actix + diesel server (`baseline.rs`) on the same seeded database, on both
//! backends. Each request's peak rate is printed beside the baseline's as a ratio, with the
//! latency at the peak and at half of it; then the conversation list with long threads,
//! large files against the blob store and a raw copy, and the release binary's start and
//! idle memory. Numbers, not verdicts: nothing here fails on a slow result.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::large_futures, dead_code)]

#[path = "../e2e/support/mod.rs"]
mod support;

mod baseline;
mod files;
mod load;
mod process;
mod seed;

use std::sync::Arc;
use std::time::Instant;

use load::{Compared, Make};
use serde_json::json;
use support::{Backend, TestApp};

const CLIENTS: usize = 3_000;
const EVENTS: usize = 2_000;
const CONVERSATIONS: usize = 1_000;
const MESSAGES_EACH: usize = 4;
const LONG_THREADS: usize = 60;
const LONG_THREAD_MESSAGES: usize = 5_000;
const SMALL_FILE: usize = 64 * 1024;
const WORKERS: &str = "2";

/// A bench case: its name, the app's path, the baseline's path, and the body a POST sends.
type Case = (&'static str, String, String, Option<fn(usize) -> serde_json::Value>);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !support::database::postgres_available() {
            println!("\nno PostgreSQL at TEST_DATABASE_URL: its half is skipped");
            continue;
        }
        run(backend).await;
    }
    large_files().await;
    process::report().await;
}

/// A large file through both blob stores (the database hardly matters here: SQLite).
async fn large_files() {
    println!("\nlarge files ({} MiB), SQLite:", files::SIZE / (1024 * 1024));
    let s3 = support::s3::S3Server::start().await;
    let settings = s3.settings();
    let s3_settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (store, overrides) in [("fs", Vec::new()), ("s3", s3_settings)] {
        let mut overrides = overrides;
        overrides.push(("WORKERS", WORKERS));
        let app = TestApp::spawn_with(Backend::Sqlite, &overrides).await;
        let firm = app.firm("bench").await;
        app.patch("/v1/firm", &firm.owner_token, &json!({ "upload_limit_bytes": 1_u64 << 40 })).await;
        let client = app.client(&firm.owner_token, "Large Files").await;
        files::measure(&app, &firm.owner_token, client["id"].as_str().unwrap(), store).await;
    }
}

/// Requests to `base`: a GET of `path`, or a POST of `body(n)` when given.
fn requests(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Option<fn(usize) -> serde_json::Value>,
) -> Make {
    let (http, url, token) = (http.clone(), format!("{base}{path}"), token.map(str::to_owned));
    Arc::new(move |n| {
        let mut request = match body {
            Some(body) => http.post(&url).json(&body(n)),
            None => http.get(&url),
        };
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        request
    })
}

fn reply(n: usize) -> serde_json::Value {
    json!({ "body": format!("Reply {n}") })
}

async fn run(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("WORKERS", WORKERS), ("DATABASE_POOL_SIZE", "8"), ("DISPATCH_BATCH_SIZE", "64")],
    )
    .await;
    let firm = app.firm("bench").await;
    let token = firm.owner_token.as_str();
    let seeded = Instant::now();
    seed::clients(&mut app.conn(), &firm.id, &firm.owner_id, CLIENTS);
    let client = app.get("/v1/clients?limit=1", token).await.body["data"][0]["id"].as_str().unwrap().to_owned();
    let contact = app.contact(token, &client, "inbox@bench.test").await["id"].as_str().unwrap().to_owned();
    // Replies need the contact to have a portal to be told of them in.
    app.contact_token(&firm, &contact, "inbox@bench.test").await;
    let parties =
        seed::Parties { firm_id: &firm.id, owner_id: &firm.owner_id, client_id: &client, contact_id: &contact };
    seed::short_threads(&mut app.conn(), &parties, CONVERSATIONS, MESSAGES_EACH);
    println!(
        "\n{backend:?}: {CLIENTS} clients, {CONVERSATIONS} conversations of {MESSAGES_EACH} messages, seeded in {:.1}s",
        seeded.elapsed().as_secs_f64()
    );
    let conversation =
        app.get("/v1/conversations?limit=1", token).await.body["data"][0]["id"].as_str().unwrap().to_owned();
    let document = small_document(&app, token, &client).await;
    let link_session = link_session(&app, token, &client).await;

    let blobs = vestibule_blobs::BlobStore::new(&vestibule_server::startup::blob_settings(&app.config)).unwrap();
    let scope = baseline::Scope { firm_id: firm.id.clone(), reader_id: firm.owner_id.clone() };
    let pool = vestibule_server::startup::connect(&app.config).unwrap();
    let bare = baseline::start(pool, blobs, scope, WORKERS.parse().unwrap());
    let http = reqwest::Client::new();
    let v1 = app.url("/v1");

    load::header();
    let cases: [Case; 7] = [
        ("`GET /v1/clients?limit=50`", "/clients?limit=50".into(), "/clients?limit=50".into(), None),
        ("`GET /v1/clients/{id}`", format!("/clients/{client}"), format!("/clients/{client}"), None),
        ("`GET /v1/conversations?limit=50`", "/conversations?limit=50".into(), "/conversations?limit=50".into(), None),
        (
            "`GET …/messages?limit=50`",
            format!("/conversations/{conversation}/messages?limit=50"),
            format!("/conversations/{conversation}/messages?limit=50"),
            None,
        ),
        (
            "`POST …/messages`",
            format!("/conversations/{conversation}/messages"),
            format!("/conversations/{conversation}/messages"),
            Some(reply),
        ),
        (
            "`GET /v1/documents/{id}/content` (64 KiB)",
            format!("/documents/{document}/content"),
            format!("/documents/{document}/content"),
            None,
        ),
        (
            "`GET /v1/link/documents/{id}/content` (64 KiB)",
            format!("/link/documents/{document}/content"),
            format!("/documents/{document}/content"),
            None,
        ),
    ];
    let mut short_list = None;
    for (name, path, bare_path, body) in cases {
        let token = if path.starts_with("/link/") { link_session.as_str() } else { token };
        let app_requests = requests(&http, &v1, &path, Some(token), body);
        let bare_requests = requests(&http, &bare, &bare_path, None, body);
        let compared = Compared::measure(name, &app_requests, Some(&bare_requests)).await;
        if path.starts_with("/conversations?") {
            short_list = Some(compared.app.rate);
        }
    }
    long_threads(&app, short_list.unwrap_or(0.0)).await;
    dispatch_throughput(&app, &firm).await;
}

async fn small_document(app: &TestApp, token: &str, client: &str) -> String {
    let path = format!("/v1/documents?client_id={client}&name=notice.pdf&visible_to_client=true");
    let bytes: Vec<u8> = (0..SMALL_FILE).map(|n| (n % 251) as u8).collect();
    let uploaded = app.send_raw(reqwest::Method::POST, &path, token, "application/octet-stream", bytes).await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    uploaded.id()
}

/// A download link to the client's visible documents, opened with its code.
async fn link_session(app: &TestApp, token: &str, client: &str) -> String {
    let created = app.post("/v1/access-links", token, &json!({ "client_id": client, "kind": "download" })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let url = created.body["access_link"]["url"].as_str().unwrap();
    let link_token = url.rsplit('/').next().unwrap();
    let code = json!({ "code": created.body["security_code"] });
    let opened = app.call(reqwest::Method::POST, &format!("/v1/links/{link_token}/sessions"), None, Some(&code)).await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    opened.body["token"].as_str().unwrap().to_owned()
}

/// The same conversation list in a firm whose threads hold thousands of messages: the rate
/// must not follow the threads' length.
async fn long_threads(app: &TestApp, short_rate: f64) {
    let firm = app.firm("long").await;
    let client = app.client(&firm.owner_token, "Long Threads").await["id"].as_str().unwrap().to_owned();
    let contact = app.contact(&firm.owner_token, &client, "long@bench.test").await["id"].as_str().unwrap().to_owned();
    let parties =
        seed::Parties { firm_id: &firm.id, owner_id: &firm.owner_id, client_id: &client, contact_id: &contact };
    let seeded = Instant::now();
    seed::long_threads(&mut app.conn(), &parties, LONG_THREADS, LONG_THREAD_MESSAGES);
    let seconds = seeded.elapsed().as_secs_f64();
    let http = reqwest::Client::new();
    let list = requests(&http, &app.url("/v1"), "/conversations?limit=50", Some(&firm.owner_token), None);
    let long = load::peak(&list).await;
    println!(
        "\nconversation list, {LONG_THREADS} threads of {LONG_THREAD_MESSAGES} messages (seeded in {seconds:.0}s): \
         {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms = {:.2}× the rate with {MESSAGES_EACH} messages per thread",
        long.rate,
        long.p50,
        long.p99,
        long.rate / short_rate
    );
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
