//! Liveness, readiness and metrics, for the operator's probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_app::health;

use crate::db;
use crate::error::ApiError;
use crate::problem::InternalError;
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: HealthStatus::Ok })
}

/// Readiness: the database answers.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health), (status = 503, body = Health, description = "The database is unreachable.")))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = db::call(&state, health::ready).await;
    match ready {
        Ok(()) => HttpResponse::Ok().json(Health { status: HealthStatus::Ok }),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(Health { status: HealthStatus::Unavailable })
        }
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain; version=0.0.4", body = String), InternalError))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let body = state.metrics.render(&state.pool)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body))
}
