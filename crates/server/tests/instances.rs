//! Three `vestibule serve` processes on one PostgreSQL database and one S3 store, reached in
//! turn as a round-robin load balancer would: a sign-in on one continues on the others, a
//! message posted on one reaches a stream on another at once, limits hold across them, and
//! one killed under write load loses no acknowledged write while the others take over its work.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;
#[path = "../../../tests/e2e/support/s3.rs"]
mod s3;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const NODES: usize = 3;
const BATCH: &str = "4";

/// A database of its own on the local PostgreSQL server; `None` (the test is skipped) when
/// there is none, except under CI, which always has one.
fn fresh_postgres_database() -> Option<String> {
    // TLS off by default for the reason tests/e2e/support/database.rs gives.
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned());
    let Ok(mut conn) = diesel::PgConnection::establish(&admin) else {
        assert!(std::env::var("CI").is_err(), "CI runs the PostgreSQL suites: no server at {admin}");
        return None;
    };
    let name = format!("vestibule_instances_{}", rand_suffix());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
    Some(with_database(&admin, &name))
}

/// `url` with its database (the path) replaced and its parameters kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let server = base
        .trim_end_matches('/')
        .rsplit_once('/')
        .filter(|(rest, _)| rest.contains("//"))
        .map_or(base, |(rest, _)| rest);
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// The three nodes and the front that hands each request to the next live one.
struct Cluster {
    ports: Vec<u16>,
    nodes: Vec<Option<Server>>,
    alive: Arc<Mutex<Vec<u16>>>,
    turn: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Cluster {
    fn base(&self, node: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[node])
    }

    fn kill(&mut self, node: usize) {
        if let Some(mut server) = self.nodes[node].take() {
            server.0.kill().unwrap();
            server.0.wait().unwrap();
        }
        self.alive.lock().unwrap().retain(|p| *p != self.ports[node]);
    }
}

/// The next live node, in turn.
fn front(alive: &Mutex<Vec<u16>>, turn: &AtomicUsize) -> String {
    let alive = alive.lock().unwrap();
    format!("http://127.0.0.1:{}", alive[turn.fetch_add(1, Ordering::Relaxed) % alive.len()])
}

