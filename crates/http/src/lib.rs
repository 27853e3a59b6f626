//! The HTTP face of Vestibule: actix-web routes, the principal extractor, problem+json
//! errors and the OpenAPI document generated from the handlers.

pub mod allow;
pub mod app;
pub mod audit;
pub mod auth;
pub mod db;
pub mod download;
pub mod error;
pub mod etag;
pub mod json;
pub mod live;
pub mod live_streams;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod routes;
pub mod routing;
pub mod state;
pub mod upload;
pub mod views;
pub mod zip;

pub use app::{configure_app, openapi_document, schema_registrations};
pub use error::ApiError;
pub use state::BodyPace;
pub use state::{AppState, HttpSettings};
