//! Every way a use case can fail, in the words of the application; `http` maps each to a
//! status and a problem+json body in one place.

use vestibule_domain::authz::Denied;
use vestibule_domain::invitation::Closed;
use vestibule_domain::{FieldError, ValidationErrors};
use vestibule_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// A credential or token that does not (or no longer) prove who the caller is.
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: &'static str },
    #[error("{0}")]
    Forbidden(String),
    /// Forbidden with a code the frontend acts on (an expired portal, say).
    #[error("{detail}")]
    Refused { code: &'static str, detail: &'static str },
    /// Missing, or not visible to the caller: the two are never told apart.
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A conflict the caller resolves by asking again with one of `choices`.
    #[error("{detail}")]
    Choose { code: &'static str, detail: &'static str, choices: &'static [&'static str] },
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    /// A one-time link that expired or was withdrawn.
    #[error("{detail}")]
    Gone { code: &'static str, detail: &'static str },
    #[error("{detail}")]
    TooManyRequests { retry_after_secs: u64, detail: &'static str },
    /// A payment would take more than an invoice still owes.
    #[error("the invoice's balance is {balance_minor}")]
    OverBalance { invoice_id: String, balance_minor: i64 },
    /// The card processor declined the card, in its words.
    #[error("{message}")]
    Declined { decline_code: String, message: String },
    /// The card processor could not be reached, or did not answer; nothing was charged, or
    /// what was is settled by the processor's webhook.
    #[error("{0}")]
    ProcessorUnavailable(String),
    /// Anything else: a failed database, a broken invariant. Opaque to the caller.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { code, detail: detail.into() }
    }

    pub fn field(pointer: &str, code: &str, detail: impl Into<String>) -> Self {
        Self::Validation(FieldError::new(pointer, code, detail).into())
    }

    pub fn invalid_token() -> Self {
        Self::Unauthenticated { code: "invalid_token", detail: "the token is invalid, expired or revoked" }
    }
}

impl From<StorageError> for AppError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => Self::NotFound,
            StorageError::VersionMismatch => Self::PreconditionFailed,
            StorageError::Conflict(constraint) => conflict_for(&constraint),
            StorageError::ForeignKey => {
                Self::conflict("in_use", "other records still refer to this one; remove or move them first")
            }
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<vestibule_storage::DieselError> for AppError {
    fn from(error: vestibule_storage::DieselError) -> Self {
        StorageError::from(error).into()
    }
}

/// Names the unique field both backends report, whatever their message format.
fn conflict_for(constraint: &str) -> AppError {
    if constraint.contains("email") {
        AppError::conflict("email_taken", "this email address is already in use in this firm")
    } else if constraint.contains("external_id") {
        AppError::conflict("external_id_taken", "another record already has this external_id")
    } else if constraint.contains("message_templates") {
        AppError::conflict("template_name_taken", "another template already has this name")
    } else if constraint.contains("slug") {
        AppError::conflict("slug_taken", "a firm with this slug already exists")
    } else {
        AppError::conflict("conflict", "a record with these values already exists")
    }
}

impl From<ValidationErrors> for AppError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        Self::Validation(error.into())
    }
}

/// The answers to a link that no longer works, the same for contacts and for staff.
impl From<Closed> for AppError {
    fn from(closed: Closed) -> Self {
        match closed {
            Closed::Used => Self::conflict("invitation_used", "this invitation was used already; sign in instead"),
            Closed::Revoked => Self::Gone {
                code: "invitation_revoked",
                detail: "this invitation was withdrawn or replaced by a newer one",
            },
            Closed::Expired => Self::Gone {
                code: "invitation_expired",
                detail: "this invitation has expired; ask the firm to send a new one",
            },
        }
    }
}

/// Resending or withdrawing an invitation that was accepted or withdrawn already.
pub(crate) fn invitation_closed() -> AppError {
    AppError::conflict("invitation_closed", "this invitation was accepted or revoked already")
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        Self::Forbidden(denied.0.to_owned())
    }
}

/// A command's reference to something the caller cannot see is the caller's mistake: 422
/// at its pointer. Only a missing row means that; any other failure of the lookup (a lost
/// connection, a timeout) stays what it is, an internal error.
pub trait OrUnknown<T> {
    fn or_unknown(self, pointer: &str, detail: &str) -> AppResult<T>;
}

impl<T> OrUnknown<T> for Result<T, StorageError> {
    fn or_unknown(self, pointer: &str, detail: &str) -> AppResult<T> {
        self.map_err(AppError::from).or_unknown(pointer, detail)
    }
}

impl<T> OrUnknown<T> for AppResult<T> {
    fn or_unknown(self, pointer: &str, detail: &str) -> AppResult<T> {
        self.map_err(|error| match error {
            AppError::NotFound => AppError::field(pointer, "unknown_reference", detail),
            other => other,
        })
    }
}