fn key(byte: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_one_database_and_one_bucket_act_as_one_server() {
    let Some(database_url) = fresh_postgres_database() else { return };
    let bucket = s3::S3Server::start().await;
    let dir = workdir();
    let mut settings: Vec<(&str, String)> = vec![
        ("DATABASE_URL", database_url.clone()),
        ("JWT_SIGNING_KEYS", format!("k1:{}", key(1))),
        ("LINK_SECRET", key(2)),
        ("AUDIT_SIGNING_KEY", key(3)),
        ("SECRETS_KEYS", format!("s1:{}", key(4))),
        ("PUBLIC_BASE_URL", "http://vestibule.test".to_owned()),
        ("TRUST_FORWARDED_FOR", "true".to_owned()),
        ("LOGIN_ATTEMPTS_PER_MINUTE", "3".to_owned()),
        ("LINK_ATTEMPTS_PER_MINUTE", "100".to_owned()),
        ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1".to_owned()),
        ("DISPATCH_BATCH_SIZE", BATCH.to_owned()),
        ("WEBHOOK_TIMEOUT_SECS", "2".to_owned()),
        ("DISPATCH_LEASE_SECS", "4".to_owned()),
        ("DISPATCH_RETRY_SCHEDULE_SECS", "1,1,1,1".to_owned()),
    ];
    settings.extend(bucket.settings());
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    create_acme(&dir, &env);
    let ports: Vec<u16> = (0..NODES).map(|_| free_port()).collect();
    let mut nodes = Vec::new();
    for port in &ports {
        nodes.push(Some(serve_with(&dir, &["serve"], *port, &env).await));
    }
    let mut cluster = Cluster {
        alive: Arc::new(Mutex::new(ports.clone())),
        ports,
        nodes,
        turn: Arc::new(AtomicUsize::new(0)),
        http: reqwest::Client::new(),
    };

    let token = acme_owner_token(cluster.ports[0]).await;
    a_sign_in_continues_on_every_node(&cluster).await;
    let client_id = idempotency_keys_and_etags_hold_across_nodes(&cluster, &token).await;
    a_link_session_opened_on_one_node_works_on_another(&cluster, &token, &client_id).await;
    a_document_stored_through_one_node_downloads_from_another(&cluster, &token, &client_id, &bucket).await;
    a_message_reaches_a_stream_on_another_node_at_once(&cluster, &token, &client_id, &database_url).await;
    the_sign_in_limit_holds_across_nodes(&cluster).await;
    a_node_killed_under_write_load_loses_nothing(&mut cluster, &token, &database_url).await;
    let verified = run(&dir, &["admin", "verify-audit", "--firm", "acme"], &env);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
}

async fn a_sign_in_continues_on_every_node(cluster: &Cluster) {
    let (status, tokens) = json_of(login(cluster.ports[0], "acme", "o@acme.test", ACME_PASSWORD).await).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    for node in 1..NODES {
        let me = cluster.http.get(format!("{}/v1/me", cluster.base(node))).bearer_auth(access).send().await.unwrap();
        assert_eq!(me.status(), 200, "a token issued by node 0 works on node {node}");
    }
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    let refreshed =
        cluster.http.post(format!("{}/v1/auth/refresh", cluster.base(1))).json(&refresh).send().await.unwrap();
    assert_eq!(refreshed.status(), 200);
    let reused = cluster.http.post(format!("{}/v1/auth/refresh", cluster.base(2))).json(&refresh).send().await.unwrap();
    assert_eq!(reused.status(), 401, "a refresh token used on node 1 is spent on node 2 too");
}

/// Returns the id of the client it created.
async fn idempotency_keys_and_etags_hold_across_nodes(cluster: &Cluster, token: &str) -> String {
    let body = json!({ "kind": "person", "name": "Ada Lovelace" });
    let mut ids = Vec::new();
    for node in 0..NODES {
        let reply = cluster
            .http
            .post(format!("{}/v1/clients", cluster.base(node)))
            .bearer_auth(token)
            .header("idempotency-key", "create-ada")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, created) = json_of(reply).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "one client for one key, whichever node answered: {ids:?}");
    let path = format!("/v1/clients/{}", ids[0]);
    let read = cluster.http.get(format!("{}{path}", cluster.base(2))).bearer_auth(token).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let change = |node: usize, name: &str| {
        cluster
            .http
            .patch(format!("{}{path}", cluster.base(node)))
            .bearer_auth(token)
            .header("if-match", &etag)
            .json(&json!({ "name": name }))
            .send()
    };
    assert_eq!(change(0, "Ada King").await.unwrap().status(), 200);
    assert_eq!(change(1, "Ada Byron").await.unwrap().status(), 412, "node 1 sees the change node 0 made");
    ids.remove(0)
}

async fn a_link_session_opened_on_one_node_works_on_another(cluster: &Cluster, token: &str, client_id: &str) {
    let created = cluster
        .http
        .post(format!("{}/v1/access-links", cluster.base(0)))
        .bearer_auth(token)
        .json(&json!({ "client_id": client_id, "kind": "download" }))
        .send()
        .await
        .unwrap();
    let (status, link) = json_of(created).await;
    assert_eq!(status, 201, "{link}");
    let link_token = link["access_link"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let opened = cluster
        .http
        .post(format!("{}/v1/links/{link_token}/sessions", cluster.base(1)))
        .json(&json!({ "code": link["security_code"] }))
        .send()
        .await
        .unwrap();
    let (status, session) = json_of(opened).await;
    assert_eq!(status, 201, "{session}");
    let listed = cluster
        .http
        .get(format!("{}/v1/link/documents", cluster.base(2)))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "a link session opened on node 1 works on node 2");
}

