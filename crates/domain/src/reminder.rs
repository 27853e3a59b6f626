//! When a contact is reminded of what a document request still waits for: the firm's
//! schedule, and which reminder (if any) is due on a given day.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{FieldError, ValidationErrors};

/// The firm's reminder schedule for document requests, relative to each item's due date (or
/// the request's). Items without a due date are reminded only when staff ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderPolicy {
    /// Days before the due date to remind on, e.g. `[7, 3]`; at most 5 values of 1–90.
    #[serde(default = "before_due_default")]
    pub before_due_days: Vec<i64>,
    /// Remind on the due date itself.
    #[serde(default = "yes")]
    pub on_due_date: bool,
    /// Remind every this many days (1–90) while overdue; `null` never.
    #[serde(default = "overdue_default")]
    pub overdue_every_days: Option<i64>,
    /// Remind those an access link was emailed to this many days (1–90) before it expires,
    /// once; `null` never.
    #[serde(default = "link_expiry_default")]
    pub link_before_expiry_days: Option<i64>,
    /// Remind those an upload link was emailed to when nothing was uploaded this many days
    /// (1–90) after it was created, once; `null` never.
    #[serde(default = "upload_idle_default")]
    pub upload_link_idle_days: Option<i64>,
}

fn before_due_default() -> Vec<i64> {
    vec![3]
}

fn yes() -> bool {
    true
}

fn overdue_default() -> Option<i64> {
    Some(3)
}

fn link_expiry_default() -> Option<i64> {
    Some(2)
}

fn upload_idle_default() -> Option<i64> {
    Some(3)
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        Self {
            before_due_days: before_due_default(),
            on_due_date: true,
            overdue_every_days: overdue_default(),
            link_before_expiry_days: link_expiry_default(),
            upload_link_idle_days: upload_idle_default(),
        }
    }
}

/// Which of the schedule's reminders one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderRule {
    BeforeDue,
    DueToday,
    Overdue,
    /// Sent by staff on request.
    Manual,
    /// An access link expires soon.
    LinkExpiring,
    /// Nothing came through an upload link yet.
    NothingUploaded,
}

names!(ReminderRule {
    BeforeDue => "before_due",
    DueToday => "due_today",
    Overdue => "overdue",
    Manual => "manual",
    LinkExpiring => "link_expiring",
    NothingUploaded => "nothing_uploaded",
});

/// What the link reminder looks at: one access link that was emailed to someone.
#[derive(Debug, Clone, Copy)]
pub struct LinkFacts<'a> {
    pub upload: bool,
    pub created_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// Files uploaded through it so far.
    pub uploads: i64,
    /// The reminders already sent about it.
    pub sent: &'a [ReminderRule],
}

impl ReminderPolicy {
    /// The policy as stored; what cannot be read is the default (it was written validated).
    pub fn from_stored(raw: &str) -> Self {
        serde_json::from_str(raw).unwrap_or_default()
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Checks the values; `prefix` is the policy's pointer in the request body.
    pub fn validate(mut self, prefix: &str) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let days = 1..=90;
        if self.before_due_days.len() > 5 || self.before_due_days.iter().any(|d| !days.contains(d)) {
            let pointer = format!("{prefix}/before_due_days");
            errors.push(FieldError::new(&pointer, "out_of_range", "at most 5 values of 1–90 days"));
        }
        for (field, value) in [
            ("overdue_every_days", self.overdue_every_days),
            ("link_before_expiry_days", self.link_before_expiry_days),
            ("upload_link_idle_days", self.upload_link_idle_days),
        ] {
            if value.is_some_and(|d| !days.contains(&d)) {
                let pointer = format!("{prefix}/{field}");
                errors.push(FieldError::new(&pointer, "out_of_range", "must be 1–90 days, or null"));
            }
        }
        self.before_due_days.sort_unstable_by(|a, b| b.cmp(a));
        self.before_due_days.dedup();
        errors.into_result().map(|()| self)
    }

    /// The latest reminder the schedule holds on or before `today` for an item due on `due`
    /// and asked for on `asked_on`: the day it falls on and its rule. Reminders fall after the
    /// day the request was sent (which has its own email). A missed day (no instance running)
    /// is caught up the next time, once.
    pub fn latest(&self, due: NaiveDate, asked_on: NaiveDate, today: NaiveDate) -> Option<(NaiveDate, ReminderRule)> {
        let before = self.before_due_days.iter().map(|d| (due - Duration::days(*d), ReminderRule::BeforeDue));
        let on_due = self.on_due_date.then_some((due, ReminderRule::DueToday));
        let overdue = self.overdue_every_days.filter(|every| *every > 0 && today > due).map(|every| {
            let periods = (today - due).num_days() / every;
            (due + Duration::days(periods * every), ReminderRule::Overdue)
        });
        before
            .chain(on_due)
            .chain(overdue.filter(|(day, _)| *day > due))
            .filter(|(day, _)| *day <= today && *day > asked_on)
            .max_by_key(|(day, _)| *day)
    }

