use std::net::TcpListener;

use actix_web::HttpServer;
use actix_web::dev::Server;
use anyhow::Context;
use vestibule_app::audit_checkpoints::CheckpointKey;
use vestibule_blobs::BlobSettings;
use vestibule_http::{AppState, HttpSettings, configure_app};
use vestibule_storage::sealing::SecretKeys;
use vestibule_storage::wake::{Channel, Wakeup};
use vestibule_storage::{DbPool, PoolOptions};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use vestibule_dispatch::email::MailSettings;
use vestibule_dispatch::{DispatchSettings, Dispatcher};

use crate::config::{BlobStoreConfig, Config, MailConfig, PaymentsConfig, ScannerConfig};
use crate::keys;

/// Connects the pool and brings the schema up to date.
pub fn connect(config: &Config) -> anyhow::Result<DbPool> {
    let pool = vestibule_storage::db::connect(
        config.database_url.expose(),
        &PoolOptions { max_size: config.database_pool_size, connect_timeout: std::time::Duration::from_secs(10) },
    )
    .context("connecting to the database (DATABASE_URL)")?;
    let mut conn = pool.get().context("connecting to the database (DATABASE_URL)")?;
    let applied = vestibule_storage::db::run_migrations(&mut conn).context("running migrations")?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    let keys = secret_keys(config)?;
    let resealed = vestibule_app::secrets_at_rest::reseal(&mut conn, &keys)
        .context("sealing stored secrets with the current key (SECRETS_KEYS)")?;
    if resealed.total() > 0 {
        tracing::info!(?resealed, key = keys.current_id(), "sealed stored secrets with the current key");
    }
    Ok(pool)
}

/// The keys that seal webhook and TOTP secrets in the database.
pub fn secret_keys(config: &Config) -> anyhow::Result<std::sync::Arc<SecretKeys>> {
    Ok(std::sync::Arc::new(keys::secret_keys(&config.secret_keys)?))
}

pub fn http_settings(config: &Config) -> anyhow::Result<HttpSettings> {
    let (processor, processor_publishable_key) = card_processor(&config.payments)?;
    Ok(HttpSettings {
        app: std::sync::Arc::new(vestibule_app::Settings {
            issuer: config.jwt_issuer.clone(),
            access_token_ttl: config.access_token_ttl,
            refresh_token_ttl: config.refresh_token_ttl,
            lockout_threshold: config.login_lockout_threshold,
            lockout_duration: config.login_lockout,
            webhook_allowed_hosts: config.webhooks.allowed_hosts.clone(),
            secret_rotation_overlap: config.webhooks.secret_overlap,
            public_base_url: config.public_base_url.to_string(),
            invitation_ttl: config.invitation_ttl,
            processor,
            processor_publishable_key,
            scanner: scanner(&config.scanner),
            secret_keys: secret_keys(config)?,
        }),
        json_body_limit: config.json_body_limit,
        body_pace: vestibule_http::BodyPace {
            min_bytes_per_sec: config.body_min_bytes_per_sec,
            window: config.body_rate_window,
        },
        login_attempts_per_minute: config.login_attempts_per_minute,
        link_attempts_per_minute: config.link_attempts_per_minute,
        trust_forwarded_for: config.trust_forwarded_for,
        cors_origins: config.cors_origins.clone(),
        live_poll_interval: config.live_poll_interval,
        live_heartbeat: config.live_heartbeat,
        live_max_streams_per_principal: config.live_max_streams_per_principal,
    })
}

type CardProcessor = Option<std::sync::Arc<dyn vestibule_app::payments::processor::CardProcessor>>;

/// The card processor `PAYMENTS_PROCESSOR` names, and its publishable key.
fn card_processor(payments: &PaymentsConfig) -> anyhow::Result<(CardProcessor, Option<String>)> {
    match payments {
        PaymentsConfig::None => Ok((None, None)),
        PaymentsConfig::Stripe { secret_key, webhook_secret, publishable_key, api_base, timeout } => {
            let config = vestibule_stripe::StripeConfig {
                secret_key: secret_key.expose().to_owned(),
                webhook_secret: webhook_secret.expose().to_owned(),
                api_base: api_base.as_str().trim_end_matches('/').to_owned(),
                timeout: *timeout,
            };
            let stripe = vestibule_stripe::StripeProcessor::new(config).context("setting up Stripe (STRIPE_*)")?;
            Ok((Some(std::sync::Arc::new(stripe)), publishable_key.clone()))
        }
    }
}

pub fn dispatch_settings(config: &Config) -> anyhow::Result<DispatchSettings> {
    Ok(DispatchSettings {
        retry_schedule: config.dispatch.retry_schedule.clone(),
        poll_interval: config.dispatch.poll_interval,
        batch_size: config.dispatch.batch_size,
        lease: config.dispatch.lease.max(config.webhooks.timeout * 2),
        webhook_timeout: config.webhooks.timeout,
        disable_after: config.webhooks.disable_after,
        allowed_hosts: config.webhooks.allowed_hosts.clone(),
        public_base_url: config.public_base_url.to_string(),
        mail: match &config.mail {
            MailConfig::Folder { path } => MailSettings::Folder(path.clone()),
            MailConfig::Smtp { url } => MailSettings::Smtp(url.expose().to_owned()),
        },
        mail_from: config.mail_from.clone(),
        secret_keys: secret_keys(config)?,
    })
}