async fn a_document_stored_through_one_node_downloads_from_another(
    cluster: &Cluster,
    token: &str,
    client_id: &str,
    bucket: &s3::S3Server,
) {
    let stored = cluster
        .http
        .post(format!("{}/v1/documents?client_id={client_id}&name=Vollmacht.txt", cluster.base(0)))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body("signed and sealed")
        .send()
        .await
        .unwrap();
    let (status, document) = json_of(stored).await;
    assert_eq!(status, 201, "{document}");
    let content = format!("{}/v1/documents/{}/content", cluster.base(2), document["id"].as_str().unwrap());
    let download = cluster.http.get(content).bearer_auth(token).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.text().await.unwrap(), "signed and sealed");
    assert!(bucket.root.join(s3::BUCKET).exists(), "the bytes are in the one bucket");
}

/// A contact of the client with a portal and a password, signed in; returns their token.
async fn contact_token(cluster: &Cluster, token: &str, client_id: &str, database_url: &str) -> (String, String) {
    let post = |path: &str, body: Value| {
        cluster.http.post(format!("{}{path}", cluster.base(0))).bearer_auth(token).json(&body).send()
    };
    let contact = json!({ "first_name": "Cora", "last_name": "Contact", "email": "cora@client.test", "of": { "kind": "client", "id": client_id } });
    let (status, contact) = json_of(post("/v1/contacts", contact).await.unwrap()).await;
    assert_eq!(status, 201, "{contact}");
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let portal =
        json!({ "contact_id": contact_id, "kind": "full", "invite": false, "grants": [{ "client_id": client_id }] });
    let (status, portal) = json_of(post("/v1/portals", portal).await.unwrap()).await;
    assert_eq!(status, 201, "{portal}");
    // As if the contact had accepted the invitation by email.
    let pool = vestibule_storage::db::connect(
        database_url,
        &vestibule_storage::PoolOptions { max_size: 1, connect_timeout: Duration::from_secs(10) },
    )
    .unwrap();
    let mut conn = pool.get().unwrap();
    vestibule_storage::portals::activate(&mut conn, portal["id"].as_str().unwrap(), vestibule_storage::now()).unwrap();
    let firm_id = vestibule_storage::firms::find_by_slug(&mut conn, "acme").unwrap().unwrap().id;
    let hash = vestibule_app::password::hash(ACME_PASSWORD).unwrap();
    vestibule_storage::credentials::set_password(&mut conn, &firm_id, &contact_id, &hash).unwrap();
    let signed_in = cluster
        .http
        .post(format!("{}/v1/portal/auth/login", cluster.base(0)))
        .json(&json!({ "firm": "acme", "email": "cora@client.test", "password": ACME_PASSWORD }))
        .send()
        .await
        .unwrap();
    let (status, tokens) = json_of(signed_in).await;
    assert_eq!(status, 200, "{tokens}");
    (contact_id, tokens["access_token"].as_str().unwrap().to_owned())
}

async fn a_message_reaches_a_stream_on_another_node_at_once(
    cluster: &Cluster,
    token: &str,
    client_id: &str,
    database_url: &str,
) {
    let (contact_id, contact_token) = contact_token(cluster, token, client_id, database_url).await;
    let mut stream =
        cluster.http.get(format!("{}/v1/live", cluster.base(2))).bearer_auth(&contact_token).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut buffer = String::new();
    let mut read_until = async |needle: &str, buffer: &mut String| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !buffer.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("the stream went quiet");
            buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("the stream ended")));
        }
        buffer.clear();
    };
    read_until(": connected", &mut buffer).await;
    let started = cluster
        .http
        .post(format!("{}/v1/conversations", cluster.base(0)))
        .bearer_auth(token)
        .json(&json!({ "contact_id": contact_id, "subject": "News", "body": "Ready." }))
        .send()
        .await
        .unwrap();
    let (status, conversation) = json_of(started).await;
    assert_eq!(status, 201, "{conversation}");
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    read_until("message.created", &mut buffer).await;
    let mut latencies = Vec::new();
    for n in 0..20 {
        let sent = Instant::now();
        let reply = cluster
            .http
            .post(format!("{}/v1/conversations/{conversation}/messages", cluster.base(0)))
            .bearer_auth(token)
            .json(&json!({ "body": format!("Update {n}") }))
            .send()
            .await
            .unwrap();
        let (status, message) = json_of(reply).await;
        assert_eq!(status, 201, "{message}");
        read_until(message["id"].as_str().unwrap(), &mut buffer).await;
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    println!(
        "node 0 to a stream on node 2, post included, over 20 messages: median {:?}, max {:?}",
        latencies[10], latencies[19]
    );
    assert!(latencies[10] < Duration::from_secs(1), "messages waited for a poll: {latencies:?}");
}

