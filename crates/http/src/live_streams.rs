//! The live streams open on this instance, at most `LIVE_MAX_STREAMS_PER_PRINCIPAL` per
//! person. A stream beyond the cap closes that person's oldest one rather than being refused:
//! after a network change a client reconnects before the server has noticed the old
//! connection died, and refusing it would lock the person out until the dead one is found.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus::IntGauge;
use tokio::sync::oneshot;

type Open = HashMap<String, VecDeque<(u64, oneshot::Sender<()>)>>;

pub struct LiveStreams {
    cap: usize,
    gauge: IntGauge,
    open: Mutex<Open>,
    next_id: AtomicU64,
}

/// One open stream's place; dropping it (when the stream ends) frees the place.
pub struct StreamSlot {
    streams: Arc<LiveStreams>,
    principal: String,
    id: u64,
    /// Resolves when a newer stream of the same person took this one's place.
    pub replaced: oneshot::Receiver<()>,
}

impl LiveStreams {
    pub fn new(cap: usize, gauge: IntGauge) -> Self {
        Self { cap: cap.max(1), gauge, open: Mutex::default(), next_id: AtomicU64::new(0) }
    }

    /// Registers a stream of `principal`, closing its oldest streams beyond the cap.
    pub fn open(self: &Arc<Self>, principal: &str) -> StreamSlot {
        let (tell, replaced) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut open = self.lock();
            let streams = open.entry(principal.to_owned()).or_default();
            streams.push_back((id, tell));
            while streams.len() > self.cap {
                // Dropping the sender is what tells that stream to close.
                streams.pop_front();
            }
        }
        self.gauge.inc();
        StreamSlot { streams: self.clone(), principal: principal.to_owned(), id, replaced }
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        // The map stays consistent whatever panicked while holding it.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock();
        if let Some(streams) = open.get_mut(&self.principal) {
            streams.retain(|(id, _)| *id != self.id);
            if streams.is_empty() {
                open.remove(&self.principal);
            }
        }
        drop(open);
        self.streams.gauge.dec();
    }
}