pub fn blob_settings(config: &Config) -> BlobSettings {
    match &config.blob_store {
        BlobStoreConfig::Filesystem { path } => BlobSettings::Fs { path: path.clone() },
        BlobStoreConfig::S3 { endpoint, bucket, region, access_key_id, secret_access_key, path_style } => {
            BlobSettings::S3 {
                bucket: bucket.clone(),
                region: region.clone(),
                endpoint: endpoint.as_ref().map(|url| url.as_str().trim_end_matches('/').to_owned()),
                credentials: access_key_id
                    .clone()
                    .zip(secret_access_key.as_ref().map(|secret| secret.expose().to_owned())),
                path_style: *path_style,
            }
        }
    }
}

/// Runs the outbox dispatcher until `shutdown` turns true.
pub fn spawn_dispatcher(
    config: &Config,
    pool: DbPool,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let dispatcher = Dispatcher::new(pool, dispatch_settings(config)?)?
        .woken_by(Wakeup::listen(config.database_url.expose(), Channel::Dispatch));
    Ok(tokio::spawn(dispatcher.run(shutdown)))
}

fn scanner(config: &ScannerConfig) -> Option<std::sync::Arc<dyn vestibule_app::scanner::Scanner>> {
    match config {
        ScannerConfig::None => None,
        ScannerConfig::Clamd { clamd, .. } => Some(std::sync::Arc::new(vestibule_clamd::Clamd::new(clamd.clone()))),
    }
}

/// Runs the scan worker, when a scanner is configured.
pub fn spawn_scanner(config: &Config, pool: DbPool) -> anyhow::Result<Option<JoinHandle<()>>> {
    let ScannerConfig::Clamd { clamd, poll_interval } = &config.scanner else {
        return Ok(None);
    };
    let settings = http_settings(config)?.app;
    let Some(scanner) = settings.scanner.clone() else {
        return Ok(None);
    };
    let worker = crate::scanning::ScanWorker {
        pool,
        blobs: vestibule_blobs::BlobStore::new(&blob_settings(config))?,
        settings,
        scanner,
        poll_interval: *poll_interval,
        wakeup: Wakeup::listen(config.database_url.expose(), Channel::Scan),
        lease: clamd.timeout * 5 + std::time::Duration::from_secs(60),
    };
    Ok(Some(tokio::spawn(worker.run_forever())))
}

/// The running server, as `vestibule serve` and the tests start it.
pub struct Application {
    port: u16,
    server: Server,
}

fn link_secret(config: &Config) -> anyhow::Result<vestibule_app::link_secret::LinkSecret> {
    vestibule_app::link_secret::LinkSecret::new(&keys::link_secret(&config.link_secret)?)
}

/// What the reminder pass needs: the use cases' settings (links in emails) and the secret
/// that makes an access link's address.
pub fn reminder_settings(
    config: &Config,
) -> anyhow::Result<(std::sync::Arc<vestibule_app::Settings>, std::sync::Arc<vestibule_app::link_secret::LinkSecret>)> {
    Ok((http_settings(config)?.app, std::sync::Arc::new(link_secret(config)?)))
}

/// The key audit checkpoints are signed with, shared by the API (its public half) and the
/// checkpoint pass.
pub fn checkpoint_key(config: &Config) -> anyhow::Result<std::sync::Arc<CheckpointKey>> {
    Ok(std::sync::Arc::new(CheckpointKey::from_seed(&keys::audit_signing_key(&config.audit_signing_key)?)?))
}

impl Application {
    pub fn build(config: &Config, pool: DbPool) -> anyhow::Result<Self> {
        let settings = http_settings(config)?;
        let keys =
            vestibule_app::auth::tokens::TokenKeys::new(settings.app.issuer.clone(), &keys::load(&config.jwt_keys)?)?;
        let live_poll_interval = settings.live_poll_interval;
        let blobs = vestibule_blobs::BlobStore::new(&blob_settings(config))?;
        let links = link_secret(config)?;
        let state = AppState::new(pool.clone(), keys, links, checkpoint_key(config)?, settings, blobs)?;
        let wakeup = Wakeup::listen(config.database_url.expose(), Channel::Live);
        tokio::spawn(state.live.clone().relay(pool, live_poll_interval, wakeup));
        let listener =
            TcpListener::bind(config.bind_address).with_context(|| format!("binding {}", config.bind_address))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || configure_app(state.clone()))
            .listen(listener)?
            .workers(config.workers)
            .shutdown_timeout(30)
            .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
