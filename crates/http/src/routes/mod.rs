//! One module per resource; each registers its handlers, and every handler carries its
//! `#[utoipa::path]`, so a route cannot be served without appearing in the spec.

use actix_web::HttpResponse;
use actix_web::http::header::LOCATION;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod contacts;
pub mod firm;
pub mod health;
pub mod matters;
pub mod offices;
pub mod portal;
pub mod staff;

/// The versioned API under `/v1`.
pub fn v1(cfg: &mut ServiceConfig<'_>) {
    auth::routes(cfg);
    portal::routes(cfg);
    firm::routes(cfg);
    staff::routes(cfg);
    offices::routes(cfg);
    clients::routes(cfg);
    contacts::routes(cfg);
    matters::routes(cfg);
    api_keys::routes(cfg);
    audit::routes(cfg);
}

pub fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

/// `201 Created` with `Location` and the new resource.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((LOCATION, location))
        .json(body)
}