async fn the_sign_in_limit_holds_across_nodes(cluster: &Cluster) {
    let attempt = json!({ "firm": "acme", "email": "o@acme.test", "password": "not the password" });
    let from = |node: usize| {
        cluster
            .http
            .post(format!("{}/v1/auth/login", cluster.base(node)))
            .header("x-forwarded-for", "203.0.113.9")
            .json(&attempt)
            .send()
    };
    for node in 0..NODES {
        assert_eq!(from(node).await.unwrap().status(), 401);
    }
    for node in 0..NODES {
        let throttled = from(node).await.unwrap();
        assert_eq!(throttled.status(), 429, "three attempts per minute in all, not per node");
        assert!(throttled.headers().contains_key("retry-after"));
    }
}

async fn a_node_killed_under_write_load_loses_nothing(cluster: &mut Cluster, token: &str, database_url: &str) {
    let (hook_url, seen) = slow_receiver().await;
    let endpoint = cluster
        .http
        .post(format!("{}/v1/webhook-endpoints", cluster.base(0)))
        .bearer_auth(token)
        .json(&json!({ "url": hook_url, "event_types": ["client.created"] }))
        .send()
        .await
        .unwrap();
    let (status, endpoint) = json_of(endpoint).await;
    assert_eq!(status, 201, "{endpoint}");

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (stop, acknowledged, alive, turn) =
                (stop.clone(), acknowledged.clone(), cluster.alive.clone(), cluster.turn.clone());
            let (http, token) = (cluster.http.clone(), token.to_owned());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let base = front(&alive, &turn);
                    let body = json!({ "kind": "person", "name": format!("Client {writer}-{n}") });
                    // A write the node did not acknowledge may or may not have committed.
                    if let Ok(reply) =
                        http.post(format!("{base}/v1/clients")).bearer_auth(&token).json(&body).send().await
                        && reply.status() == 201
                        && let Ok(created) = reply.json::<Value>().await
                    {
                        acknowledged.lock().unwrap().push(created["id"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.kill(1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 20, "the load was too light to test anything: {}", acknowledged.len());
    for id in &acknowledged {
        let read =
            cluster.http.get(format!("{}/v1/clients/{id}", cluster.base(0))).bearer_auth(token).send().await.unwrap();
        assert_eq!(read.status(), 200, "acknowledged client {id} is there after the kill");
    }

    // Every delivery queued arrives, the dead node's leased ones taken over by the others.
    let pool = vestibule_storage::db::connect(
        database_url,
        &vestibule_storage::PoolOptions { max_size: 1, connect_timeout: Duration::from_secs(10) },
    )
    .unwrap();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let queued = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM deliveries WHERE endpoint_id = '{}'",
        endpoint["id"].as_str().unwrap()
    ))
    .get_result::<Count>(&mut *pool.get().unwrap())
    .unwrap()
    .n;
    let started = Instant::now();
    loop {
        let received = seen.lock().unwrap().clone();
        let mut times: HashMap<String, usize> = HashMap::new();
        for id in &received {
            *times.entry(id.clone()).or_default() += 1;
        }
        if i64::try_from(times.len()).unwrap() == queued {
            let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
            println!(
                "{} acknowledged writes, {} deliveries, {} sent twice (in flight on the killed node)",
                acknowledged.len(),
                times.len(),
                twice.len()
            );
            assert!(
                twice.len() <= BATCH.parse::<usize>().unwrap(),
                "only the killed node's batch may go twice: {twice:?}"
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "{} of {queued} deliveries arrived", times.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
