//! The `vestibule` binary as a new user runs it: in an empty folder, with no settings but
//! the ones named.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;
#[path = "../../../tests/e2e/support/s3.rs"]
mod s3;

use common::*;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

async fn serve(dir: &Path, args: &[&str], port: u16) -> Server {
    serve_with(dir, args, port, &[]).await
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_committed_event_is_lost_when_the_server_is_killed() {
    const EVENTS: usize = 30;
    let dir = workdir();
    create_acme(&dir, &[]);
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
    let token = acme_owner_token(port).await;
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

/// Every regular file below `root`.
fn files_below(root: &Path) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                found.push((entry.path(), metadata.len()));
            }
        }
    }
    found
}

/// Where a store keeps what an upload wrote so far: `.incoming` files, or S3 multipart
/// uploads (their parts and the server's upload records).
fn partial_upload_files(root: &Path) -> Vec<(PathBuf, u64)> {
    files_below(root)
        .into_iter()
        .filter(|(path, _)| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            path.parent().unwrap().ends_with(".incoming") || name.starts_with(".upload")
        })
        .collect()
}

const UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// Starts a firm's `vestibule serve` with `env`, begins a 64 MiB upload, sends a third of it
/// and kills the server with SIGKILL once `store_root` shows at least `progress` bytes of
/// partial upload; returns the workdir and what was left after the kill.
async fn kill_mid_upload(env: &[(&str, &str)], store_root: impl Fn(&Path) -> PathBuf, progress: u64) -> (PathBuf, u64) {
    use tokio::io::AsyncWriteExt;
    let dir = workdir();
    create_acme(&dir, env);
    let port = free_port();
    let mut server = serve_with(&dir, &["serve"], port, env).await;
    let token = acme_owner_token(port).await;
    let client: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({ "kind": "person", "name": "Big Upload" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = client["id"].as_str().unwrap();

    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /v1/documents?client_id={client_id}&name=big.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {UPLOAD_BYTES}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![0x5a_u8; 1024 * 1024];
    for _ in 0..UPLOAD_BYTES / chunk.len() / 3 {
        socket.write_all(&chunk).await.unwrap();
    }
    let root = store_root(&dir);
    let started = Instant::now();
    loop {
        let written: u64 = partial_upload_files(&root).iter().map(|(_, len)| len).sum();
        if written >= progress {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the upload did not progress: {written} bytes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The connection stays open until the process is dead: it must not see the body break
    // off, which it would clean up after itself.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(socket);
    let left: u64 = partial_upload_files(&root).iter().map(|(_, len)| len).sum();
    (dir, left)
}

/// Runs `vestibule admin sweep` off the async threads (the S3 server runs on them).
async fn admin_sweep(dir: &Path, env: &[(&str, &str)]) -> String {
    let (dir, env): (PathBuf, Vec<(String, String)>) =
        (dir.to_path_buf(), env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    let output = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&dir, &["admin", "sweep"], &env)
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// What the database still holds of uploads: documents, and uploads recorded as pending.
fn upload_rows(dir: &Path) -> (i64, usize) {
    use diesel::prelude::*;
    let url = format!("sqlite://{}", dir.join("data/vestibule.db").display());
    let options = vestibule_storage::PoolOptions { max_size: 1, connect_timeout: Duration::from_secs(10) };
    let pool = vestibule_storage::db::connect(&url, &options).unwrap();
    let mut conn = pool.get().unwrap();
    let documents = vestibule_storage::schema::documents::table.count().get_result::<i64>(&mut *conn).unwrap();
    let far_future = vestibule_storage::now() + chrono::Duration::days(365);
    let pending = vestibule_storage::documents::abandoned_uploads(&mut conn, far_future).unwrap().len();
    (documents, pending)
}

/// Kills the server mid-upload, shows a sweep at the default threshold keeps the fresh
/// leftovers, and a sweep once they are older than `UPLOAD_ABANDONED_AFTER_SECS` removes
/// everything: partial upload, blob, records.
async fn a_killed_upload_is_swept(store: &str, env: &[(&str, &str)], store_root: impl Fn(&Path) -> PathBuf) -> PathBuf {
    let (dir, left) = kill_mid_upload(env, &store_root, 16 * 1024 * 1024).await;
    println!("{store}: {left} bytes of partial upload left after the kill");
    assert!(left > 0, "the kill left nothing: it came too late to test anything");
    assert_eq!(upload_rows(&dir).1, 1, "the upload's record survives the kill");

    let kept = admin_sweep(&dir, env).await;
    assert!(kept.contains("abandoned uploads: 0 recorded, 0 partial"), "{kept}");
    assert_eq!(partial_upload_files(&store_root(&dir)).iter().map(|(_, len)| len).sum::<u64>(), left);

    // Store timestamps may have whole seconds.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut short = env.to_vec();
    short.push(("UPLOAD_ABANDONED_AFTER_SECS", "1"));
    let swept = admin_sweep(&dir, &short).await;
    assert!(swept.contains("abandoned uploads: 1 recorded, 1 partial"), "{swept}");
    let remaining = files_below(&store_root(&dir));
    println!("{store}: {remaining:?} left after the sweep");
    assert!(partial_upload_files(&store_root(&dir)).is_empty(), "{remaining:?}");
    assert_eq!(upload_rows(&dir), (0, 0), "no document, no pending upload");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_killed_midway_on_the_filesystem_leaves_nothing_after_the_sweep() {
    let blobs = |dir: &Path| dir.join("data/blobs");
    let dir = a_killed_upload_is_swept("fs", &[], blobs).await;
    let stored = files_below(&blobs(&dir));
    assert!(stored.is_empty(), "no blob and no partial file: {stored:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_killed_midway_on_s3_leaves_no_multipart_upload_after_the_sweep() {
    let server = s3::S3Server::start().await;
    let settings = server.settings();
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let root = server.root.clone();
    a_killed_upload_is_swept("s3", &env, move |_: &Path| root.clone()).await;
    let objects: Vec<_> = files_below(&server.root.join(s3::BUCKET));
    assert!(objects.is_empty(), "no object in the bucket: {objects:?}");
}
