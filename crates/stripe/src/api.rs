//! One request to Stripe and what its answer means: an object, a refusal, or no answer to rely
//! on (and whether the request may have taken effect).

use std::error::Error as _;

use anyhow::Context as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use vestibule_app::payments::processor::ProcessorError;

use crate::config::{STRIPE_VERSION, StripeConfig};
use crate::wire::{ApiError, ErrorBody};

/// Form fields in Stripe's `a[b]=c` spelling.
pub type Form<'a> = [(&'a str, &'a str)];

/// A 4xx answer: Stripe understood the request and did not do it.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub error: ApiError,
}

impl Refusal {
    pub fn into_rejected(self) -> ProcessorError {
        let message = self.error.message.unwrap_or_else(|| format!("HTTP {}", self.status));
        ProcessorError::Rejected { status: self.status, code: self.error.code, message }
    }
}

#[derive(Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(config: &StripeConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(!config.secret_key.trim().is_empty(), "the Stripe secret key is empty");
        let base = config.api_base.trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base).with_context(|| format!("the Stripe API base {base:?} is not a URL"))?;
        anyhow::ensure!(matches!(url.scheme(), "http" | "https"), "the Stripe API base {base:?} is not http(s)");

        let mut key = HeaderValue::try_from(format!("Bearer {}", config.secret_key.trim()))
            .context("the Stripe secret key is not a valid header value")?;
        key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, key);
        headers.insert("Stripe-Version", HeaderValue::from_static(STRIPE_VERSION));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("vestibule/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .build()
            .context("building the Stripe HTTP client")?;
        Ok(Self { http, base })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &Form<'_>) -> Result<T, ProcessorError> {
        self.send(self.request(Method::GET, path).query(query)).await?.map_err(Refusal::into_rejected)
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form<'_>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ProcessorError> {
        self.post_answer(path, form, idempotency_key).await?.map_err(Refusal::into_rejected)
    }

    /// Like [`Api::post`], with a refusal left to the caller (a charge's 402 is a decline).
    pub async fn post_answer<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form<'_>,
        idempotency_key: Option<&str>,
    ) -> Result<Result<T, Refusal>, ProcessorError> {
        let mut request = self.request(Method::POST, path).form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<Result<T, Refusal>, ProcessorError> {
        let response = request.send().await.map_err(|e| {
            if e.is_connect() {
                ProcessorError::Unreachable(describe(&e))
            } else {
                ProcessorError::Uncertain(describe(&e))
            }
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| ProcessorError::Uncertain(describe(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map(Ok)
                .map_err(|e| ProcessorError::Uncertain(format!("unreadable answer ({status}): {e}")));
        }
        let error = serde_json::from_slice::<ErrorBody>(&body).map(|b| b.error).unwrap_or_default();
        // A 5xx (or any other non-4xx) may come after the change was made: Stripe's advice is to
        // retry with the same idempotency key.
        if !status.is_client_error() {
            let message = error.message.unwrap_or_else(|| status_text(status));
            return Err(ProcessorError::Uncertain(format!("{status}: {message}")));
        }
        Ok(Err(Refusal { status: status.as_u16(), error }))
    }
}

/// An id as a path segment. Ids can come from requests, and one spelling `../` would address
/// another endpoint; no Stripe id has anything but letters, digits and underscores.
pub fn segment(id: &str) -> Result<&str, ProcessorError> {
    if !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(id)
    } else {
        Err(ProcessorError::Rejected {
            status: 404,
            code: Some("resource_missing".to_owned()),
            message: format!("no such object: {id:?}"),
        })
    }
}

/// reqwest's own message names only the outermost layer ("error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn status_text(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("no reason given").to_owned()
}
