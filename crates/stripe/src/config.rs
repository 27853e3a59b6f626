//! What the adapter needs to know: the account's keys, where the API is, how long to wait.

use std::fmt;
use std::time::Duration;

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// Stripe's own libraries wait 80 s; a portal's card holder will not, and an unanswered charge
/// is settled by its webhook or by retrying with the same idempotency key anyway.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The API version every request asks for, so that an account's default version moving on
/// does not change the shapes parsed here.
pub const STRIPE_VERSION: &str = "2024-06-20";

#[derive(Clone)]
pub struct StripeConfig {
    /// `sk_live_…`, `sk_test_…` or a restricted `rk_…` key.
    pub secret_key: String,
    /// The webhook endpoint's signing secret (`whsec_…`).
    pub webhook_secret: String,
    /// Without a trailing slash; [`DEFAULT_API_BASE`] but for tests.
    pub api_base: String,
    /// For the whole request, connecting included.
    pub timeout: Duration,
}

impl StripeConfig {
    /// The live API with the default timeout.
    pub fn new(secret_key: impl Into<String>, webhook_secret: impl Into<String>) -> Self {
        Self {
            secret_key: secret_key.into(),
            webhook_secret: webhook_secret.into(),
            api_base: DEFAULT_API_BASE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

// The keys stay out of logs and panic messages.
impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"<redacted>")
            .field("webhook_secret", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}
