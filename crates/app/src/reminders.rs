//! Reminders of what document requests still wait for, and of emailed access links that
//! expire soon or wait for files: the scheduled pass over every firm ([`send_due`]), and the
//! one request email both it and staff's "remind now" send ([`send`]). Each item or link is
//! claimed for the day in `reminders_sent` first, so a reminder goes out once per subject and
//! day however many instances run the pass, and never for an item no longer waiting.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;
use vestibule_domain::access_link::LinkKind;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::document_request::ItemStatus;
use vestibule_domain::events::EventType;
use vestibule_domain::mail::{self, Email};
use vestibule_domain::reminder::{LinkFacts, ReminderPolicy, ReminderRule};
use vestibule_storage::document_requests::{self, ItemRow, RequestRow};
use vestibule_storage::{DbConnection, access_links, contacts, firms, outbox, reminders, write_tx};

use crate::access_links::url_of;
use crate::audit::{self, Entry};
use crate::context::{Origin, Settings};
use crate::error::AppResult;
use crate::events;
use crate::link_secret::LinkSecret;
use crate::request_links::portal_link;

/// Reminds the request's contact of `items`, those not yet reminded today; returns how many
/// items the reminder named (0: nothing sent). Call inside a transaction.
pub fn send(
    conn: &mut DbConnection,
    settings: &Settings,
    request: &RequestRow,
    items: &[&ItemRow],
    rule: ReminderRule,
) -> AppResult<usize> {
    let today = vestibule_storage::now().date();
    let mut claimed = Vec::new();
    for item in items {
        if reminders::claim(conn, &request.firm_id, &item.id, today, rule.as_str())? {
            claimed.push(*item);
        }
    }
    if claimed.is_empty() {
        return Ok(0);
    }
    let item_ids: Vec<&str> = claimed.iter().map(|i| i.id.as_str()).collect();
    let data = json!({ "id": request.id, "item_ids": item_ids, "rule": rule.as_str() });
    let event = events::publish_data(conn, &request.firm_id, EventType::DocumentRequestReminded, &data)?;
    let contact = contacts::get(conn, &request.firm_id, &request.contact_id)?;
    if let Some(email) = contact.email.as_deref() {
        let due_on = claimed.iter().filter_map(|i| i.due_on.or(request.due_on)).min();
        let content = Email::DocumentRequestReminder(mail::RequestReminder {
            link: portal_link(settings, &request.id),
            items: claimed.len(),
            due_on,
            overdue: due_on.is_some_and(|d| d < today),
        });
        outbox::queue_email(conn, &event, email, &content)?;
    }
    Ok(claimed.len())
}

/// The scheduled pass, by each firm's schedule: reminds every contact whose request has items
/// due a reminder today, and those an access link was emailed to when it expires soon or
/// waits for their files; returns how many reminders went out. Each reminder is its own
/// transaction, so one failure does not hold back the others.
#[tracing::instrument(skip(conn, settings, links))]
pub fn send_due(conn: &mut DbConnection, settings: &Settings, links: &LinkSecret) -> AppResult<usize> {
    let mut policies = Policies::default();
    let requests = remind_of_requests(conn, settings, &mut policies)?;
    Ok(requests + remind_of_links(conn, settings, links, &mut policies)?)
}

/// Each firm's schedule, read once per pass.
#[derive(Default)]
struct Policies(HashMap<String, ReminderPolicy>);

impl Policies {
    fn of(&mut self, conn: &mut DbConnection, firm_id: &str) -> AppResult<&ReminderPolicy> {
        if !self.0.contains_key(firm_id) {
            let policy = ReminderPolicy::from_stored(&firms::get(conn, firm_id)?.reminder_policy);
            self.0.insert(firm_id.to_owned(), policy);
        }
        Ok(&self.0[firm_id])
    }
}

