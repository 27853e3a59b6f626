use std::sync::Arc;
use std::time::Duration;

use vestibule_blobs::BlobStore;
use vestibule_storage::DbPool;

use crate::live::LiveHub;
use crate::live_streams::LiveStreams;
use crate::metrics::Metrics;
use vestibule_app::audit_checkpoints::CheckpointKey;
use vestibule_app::auth::tokens::TokenKeys;
use vestibule_app::link_secret::LinkSecret;
use vestibule_app::throttle::Throttle;

/// The slowest a body may arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyPace {
    pub min_bytes_per_sec: u64,
    pub window: Duration,
}

impl BodyPace {
    pub(crate) fn bytes_per_window(&self) -> u64 {
        self.min_bytes_per_sec.saturating_mul(self.window.as_secs().max(1))
    }
}

/// What the HTTP layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// What the use cases need.
    pub app: Arc<vestibule_app::Settings>,
    pub json_body_limit: usize,
    /// The slowest a request body may arrive before reading it stops.
    pub body_pace: BodyPace,
    /// Login attempts allowed per client IP per minute.
    pub login_attempts_per_minute: u32,
    /// Security codes of access links tried per client IP per minute.
    pub link_attempts_per_minute: u32,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    pub cors_origins: Vec<String>,
    /// How often this instance looks for live events to send to its open streams.
    pub live_poll_interval: Duration,
    /// How often an idle live stream gets a comment line, which also rechecks the session.
    pub live_heartbeat: Duration,
    /// Live streams one person may hold open on this instance; a newer one closes the oldest.
    pub live_max_streams_per_principal: usize,
}

/// Shared by every worker; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub keys: Arc<TokenKeys>,
    pub links: Arc<LinkSecret>,
    pub checkpoint_key: Arc<CheckpointKey>,
    pub settings: Arc<HttpSettings>,
    /// Sign-in and password steps per address, shared by every instance.
    pub login_throttle: Throttle,
    /// Access-link codes per address, shared by every instance.
    pub link_throttle: Throttle,
    pub metrics: Arc<Metrics>,
    pub live: LiveHub,
    pub live_streams: Arc<LiveStreams>,
    pub blobs: BlobStore,
}

impl AppState {
    pub fn new(
        pool: DbPool,
        keys: TokenKeys,
        links: LinkSecret,
        checkpoint_key: Arc<CheckpointKey>,
        settings: HttpSettings,
        blobs: BlobStore,
    ) -> anyhow::Result<Self> {
        let login_throttle = Throttle::per_minute("login", settings.login_attempts_per_minute);
        let link_throttle = Throttle::per_minute("link_code", settings.link_attempts_per_minute);
        let metrics = Metrics::new()?;
        let live_streams = LiveStreams::new(settings.live_max_streams_per_principal, metrics.live_streams.clone());
        Ok(Self {
            pool,
            keys: Arc::new(keys),
            links: Arc::new(links),
            checkpoint_key,
            settings: Arc::new(settings),
            login_throttle,
            link_throttle,
            metrics: Arc::new(metrics),
            live: LiveHub::default(),
            live_streams: Arc::new(live_streams),
            blobs,
        })
    }
}
