//! The outbox: events and their deliveries, written in the caller's transaction. What
//! happens to a delivery afterwards is in `deliveries`, which builds on this module.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{DeliveryId, EventId};
use vestibule_domain::mail::Email;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{deliveries, outbox_events};
use crate::webhooks;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_events)]
pub struct EventRow {
    pub id: String,
    pub firm_id: String,
    pub event_type: String,
    /// The thin `data` object of the payload, as JSON.
    pub data: String,
    pub occurred_at: NaiveDateTime,
}

pub const WEBHOOK: &str = "webhook";
pub const EMAIL: &str = "email";

pub const PENDING: &str = "pending";
pub const DELIVERING: &str = "delivering";
pub const DELIVERED: &str = "delivered";
pub const DEAD: &str = "dead";

/// Records an event and queues it for every enabled endpoint of the firm subscribed to its
/// type. Call inside the transaction of the change the event reports.
pub fn publish(
    conn: &mut DbConnection,
    firm_id: &str,
    event_type: EventType,
    data: &serde_json::Value,
) -> StorageResult<EventRow> {
    let event = insert_event(conn, firm_id, event_type, data)?;
    if !event_type.for_webhooks() {
        return Ok(event);
    }
    for endpoint in webhooks::active(conn, firm_id)? {
        let filter: Vec<EventType> =
            endpoint.event_types.split_whitespace().filter_map(EventType::from_stored).collect();
        if event_type.matches(&filter) {
            queue(conn, &event, WEBHOOK, Some(&endpoint.id), None)?;
        }
    }
    Ok(event)
}

/// Records an event for one endpoint only (a test message).
pub fn publish_to_endpoint(
    conn: &mut DbConnection,
    firm_id: &str,
    event_type: EventType,
    data: &serde_json::Value,
    endpoint_id: &str,
) -> StorageResult<EventRow> {
    let event = insert_event(conn, firm_id, event_type, data)?;
    queue(conn, &event, WEBHOOK, Some(endpoint_id), None)?;
    Ok(event)
}

/// Queues `email` about `event` to `recipient`. Fails, queueing nothing, when the email is
/// not about an event of this type, or does not agree with the event's data.
pub fn queue_email(conn: &mut DbConnection, event: &EventRow, recipient: &str, email: &Email) -> StorageResult<String> {
    let content = email.content_for(&event.event_type, &event.data)?;
    insert_delivery(conn, event, EMAIL, None, Some(recipient), content.as_deref())
}

fn insert_event(
    conn: &mut DbConnection,
    firm_id: &str,
    event_type: EventType,
    data: &serde_json::Value,
) -> StorageResult<EventRow> {
    let event = EventRow {
        id: EventId::generate().into(),
        firm_id: firm_id.to_owned(),
        event_type: event_type.as_str().to_owned(),
        data: data.to_string(),
        occurred_at: crate::now(),
    };
    diesel::insert_into(outbox_events::table).values(&event).execute(conn)?;
    Ok(event)
}

/// Adds one delivery of an existing event, due now.
pub fn queue(
    conn: &mut DbConnection,
    event: &EventRow,
    channel: &str,
    endpoint_id: Option<&str>,
    recipient: Option<&str>,
) -> StorageResult<String> {
    insert_delivery(conn, event, channel, endpoint_id, recipient, None)
}

fn insert_delivery(
    conn: &mut DbConnection,
    event: &EventRow,
    channel: &str,
    endpoint_id: Option<&str>,
    recipient: Option<&str>,
    content: Option<&str>,
) -> StorageResult<String> {
    let id: String = DeliveryId::generate().into();
    let now = crate::now();
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::id.eq(&id),
            deliveries::firm_id.eq(&event.firm_id),
            deliveries::event_id.eq(&event.id),
            deliveries::channel.eq(channel),
            deliveries::endpoint_id.eq(endpoint_id),
            deliveries::recipient.eq(recipient),
            deliveries::status.eq(PENDING),
            deliveries::next_attempt_at.eq(now),
            deliveries::created_at.eq(now),
            deliveries::content.eq(content),
        ))
        .execute(conn)?;
    crate::wake::notify(conn, crate::wake::Channel::Dispatch)?;
    Ok(id)
}

pub fn get_event(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<EventRow> {
    Ok(outbox_events::table
        .filter(outbox_events::firm_id.eq(firm_id).and(outbox_events::id.eq(id)))
        .select(EventRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}