fn remind_of_requests(conn: &mut DbConnection, settings: &Settings, policies: &mut Policies) -> AppResult<usize> {
    let today = vestibule_storage::now().date();
    let waiting = [ItemStatus::Requested.as_str(), ItemStatus::Returned.as_str()];
    let rows = document_requests::waiting_with_due_date(conn, &waiting)?;
    let item_ids: Vec<&str> = rows.iter().map(|(_, item)| item.id.as_str()).collect();
    let last_sent = reminders::last_sent(conn, &item_ids)?;
    let mut due: BTreeMap<&str, Due<'_>> = BTreeMap::new();
    for (request, item) in &rows {
        let policy = policies.of(conn, &request.firm_id)?;
        let Some(due_on) = item.due_on.or(request.due_on) else { continue };
        let asked_on = request.created_at.date();
        if let Some(rule) = policy.due_today(due_on, asked_on, last_sent.get(&item.id).copied(), today) {
            due.entry(request.id.as_str()).or_insert_with(|| (request, Vec::new())).1.push((item, rule));
        }
    }
    let mut sent = 0;
    for (request, items) in due.into_values() {
        // The most pressing rule names the reminder: overdue, then due today, then ahead.
        let rule = items.iter().map(|(_, r)| *r).max_by_key(|r| urgency(*r)).unwrap_or(ReminderRule::BeforeDue);
        let items: Vec<&ItemRow> = items.into_iter().map(|(item, _)| item).collect();
        let outcome = write_tx(conn, |conn| {
            let named = send(conn, settings, request, &items, rule)?;
            if named > 0 {
                let entry = Entry::success("document_request.reminded", "document_request", &request.id)
                    .with_details(json!({ "items": named, "rule": rule.as_str() }));
                audit::record_as(conn, &Origin::default(), &request.firm_id, ActorKind::System, None, entry)?;
            }
            Ok::<_, crate::error::AppError>(named)
        });
        match outcome {
            Ok(named) if named > 0 => sent += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, request_id = %request.id, "sending a reminder failed"),
        }
    }
    Ok(sent)
}

/// Reminds those each working, emailed access link was sent to, once per kind of reminder.
fn remind_of_links(
    conn: &mut DbConnection,
    settings: &Settings,
    secret: &LinkSecret,
    policies: &mut Policies,
) -> AppResult<usize> {
    let now = vestibule_storage::now();
    let today = now.date();
    let links = access_links::emailed_and_working(conn, now)?;
    let ids: Vec<&str> = links.iter().map(|(l, _)| l.row.id.as_str()).collect();
    let uploads = access_links::uploads_of(conn, &ids)?;
    let sent = reminders::rules_sent(conn, &ids)?;
    let mut reminded = 0;
    for (link, recipients) in &links {
        let row = &link.row;
        let sent: Vec<ReminderRule> =
            sent.get(&row.id).into_iter().flatten().filter_map(|r| ReminderRule::parse(r)).collect();
        let facts = LinkFacts {
            upload: LinkKind::from_stored(&row.kind) == LinkKind::Upload,
            created_on: row.created_at.date(),
            expires_on: row.expires_at.date(),
            uploads: uploads.get(&row.id).copied().unwrap_or(0),
            sent: &sent,
        };
        let Some(rule) = policies.of(conn, &row.firm_id)?.link_due(facts, today) else { continue };
        let outcome = write_tx(conn, |conn| {
            if !reminders::claim(conn, &row.firm_id, &row.id, today, rule.as_str())? {
                return Ok::<_, crate::error::AppError>(false);
            }
            let data = json!({ "id": row.id, "rule": rule.as_str() });
            let event = events::publish_data(conn, &row.firm_id, EventType::AccessLinkReminded, &data)?;
            let content = Email::AccessLinkReminder(mail::LinkReminder {
                link: url_of(settings, secret, link),
                kind: LinkKind::from_stored(&row.kind),
                expires_at: row.expires_at.and_utc(),
                nothing_uploaded: rule == ReminderRule::NothingUploaded,
            });
            for recipient in recipients {
                outbox::queue_email(conn, &event, recipient, &content)?;
            }
            let entry = Entry::success("access_link.reminded", "access_link", &row.id)
                .with_details(json!({ "rule": rule.as_str(), "recipients": recipients.len() }));
            audit::record_as(conn, &Origin::default(), &row.firm_id, ActorKind::System, None, entry)?;
            Ok(true)
        });
        match outcome {
            Ok(true) => reminded += 1,
            Ok(false) => {}
            Err(error) => tracing::warn!(error = %error, access_link_id = %row.id, "sending a link reminder failed"),
        }
    }
    Ok(reminded)
}

/// A request and its items due a reminder today, each with the rule that makes it due.
type Due<'a> = (&'a RequestRow, Vec<(&'a ItemRow, ReminderRule)>);

fn urgency(rule: ReminderRule) -> u8 {
    match rule {
        ReminderRule::Overdue => 3,
        ReminderRule::DueToday => 2,
        ReminderRule::BeforeDue => 1,
        ReminderRule::Manual | ReminderRule::LinkExpiring | ReminderRule::NothingUploaded => 0,
    }
}
