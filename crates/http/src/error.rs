use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use vestibule_app::AppError;
use vestibule_domain::authz::Denied;
use vestibule_domain::{FieldError, ValidationErrors};
use vestibule_storage::StorageError;

use crate::problem::Problem;

/// Every way a request can fail, mapped once to a status and a problem+json body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("validation failed")]
    Validation(ValidationErrors),
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: &'static str },
    #[error("{0}")]
    Forbidden(String),
    /// Forbidden with a code the frontend acts on (an expired portal, say).
    #[error("{detail}")]
    Refused { code: &'static str, detail: &'static str },
    #[error("not found")]
    NotFound,
    /// The path exists, but not with this method: the methods it has, for `Allow`.
    #[error("this path answers only {}", allow(.0))]
    MethodNotAllowed(Vec<Method>),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A conflict the caller resolves by sending the request again with one of `choices`.
    #[error("{detail}")]
    Choose { code: &'static str, detail: &'static str, choices: &'static [&'static str] },
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    /// A one-time link that expired or was withdrawn.
    #[error("{detail}")]
    Gone { code: &'static str, detail: &'static str },
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body came slower than the minimum rate; reading it stopped.
    #[error("{0}")]
    BodyTooSlow(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("{detail}")]
    TooManyRequests { retry_after_secs: u64, detail: &'static str },
    #[error("a payment may take at most the invoice's balance, {balance_minor}")]
    OverBalance { invoice_id: String, balance_minor: i64 },
    #[error("{message}")]
    Declined { decline_code: String, message: String },
    #[error("{0}")]
    ProcessorUnavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn unauthenticated() -> Self {
        Self::Unauthenticated { code: "unauthenticated", detail: "send a valid access token or API key" }
    }

    pub fn invalid_token() -> Self {
        Self::Unauthenticated { code: "invalid_token", detail: "the token is invalid, expired or revoked" }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { code, detail: detail.into() }
    }

    pub fn field(pointer: &str, code: &str, detail: impl Into<String>) -> Self {
        Self::Validation(FieldError::new(pointer, code, detail).into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthenticated { code, .. }
            | Self::Conflict { code, .. }
            | Self::Choose { code, .. }
            | Self::Refused { code, .. }
            | Self::Gone { code, .. } => code,
            Self::Validation(_) => "validation_failed",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::BodyTooSlow(_) => "request_body_too_slow",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::OverBalance { .. } => "exceeds_balance",
            Self::Declined { .. } => "card_declined",
            Self::ProcessorUnavailable(_) => "processor_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => format!("{} field(s) are invalid", errors.0.len()),
            Self::NotFound => "no such resource, or it is not visible to you".to_owned(),
            // Opaque on purpose: the cause is logged with the request id, never sent.
            Self::Internal(_) => "an unexpected error occurred".to_owned(),
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::Choose { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::OverBalance { .. } => StatusCode::CONFLICT,
            Self::Declined { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::ProcessorUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let errors = match self {
            Self::Validation(errors) => Some(errors.0.clone()),
            _ => None,
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            Self::TooManyRequests { retry_after_secs, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unauthenticated { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::MethodNotAllowed(methods) => {
                response.insert_header((header::ALLOW, allow(methods)));
            }
            Self::ProcessorUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, PROCESSOR_RETRY_AFTER_SECS.to_string()));
            }
            _ => {}
        }
        let mut problem = Problem::new(status, self.code(), self.detail(), errors);
        match self {
            Self::Choose { choices, .. } => {
                problem.choices = Some(choices.iter().map(|c| (*c).to_owned()).collect());
            }
            Self::OverBalance { invoice_id, balance_minor } => {
                problem.invoice_id = Some(invoice_id.clone());
                problem.balance_minor = Some(*balance_minor);
            }
            Self::Declined { decline_code, .. } => problem.decline_code = Some(decline_code.clone()),
            _ => {}
        }
        response.json(problem)
    }
}

/// How long a client waits before asking again after the card processor did not answer.
const PROCESSOR_RETRY_AFTER_SECS: u64 = 30;

/// Methods as `Allow` lists them.
fn allow(methods: &[Method]) -> String {
    methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Validation(errors) => Self::Validation(errors),
            AppError::Unauthenticated { code, detail } => Self::Unauthenticated { code, detail },
            AppError::Forbidden(why) => Self::Forbidden(why),
            AppError::Refused { code, detail } => Self::Refused { code, detail },
            AppError::NotFound => Self::NotFound,
            AppError::Conflict { code, detail } => Self::Conflict { code, detail },
            AppError::Choose { code, detail, choices } => Self::Choose { code, detail, choices },
            AppError::PreconditionFailed => Self::PreconditionFailed,
            AppError::Gone { code, detail } => Self::Gone { code, detail },
            AppError::TooManyRequests { retry_after_secs, detail } => {
                Self::TooManyRequests { retry_after_secs, detail }
            }
            AppError::OverBalance { invoice_id, balance_minor } => Self::OverBalance { invoice_id, balance_minor },
            AppError::Declined { decline_code, message } => Self::Declined { decline_code, message },
            AppError::ProcessorUnavailable(why) => Self::ProcessorUnavailable(why),
            AppError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        AppError::from(error).into()
    }
}

impl From<vestibule_storage::DieselError> for ApiError {
    fn from(error: vestibule_storage::DieselError) -> Self {
        StorageError::from(error).into()
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        Self::Forbidden(denied.0.to_owned())
    }
}
