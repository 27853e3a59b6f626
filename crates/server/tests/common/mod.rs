//! What the tests of the `vestibule` binary share: a fresh folder, the binary with only the
//! settings named, servers that stop with the test, a firm to sign in to.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

pub fn workdir() -> PathBuf {
    let dir =
        std::env::temp_dir().join("vestibule-cli-tests").join(format!("{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

pub fn vestibule(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vestibule"));
    command.args(args).current_dir(dir).env_clear().env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    vestibule(dir, args, env).output().unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn serve_with(dir: &Path, args: &[&str], port: u16, env: &[(&str, &str)]) -> Server {
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

pub async fn login(port: u16, firm: &str, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/auth/login"))
        .json(&json!({ "firm": firm, "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// A webhook receiver that takes a while to answer, so that deliveries are in flight when
/// the server dies. It records the `webhook-id` of every request.
pub async fn slow_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
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

pub const ACME_PASSWORD: &str = "a sturdy passphrase";

/// Creates the firm `acme` with the owner `o@acme.test`, as an operator would.
pub fn create_acme(dir: &Path, env: &[(&str, &str)]) {
    let created = run(
        dir,
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
            ACME_PASSWORD,
        ],
        env,
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
}

pub async fn acme_owner_token(port: u16) -> String {
    login(port, "acme", "o@acme.test", ACME_PASSWORD).await.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
