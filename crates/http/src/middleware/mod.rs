pub mod cors;
pub mod idempotency;
pub mod metrics;
pub mod request_id;
