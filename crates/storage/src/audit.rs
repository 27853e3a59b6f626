//! The append-only, per-firm hash-chained audit log. `audit_heads` holds each firm's last
//! sequence number and hash; appending updates it first, which serialises appends per firm
//! (a row lock on PostgreSQL, the write lock on SQLite) so the chain cannot fork.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::audit::{ChainedFields, GENESIS_HASH, chain_hash};
use vestibule_domain::ids::AuditEventId;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{audit_events, audit_heads};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: String,
    pub firm_id: String,
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEventRow {
    fn chained(&self) -> ChainedFields<'_> {
        ChainedFields {
            id: &self.id,
            firm_id: &self.firm_id,
            seq: self.seq,
            occurred_at: self.occurred_at,
            actor_kind: &self.actor_kind,
            actor_id: self.actor_id.as_deref(),
            action: &self.action,
            target_kind: self.target_kind.as_deref(),
            target_id: self.target_id.as_deref(),
            outcome: &self.outcome,
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            details: &self.details,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent {
    pub firm_id: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A JSON object.
    pub details: String,
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// Starts a firm's chain; called when the firm is created.
pub fn start_chain(conn: &mut DbConnection, firm_id: &str) -> StorageResult<()> {
    diesel::insert_into(audit_heads::table)
        .values((audit_heads::firm_id.eq(firm_id), audit_heads::seq.eq(0_i64), audit_heads::hash.eq(GENESIS_HASH)))
        .execute(conn)?;
    Ok(())
}

/// Appends an event. Call inside the transaction of the change it records.
pub fn append(conn: &mut DbConnection, event: &NewAuditEvent) -> StorageResult<AuditEventRow> {
    let seq: i64 = diesel::update(audit_heads::table.find(&event.firm_id))
        .set(audit_heads::seq.eq(audit_heads::seq + 1))
        .returning(audit_heads::seq)
        .get_result(conn)?;
    let prev_hash: String =
        audit_heads::table.find(&event.firm_id).select(audit_heads::hash).limit_literal(1).get_result(conn)?;
    let mut row = AuditEventRow {
        id: AuditEventId::generate().into(),
        firm_id: event.firm_id.clone(),
        seq,
        occurred_at: crate::now(),
        actor_kind: event.actor_kind.clone(),
        actor_id: event.actor_id.clone(),
        action: event.action.clone(),
        target_kind: event.target_kind.clone(),
        target_id: event.target_id.clone(),
        outcome: event.outcome.clone(),
        ip: event.ip.clone(),
        user_agent: event.user_agent.clone(),
        details: event.details.clone(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = chain_hash(&row.prev_hash, &row.chained());
    diesel::insert_into(audit_events::table).values(&row).execute(conn)?;
    diesel::update(audit_heads::table.find(&event.firm_id)).set(audit_heads::hash.eq(&row.hash)).execute(conn)?;
    Ok(row)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &AuditFilter,
    after_seq: Option<i64>,
    limit: i64,
) -> StorageResult<Vec<AuditEventRow>> {
    let mut query = audit_events::table.filter(audit_events::firm_id.eq(firm_id)).into_boxed();
    if let Some(actor) = &filter.actor_id {
        query = query.filter(audit_events::actor_id.eq(actor));
    }
    if let Some(target) = &filter.target_id {
        query = query.filter(audit_events::target_id.eq(target));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::occurred_at.lt(to));
    }
    if let Some(after) = after_seq {
        query = query.filter(audit_events::seq.gt(after));
    }
    Ok(query.order(audit_events::seq.asc()).select(AuditEventRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub event_id: Option<String>,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub events_checked: i64,
    pub head_seq: i64,
    pub first_break: Option<ChainBreak>,
}

/// Recomputes the chain of a firm from the first event, in batches, and reports the first
/// event whose content, link or position does not match.
pub fn verify(conn: &mut DbConnection, firm_id: &str) -> StorageResult<Verification> {
    const BATCH: i64 = 1000;
    let (head_seq, head_hash): (i64, String) = audit_heads::table
        .find(firm_id)
        .select((audit_heads::seq, audit_heads::hash))
        .limit_literal(1)
        .get_result(conn)?;
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    loop {
        let batch: Vec<AuditEventRow> = audit_events::table
            .filter(audit_events::firm_id.eq(firm_id).and(audit_events::seq.ge(expected_seq)))
            .order(audit_events::seq.asc())
            .select(AuditEventRow::as_select())
            .limit_literal(BATCH)
            .load(conn)?;
        let batch_len = batch.len();
        for row in batch {
            let broken = |reason| ChainBreak { seq: expected_seq, event_id: Some(row.id.clone()), reason };
            if row.seq != expected_seq {
                return Ok(failed(expected_seq - 1, head_seq, broken("an event is missing")));
            }
            if row.prev_hash != prev_hash {
                return Ok(failed(expected_seq - 1, head_seq, broken("the link to the previous event does not match")));
            }
            if chain_hash(&prev_hash, &row.chained()) != row.hash {
                return Ok(failed(expected_seq - 1, head_seq, broken("the event's content does not match its hash")));
            }
            prev_hash = row.hash;
            expected_seq += 1;
        }
        if (batch_len as i64) < BATCH {
            break;
        }
    }
    let checked = expected_seq - 1;
    if checked != head_seq || prev_hash != head_hash {
        let tail = ChainBreak { seq: checked + 1, event_id: None, reason: "events at the end of the log are missing" };
        return Ok(failed(checked, head_seq, tail));
    }
    Ok(Verification { events_checked: checked, head_seq, first_break: None })
}

fn failed(events_checked: i64, head_seq: i64, chain_break: ChainBreak) -> Verification {
    Verification { events_checked, head_seq, first_break: Some(chain_break) }
}

/// The firm's events about any of `target_ids`, in chain order.
pub fn about(conn: &mut DbConnection, firm_id: &str, target_ids: &[&str]) -> StorageResult<Vec<AuditEventRow>> {
    Ok(audit_events::table
        .filter(audit_events::firm_id.eq(firm_id).and(audit_events::target_id.eq_any(target_ids)))
        .order(audit_events::seq.asc())
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// The events of any firm with this action whose details mention `needle` (a hex digest),
/// in chain order: how an administrator finds the record of a file they were handed.
pub fn mentioning(conn: &mut DbConnection, action: &str, needle: &str) -> StorageResult<Vec<AuditEventRow>> {
    let pattern = crate::like_pattern(needle);
    Ok(audit_events::table
        .filter(audit_events::action.eq(action).and(audit_events::details.like(pattern).escape('\\')))
        .order((audit_events::firm_id.asc(), audit_events::seq.asc()))
        .select(AuditEventRow::as_select())
        .load(conn)?)
}
