//! Live events: what open SSE streams are told, kept briefly so every instance can fan them
//! out and a reconnecting stream can replay what it missed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::ids::LiveEventId;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::live_events;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = live_events)]
pub struct LiveEventRow {
    pub id: String,
    pub firm_id: String,
    /// `staff` or `contact`.
    pub recipient_kind: String,
    pub recipient_id: String,
    pub kind: String,
    /// The event's JSON `data`.
    pub data: String,
    pub created_at: NaiveDateTime,
}

/// Records an event for one recipient, in the caller's transaction.
pub fn push(
    conn: &mut DbConnection,
    firm_id: &str,
    recipient: (&str, &str),
    kind: &str,
    data: &serde_json::Value,
) -> StorageResult<()> {
    let row = LiveEventRow {
        id: LiveEventId::generate().into(),
        firm_id: firm_id.to_owned(),
        recipient_kind: recipient.0.to_owned(),
        recipient_id: recipient.1.to_owned(),
        kind: kind.to_owned(),
        data: data.to_string(),
        created_at: crate::now(),
    };
    diesel::insert_into(live_events::table).values(&row).execute(conn)?;
    crate::wake::notify(conn, crate::wake::Channel::Live)?;
    Ok(())
}

/// Events recorded since `since`, oldest first, after the event `after` when paging.
pub fn since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<LiveEventRow>> {
    let mut query = live_events::table.filter(live_events::created_at.gt(since)).into_boxed();
    if let Some(after) = after {
        query = query.filter(live_events::id.gt(after));
    }
    Ok(query.order(live_events::id.asc()).select(LiveEventRow::as_select()).limit_literal(limit).load(conn)?)
}

/// What one recipient missed after the event `after`, oldest first.
pub fn missed(
    conn: &mut DbConnection,
    recipient_id: &str,
    after: &str,
    limit: i64,
) -> StorageResult<Vec<LiveEventRow>> {
    Ok(live_events::table
        .filter(live_events::recipient_id.eq(recipient_id).and(live_events::id.gt(after)))
        .order(live_events::id.asc())
        .select(LiveEventRow::as_select())
        .limit_literal(limit)
        .load(conn)?)
}

pub fn purge_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::delete(live_events::table.filter(live_events::created_at.lt(cutoff))).execute(conn)?)
}
