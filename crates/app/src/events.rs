//! The one path by which a change publishes the event integrations subscribe to: into the
//! outbox, in the transaction of the change.

use serde_json::json;
use vestibule_domain::events::EventType;
use vestibule_storage::outbox::{self, EventRow};
use vestibule_storage::{DbConnection, StorageResult};

/// Publishes `event_type` about the resource `id`; webhooks get the thin payload `{ "id" }`.
pub fn publish(conn: &mut DbConnection, firm_id: &str, event_type: EventType, id: &str) -> StorageResult<EventRow> {
    publish_data(conn, firm_id, event_type, &json!({ "id": id }))
}

/// Publishes an event whose data says more than the resource's id.
pub fn publish_data(
    conn: &mut DbConnection,
    firm_id: &str,
    event_type: EventType,
    data: &serde_json::Value,
) -> StorageResult<EventRow> {
    outbox::publish(conn, firm_id, event_type, data)
}

/// Publishes `event_type` to one endpoint only, whatever it subscribes to (a test message).
pub fn publish_to_endpoint(
    conn: &mut DbConnection,
    firm_id: &str,
    event_type: EventType,
    id: &str,
    endpoint_id: &str,
) -> StorageResult<EventRow> {
    outbox::publish_to_endpoint(conn, firm_id, event_type, &json!({ "id": id }), endpoint_id)
}
