use std::fmt;

use validator::ValidateEmail;

use crate::FieldError;

/// A syntactically valid email address, trimmed and lower-cased so that lookups and
/// uniqueness do not depend on how somebody typed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let normalized = raw.trim().to_lowercase();
        if normalized.len() > 254 || !normalized.validate_email() {
            return Err(FieldError::new("", "invalid_email", format!("`{}` is not a valid email address", raw.trim())));
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EmailAddress> for String {
    fn from(email: EmailAddress) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(EmailAddress::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in ["", "ann", "ann@", "@example.com", "ann@@example.com", "a b@example.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
