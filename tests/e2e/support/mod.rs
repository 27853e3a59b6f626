//! The harness: each test gets the real application on port 0 with a database of its own,
//! and talks to it over HTTP as a frontend would.

pub mod contract;
pub mod database;
pub mod fixtures;
pub mod receiver;
pub mod s3;
pub mod smtp;

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vestibule_server::config::Config;
use vestibule_server::startup::{self, Application};
use vestibule_storage::{DbPool, PooledDb};

pub use database::Backend;

/// The signing key tests use, so they can forge tokens the server must refuse.
pub const TEST_JWT_SECRET: &[u8; 32] = b"test-signing-key-0123456789abcde";
pub const TEST_JWT_KID: &str = "test";
pub const TEST_ISSUER: &str = "http://vestibule.test";

/// Generates one test per backend from one scenario: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($backend:ident) $body:block)+) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn scenario($backend: $crate::support::Backend) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    scenario($crate::support::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::support::database::postgres_available() {
                        scenario($crate::support::Backend::Postgres).await;
                    }
                }
            }
        )+
    };
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub pool: DbPool,
    /// The app's `DATA_DIR` (mail folder, key file).
    pub data_dir: std::path::PathBuf,
    pub config: Config,
    _stop_dispatcher: tokio::sync::watch::Sender<bool>,
    _database: database::TestDatabase,
}

/// A response read whole: status, headers and JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.body)).to_owned()
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], format!("urn:vestibule:problem:{code}"));
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Self {
        use base64::Engine;
        let database = database::TestDatabase::create(backend);
        let mut settings: HashMap<String, String> = [
            ("DATABASE_URL", database.url.as_str()),
            ("BIND_ADDRESS", "127.0.0.1:0"),
            ("WORKERS", "1"),
            ("DATABASE_POOL_SIZE", "4"),
            ("PUBLIC_BASE_URL", "http://vestibule.test"),
            ("JWT_ISSUER", TEST_ISSUER),
            ("LOGIN_ATTEMPTS_PER_MINUTE", "1000"),
            // Webhook receivers in tests listen on loopback, and retries come fast.
            ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"),
            ("DISPATCH_RETRY_SCHEDULE_SECS", "1,1,1"),
            ("DISPATCH_POLL_MS", "50"),
            ("LIVE_POLL_MS", "50"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        settings.insert(
            "JWT_SIGNING_KEYS".to_owned(),
            format!("{TEST_JWT_KID}:{}", base64::engine::general_purpose::STANDARD.encode(TEST_JWT_SECRET)),
        );
        settings.insert("DATA_DIR".to_owned(), database.scratch_dir().to_string_lossy().into_owned());
        for (key, value) in overrides {
            settings.insert((*key).to_owned(), (*value).to_owned());
        }
        let config = Config::from_source(&settings).expect("test configuration");
        let pool = startup::connect(&config).expect("database");
        let app = Application::build(&config, pool.clone()).expect("application");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let (stop_dispatcher, stopped) = tokio::sync::watch::channel(false);
        startup::spawn_dispatcher(&config, pool.clone(), stopped).expect("dispatcher");
        startup::spawn_scanner(&config, pool.clone()).expect("scan worker");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client");
        Self {
            base,
            http,
            pool,
            data_dir: database.scratch_dir().to_path_buf(),
            config,
            _stop_dispatcher: stop_dispatcher,
            _database: database,
        }
    }

    /// Another instance of the application on the same database, with its own connection
    /// pool and live hub, as a second server behind a load balancer; returns its base URL.
    pub fn second_instance(&self) -> String {
        let pool = startup::connect(&self.config).expect("database");
        let app = Application::build(&self.config, pool).expect("second application");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        base
    }

    /// One run of the scheduled reminder pass, as each instance runs it on its timer; returns
    /// how many reminders went out.
    pub fn reminder_pass(&self) -> usize {
        let (settings, links) = startup::reminder_settings(&self.config).expect("reminder settings");
        vestibule_app::reminders::send_due(&mut self.conn(), &settings, &links).expect("reminder pass")
    }

    /// One run of the scheduled audit checkpoint pass, as each instance runs it on its timer;
    /// returns how many checkpoints were published.
    pub fn checkpoint_pass(&self) -> usize {
        let key = startup::checkpoint_key(&self.config).expect("audit signing key");
        vestibule_app::audit_checkpoints::publish_due(&mut self.conn(), &key).expect("checkpoint pass")
    }

    /// Statements the application's pools have run on this test's database so far.
    pub fn statements(&self) -> u64 {
        vestibule_storage::db::statements_run(self.config.database_url.expose())
    }

    pub fn conn(&self) -> PooledDb {
        self.pool.get().expect("database connection")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `token` goes into `Authorization: Bearer`.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.exchange(request).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn send_raw(&self, method: Method, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        self.exchange(request).await
    }

    /// Sends a request and reads the answer whole, checked against the spec.
    pub async fn exchange(&self, request: reqwest::RequestBuilder) -> Reply {
        let (method, path, response) = send(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("response body");
        contract::check(&method, &path, status, &headers, Some(&bytes));
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body }
    }
}

/// Sends a request whose answer the caller streams (downloads, live streams): status,
/// content type and headers are checked against the spec before it is handed over.
pub async fn open(request: reqwest::RequestBuilder) -> reqwest::Response {
    let (method, path, response) = send(request).await;
    contract::check(&method, &path, response.status(), response.headers(), None);
    response
}

async fn send(request: reqwest::RequestBuilder) -> (Method, String, reqwest::Response) {
    let (client, request) = request.build_split();
    let request = request.expect("a well-formed request");
    let (method, path) = (request.method().clone(), request.url().path().to_owned());
    let response = client.execute(request).await.expect("request failed");
    (method, path, response)
}

/// Stored blob files (the S3 server's own metadata and unfinished uploads aside).
pub fn blob_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.to_string_lossy().contains(".s3s") {
                found.push(path);
            }
        }
    }
    found
}

/// A `multipart/form-data` body of `file` parts, as a browser sends it; returns the content
/// type and the body.
pub fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "vestibule-link-boundary";
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
