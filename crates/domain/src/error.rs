use serde::Serialize;

/// One invalid input field, addressed by a JSON pointer into the request body
/// (or `#/query/<name>` for query parameters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the offending value, e.g. `/emails/1`.
    pub pointer: String,
    /// Stable machine-readable reason, e.g. `invalid_email`.
    pub code: String,
    /// Human-readable explanation.
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &str, detail: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), code: code.to_owned(), detail: detail.into() }
    }

    /// Places an error found by a value parser at the field it came from.
    pub fn at(mut self, pointer: &str) -> Self {
        self.pointer = format!("{pointer}{}", self.pointer);
        self
    }
}

/// Every field error found in one input; validation collects them all rather than
/// stopping at the first, so a form can show every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records the error of a parse result, placed at `pointer`, and returns its value, if any.
    pub fn check<T>(&mut self, pointer: &str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error.at(pointer));
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), Self> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}
