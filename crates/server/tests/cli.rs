//! The `vestibule` binary as a new user runs it: in an empty folder, with no settings but
//! the ones named.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

fn workdir() -> PathBuf {
    let dir =
        std::env::temp_dir().join("vestibule-cli-tests").join(format!("{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn vestibule(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vestibule"));
    command.args(args).current_dir(dir).env_clear().env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    vestibule(dir, args, env).output().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve(dir: &Path, args: &[&str], port: u16) -> Server {
    serve_with(dir, args, port, &[]).await
}

async fn serve_with(dir: &Path, args: &[&str], port: u16, env: &[(&str, &str)]) -> Server {
    let bind = format!("127.0.0.1:{port}");
    let mut env = env.to_vec();
    env.push(("BIND_ADDRESS", &bind));
    let child = vestibule(dir, args, &env).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let server = Server(child);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(reply) = reqwest::get(format!("http://{bind}/readyz")).await
            && reply.status() == 200
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

async fn login(port: u16, firm: &str, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/auth/login"))
        .json(&json!({ "firm": firm, "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_demo_gives_a_new_user_a_firm_to_try_at_once() {
    let dir = workdir();
    let port = free_port();
    let _server = serve(&dir, &["serve", "--demo"], port).await;
    let reply = login(port, "demo", "owner@demo.vestibule.test", "vestibule-demo-owner").await;
    assert_eq!(reply.status(), 200);
    let token = reply.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let clients: serde_json::Value = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/v1/clients"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clients["data"].as_array().unwrap().len(), 3);
    assert!(dir.join("data/vestibule.db").exists(), "the embedded default keeps its data under ./data");
    assert!(dir.join("data/jwt-keys.json").exists());
}

#[tokio::test]
async fn an_admin_creates_a_firm_whose_owner_can_sign_in_and_keys_survive_restarts() {
    let dir = workdir();
    let created = run(
        &dir,
        &[
            "admin",
            "create-firm",
            "--slug",
            "acme",
            "--name",
            "Acme Law",
            "--owner-email",
            "owner@acme.test",
            "--owner-name",
            "Ann Owner",
        ],
        &[],
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8(created.stdout).unwrap();
    let password =
        stdout.lines().find_map(|l| l.strip_prefix("Owner password (shown once): ")).unwrap().trim().to_owned();

    let port = free_port();
    let server = serve(&dir, &["serve"], port).await;
    let reply = login(port, "acme", "owner@acme.test", &password).await;
    assert_eq!(reply.status(), 200);
    let token = reply.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    drop(server);
    let _server = serve(&dir, &["serve"], port).await;
    let me =
        reqwest::Client::new().get(format!("http://127.0.0.1:{port}/v1/me")).bearer_auth(token).send().await.unwrap();
    assert_eq!(me.status(), 200, "a token outlives a restart: the signing key is persisted");

    let verified = run(&dir, &["admin", "verify-audit", "--firm", "acme"], &[]);
    assert!(verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stdout).contains("audit chain intact"));
    let duplicate = run(
        &dir,
        &["admin", "create-firm", "--slug", "acme", "--name", "X", "--owner-email", "x@acme.test", "--owner-name", "X"],
        &[],
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
}

#[test]
fn rotate_secrets_adds_a_key_to_the_data_folder_and_seals_with_it() {
    let dir = workdir();
    assert!(run(&dir, &["migrate"], &[]).status.success());
    let file = dir.join("data").join("secrets-keys.json");
    let kids = || -> Vec<String> {
        let keys: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        keys["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    let first = kids();
    assert_eq!(first.len(), 1);

    let rotated = run(&dir, &["admin", "rotate-secrets", "--new-key"], &[]);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let after = kids();
    assert_eq!(after.len(), 2);
    assert_eq!(after[1], first[0], "the earlier key stays, after the new one");
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert!(stdout.contains(&format!("sealed with key `{}`", after[0])), "{stdout}");

    let configured = format!("k9:{}", "a".repeat(44));
    let refused = run(&dir, &["admin", "rotate-secrets", "--new-key"], &[("SECRETS_KEYS", &configured)]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SECRETS_KEYS is set"));
}

#[test]
fn a_fresh_sqlite_database_starts_in_wal_mode_without_lock_errors() {
    let dir = workdir();
    let output = run(&dir, &["migrate"], &[("RUST_LOG", "info")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!printed.contains("database is locked"), "{printed}");
    let header = std::fs::read(dir.join("data/vestibule.db")).unwrap();
    // Bytes 18 and 19 of an SQLite file are its write and read versions: 2 means WAL.
    assert_eq!(&header[18..20], &[2, 2], "the database file is in WAL mode");
}

#[test]
fn a_bad_setting_stops_the_server_and_names_the_setting() {
    let dir = workdir();
    let output = run(&dir, &["migrate"], &[("ACCESS_TOKEN_TTL_SECS", "soon")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ACCESS_TOKEN_TTL_SECS"));
    let output = run(&dir, &["serve"], &[("DATABASE_URL", "mysql://nope")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL"));
}

#[test]
fn the_openapi_command_prints_the_checked_in_document() {
    let dir = workdir();
    let output = run(&dir, &["openapi"], &[]);
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")).unwrap();
    assert!(String::from_utf8(output.stdout).unwrap() == checked_in, "run `make openapi`");
}

/// A webhook receiver that takes a while to answer, so that deliveries are in flight when
/// the server dies. It records the `webhook-id` of every request.
async fn slow_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let shared = web::Data::from(seen.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(shared.clone()).default_service(web::to(
            |req: HttpRequest, seen: web::Data<std::sync::Mutex<Vec<String>>>| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let id = req.headers().get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                seen.lock().unwrap().push(id);
                HttpResponse::Ok().finish()
            },
        ))
    })
    .workers(2)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hooks"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_committed_event_is_lost_when_the_server_is_killed() {
    const EVENTS: usize = 30;
    let dir = workdir();
    let password = "a sturdy passphrase";
    let created = run(
        &dir,
        &[
            "admin",
            "create-firm",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--owner-email",
            "o@acme.test",
            "--owner-name",
            "O",
            "--owner-password",
            password,
        ],
        &[],
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let (hook_url, seen) = slow_receiver().await;
    let env = [
        ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"),
        ("DISPATCH_POLL_MS", "50"),
        ("DISPATCH_BATCH_SIZE", "4"),
        ("WEBHOOK_TIMEOUT_SECS", "2"),
        ("DISPATCH_LEASE_SECS", "4"),
        ("DISPATCH_RETRY_SCHEDULE_SECS", "1,1,1,1"),
    ];
    let port = free_port();
    let mut server = serve_with(&dir, &["serve"], port, &env).await;
    let token =
        login(port, "acme", "o@acme.test", password).await.json::<serde_json::Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let endpoint = http
        .post(format!("{base}/v1/webhook-endpoints"))
        .bearer_auth(&token)
        .json(&json!({ "url": hook_url, "event_types": ["client.created"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint.status(), 201);
    for n in 0..EVENTS {
        let reply = http
            .post(format!("{base}/v1/clients"))
            .bearer_auth(&token)
            .json(&json!({ "kind": "person", "name": format!("Client {n}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
    }
    // Kill it while some deliveries are done, some in flight and most still queued.
    let started = Instant::now();
    while seen.lock().unwrap().len() < 3 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let before_restart = seen.lock().unwrap().len();
    assert!(before_restart < EVENTS, "the kill came too late to test anything");

    let _restarted = serve_with(&dir, &["serve"], port, &env).await;
    let started = Instant::now();
    loop {
        let distinct: std::collections::HashSet<String> = seen.lock().unwrap().iter().cloned().collect();
        if distinct.len() == EVENTS {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "only {} of {EVENTS} events arrived", distinct.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|id| id.starts_with("evt_")));
    println!("{} requests for {EVENTS} events ({before_restart} before the kill)", seen.len());
}
