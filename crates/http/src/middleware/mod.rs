pub mod idempotency;
pub mod metrics;
pub mod request_id;
pub mod cors;