    /// Whether the contact is to be reminded today, given the last reminder about the item.
    pub fn due_today(
        &self,
        due: NaiveDate,
        asked_on: NaiveDate,
        last_sent: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Option<ReminderRule> {
        let (day, rule) = self.latest(due, asked_on, today)?;
        match last_sent {
            Some(sent) if sent >= day => None,
            _ => Some(rule),
        }
    }
}

impl ReminderPolicy {
    /// The reminder due today about an emailed access link, if any; each kind goes out once.
    /// A link that expires is reminded of from the configured day before, unless it was
    /// created inside that window; an upload link with nothing in it after the configured
    /// days, while it still works.
    pub fn link_due(&self, link: LinkFacts<'_>, today: NaiveDate) -> Option<ReminderRule> {
        if today >= link.expires_on {
            return None;
        }
        let expiring = self
            .link_before_expiry_days
            .map(|d| link.expires_on - Duration::days(d))
            .filter(|day| *day > link.created_on && today >= *day && !link.sent.contains(&ReminderRule::LinkExpiring));
        if expiring.is_some() {
            return Some(ReminderRule::LinkExpiring);
        }
        let idle = self.upload_link_idle_days.map(|d| link.created_on + Duration::days(d)).filter(|day| {
            link.upload && link.uploads == 0 && today >= *day && !link.sent.contains(&ReminderRule::NothingUploaded)
        });
        idle.map(|_| ReminderRule::NothingUploaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn the_default_reminds_three_days_before_on_the_day_and_every_three_days_after() {
        let policy = ReminderPolicy::default();
        let (due, asked) = (day(10), day(1));
        assert_eq!(policy.due_today(due, asked, None, day(6)), None);
        assert_eq!(policy.due_today(due, asked, None, day(7)), Some(ReminderRule::BeforeDue));
        assert_eq!(policy.due_today(due, asked, Some(day(7)), day(8)), None);
        assert_eq!(policy.due_today(due, asked, Some(day(7)), day(10)), Some(ReminderRule::DueToday));
        assert_eq!(policy.due_today(due, asked, Some(day(10)), day(12)), None);
        assert_eq!(policy.due_today(due, asked, Some(day(10)), day(13)), Some(ReminderRule::Overdue));
        assert_eq!(policy.due_today(due, asked, Some(day(13)), day(15)), None);
        assert_eq!(policy.due_today(due, asked, Some(day(13)), day(16)), Some(ReminderRule::Overdue));
    }

    #[test]
    fn a_missed_day_is_caught_up_once() {
        let policy = ReminderPolicy::default();
        assert_eq!(policy.due_today(day(10), day(1), None, day(9)), Some(ReminderRule::BeforeDue));
        assert_eq!(policy.due_today(day(10), day(1), Some(day(9)), day(9)), None);
    }

    #[test]
    fn nothing_is_sent_for_days_before_the_request_was_sent() {
        let policy = ReminderPolicy::default();
        assert_eq!(policy.due_today(day(10), day(8), None, day(9)), None);
        assert_eq!(policy.due_today(day(10), day(8), None, day(10)), Some(ReminderRule::DueToday));
    }

    #[test]
    fn an_empty_schedule_sends_nothing() {
        let policy = ReminderPolicy {
            before_due_days: vec![],
            on_due_date: false,
            overdue_every_days: None,
            ..ReminderPolicy::default()
        };
        for today in 1..=28 {
            assert_eq!(policy.due_today(day(10), day(1), None, day(today)), None);
        }
    }

    #[test]
    fn stored_policies_read_back_and_missing_fields_take_the_defaults() {
        assert_eq!(ReminderPolicy::from_stored("{}"), ReminderPolicy::default());
        let policy = ReminderPolicy::from_stored(r#"{"overdue_every_days":null}"#);
        assert_eq!(policy.overdue_every_days, None);
        assert_eq!(ReminderPolicy::from_stored(&policy.to_stored()), policy);
    }

    #[test]
    fn validation_bounds_the_days_and_orders_them() {
        let policy = ReminderPolicy { before_due_days: vec![3, 7, 3], ..ReminderPolicy::default() };
        assert_eq!(policy.validate("/reminders").unwrap().before_due_days, vec![7, 3]);
        assert!(ReminderPolicy { before_due_days: vec![0], ..ReminderPolicy::default() }.validate("").is_err());
        assert!(ReminderPolicy { overdue_every_days: Some(91), ..ReminderPolicy::default() }.validate("").is_err());
    }

    fn link(upload: bool, uploads: i64, sent: &[ReminderRule]) -> LinkFacts<'_> {
        LinkFacts { upload, created_on: day(1), expires_on: day(15), uploads, sent }
    }

    #[test]
    fn an_emailed_link_is_reminded_once_before_it_expires() {
        let policy = ReminderPolicy::default();
        assert_eq!(policy.link_due(link(false, 0, &[]), day(12)), None);
        assert_eq!(policy.link_due(link(false, 0, &[]), day(13)), Some(ReminderRule::LinkExpiring));
        assert_eq!(policy.link_due(link(false, 0, &[ReminderRule::LinkExpiring]), day(14)), None);
        assert_eq!(policy.link_due(link(false, 0, &[]), day(15)), None, "expired links are not reminded of");
        let short = LinkFacts { expires_on: day(2), ..link(false, 0, &[]) };
        assert_eq!(policy.link_due(short, day(1)), None, "created inside the window");
    }

    #[test]
    fn an_upload_link_with_nothing_in_it_is_reminded_once() {
        let policy = ReminderPolicy::default();
        assert_eq!(policy.link_due(link(true, 0, &[]), day(3)), None);
        assert_eq!(policy.link_due(link(true, 0, &[]), day(4)), Some(ReminderRule::NothingUploaded));
        assert_eq!(policy.link_due(link(true, 1, &[]), day(4)), None);
        assert_eq!(policy.link_due(link(false, 0, &[]), day(4)), None, "download links wait for nothing");
        assert_eq!(policy.link_due(link(true, 0, &[ReminderRule::NothingUploaded]), day(5)), None);
    }
}
