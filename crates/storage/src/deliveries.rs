//! Deliveries: claiming due work safely across processes, and recording each attempt.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use vestibule_domain::ids::AttemptId;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::outbox::EventRow;
// Defined by the outbox, which queues deliveries as pending; kept here too, where the rest of
// a delivery's life is.
pub use crate::outbox::{DEAD, DELIVERED, DELIVERING, PENDING};
use crate::schema::{deliveries, delivery_attempts, outbox_events, webhook_endpoints};
use crate::webhooks::EndpointRow;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub firm_id: String,
    pub event_id: String,
    pub channel: String,
    pub endpoint_id: Option<String>,
    pub recipient: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// Private content of one email (JSON), until the delivery is finished.
    pub content: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = delivery_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// A claimed delivery with what it needs to be sent.
#[derive(Debug, Clone)]
pub struct Work {
    pub delivery: DeliveryRow,
    pub event: EventRow,
    pub endpoint: Option<EndpointRow>,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Claims up to `limit` deliveries that are due, or whose previous claim lapsed (a worker
/// died), until `lease_until`. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several
/// dispatchers claim side by side without taking the same rows; a SQLite file has one
/// writer at a time, so the single statement is enough there.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> StorageResult<Vec<String>> {
    const DUE: &str =
        "(status = 'pending' AND next_attempt_at <= {now}) OR (status = 'delivering' AND lease_until < {now})";
    let claimed: Vec<Claimed> = match conn {
        DbConnection::Postgres(pg) => diesel::sql_query(format!(
            "UPDATE deliveries SET status = 'delivering', lease_until = $1 WHERE id IN \
             (SELECT id FROM deliveries WHERE {} ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id",
            DUE.replace("{now}", "$2")
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(format!(
            "UPDATE deliveries SET status = 'delivering', lease_until = ?1 WHERE id IN \
             (SELECT id FROM deliveries WHERE {} ORDER BY next_attempt_at LIMIT ?3) RETURNING id",
            DUE.replace("{now}", "?2")
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(sqlite)?,
    };
    Ok(claimed.into_iter().map(|c| c.id).collect())
}

/// The claimed deliveries with their events and endpoints, in three queries.
pub fn load_work(conn: &mut DbConnection, ids: &[String]) -> StorageResult<Vec<Work>> {
    let rows: Vec<DeliveryRow> =
        deliveries::table.filter(deliveries::id.eq_any(ids)).select(DeliveryRow::as_select()).load(conn)?;
    let event_ids: Vec<&str> = rows.iter().map(|d| d.event_id.as_str()).collect();
    let endpoint_ids: Vec<&str> = rows.iter().filter_map(|d| d.endpoint_id.as_deref()).collect();
    let events: HashMap<String, EventRow> = outbox_events::table
        .filter(outbox_events::id.eq_any(&event_ids))
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let endpoints: HashMap<String, EndpointRow> = webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(&endpoint_ids))
        .select(EndpointRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|delivery| {
            let event = events.get(&delivery.event_id)?.clone();
            let endpoint = delivery.endpoint_id.as_ref().and_then(|id| endpoints.get(id)).cloned();
            Some(Work { delivery, event, endpoint })
        })
        .collect())
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered,
    RetryAt(NaiveDateTime),
    /// No more attempts: the last one failed, or the receiver is gone.
    Dead,
}

/// Records an attempt and its consequence for the delivery.
pub fn finish(conn: &mut DbConnection, attempt: &AttemptRow, outcome: &Outcome) -> StorageResult<()> {
    diesel::insert_into(delivery_attempts::table).values(attempt).execute(conn)?;
    let target = deliveries::table.find(&attempt.delivery_id);
    let base = (deliveries::attempts.eq(deliveries::attempts + 1), deliveries::lease_until.eq(None::<NaiveDateTime>));
    match outcome {
        Outcome::Delivered => diesel::update(target)
            .set((
                base,
                deliveries::status.eq(DELIVERED),
                deliveries::delivered_at.eq(attempt.attempted_at),
                deliveries::content.eq(None::<String>),
            ))
            .execute(conn)?,
        Outcome::RetryAt(at) => diesel::update(target)
            .set((
                base,
                deliveries::status.eq(PENDING),
                deliveries::next_attempt_at.eq(at),
                deliveries::last_error.eq(&attempt.error),
            ))
            .execute(conn)?,
        Outcome::Dead => diesel::update(target)
            .set((base, deliveries::status.eq(DEAD), deliveries::last_error.eq(&attempt.error)))
            .execute(conn)?,
    };
    Ok(())
}

pub fn new_attempt(
    delivery_id: &str,
    attempted_at: NaiveDateTime,
    status_code: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
) -> AttemptRow {
    AttemptRow {
        id: AttemptId::generate().into(),
        delivery_id: delivery_id.to_owned(),
        attempted_at,
        status_code,
        latency_ms,
        error,
    }
}

/// Ends the pending deliveries of an endpoint that was disabled.
pub fn drop_pending_for_endpoint(conn: &mut DbConnection, endpoint_id: &str, reason: &str) -> StorageResult<usize> {
    Ok(diesel::update(
        deliveries::table
            .filter(deliveries::endpoint_id.eq(endpoint_id).and(deliveries::status.eq_any([PENDING, DELIVERING]))),
    )
    .set((
        deliveries::status.eq(DEAD),
        deliveries::last_error.eq(reason),
        deliveries::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?)
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<DeliveryRow> {
    Ok(deliveries::table
        .filter(deliveries::firm_id.eq(firm_id).and(deliveries::id.eq(id)))
        .select(DeliveryRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

#[derive(Debug, Default)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
}

/// A firm's deliveries, oldest first, each with its attempts (two queries per page).
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &DeliveryFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<(DeliveryRow, Vec<AttemptRow>)>> {
    let mut query = deliveries::table.filter(deliveries::firm_id.eq(firm_id)).into_boxed();
    if let Some(endpoint) = &filter.endpoint_id {
        query = query.filter(deliveries::endpoint_id.eq(endpoint));
    }
    if let Some(channel) = &filter.channel {
        query = query.filter(deliveries::channel.eq(channel));
    }
    if let Some(status) = &filter.status {
        query = query.filter(deliveries::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(deliveries::id.gt(after));
    }
    let rows: Vec<DeliveryRow> =
        query.order(deliveries::id.asc()).select(DeliveryRow::as_select()).limit_literal(limit + 1).load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|d| d.id.as_str()).collect();
    let mut attempts: HashMap<String, Vec<AttemptRow>> = HashMap::new();
    for attempt in delivery_attempts::table
        .filter(delivery_attempts::delivery_id.eq_any(&ids))
        .order(delivery_attempts::id.asc())
        .select(AttemptRow::as_select())
        .load(conn)?
    {
        attempts.entry(attempt.delivery_id.clone()).or_default().push(attempt);
    }
    Ok(rows
        .into_iter()
        .map(|d| {
            let tries = attempts.remove(&d.id).unwrap_or_default();
            (d, tries)
        })
        .collect())
}

/// The delivery an event was just queued with.
pub fn latest_for_event(conn: &mut DbConnection, event_id: &str) -> StorageResult<DeliveryRow> {
    Ok(deliveries::table
        .filter(deliveries::event_id.eq(event_id))
        .order(deliveries::id.desc())
        .select(DeliveryRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// The types of these events, in one query.
pub fn event_types_of<'a>(
    conn: &mut DbConnection,
    event_ids: impl Iterator<Item = &'a str>,
) -> StorageResult<HashMap<String, vestibule_domain::events::EventType>> {
    let ids: Vec<&str> = event_ids.collect();
    Ok(outbox_events::table
        .filter(outbox_events::id.eq_any(&ids))
        .select((outbox_events::id, outbox_events::event_type))
        .load::<(String, String)>(conn)?
        .into_iter()
        .filter_map(|(id, t)| vestibule_domain::events::EventType::from_stored(&t).map(|t| (id, t)))
        .collect())
}

/// Deletes finished (delivered or dead) deliveries created before `cutoff`, with their
/// attempts, then the events no delivery refers to any more.
pub fn purge_finished_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    crate::write_tx(conn, |conn| purge_finished(conn, cutoff))
}

fn purge_finished(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    let finished = deliveries::table
        .filter(deliveries::created_at.lt(cutoff))
        .filter(deliveries::status.eq_any([DELIVERED, DEAD]))
        .select(deliveries::id);
    diesel::delete(delivery_attempts::table.filter(delivery_attempts::delivery_id.eq_any(finished))).execute(conn)?;
    let purged = diesel::delete(
        deliveries::table
            .filter(deliveries::created_at.lt(cutoff))
            .filter(deliveries::status.eq_any([DELIVERED, DEAD])),
    )
    .execute(conn)?;
    diesel::delete(outbox_events::table.filter(outbox_events::occurred_at.lt(cutoff)).filter(diesel::dsl::not(
        diesel::dsl::exists(deliveries::table.filter(deliveries::event_id.eq(outbox_events::id))),
    )))
    .execute(conn)?;
    Ok(purged)
}
