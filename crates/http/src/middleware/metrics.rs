//! Prometheus metrics: request counts and latency by route pattern (never the raw path,
//! which would make one series per id), and connection pool usage.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::state::AppState;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by method and route")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )?;
        let pool =
            IntGaugeVec::new(Opts::new("db_pool_connections", "Database pool connections by state"), &["state"])?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self { registry, requests, latency, pool })
    }

    pub fn render(&self, state: &AppState) -> anyhow::Result<String> {
        let pool = state.pool.state();
        self.pool.with_label_values(&["idle"]).set(i64::from(pool.idle_connections));
        self.pool.with_label_values(&["in_use"]).set(i64::from(pool.connections - pool.idle_connections));
        self.pool.with_label_values(&["max"]).set(i64::from(state.pool.max_size()));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<AppState>>().map(|state| state.metrics.clone());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let status = res.status().as_u16().to_string();
        metrics.requests.with_label_values(&[&method, &route, &status]).inc();
        metrics.latency.with_label_values(&[&method, &route]).observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}
