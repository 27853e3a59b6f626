//! Prometheus metrics: request counts and latency by route pattern (never the raw path,
//! which would make one series per id), connection pool usage and open live streams.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use vestibule_storage::DbPool;

pub struct Metrics {
    registry: Registry,
    pub(crate) requests: IntCounterVec,
    pub(crate) latency: HistogramVec,
    pool: IntGaugeVec,
    pub(crate) live_streams: IntGauge,
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
        let live_streams = IntGauge::new("vestibule_live_streams", "Live (SSE) streams open on this instance")?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(live_streams.clone()))?;
        Ok(Self { registry, requests, latency, pool, live_streams })
    }

    pub fn render(&self, pool: &DbPool) -> anyhow::Result<String> {
        let max = pool.max_size();
        let pool = pool.state();
        self.pool.with_label_values(&["idle"]).set(i64::from(pool.idle_connections));
        self.pool.with_label_values(&["in_use"]).set(i64::from(pool.connections - pool.idle_connections));
        self.pool.with_label_values(&["max"]).set(i64::from(max));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}
