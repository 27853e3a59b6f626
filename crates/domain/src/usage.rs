//! How often the use of a credential or a link is written down. On every request it would
//! turn reads into writes (contended ones: SQLite has one writer) and flood the audit log;
//! counts that are receipts (downloads) are still kept exactly.

use chrono::{Duration, NaiveDateTime};

/// A session's, an API key's or a link's `last_used_at` / `last_accessed_at`: to the minute.
pub const TOUCH_EVERY: Duration = Duration::minutes(1);

/// An API key's use is audited once an hour.
pub const AUDIT_KEY_USE_EVERY: Duration = Duration::hours(1);

/// A link's downloads of one document less than this apart are one visit: the audit log
/// records the visit's first download, the receipt counts every one.
pub const DOWNLOAD_VISIT: Duration = Duration::minutes(10);

/// Whether something last written at `last` (never, if `None`) is to be written again.
pub fn due(last: Option<NaiveDateTime>, now: NaiveDateTime, every: Duration) -> bool {
    last.is_none_or(|at| now - at >= every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_written_the_first_time_and_then_once_per_period() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc();
        assert!(due(None, now, TOUCH_EVERY));
        assert!(!due(Some(now - Duration::seconds(59)), now, TOUCH_EVERY));
        assert!(due(Some(now - TOUCH_EVERY), now, TOUCH_EVERY));
        assert!(!due(Some(now - Duration::minutes(9)), now, DOWNLOAD_VISIT));
    }
}
