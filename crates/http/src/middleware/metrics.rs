//! Counts every request and observes its latency, labelled by the matched route pattern.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

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
