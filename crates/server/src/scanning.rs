//! The scan worker every instance runs when a scanner is configured: it claims pending
//! uploads, streams each from the blob store to the scanner, and records the verdict; when
//! the scanner cannot be reached the job waits and is claimed again later. Claims are leased,
//! so instances share the queue and a dead instance's claims run out.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use vestibule_app::Settings;
use vestibule_app::scanner::Scanner;
use vestibule_app::scanning;
use vestibule_blobs::{BlobError, BlobStore};
use vestibule_domain::scan::Verdict;
use vestibule_storage::DbPool;
use vestibule_storage::scans::ScanWork;
use vestibule_storage::wake::Wakeup;

/// Scans claimed at once; clamd works through them one by one.
const BATCH: i64 = 4;

pub struct ScanWorker {
    pub pool: DbPool,
    pub blobs: BlobStore,
    pub settings: Arc<Settings>,
    pub scanner: Arc<dyn Scanner>,
    pub poll_interval: Duration,
    /// Wakes the worker when an upload is queued, on PostgreSQL.
    pub wakeup: Wakeup,
    /// How long a claim holds: longer than the scanner may take with a whole batch.
    pub lease: Duration,
}

impl ScanWorker {
    pub async fn run_forever(self) {
        tracing::info!("scan worker started");
        loop {
            match self.run_once().await {
                Ok(0) => self.wakeup.wait(self.poll_interval).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "scan batch failed");
                    tokio::time::sleep(self.poll_interval).await;
                }
            }
        }
    }

    /// Claims one batch and scans it; returns how many jobs it handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let lease = chrono::Duration::from_std(self.lease)?;
        let work = self.blocking(move |conn| Ok(scanning::claim(conn, lease, BATCH)?)).await?;
        for job in &work {
            self.scan(job.clone()).await?;
        }
        Ok(work.len())
    }

    async fn scan(&self, job: ScanWork) -> anyhow::Result<()> {
        let size = u64::try_from(job.size).unwrap_or(0);
        let outcome = match self.blobs.read(&job.blob_key, None).await {
            Ok(body) => self.scanner.scan(body, size).await.map_err(|e| e.to_string()),
            // The bytes will not come back: say so rather than ask forever.
            Err(BlobError::NotFound) => Ok(Verdict::Unscannable("the file is missing from the blob store".to_owned())),
            Err(error) => Err(format!("reading the file: {error}")),
        };
        let settings = self.settings.clone();
        self.blocking(move |conn| {
            match outcome {
                Ok(verdict) => scanning::record(conn, &settings, &job, &verdict)?,
                Err(error) => scanning::retry_later(conn, &job, &error)?,
            }
            Ok(())
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut vestibule_storage::DbConnection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().context("database connection for scanning")?;
            work(&mut conn)
        })
        .await?
    }
}
