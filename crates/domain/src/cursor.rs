//! Opaque pagination cursors. Lists are ordered by id (UUIDv7, so by creation time), the
//! audit log by its sequence number; a cursor carries that key of the previous page's last row.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::FieldError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub after: Option<String>,
    pub limit: i64,
}

impl Page {
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> Result<Self, FieldError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(FieldError::new("#/query/limit", "out_of_range", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = cursor.map(decode).transpose()?;
        Ok(Self { after, limit })
    }

    /// Splits one extra fetched row off the page and turns the last kept row's key into the
    /// next cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, key_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        let next = if has_more { rows.last().map(|row| encode(&key_of(row))) } else { None };
        (rows, next)
    }
}

fn encode(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

fn decode(raw: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new("#/query/cursor", "invalid_cursor", "is not a cursor returned by this list");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let id = String::from_utf8(bytes).map_err(|_| invalid())?;
    let plausible = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plausible { Ok(id) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let page = Page::parse(None, Some(2)).unwrap();
        let (rows, next) = page.finish(vec!["a_1", "a_2", "a_3"], |s| (*s).to_owned());
        assert_eq!(rows, vec!["a_1", "a_2"]);
        let next_page = Page::parse(next.as_deref(), Some(2)).unwrap();
        assert_eq!(next_page.after.as_deref(), Some("a_2"));
        assert!(Page::parse(Some("%%%"), None).is_err());
        assert!(Page::parse(None, Some(0)).is_err());
        assert!(Page::parse(None, Some(201)).is_err());
    }
}
