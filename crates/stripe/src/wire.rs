//! The parts of Stripe's objects the adapter reads; serde skips the rest, so new fields at
//! Stripe break nothing.

use serde::Deserialize;

/// Any object when only its id matters (a customer, a refund's payment intent).
#[derive(Debug, Deserialize)]
pub struct Object {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Deserialize)]
pub struct SetupIntent {
    pub id: String,
    pub client_secret: Option<String>,
    pub status: String,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub last_setup_error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub customer: Option<String>,
    pub card: Option<CardDetails>,
}

#[derive(Debug, Deserialize)]
pub struct CardDetails {
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

#[derive(Debug, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: String,
    pub last_payment_error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    pub status: Option<String>,
    pub failure_reason: Option<String>,
}

/// `{"error": {...}}`, the body of every 4xx and 5xx answer.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// Stripe's error object; also a setup's `last_setup_error` and an intent's `last_payment_error`.
#[derive(Debug, Default, Deserialize)]
pub struct ApiError {
    pub code: Option<String>,
    /// The issuer's reason, for card declines.
    pub decline_code: Option<String>,
    pub message: Option<String>,
    /// Present on errors about a payment intent, which exists at Stripe despite the error.
    pub payment_intent: Option<Object>,
}
