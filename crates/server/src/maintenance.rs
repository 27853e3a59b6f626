//! Housekeeping so tables do not grow without bound (the audit log excepted: it is kept).
//! Every instance may run it: the deletes are idempotent.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use vestibule_app::audit_checkpoints::CheckpointKey;
use vestibule_app::link_secret::LinkSecret;
use vestibule_blobs::BlobStore;
use vestibule_storage::{
    DbPool, access_links, deliveries, documents, idempotency, live, login_challenges, rate_limits, sessions,
};

/// Idempotency keys are honoured for a day, as documented in docs/api-guide.md.
const IDEMPOTENCY_RETENTION: chrono::Duration = chrono::Duration::hours(24);
/// Ended sessions are kept a week for support questions ("was I signed out?").
const SESSION_RETENTION: chrono::Duration = chrono::Duration::days(7);
/// Finished deliveries stay in the delivery log for a month.
const DELIVERY_RETENTION: chrono::Duration = chrono::Duration::days(30);
/// Live events only serve streams reconnecting after a short break.
const LIVE_EVENT_RETENTION: chrono::Duration = chrono::Duration::days(1);
/// Attempt counters matter for two windows of a minute; older ones only take space.
const RATE_LIMIT_RETENTION: chrono::Duration = chrono::Duration::minutes(10);
const EVERY: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, PartialEq, Eq)]
pub struct Swept {
    pub idempotency_keys: usize,
    pub sessions: usize,
    pub deliveries: usize,
    pub live_events: usize,
    /// Expired access-link sessions: they are useless the moment they expire.
    pub link_sessions: usize,
    /// Two-factor sign-in challenges, useless once expired or ended.
    pub login_challenges: usize,
    /// Counters of attempts per address from windows long past.
    pub rate_limits: usize,
}

pub fn sweep(pool: &DbPool) -> anyhow::Result<Swept> {
    let mut conn = pool.get().context("database connection for maintenance")?;
    let now = vestibule_storage::now();
    Ok(Swept {
        idempotency_keys: idempotency::purge_before(&mut conn, now - IDEMPOTENCY_RETENTION)?,
        sessions: sessions::purge_ended_before(&mut conn, now - SESSION_RETENTION)?,
        deliveries: deliveries::purge_finished_before(&mut conn, now - DELIVERY_RETENTION)?,
        live_events: live::purge_before(&mut conn, now - LIVE_EVENT_RETENTION)?,
        link_sessions: access_links::sweep_sessions(&mut conn, now)?,
        login_challenges: login_challenges::purge_before(&mut conn, now)?,
        rate_limits: rate_limits::purge_before(&mut conn, (now - RATE_LIMIT_RETENTION).and_utc().timestamp())?,
    })
}

/// What the sweep of abandoned uploads removed.
#[derive(Debug, PartialEq, Eq)]
pub struct SweptUploads {
    /// Uploads recorded in `pending_blobs` that never became documents: blob and record.
    pub recorded: usize,
    /// Partial uploads in the store: `.incoming` files (fs) or multipart uploads (S3).
    pub partial: usize,
}

/// Removes what uploads whose process died left behind: the blobs and records of uploads
/// that started more than `abandoned_after` ago and never became documents, and the partial
/// uploads in the store that no one has written to for `abandoned_after`.
#[tracing::instrument(skip(pool, blobs))]
pub async fn sweep_abandoned_uploads(
    pool: &DbPool,
    blobs: &BlobStore,
    abandoned_after: Duration,
) -> anyhow::Result<SweptUploads> {
    let since = std::time::SystemTime::now().checked_sub(abandoned_after).unwrap_or(std::time::UNIX_EPOCH);
    let cutoff = vestibule_storage::now() - chrono::Duration::from_std(abandoned_after)?;
    let reader = pool.clone();
    let keys = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = reader.get().context("database connection for maintenance")?;
        Ok(documents::abandoned_uploads(&mut conn, cutoff)?)
    })
    .await??;
    for key in &keys {
        blobs.delete(key).await?;
        let (pool, key) = (pool.clone(), key.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = pool.get().context("database connection for maintenance")?;
            Ok(documents::end_upload(&mut conn, &key)?)
        })
        .await??;
    }
    // Last, so that a store refusing to list its partial uploads (a missing permission) does
    // not hold up the rest.
    let partial = blobs.sweep_incomplete(since).await?;
    Ok(SweptUploads { recorded: keys.len(), partial })
}

/// Sends the reminders due today (document requests, emailed access links), every `every`;
/// instances share the work through the claims in `reminders_sent`.
pub async fn remind_forever(
    pool: DbPool,
    settings: Arc<vestibule_app::Settings>,
    links: Arc<LinkSecret>,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let (pool, settings, links) = (pool.clone(), settings.clone(), links.clone());
        let sent = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get().context("database connection for reminders")?;
            Ok(vestibule_app::reminders::send_due(&mut conn, &settings, &links)?)
        })
        .await;
        match sent {
            Ok(Ok(sent)) => tracing::debug!(sent, "reminder pass"),
            Ok(Err(error)) => tracing::warn!(error = %error, "reminder pass failed"),
            Err(error) => tracing::warn!(error = %error, "reminder pass panicked"),
        }
    }
}

/// Publishes a signed checkpoint of every audit head that moved, every `every`; instances
/// share the work through the claims in `audit_checkpoints`.
pub async fn checkpoint_forever(pool: DbPool, key: Arc<CheckpointKey>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let (pool, key) = (pool.clone(), key.clone());
        let published = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get().context("database connection for audit checkpoints")?;
            Ok(vestibule_app::audit_checkpoints::publish_due(&mut conn, &key)?)
        })
        .await;
        match published {
            Ok(Ok(published)) => tracing::debug!(published, "audit checkpoint pass"),
            Ok(Err(error)) => tracing::warn!(error = %error, "audit checkpoint pass failed"),
            Err(error) => tracing::warn!(error = %error, "audit checkpoint pass panicked"),
        }
    }
}

/// Runs the sweeps every 10 minutes; `abandoned_after` is `UPLOAD_ABANDONED_AFTER_SECS`.
pub async fn run_forever(pool: DbPool, blobs: BlobStore, abandoned_after: Duration) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        match sweep_abandoned_uploads(&pool, &blobs, abandoned_after).await {
            Ok(swept) => tracing::debug!(?swept, "abandoned uploads sweep"),
            Err(error) => tracing::warn!(error = %error, "sweeping abandoned uploads failed"),
        }
        let pool = pool.clone();
        match tokio::task::spawn_blocking(move || sweep(&pool)).await {
            Ok(Ok(swept)) => tracing::debug!(?swept, "maintenance sweep"),
            Ok(Err(error)) => tracing::warn!(error = %error, "maintenance sweep failed"),
            Err(error) => tracing::warn!(error = %error, "maintenance sweep panicked"),
        }
    }
}
