//! Access links (seed 002): what a link is, when it may be opened, and its security code.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// Wrong codes in a row that lock a link until staff regenerate its code.
pub const MAX_FAILED_CODES: i32 = 5;

/// Digits of a security code: short enough to read out on the phone; guessing is bounded
/// by the lockout, not by the length.
pub const CODE_DIGITS: usize = 8;

/// What a link lets its recipient do with the documents of its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Read and download the documents made visible to the client.
    Download,
    /// Upload files into the work (seed 002's "External Upload").
    Upload,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Download => "download",
            Self::Upload => "upload",
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        if raw == "upload" { Self::Upload } else { Self::Download }
    }
}

/// What a recipient does with a link's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUse {
    /// List and download the work's visible documents.
    ReadDocuments,
    Upload,
}

impl LinkKind {
    /// A download link only shows documents; an upload link only takes files.
    pub fn allows(self, use_: LinkUse) -> Result<(), &'static str> {
        match (self, use_) {
            (Self::Download, LinkUse::ReadDocuments) | (Self::Upload, LinkUse::Upload) => Ok(()),
            (Self::Upload, LinkUse::ReadDocuments) => Err("this is an upload link: it does not show documents"),
            (Self::Download, LinkUse::Upload) => Err("this is a download link: it takes no uploads"),
        }
    }
}

/// Where a link stands: the seed's red and green icon, and why it is red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Enabled,
    Disabled,
    Expired,
    /// Too many wrong codes; regenerating the code unlocks it.
    Locked,
}

impl LinkStatus {
    /// A disabled link reads as disabled whatever else holds: that is what staff can change.
    pub fn of(enabled: bool, locked_at: Option<NaiveDateTime>, expires_at: NaiveDateTime, now: NaiveDateTime) -> Self {
        if !enabled {
            Self::Disabled
        } else if locked_at.is_some() {
            Self::Locked
        } else if expires_at <= now {
            Self::Expired
        } else {
            Self::Enabled
        }
    }

    pub fn opens(self) -> bool {
        self == Self::Enabled
    }
}

/// A well-formed code as typed by a person: digits, with the spaces or dashes people add
/// when reading it off. Anything else cannot match and is not compared at all.
pub fn normalize_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Who among the staff who may see a link's work hears of what happens to the link (locked
/// by wrong codes, files uploaded through it): its creator and the client's assignees.
pub fn told_of_link(staff_id: &str, creator: &str, client_assignees: &[String]) -> bool {
    staff_id == creator || client_assignees.iter().any(|id| id == staff_id)
}

/// Every run of `CODE_DIGITS` digits in `text` that could be a code, however a person
/// separated its digits (spaces of any kind, dashes, dots, slashes); letters end a run.
pub fn code_candidates(text: &str) -> Vec<String> {
    let kept: Vec<u8> =
        text.chars().filter(|c| c.is_alphanumeric()).map(|c| if c.is_ascii_digit() { c as u8 } else { b'x' }).collect();
    kept.split(|b| !b.is_ascii_digit())
        .flat_map(|run| run.windows(CODE_DIGITS))
        .map(|window| String::from_utf8_lossy(window).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration};

    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).map(|t| t.naive_utc()).unwrap()
    }

    #[test]
    fn a_link_stops_opening_at_its_expiry_not_a_second_later() {
        let expiry = at(0);
        assert_eq!(LinkStatus::of(true, None, expiry, expiry - Duration::seconds(1)), LinkStatus::Enabled);
        assert_eq!(LinkStatus::of(true, None, expiry, expiry), LinkStatus::Expired);
    }

    #[test]
    fn disabled_wins_over_locked_and_expired() {
        assert_eq!(LinkStatus::of(false, Some(at(0)), at(0), at(10)), LinkStatus::Disabled);
        assert_eq!(LinkStatus::of(true, Some(at(0)), at(0), at(10)), LinkStatus::Locked);
    }

    #[test]
    fn each_kind_of_link_allows_only_its_own_use() {
        assert!(LinkKind::Download.allows(LinkUse::ReadDocuments).is_ok());
        assert!(LinkKind::Download.allows(LinkUse::Upload).is_err());
        assert!(LinkKind::Upload.allows(LinkUse::Upload).is_ok());
        assert!(LinkKind::Upload.allows(LinkUse::ReadDocuments).is_err());
    }

    #[test]
    fn codes_are_eight_digits_with_optional_separators() {
        assert_eq!(normalize_code("1234 5678").as_deref(), Some("12345678"));
        assert_eq!(normalize_code("1234-5678").as_deref(), Some("12345678"));
        assert_eq!(normalize_code("1234567"), None);
        assert_eq!(normalize_code("12345678a"), None);
        assert_eq!(normalize_code("１２３４５６７８"), None);
    }

    #[test]
    fn a_link_tells_its_creator_and_the_clients_assignees_only() {
        let assignees = vec!["stf_a".to_owned(), "stf_b".to_owned()];
        assert!(told_of_link("stf_c", "stf_c", &assignees));
        assert!(told_of_link("stf_b", "stf_c", &assignees));
        assert!(!told_of_link("stf_d", "stf_c", &assignees));
        assert!(!told_of_link("stf_d", "key_x", &[]));
    }

    #[test]
    fn a_code_is_found_however_its_digits_are_separated() {
        assert_eq!(code_candidates("code: 4071 8263."), vec!["40718263"]);
        assert_eq!(code_candidates("4071-82/63"), vec!["40718263"]);
        assert_eq!(code_candidates("4071\u{a0}8263"), vec!["40718263"]);
        assert_eq!(code_candidates("123456789"), vec!["12345678", "23456789"]);
        assert!(code_candidates("4071a8263").is_empty());
        assert!(code_candidates("1234567").is_empty());
    }
}
