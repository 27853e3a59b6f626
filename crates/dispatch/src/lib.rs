//! The outbox worker. Deliveries are claimed with a lease, sent, and recorded attempt by
//! attempt; failures are retried on the Standard Webhooks schedule with jitter until the last
//! attempt, after which the delivery is dead. A worker that dies leaves its lease to lapse,
//! and another worker takes the delivery over: delivery is at least once, never lost.

pub mod email;
pub mod resolver;
pub mod signature;
pub mod webhook;
pub mod worker;

pub use worker::{DispatchSettings, Dispatcher};
