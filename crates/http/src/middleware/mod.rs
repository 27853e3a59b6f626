pub mod body_pace;
pub mod cors;
pub mod idempotency;
pub mod link_privacy;
pub mod metrics;
pub mod request_id;
