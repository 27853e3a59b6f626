//! Webhook endpoints of a firm.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::webhook_endpoints;
use crate::sealing::{self, SecretKeys};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub firm_id: String,
    pub url: String,
    pub description: Option<String>,
    /// Space-separated event types; empty means every type.
    pub event_types: String,
    /// Sealed (see `sealing`); `signing_secrets` opens it.
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    /// The secrets that sign a message sent at `now`: the current one, and the previous one
    /// while its overlap after a rotation lasts.
    pub fn signing_secrets(&self, keys: &SecretKeys, now: NaiveDateTime) -> StorageResult<Vec<String>> {
        let binding = binding(&self.id);
        let mut secrets = vec![keys.open(&self.secret, &binding)?];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(keys.open(previous, &binding)?);
        }
        Ok(secrets)
    }
}

/// The associated data of an endpoint's secrets: both columns share it, so a rotation moves
/// the current value into `previous_secret` as it is.
fn binding(id: &str) -> String {
    format!("webhook_endpoint:{id}")
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<String>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
    pub disabled_reason: Option<Option<String>>,
    pub failing_since: Option<Option<NaiveDateTime>>,
    pub updated_at: NaiveDateTime,
}

/// Adds an endpoint; `row.secret` is the plain secret, stored sealed.
pub fn insert(conn: &mut DbConnection, keys: &SecretKeys, row: &EndpointRow) -> StorageResult<()> {
    let sealed = EndpointRow { secret: keys.seal(&row.secret, &binding(&row.id))?, ..row.clone() };
    diesel::insert_into(webhook_endpoints::table).values(&sealed).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<EndpointRow> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::firm_id.eq(firm_id).and(webhook_endpoints::id.eq(id)))
        .select(EndpointRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<EndpointRow>> {
    let mut query = webhook_endpoints::table.filter(webhook_endpoints::firm_id.eq(firm_id)).into_boxed();
    if let Some(after) = after {
        query = query.filter(webhook_endpoints::id.gt(after));
    }
    Ok(query.order(webhook_endpoints::id.asc()).select(EndpointRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// The firm's enabled endpoints; the caller filters by event type.
pub fn active(conn: &mut DbConnection, firm_id: &str) -> StorageResult<Vec<EndpointRow>> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::firm_id.eq(firm_id).and(webhook_endpoints::disabled_at.is_null()))
        .select(EndpointRow::as_select())
        .load(conn)?)
}

pub fn update(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    changes: &EndpointChanges,
) -> StorageResult<EndpointRow> {
    let updated = diesel::update(
        webhook_endpoints::table.filter(webhook_endpoints::firm_id.eq(firm_id).and(webhook_endpoints::id.eq(id))),
    )
    .set(changes)
    .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    get(conn, firm_id, id)
}

/// Replaces the secret; the old one keeps signing alongside until `overlap_until`.
pub fn rotate_secret(
    conn: &mut DbConnection,
    keys: &SecretKeys,
    firm_id: &str,
    id: &str,
    new_secret: &str,
    overlap_until: NaiveDateTime,
) -> StorageResult<EndpointRow> {
    let current = get(conn, firm_id, id)?;
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::secret.eq(keys.seal(new_secret, &binding(id))?),
            webhook_endpoints::previous_secret.eq(&current.secret),
            webhook_endpoints::previous_secret_expires_at.eq(overlap_until),
            webhook_endpoints::updated_at.eq(crate::now()),
        ))
        .execute(conn)?;
    get(conn, firm_id, id)
}

/// Deletes the endpoint with its deliveries and their attempts.
pub fn delete(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<()> {
    let deleted = diesel::delete(
        webhook_endpoints::table.filter(webhook_endpoints::firm_id.eq(firm_id).and(webhook_endpoints::id.eq(id))),
    )
    .execute(conn)?;
    if deleted == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

/// Seals every endpoint secret not sealed with the current key yet (stored before sealing,
/// or under a previous key); returns how many endpoints changed.
pub fn reseal(conn: &mut DbConnection, keys: &SecretKeys) -> StorageResult<usize> {
    let current = sealing::current_pattern(keys);
    let stale: Vec<(String, String, Option<String>)> = webhook_endpoints::table
        .filter(webhook_endpoints::secret.not_like(&current).or(
            webhook_endpoints::previous_secret.is_not_null().and(webhook_endpoints::previous_secret.not_like(&current)),
        ))
        .select((webhook_endpoints::id, webhook_endpoints::secret, webhook_endpoints::previous_secret))
        .load(conn)?;
    for (id, secret, previous) in &stale {
        let binding = binding(id);
        let secret = keys.reseal(secret, &binding)?.unwrap_or_else(|| secret.clone());
        let previous = match previous {
            Some(previous) => Some(keys.reseal(previous, &binding)?.unwrap_or_else(|| previous.clone())),
            None => None,
        };
        diesel::update(webhook_endpoints::table.find(id))
            .set((webhook_endpoints::secret.eq(secret), webhook_endpoints::previous_secret.eq(previous)))
            .execute(conn)?;
    }
    Ok(stale.len())
}
