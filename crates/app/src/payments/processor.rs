//! The card processor port: the few things Vestibule asks of a payment processor. Card
//! numbers never pass through here; the processor's own JavaScript collects them and hands
//! the frontend a token, which is all Vestibule sees. `vestibule-stripe` speaks the Stripe
//! API behind it.

use async_trait::async_trait;

/// A processor-side customer for one portal contact.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub email: String,
    pub name: String,
    /// Our contact id, kept as metadata at the processor.
    pub reference: String,
}

/// A started "save a payment method" flow; the frontend confirms it with `client_secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub processor_ref: String,
    pub client_secret: String,
}

/// Display fields of a card saved at the processor, and its token there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub processor_ref: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupState {
    /// Confirmed: the card is attached to the customer.
    Succeeded(Card),
    /// Not confirmed yet (waiting for the card holder, or for 3-D Secure).
    Pending,
    /// Declined or cancelled, in the processor's words.
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub customer: String,
    /// A saved card's token or a token the frontend just made.
    pub method: String,
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// The processor never charges twice for one key.
    pub idempotency_key: String,
    /// Our payment id, kept as metadata so webhooks find the payment.
    pub reference: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded {
        charge_ref: String,
    },
    /// Accepted but not settled yet (3-D Secure, bank debits): a webhook tells the end.
    Pending {
        charge_ref: String,
    },
    Declined {
        charge_ref: Option<String>,
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub charge_ref: String,
    pub amount_minor: i64,
    pub idempotency_key: String,
    /// Our refund id.
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    pub refund_ref: String,
    /// `false` while the processor has not finished it.
    pub succeeded: bool,
}

/// Why a call to the processor did not give an answer to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessorError {
    /// Nothing reached the processor (connection refused, DNS): safe to give up.
    #[error("the card processor could not be reached: {0}")]
    Unreachable(String),
    /// The request was sent but no answer came: it may or may not have happened.
    #[error("the card processor did not answer: {0}")]
    Uncertain(String),
    /// The processor answered and refused the request (not a decline: a bad request, a
    /// missing object, a wrong key).
    #[error("the card processor refused the request ({status}): {message}")]
    Rejected { status: u16, code: Option<String>, message: String },
}

/// A processor webhook event, once its signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorEvent {
    /// The processor's event id; each is acted on once.
    pub id: String,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    PaymentSucceeded {
        charge_ref: String,
        reference: Option<String>,
    },
    PaymentFailed {
        charge_ref: String,
        reference: Option<String>,
        message: String,
    },
    /// `amount_refunded` is the total refunded so far on the charge.
    Refunded {
        charge_ref: String,
        amount_refunded: i64,
    },
    Disputed {
        charge_ref: String,
    },
    SetupSucceeded {
        setup_ref: String,
    },
    /// An event type Vestibule does not act on.
    Ignored {
        event_type: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature header is missing or does not match the payload")]
    BadSignature,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("the payload is not an event")]
    Malformed,
}

#[async_trait]
pub trait CardProcessor: Send + Sync + std::fmt::Debug {
    /// The processor's name as settings and the API spell it (`stripe`).
    fn name(&self) -> &'static str;
    async fn create_customer(&self, customer: &NewCustomer) -> Result<String, ProcessorError>;
    async fn start_setup(&self, customer: &str) -> Result<Setup, ProcessorError>;
    async fn setup_state(&self, setup_ref: &str) -> Result<SetupState, ProcessorError>;
    async fn list_methods(&self, customer: &str) -> Result<Vec<Card>, ProcessorError>;
    async fn detach(&self, method_ref: &str) -> Result<(), ProcessorError>;
    async fn charge(&self, charge: &ChargeRequest) -> Result<ChargeOutcome, ProcessorError>;
    async fn refund(&self, refund: &RefundRequest) -> Result<RefundOutcome, ProcessorError>;
    /// Checks `signature` (the processor's header) over the raw `payload` at `now` (Unix
    /// seconds) and parses the event.
    fn verify_webhook(&self, payload: &[u8], signature: Option<&str>, now: i64)
    -> Result<ProcessorEvent, WebhookError>;
}
