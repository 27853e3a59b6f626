//! Malware scanning of uploads: the status every document carries, what each status lets
//! people do with the file, and when a scan that could not run is tried again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a document stands with the malware scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Waiting for the scanner; nobody can download it yet.
    Pending,
    /// The scanner found nothing.
    Clean,
    /// The scanner found malware: quarantined, never downloadable.
    Infected,
    /// No scanner is configured (`SCANNER=none`).
    Unscanned,
    /// The scanner could not judge this file (too large for it, or it refused the file);
    /// withheld like a pending one until an admin has it scanned again or deletes it.
    Failed,
}

names!(ScanStatus {
    Pending => "pending",
    Clean => "clean",
    Infected => "infected",
    Unscanned => "unscanned",
    Failed => "failed",
});

/// Why a file cannot be downloaded now: a conflict, with a code and a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Withheld {
    pub code: &'static str,
    pub detail: &'static str,
}

impl ScanStatus {
    /// The status of a new upload.
    pub fn on_upload(scanning: bool) -> Self {
        if scanning { Self::Pending } else { Self::Unscanned }
    }

    /// Whether the bytes may leave the store, to anyone.
    pub fn download(self) -> Result<(), Withheld> {
        match self {
            Self::Clean | Self::Unscanned => Ok(()),
            Self::Pending => Err(Withheld {
                code: "scan_pending",
                detail: "the file is still being checked for malware; try again shortly",
            }),
            Self::Infected => {
                Err(Withheld { code: "document_quarantined", detail: "the file contains malware and is quarantined" })
            }
            Self::Failed => Err(Withheld {
                code: "scan_failed",
                detail: "the file could not be checked for malware; an admin can have it scanned again",
            }),
        }
    }

    /// Whether clients and link recipients see the document in lists at all: a file in
    /// quarantine, or one the scanner could not judge, is the firm's business only.
    pub fn shown_to_clients(self) -> bool {
        !matches!(self, Self::Infected | Self::Failed)
    }

    /// Statuses clients and link recipients may see, for list queries.
    pub const SHOWN_TO_CLIENTS: &'static [Self] = &[Self::Pending, Self::Clean, Self::Unscanned];

    /// Whether the document may be shared, sent or put up for signature: not while it is
    /// known to be or may be harmful.
    pub fn may_pass_on(self) -> Result<(), Withheld> {
        match self {
            Self::Infected | Self::Failed => self.download(),
            Self::Pending | Self::Clean | Self::Unscanned => Ok(()),
        }
    }
}

/// What the scanner said about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The scanner's name for what it found.
    Infected(String),
    /// The scanner refused this file (too large, or an error about the file itself); scanning
    /// it again as it is would give the same answer.
    Unscannable(String),
}

impl Verdict {
    pub fn status(&self) -> ScanStatus {
        match self {
            Self::Clean => ScanStatus::Clean,
            Self::Infected(_) => ScanStatus::Infected,
            Self::Unscannable(_) => ScanStatus::Failed,
        }
    }
}

/// The wait before trying a scan again after the scanner could not be reached: doubling
/// from 5 seconds to at most 5 minutes, for as long as it takes — a document is never
/// given up on because the scanner was down.
pub fn retry_delay(attempts: i32) -> std::time::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(6);
    std::time::Duration::from_secs((5_u64 << doublings).min(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_and_unscanned_files_can_be_downloaded() {
        let downloadable: Vec<_> = ScanStatus::ALL.iter().filter(|s| s.download().is_ok()).collect();
        assert_eq!(downloadable, [&ScanStatus::Clean, &ScanStatus::Unscanned]);
        assert_eq!(ScanStatus::Infected.download().unwrap_err().code, "document_quarantined");
    }

    #[test]
    fn clients_never_see_quarantined_or_unjudged_files() {
        for status in ScanStatus::ALL {
            assert_eq!(status.shown_to_clients(), ScanStatus::SHOWN_TO_CLIENTS.contains(status));
        }
    }

    #[test]
    fn retries_back_off_to_five_minutes_and_never_stop() {
        assert_eq!(retry_delay(1).as_secs(), 5);
        assert_eq!(retry_delay(2).as_secs(), 10);
        assert_eq!(retry_delay(7).as_secs(), 300);
        assert_eq!(retry_delay(1000).as_secs(), 300);
    }
}
