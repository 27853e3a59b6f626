//! A real HTTP server that receives webhooks, answering with scripted statuses.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Script {
    /// Statuses for the next requests, in order; 200 after they run out.
    statuses: Vec<u16>,
    retry_after: Option<String>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = web::Data::from(script.clone());
        let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(receive)))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self { url: format!("http://127.0.0.1:{port}/hooks"), script }
    }

    /// Answer the next requests with these statuses.
    pub fn answer(&self, statuses: &[u16], retry_after: Option<&str>) {
        let mut script = self.script.lock().unwrap();
        script.statuses = statuses.to_vec();
        script.retry_after = retry_after.map(str::to_owned);
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// Waits until at least `count` requests arrived (bounded).
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..1200 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {count} webhook requests, got {}", self.received().len());
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, script: web::Data<Mutex<Script>>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
    });
    let status = if script.statuses.is_empty() { 200 } else { script.statuses.remove(0) };
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(after) = &script.retry_after {
        response.insert_header(("retry-after", after.as_str()));
    }
    if status == 302 {
        response.insert_header(("location", "http://127.0.0.1:9/elsewhere"));
    }
    response.finish()
}

/// Checks a Standard Webhooks signature with an implementation independent of the server's:
/// HMAC-SHA256 over `id.timestamp.body` with the decoded secret, compared to any `v1,` entry.
pub fn signature_is_valid(secret: &str, received: &Received) -> bool {
    use base64::Engine;
    use hmac::Mac;
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(received.id.as_bytes());
    mac.update(b".");
    mac.update(received.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    let expected = engine.encode(mac.finalize().into_bytes());
    received.signature.split(' ').any(|entry| entry.strip_prefix("v1,") == Some(expected.as_str()))
}
