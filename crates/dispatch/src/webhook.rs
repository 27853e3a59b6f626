//! One webhook request: Standard Webhooks headers, a 2xx-only notion of success, no redirects.

use std::time::{Duration, Instant};

use vestibule_domain::events::{DisabledReason, EventType, WebhookData, WebhookPayload};
use vestibule_domain::ids::FirmId;
use vestibule_domain::scan::ScanStatus;
use vestibule_storage::outbox::EventRow;
use vestibule_storage::sealing::SecretKeys;
use vestibule_storage::webhooks::EndpointRow;

use crate::resolver::PublicOnly;
use crate::signature;

/// What the receiver's answer means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 410 Gone: the receiver asks never to be called again.
    Gone,
    /// Try again later, not before `not_before` when the receiver said so (`Retry-After`).
    Retry {
        not_before: Option<Duration>,
    },
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub verdict: Verdict,
    pub status_code: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
}

/// The JSON body (`WebhookPayload` in the OpenAPI document), with the firm's id in `data`
/// so one receiver can serve several firms.
pub fn body(event: &EventRow) -> anyhow::Result<Vec<u8>> {
    let stored: serde_json::Value = serde_json::from_str(&event.data)?;
    let payload = WebhookPayload {
        event_type: EventType::from_stored(&event.event_type).ok_or_else(|| anyhow::anyhow!("unknown event type"))?,
        timestamp: event.occurred_at.and_utc(),
        data: WebhookData {
            id: stored["id"].as_str().unwrap_or_default().to_owned(),
            firm_id: FirmId::from_trusted(event.firm_id.clone()),
            reason: stored["reason"].as_str().and_then(DisabledReason::from_stored),
            uploaded_by: serde_json::from_value(stored["uploaded_by"].clone()).ok(),
            document_request_id: stored["document_request_id"].as_str().map(str::to_owned),
            item_id: stored["item_id"].as_str().map(str::to_owned),
            seq: stored["seq"].as_i64(),
            head_hash: stored["head_hash"].as_str().map(str::to_owned),
            signed_at: stored["signed_at"].as_str().map(str::to_owned),
            signature: stored["signature"].as_str().map(str::to_owned),
            key_id: stored["key_id"].as_str().map(str::to_owned),
            scan_status: stored["scan_status"].as_str().and_then(ScanStatus::parse),
            threat: stored["threat"].as_str().map(str::to_owned),
        },
    };
    Ok(serde_json::to_vec(&payload)?)
}

pub async fn send(
    client: &reqwest::Client,
    resolver: &PublicOnly,
    keys: &SecretKeys,
    endpoint: &EndpointRow,
    event: &EventRow,
) -> Sent {
    let started = Instant::now();
    let failed = |error: String| Sent {
        verdict: Verdict::Retry { not_before: None },
        status_code: None,
        latency: started.elapsed(),
        error: Some(error),
    };
    // Names are checked as they resolve (see `resolver`); literal addresses never resolve.
    let Ok(url) = reqwest::Url::parse(&endpoint.url) else {
        return failed("the endpoint URL does not parse".to_owned());
    };
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !vestibule_domain::net::is_public(ip)
        && !resolver.allows(&ip.to_string())
    {
        return failed(format!("refused: {ip} is an internal address"));
    }
    let now = chrono::Utc::now();
    let payload = match body(event) {
        Ok(payload) => payload,
        Err(error) => return failed(format!("building the payload failed: {error}")),
    };
    let secrets = match endpoint.signing_secrets(keys, now.naive_utc()) {
        Ok(secrets) => secrets,
        Err(error) => return failed(format!("the signing secret does not open: {error}")),
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signature = match signature::header(&secrets, &event.id, now.timestamp(), &payload) {
        Ok(signature) => signature,
        Err(error) => return failed(format!("signing failed: {error}")),
    };
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", now.timestamp().to_string())
        .header("webhook-signature", signature)
        .body(payload)
        .send()
        .await;
    let latency = started.elapsed();
    match response {
        Err(error) => failed(describe(&error)),
        Ok(response) => {
            let status = response.status();
            let verdict = if status.is_success() {
                Verdict::Delivered
            } else if status == reqwest::StatusCode::GONE {
                Verdict::Gone
            } else {
                Verdict::Retry { not_before: retry_after(response.headers()) }
            };
            let error = match &verdict {
                Verdict::Delivered => None,
                _ if status.is_redirection() => Some(format!("{status}: redirects are not followed")),
                _ => Some(format!("the receiver answered {status}")),
            };
            Sent { verdict, status_code: Some(status.as_u16()), latency, error }
        }
    }
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if error.is_timeout() { "timed out".to_owned() } else { error.to_string() };
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// `Retry-After` in seconds (the HTTP-date form is rare from webhook receivers and ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}
