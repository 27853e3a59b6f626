//! Optional contact details shared by several resources: blank means none.

use vestibule_domain::email::EmailAddress;
use vestibule_domain::{ValidationErrors, text};

pub fn optional_email(errors: &mut ValidationErrors, pointer: &str, raw: Option<&str>) -> Option<String> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => errors.check(pointer, EmailAddress::parse(value)).map(String::from),
        None => None,
    }
}

pub fn optional_phone(errors: &mut ValidationErrors, pointer: &str, raw: Option<&str>) -> Option<String> {
    errors.check(pointer, text::optional(raw, 40)).flatten()
}
