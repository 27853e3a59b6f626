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

/// An optional address field: blank or absent means none, anything else must be valid.
pub fn optional(raw: Option<&str>) -> Result<Option<EmailAddress>, FieldError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => EmailAddress::parse(value).map(Some),
        None => Ok(None),
    }
}

/// A recipient field as people type it: addresses separated by semicolons (commas work
/// too). Each is checked; the first bad one is named. Duplicates collapse; blank gives none.
pub fn parse_recipients(raw: &str) -> Result<Vec<EmailAddress>, FieldError> {
    let mut addresses: Vec<EmailAddress> = Vec::new();
    for part in raw.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        let address = EmailAddress::parse(part)?;
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    if addresses.len() > 50 {
        return Err(FieldError::new("", "too_many", "at most 50 addresses"));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_address_may_be_blank_but_not_invalid() {
        assert_eq!(optional(None).unwrap(), None);
        assert_eq!(optional(Some("   ")).unwrap(), None);
        assert_eq!(optional(Some(" Ann@X.test ")).unwrap().map(String::from).as_deref(), Some("ann@x.test"));
        assert_eq!(optional(Some("not-an-address")).unwrap_err().code, "invalid_email");
    }

    #[test]
    fn recipient_lists_split_on_semicolons_and_name_the_bad_address() {
        let list = parse_recipients(" a@x.test; B@x.test ;; a@x.test,c@x.test ").unwrap();
        assert_eq!(list.iter().map(EmailAddress::as_str).collect::<Vec<_>>(), vec!["a@x.test", "b@x.test", "c@x.test"]);
        let error = parse_recipients("a@x.test; not-an-address; c@x.test").unwrap_err();
        assert!(error.detail.contains("not-an-address"), "{}", error.detail);
        assert!(parse_recipients("  ").unwrap().is_empty());
    }

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
