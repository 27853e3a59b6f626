//! Bounded, trimmed text fields.

use crate::FieldError;

/// Trims `raw` and checks it is between 1 and `max` characters.
pub fn required(raw: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new("", "required", "must not be blank"));
    }
    bounded(trimmed, max)
}

/// Trims `raw`; blank becomes `None`.
pub fn optional(raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => bounded(value, max).map(Some),
    }
}

fn bounded(value: &str, max: usize) -> Result<String, FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new("", "too_long", format!("must be at most {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new("", "invalid_characters", "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// A phone number as people type it, at most 40 characters; blank means none.
pub fn optional_phone(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    optional(raw, 40)
}

/// A firm slug: what users type at login to name their firm.
pub fn slug(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_lowercase();
    let valid = (2..=63).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if valid {
        Ok(value)
    } else {
        Err(FieldError::new("", "invalid_slug", "2–63 lowercase letters, digits or inner hyphens"))
    }
}

/// An id assigned by another system (practice-management software).
pub fn external_id(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let valid = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new("", "invalid_external_id", "1–128 characters of letters, digits and - _ . : @"))
    }
}

/// A user's filename, kept for display only: the last path segment, without control
/// characters, trimmed, at most 255 characters; blank becomes `document`.
pub fn file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        last.chars().filter(|c| !c.is_control()).collect::<String>().trim().chars().take(255).collect();
    match cleaned.as_str() {
        "" | "." | ".." => "document".to_owned(),
        _ => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_phone_is_none_and_a_long_one_is_refused() {
        assert_eq!(optional_phone(Some("  ")).unwrap(), None);
        assert_eq!(optional_phone(Some(" +44 20 7946 0000 ")).unwrap().as_deref(), Some("+44 20 7946 0000"));
        assert_eq!(optional_phone(Some(&"1".repeat(41))).unwrap_err().code, "too_long");
    }

    #[test]
    fn a_file_name_keeps_unicode_and_loses_any_path() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("C:\\Users\\me\\Steuererklärung 2026.pdf"), "Steuererklärung 2026.pdf");
        assert_eq!(file_name("  résumé\u{0}.docx "), "résumé.docx");
        assert_eq!(file_name(".."), "document");
        assert_eq!(file_name(""), "document");
    }
}
