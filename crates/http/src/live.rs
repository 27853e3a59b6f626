//! Live updates for open SSE streams. Changes write `live_events` rows in their own
//! transaction; every instance runs one relay that reads recent rows and broadcasts them to
//! its streams, so a message posted through one instance reaches a stream held by another.
//! On PostgreSQL the relay reads as soon as a commit notifies it; it also polls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDateTime;
use tokio::sync::broadcast;
use vestibule_storage::DbPool;
use vestibule_storage::live::{self, LiveEventRow};
use vestibule_storage::wake::Wakeup;

/// How late a row may become visible after its `created_at` (a transaction committing
/// after a later one) and still be relayed.
const COMMIT_LAG: chrono::Duration = chrono::Duration::seconds(5);
const BATCH: i64 = 1000;

/// This instance's fan-out to its open streams.
#[derive(Debug, Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<Arc<LiveEventRow>>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0 }
    }
}

impl LiveHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEventRow>> {
        self.sender.subscribe()
    }

    /// Reads new live events when `wakeup` says some were committed, and at least every
    /// `interval`, and broadcasts each once, for as long as the runtime runs.
    pub async fn relay(self, pool: DbPool, interval: Duration, wakeup: Wakeup) {
        let mut seen: HashMap<String, NaiveDateTime> = HashMap::new();
        let mut high_water = vestibule_storage::now();
        loop {
            wakeup.wait(interval).await;
            if self.sender.receiver_count() == 0 {
                // Nobody listens here; a stream that opens later replays from the table.
                high_water = vestibule_storage::now();
                seen.clear();
                continue;
            }
            let since = high_water - COMMIT_LAG;
            let pool = pool.clone();
            let rows = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<LiveEventRow>> {
                let mut conn = pool.get().context("no database connection for the live relay")?;
                let mut rows: Vec<LiveEventRow> = Vec::new();
                loop {
                    let page = live::since(&mut conn, since, rows.last().map(|r| r.id.as_str()), BATCH)?;
                    let full = page.len() as i64 == BATCH;
                    rows.extend(page);
                    if !full {
                        return Ok(rows);
                    }
                }
            })
            .await;
            let rows = match rows {
                Ok(Ok(rows)) => rows,
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "live relay poll failed");
                    continue;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "live relay task failed");
                    continue;
                }
            };
            for row in rows {
                high_water = high_water.max(row.created_at);
                if seen.insert(row.id.clone(), row.created_at).is_none() {
                    // No receiver is fine: streams come and go.
                    let _ = self.sender.send(Arc::new(row));
                }
            }
            let horizon = high_water - COMMIT_LAG - COMMIT_LAG;
            seen.retain(|_, created| *created >= horizon);
        }
    }
}
