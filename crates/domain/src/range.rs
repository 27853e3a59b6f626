//! Byte ranges of a download (RFC 9110), and which of them count as the client receiving a
//! document.

/// What `Range` asks for, against a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    /// Inclusive first and last byte.
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header. Several ranges, other units or garbage get the whole file, as
/// the RFC allows; a single satisfiable range gets that part.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.is_empty(), end.is_empty()) {
        // The last `n` bytes.
        (true, false) => match end.parse::<u64>() {
            Ok(0) => return Wanted::Unsatisfiable,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => start.parse::<u64>().ok().map(|s| (s, size.saturating_sub(1))),
        (false, false) => match (start.parse::<u64>(), end.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(size.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Wanted::Whole,
        Some((first, _)) if size == 0 || first >= size => Wanted::Unsatisfiable,
        Some((first, last)) => Wanted::Part(first, last),
    }
}

/// Whether a request for `size` bytes with this `Range` is a download worth a receipt: the
/// whole file, or a part from its start. Later parts (a resumed or chunked download) and
/// ranges that cannot be served are not.
pub fn counts_as_download(range: Option<&str>, size: i64) -> bool {
    matches!(wanted(range, u64::try_from(size).unwrap_or(0)), Wanted::Whole | Wanted::Part(0, _))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_the_rfc_says() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0, 9));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=50-500"), 100), Wanted::Part(50, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-1"), 100), Wanted::Whole);
    }

    #[test]
    fn only_a_download_from_the_first_byte_is_a_receipt() {
        assert!(counts_as_download(None, 100));
        assert!(counts_as_download(Some("bytes=0-9"), 100));
        assert!(!counts_as_download(Some("bytes=10-19"), 100));
        assert!(!counts_as_download(Some("bytes=100-"), 100));
    }
}
