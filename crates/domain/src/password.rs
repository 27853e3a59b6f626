//! Password rules of OWASP ASVS 5 (V6.2): at least 8 characters, at least 64 allowed,
//! no composition rules, and not one of the commonly used passwords.

use crate::FieldError;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

const COMMON: &str = include_str!("common_passwords.txt");

/// A password that satisfies the policy. Its `Debug` never shows the value.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(FieldError::new("", "password_too_short", format!("must be at least {MIN_CHARS} characters")));
        }
        if chars > MAX_CHARS {
            return Err(FieldError::new("", "password_too_long", format!("must be at most {MAX_CHARS} characters")));
        }
        let lowered = raw.to_lowercase();
        if COMMON.lines().any(|common| common == lowered) {
            return Err(FieldError::new("", "password_too_common", "is one of the most commonly used passwords"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_common_passwords_are_refused() {
        assert_eq!(NewPassword::parse("short").unwrap_err().code, "password_too_short");
        assert_eq!(NewPassword::parse(&"x".repeat(129)).unwrap_err().code, "password_too_long");
        assert_eq!(NewPassword::parse("Password123").unwrap_err().code, "password_too_common");
    }

    #[test]
    fn a_long_passphrase_without_symbols_is_accepted() {
        assert!(NewPassword::parse("correct horse battery staple").is_ok());
        assert!(NewPassword::parse(&"é".repeat(64)).is_ok());
    }
}
