//! The `vestibule` binary's library: configuration, startup and admin commands, shared
//! with the test harness so tests run exactly what `vestibule serve` runs.

pub mod config;
pub mod keys;
pub mod maintenance;
pub mod provision;
pub mod scanning;
pub mod startup;
pub mod telemetry;

/// The OpenAPI document as checked in at `openapi/openapi.json`: pretty JSON, newline-terminated.
pub fn openapi_json() -> anyhow::Result<String> {
    let mut json = serde_json::to_string_pretty(&vestibule_http::openapi_document())?;
    json.push('\n');
    Ok(json)
}
