//! The card processor port ([`vestibule_app::payments::processor::CardProcessor`]) spoken to
//! Stripe's REST API with form-encoded requests, and Stripe's webhook signatures. No Stripe SDK:
//! the handful of calls Vestibule makes do not justify its build.

mod api;
mod config;
mod events;
mod processor;
mod signature;
mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use config::{DEFAULT_API_BASE, DEFAULT_TIMEOUT, STRIPE_VERSION, StripeConfig};
pub use processor::StripeProcessor;
