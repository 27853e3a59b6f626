//! Document requests: a list of items staff ask a contact to provide, and the life of each
//! item — the contact uploads, staff accept or return it, the contact uploads again.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::FieldError;
use crate::text;

/// The most items one request asks for.
pub const MAX_ITEMS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for the contact or for staff to review.
    Open,
    /// Every item was accepted.
    Completed,
    /// Staff withdrew the request; nothing more can be uploaded into it.
    Cancelled,
}

names!(RequestStatus { Open => "open", Completed => "completed", Cancelled => "cancelled" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Nothing uploaded yet.
    Requested,
    /// The contact uploaded; staff have yet to review.
    Uploaded,
    /// Staff accepted what was uploaded.
    Accepted,
    /// Staff returned the item with a reason; the contact uploads again.
    Returned,
}

names!(ItemStatus { Requested => "requested", Uploaded => "uploaded", Accepted => "accepted", Returned => "returned" });

/// A step refused in the request's current state: a conflict, with a code and a reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refused {
    pub code: &'static str,
    pub detail: &'static str,
}

const fn refused(code: &'static str, detail: &'static str) -> Refused {
    Refused { code, detail }
}

fn open(request: RequestStatus) -> Result<(), Refused> {
    match request {
        RequestStatus::Open => Ok(()),
        RequestStatus::Completed => Err(refused("request_completed", "the request is complete")),
        RequestStatus::Cancelled => Err(refused("request_cancelled", "the request was cancelled")),
    }
}

impl ItemStatus {
    /// Waiting for the contact: what reminders are about.
    pub fn waits_for_contact(self) -> bool {
        matches!(self, Self::Requested | Self::Returned)
    }

    /// The contact uploads (more) files into the item.
    pub fn upload(self, request: RequestStatus) -> Result<Self, Refused> {
        open(request)?;
        match self {
            Self::Accepted => Err(refused("item_accepted", "the item was accepted; nothing more is needed")),
            Self::Requested | Self::Uploaded | Self::Returned => Ok(Self::Uploaded),
        }
    }

    /// Staff accept what was uploaded.
    pub fn accept(self, request: RequestStatus) -> Result<Self, Refused> {
        open(request)?;
        match self {
            Self::Uploaded => Ok(Self::Accepted),
            Self::Accepted => Err(refused("item_accepted", "the item is already accepted")),
            Self::Requested | Self::Returned => {
                Err(refused("nothing_uploaded", "the contact has not uploaded this item"))
            }
        }
    }

    /// Staff return what was uploaded, so the contact uploads again.
    pub fn give_back(self, request: RequestStatus) -> Result<Self, Refused> {
        open(request)?;
        match self {
            Self::Uploaded => Ok(Self::Returned),
            Self::Accepted => Err(refused("item_accepted", "an accepted item cannot be returned")),
            Self::Requested | Self::Returned => {
                Err(refused("nothing_uploaded", "the contact has not uploaded this item"))
            }
        }
    }

    /// What the item becomes when the contact removes one of its files and `left` remain.
    pub fn after_removal(self, left: usize) -> Self {
        match self {
            Self::Uploaded if left == 0 => Self::Requested,
            other => other,
        }
    }
}

/// The contact may remove a file they uploaded until staff accept the item it answers.
pub fn may_remove_upload(item: Option<ItemStatus>) -> Result<(), Refused> {
    match item {
        Some(ItemStatus::Accepted) => {
            Err(refused("item_accepted", "staff accepted this file; ask the firm to remove it"))
        }
        _ => Ok(()),
    }
}

/// The request is cancelled by staff while open.
pub fn cancel(request: RequestStatus) -> Result<RequestStatus, Refused> {
    open(request).map(|()| RequestStatus::Cancelled)
}

/// What a request becomes once its items are as given: complete when every item is accepted.
pub fn settle(request: RequestStatus, items: &[ItemStatus]) -> RequestStatus {
    if request == RequestStatus::Open && !items.is_empty() && items.iter().all(|s| *s == ItemStatus::Accepted) {
        RequestStatus::Completed
    } else {
        request
    }
}

/// How far a request is, item by item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Progress {
    pub total: usize,
    pub requested: usize,
    pub uploaded: usize,
    pub accepted: usize,
    pub returned: usize,
}

impl Progress {
    pub fn of(items: impl IntoIterator<Item = ItemStatus>) -> Self {
        items.into_iter().fold(Self::default(), |mut p, status| {
            p.total += 1;
            match status {
                ItemStatus::Requested => p.requested += 1,
                ItemStatus::Uploaded => p.uploaded += 1,
                ItemStatus::Accepted => p.accepted += 1,
                ItemStatus::Returned => p.returned += 1,
            }
            p
        })
    }
}

pub fn title(raw: &str) -> Result<String, FieldError> {
    text::required(raw, 200)
}

pub fn item_name(raw: &str) -> Result<String, FieldError> {
    text::required(raw, 200)
}

pub fn description(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    text::optional(raw, 5000)
}

/// Why staff return an item: the contact reads it, so it is required.
pub fn return_reason(raw: &str) -> Result<String, FieldError> {
    text::required(raw, 2000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemStatus::*;

    #[test]
    fn an_item_goes_uploaded_returned_uploaded_accepted() {
        let open = RequestStatus::Open;
        let item = Requested.upload(open).unwrap();
        assert_eq!(item, Uploaded);
        let item = item.give_back(open).unwrap();
        assert_eq!(item, Returned);
        assert!(item.waits_for_contact());
        let item = item.upload(open).unwrap().accept(open).unwrap();
        assert_eq!(item, Accepted);
        assert_eq!(item.upload(open).unwrap_err().code, "item_accepted");
        assert_eq!(item.give_back(open).unwrap_err().code, "item_accepted");
    }

    #[test]
    fn staff_review_only_what_was_uploaded() {
        assert_eq!(Requested.accept(RequestStatus::Open).unwrap_err().code, "nothing_uploaded");
        assert_eq!(Returned.give_back(RequestStatus::Open).unwrap_err().code, "nothing_uploaded");
    }

    #[test]
    fn a_closed_request_takes_nothing() {
        for closed in [RequestStatus::Completed, RequestStatus::Cancelled] {
            assert!(Requested.upload(closed).is_err());
            assert!(Uploaded.accept(closed).is_err());
            assert!(cancel(closed).is_err());
        }
        assert_eq!(cancel(RequestStatus::Open).unwrap(), RequestStatus::Cancelled);
    }

    #[test]
    fn a_request_completes_when_every_item_is_accepted() {
        assert_eq!(settle(RequestStatus::Open, &[Accepted, Uploaded]), RequestStatus::Open);
        assert_eq!(settle(RequestStatus::Open, &[Accepted, Accepted]), RequestStatus::Completed);
        assert_eq!(settle(RequestStatus::Cancelled, &[Accepted]), RequestStatus::Cancelled);
    }

    #[test]
    fn removing_the_last_file_of_an_uploaded_item_asks_for_it_again() {
        assert_eq!(Uploaded.after_removal(0), Requested);
        assert_eq!(Uploaded.after_removal(1), Uploaded);
        assert_eq!(Returned.after_removal(0), Returned);
        assert!(may_remove_upload(Some(Accepted)).is_err());
        assert!(may_remove_upload(Some(Uploaded)).is_ok());
        assert!(may_remove_upload(None).is_ok());
    }

    #[test]
    fn progress_counts_each_status() {
        let p = Progress::of([Requested, Uploaded, Accepted, Accepted, Returned]);
        assert_eq!(p, Progress { total: 5, requested: 1, uploaded: 1, accepted: 2, returned: 1 });
    }
}
