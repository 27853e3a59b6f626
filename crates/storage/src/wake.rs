//! Wake-ups across instances: a transaction that queues work (a delivery, a live event, a
//! scan) also sends a PostgreSQL `NOTIFY`, which the server delivers at commit (and never
//! for a rollback); each worker listens on its channel and runs at once instead of at its
//! next poll. The tables stay the source of truth and polling stays the fallback: a missed
//! notification costs one poll interval, and SQLite, a single instance, only polls.

use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use tokio::sync::Notify;

use crate::db::{Backend, DbConnection};
use crate::error::StorageResult;

/// How often the listening connection looks for notifications that arrived. Reading them
/// costs no round trip, only a look at the socket.
const LISTEN_POLL: Duration = Duration::from_millis(5);
const MAX_RECONNECT_WAIT: Duration = Duration::from_secs(30);

/// Work a worker waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Deliveries of the outbox (webhooks, email): the dispatchers.
    Dispatch,
    /// Live events for open streams: the live relays.
    Live,
    /// Uploads to scan: the scan workers.
    Scan,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Self::Dispatch => "vestibule_dispatch",
            Self::Live => "vestibule_live",
            Self::Scan => "vestibule_scan",
        }
    }
}

/// Tells the listeners on `channel` once the caller's transaction commits. PostgreSQL folds
/// repeats within one transaction into one notification.
pub fn notify(conn: &mut DbConnection, channel: Channel) -> StorageResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        pg.batch_execute(&format!("NOTIFY {}", channel.name()))?;
    }
    Ok(())
}

/// What a worker waits on between runs: a notification on its channel, or its poll interval.
#[derive(Debug, Clone, Default)]
pub struct Wakeup(Option<Arc<Notify>>);

impl Wakeup {
    /// Polling only (SQLite, or a worker that needs no wake-ups).
    pub fn polling() -> Self {
        Self(None)
    }

    /// Listens on `channel` on a connection of its own, on PostgreSQL; polling only on SQLite.
    /// The listening thread ends when the last clone of the returned value is dropped.
    pub fn listen(database_url: &str, channel: Channel) -> Self {
        if Backend::of_url(database_url) != Backend::Postgres {
            return Self::polling();
        }
        let notify = Arc::new(Notify::new());
        let (url, weak) = (database_url.to_owned(), Arc::downgrade(&notify));
        let spawned = std::thread::Builder::new()
            .name(format!("listen-{}", channel.name()))
            .spawn(move || listen(&url, channel, &weak));
        match spawned {
            Ok(_) => Self(Some(notify)),
            Err(error) => {
                tracing::warn!(%error, channel = channel.name(), "no listener thread; polling only");
                Self::polling()
            }
        }
    }

    /// Returns when notified (or notified since the last wait) or after `fallback`.
    pub async fn wait(&self, fallback: Duration) {
        match &self.0 {
            Some(notify) => {
                let _ = tokio::time::timeout(fallback, notify.notified()).await;
            }
            None => tokio::time::sleep(fallback).await,
        }
    }
}

fn listen(url: &str, channel: Channel, notify: &Weak<Notify>) {
    let mut reconnect_wait = Duration::from_millis(250);
    while notify.strong_count() > 0 {
        let mut conn = match PgConnection::establish(url) {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, channel = channel.name(), "listening failed; polling until it reconnects");
                std::thread::sleep(reconnect_wait);
                reconnect_wait = (reconnect_wait * 2).min(MAX_RECONNECT_WAIT);
                continue;
            }
        };
        if let Err(error) = conn.batch_execute(&format!("LISTEN {}", channel.name())) {
            tracing::warn!(%error, channel = channel.name(), "LISTEN failed; polling until it reconnects");
            std::thread::sleep(reconnect_wait);
            continue;
        }
        reconnect_wait = Duration::from_millis(250);
        // Whatever was committed while nobody listened is in the tables: look once.
        if !wake(notify) {
            return;
        }
        loop {
            let mut woken = false;
            let mut lost = false;
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(_) => woken = true,
                    Err(error) => {
                        tracing::warn!(%error, channel = channel.name(), "the listening connection broke");
                        lost = true;
                        break;
                    }
                }
            }
            if woken && !wake(notify) {
                return;
            }
            if lost {
                break;
            }
            if notify.strong_count() == 0 {
                return;
            }
            std::thread::sleep(LISTEN_POLL);
        }
    }
}

/// Wakes the worker; false once it is gone.
fn wake(notify: &Weak<Notify>) -> bool {
    match notify.upgrade() {
        Some(notify) => {
            notify.notify_one();
            true
        }
        None => false,
    }
}
