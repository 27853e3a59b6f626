//! The audit record of a change, written in the change's transaction together with the
//! event it publishes, if any.

use serde_json::Value;
use vestibule_domain::audit::{ActorKind, Outcome};
use vestibule_domain::events::EventType;
use vestibule_storage::audit::{AuditEventRow, NewAuditEvent, append};
use vestibule_storage::outbox::EventRow;
use vestibule_storage::{DbConnection, StorageResult};

use crate::context::{Context, Origin};
use crate::events;

/// What happened to what, and which event integrations hear of it.
pub struct Entry<'a> {
    pub action: &'a str,
    pub target: Option<(&'a str, &'a str)>,
    pub outcome: Outcome,
    pub details: Value,
    pub publishes: Option<EventType>,
}

impl<'a> Entry<'a> {
    pub fn success(action: &'a str, target_kind: &'a str, target_id: &'a str) -> Self {
        Self {
            action,
            target: Some((target_kind, target_id)),
            outcome: Outcome::Success,
            details: Value::Object(Default::default()),
            publishes: None,
        }
    }

    /// An attempt that failed; it publishes nothing.
    pub fn failure(action: &'a str, target: Option<(&'a str, &'a str)>) -> Self {
        Self { action, target, outcome: Outcome::Failure, details: Value::Object(Default::default()), publishes: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The change also publishes `event` about its target, in the same transaction.
    pub fn publishes(mut self, event: EventType) -> Self {
        self.publishes = Some(event);
        self
    }
}

/// Records an action of the caller; returns the event it published, for emails about it.
pub fn record(conn: &mut DbConnection, ctx: &Context, entry: Entry<'_>) -> StorageResult<Option<EventRow>> {
    let (actor_kind, actor_id) = ctx.principal.actor();
    record_as(conn, &ctx.origin, ctx.firm_id(), actor_kind, Some(actor_id), entry)
}

/// Records an action of the caller that publishes `event`, and returns the event, for the
/// emails about it.
pub fn record_publishing(
    conn: &mut DbConnection,
    ctx: &Context,
    entry: Entry<'_>,
    event: EventType,
) -> StorageResult<EventRow> {
    let Entry { action, target, outcome, details, .. } = entry;
    let id = target.map_or("", |(_, id)| id);
    let published = events::publish(conn, ctx.firm_id(), event, id)?;
    let (actor_kind, actor_id) = ctx.principal.actor();
    let entry = Entry { action, target, outcome, details, publishes: None };
    record_as(conn, &ctx.origin, ctx.firm_id(), actor_kind, Some(actor_id), entry)?;
    Ok(published)
}

/// Records an action of the caller that publishes nothing, and returns the stored event, for
/// records that name the audit event vouching for them.
pub fn record_event(conn: &mut DbConnection, ctx: &Context, entry: Entry<'_>) -> StorageResult<AuditEventRow> {
    let (actor_kind, actor_id) = ctx.principal.actor();
    append_entry(conn, &ctx.origin, ctx.firm_id(), actor_kind, Some(actor_id), entry)
}

/// Records an action whose actor may be unknown (a failed login for an unknown email).
pub fn record_as(
    conn: &mut DbConnection,
    origin: &Origin,
    firm_id: &str,
    actor_kind: ActorKind,
    actor_id: Option<&str>,
    entry: Entry<'_>,
) -> StorageResult<Option<EventRow>> {
    let Entry { action, target, outcome, details, publishes } = entry;
    let event = match (publishes, target) {
        (Some(event), Some((_, id))) if outcome == Outcome::Success => Some(events::publish(conn, firm_id, event, id)?),
        _ => None,
    };
    let entry = Entry { action, target, outcome, details, publishes: None };
    append_entry(conn, origin, firm_id, actor_kind, actor_id, entry)?;
    Ok(event)
}

fn append_entry(
    conn: &mut DbConnection,
    origin: &Origin,
    firm_id: &str,
    actor_kind: ActorKind,
    actor_id: Option<&str>,
    entry: Entry<'_>,
) -> StorageResult<AuditEventRow> {
    let Entry { action, target, outcome, details, .. } = entry;
    append(
        conn,
        &NewAuditEvent {
            firm_id: firm_id.to_owned(),
            actor_kind: actor_kind.as_str().to_owned(),
            actor_id: actor_id.map(str::to_owned),
            action: action.to_owned(),
            target_kind: target.map(|(kind, _)| kind.to_owned()),
            target_id: target.map(|(_, id)| id.to_owned()),
            outcome: outcome.as_str().to_owned(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            details: details.to_string(),
        },
    )
}
