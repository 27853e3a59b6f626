//! Typed settings from the environment (and `.env`). Every value is checked at startup; a
//! bad one stops the server with a message naming the variable. Secrets never print.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// A value that must not appear in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

#[derive(Debug, Clone)]
pub enum BlobStoreConfig {
    Filesystem {
        path: PathBuf,
    },
    S3 {
        endpoint: Option<Url>,
        bucket: String,
        region: String,
        access_key_id: Option<String>,
        secret_access_key: Option<Secret>,
        path_style: bool,
    },
}

#[derive(Debug, Clone)]
pub enum MailConfig {
    /// Writes each email as an `.eml` file (the embedded default).
    Folder {
        path: PathBuf,
    },
    Smtp {
        url: Secret,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A list of named keys (JWT signing keys, the keys of secrets at rest).
#[derive(Debug, Clone)]
pub enum KeyListSource {
    /// `kid:base64secret` pairs; the first signs (or seals), every one verifies (or opens).
    Configured(Vec<(String, Secret)>),
    /// Generated on first start and kept in this file (the embedded default).
    File(PathBuf),
}

/// The secret behind access links' URLs and codes.
#[derive(Debug, Clone)]
pub enum LinkSecretSource {
    /// Base64, at least 32 bytes; the same on every instance.
    Configured(Secret),
    /// Generated on first start and kept in this file (the embedded default).
    File(PathBuf),
}

/// The Ed25519 key audit checkpoints are signed with.
#[derive(Debug, Clone)]
pub enum AuditKeySource {
    /// Base64 of a 32-byte seed; the same on every instance.
    Configured(Secret),
    /// Generated on first start and kept in this file (the embedded default).
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub database_pool_size: u32,
    pub bind_address: SocketAddr,
    pub workers: usize,
    pub public_base_url: Url,
    pub jwt_issuer: String,
    pub jwt_keys: KeyListSource,
    pub link_secret: LinkSecretSource,
    /// Security codes one client IP may try per minute, over all links.
    pub link_attempts_per_minute: u32,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub blob_store: BlobStoreConfig,
    /// How long an upload may go without progress before the maintenance sweep takes it for
    /// dead and removes what it left (`UPLOAD_ABANDONED_AFTER_SECS`).
    pub upload_abandoned_after: Duration,
    pub mail: MailConfig,
    pub mail_from: String,
    pub cors_origins: Vec<String>,
    pub json_body_limit: usize,
    /// The slowest a request body may arrive: bytes per second, averaged over the window.
    pub body_min_bytes_per_sec: u64,
    pub body_rate_window: Duration,
    pub login_lockout_threshold: i32,
    pub login_lockout: Duration,
    pub login_attempts_per_minute: u32,
    pub trust_forwarded_for: bool,
    pub log_format: LogFormat,
    pub webhooks: WebhookConfig,
    pub dispatch: DispatchConfig,
    /// How long a portal or staff invitation link works.
    pub invitation_ttl: Duration,
    pub live_poll_interval: Duration,
    pub live_heartbeat: Duration,
    pub live_max_streams_per_principal: usize,
    pub payments: PaymentsConfig,
    /// How often the reminder pass (document requests, emailed access links) runs.
    pub reminder_interval: Duration,
    pub audit_signing_key: AuditKeySource,
    /// The keys that seal webhook and TOTP secrets in the database (`SECRETS_KEYS`).
    pub secret_keys: KeyListSource,
    /// How often each firm's audit head is checkpointed (when it moved).
    pub audit_checkpoint_interval: Duration,
    pub scanner: ScannerConfig,
}

/// Malware scanning of uploads (`SCANNER`).
#[derive(Debug, Clone)]
pub enum ScannerConfig {
    /// No scanning: uploads are `unscanned` and downloadable at once (the embedded default).
    None,
    Clamd {
        clamd: vestibule_clamd::ClamdConfig,
        /// How often an idle scan worker looks for new uploads.
        poll_interval: Duration,
    },
}

/// Card payments in the portal (`PAYMENTS_PROCESSOR`).
#[derive(Debug, Clone)]
pub enum PaymentsConfig {
    /// No card payments: staff and integrations record payments (the embedded default).
    None,
    Stripe {
        secret_key: Secret,
        webhook_secret: Secret,
        /// For Stripe.js in the portal; optional, since a frontend may carry its own.
        publishable_key: Option<String>,
        api_base: Url,
        timeout: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Hosts (names or addresses) webhooks may target although they are internal.
    pub allowed_hosts: Vec<String>,
    pub timeout: Duration,
    pub disable_after: Duration,
    pub secret_overlap: Duration,
}

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Whether `serve` also runs the dispatcher (turn off when `vestibule dispatch` runs apart).
    pub in_server: bool,
    pub retry_schedule: Vec<Duration>,
    pub poll_interval: Duration,
    pub batch_size: i64,
    pub lease: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

/// Where settings come from; the process environment in production, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<S: std::hash::BuildHasher> Source for std::collections::HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

struct Reader<'a>(&'a dyn Source);

impl Reader<'_> {
    fn string(&self, name: &'static str, default: &str) -> String {
        self.0.get(name).unwrap_or_else(|| default.to_owned())
    }

    fn parse<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.0.get(name) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError { name, reason: format!("`{raw}`: {e}") }),
        }
    }

    fn positive<T: std::str::FromStr + PartialOrd + Default + fmt::Display>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        let value = self.parse(name, default)?;
        if value <= T::default() {
            return Err(ConfigError { name, reason: format!("must be positive, got {value}") });
        }
        Ok(value)
    }

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default).map(Duration::from_secs)
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.0.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(ConfigError { name, reason: format!("`{v}` is not true or false") }),
        }
    }

    fn url(&self, name: &'static str, default: &str) -> Result<Url, ConfigError> {
        let raw = self.string(name, default);
        let url = Url::parse(&raw).map_err(|e| ConfigError { name, reason: format!("`{raw}`: {e}") })?;
        if !["http", "https"].contains(&url.scheme()) {
            return Err(ConfigError { name, reason: "must be an http or https URL".to_owned() });
        }
        Ok(url)
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Environment)
    }

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let r = Reader(source);
        let database_url = r.string("DATABASE_URL", "sqlite://./data/vestibule.db");
        let is_postgres = database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
        if !is_postgres && database_url.contains("://") && !database_url.starts_with("sqlite://") {
            return Err(ConfigError {
                name: "DATABASE_URL",
                reason: "use sqlite://<path>, a file path, or postgres://…".to_owned(),
            });
        }
        let public_base_url = r.url("PUBLIC_BASE_URL", "http://localhost:8080")?;
        let data_dir = PathBuf::from(r.string("DATA_DIR", "./data"));
        let jwt_keys = match source.get("JWT_SIGNING_KEYS") {
            Some(raw) => KeyListSource::Configured(parse_key_list("JWT_SIGNING_KEYS", &raw)?),
            None => KeyListSource::File(data_dir.join("jwt-keys.json")),
        };
        let secret_keys = match source.get("SECRETS_KEYS") {
            Some(raw) => KeyListSource::Configured(parse_key_list("SECRETS_KEYS", &raw)?),
            None => KeyListSource::File(data_dir.join("secrets-keys.json")),
        };
        let link_secret = match source.get("LINK_SECRET") {
            Some(raw) => LinkSecretSource::Configured(parse_link_secret(&raw)?),
            None => LinkSecretSource::File(data_dir.join("link-secret")),
        };
        let audit_signing_key = match source.get("AUDIT_SIGNING_KEY") {
            Some(raw) => AuditKeySource::Configured(parse_audit_key(&raw)?),
            None => AuditKeySource::File(data_dir.join("audit-signing-key")),
        };
        Ok(Self {
            database_pool_size: r.positive("DATABASE_POOL_SIZE", if is_postgres { 16 } else { 8 })?,
            database_url: Secret::new(database_url),
            bind_address: r.parse("BIND_ADDRESS", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            workers: r.positive("WORKERS", std::thread::available_parallelism().map_or(2, usize::from))?,
            jwt_issuer: r.string("JWT_ISSUER", public_base_url.as_str().trim_end_matches('/')),
            public_base_url,
            jwt_keys,
            link_secret,
            link_attempts_per_minute: r.positive("LINK_ATTEMPTS_PER_MINUTE", 10)?,
            access_token_ttl: r.seconds("ACCESS_TOKEN_TTL_SECS", 15 * 60)?,
            refresh_token_ttl: r.seconds("REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            blob_store: blob_store(&r, &data_dir)?,
            upload_abandoned_after: r.seconds("UPLOAD_ABANDONED_AFTER_SECS", 6 * 3600)?,
            mail: mail(&r, &data_dir)?,
            mail_from: mail_from(&r)?,
            cors_origins: cors_origins(&r)?,
            json_body_limit: r.positive("JSON_BODY_LIMIT_BYTES", 1024 * 1024)?,
            body_min_bytes_per_sec: r.positive("BODY_MIN_BYTES_PER_SEC", 1024)?,
            body_rate_window: r.seconds("BODY_RATE_WINDOW_SECS", 30)?,
            login_lockout_threshold: r.positive("LOGIN_LOCKOUT_THRESHOLD", 5)?,
            login_lockout: r.seconds("LOGIN_LOCKOUT_SECS", 15 * 60)?,
            login_attempts_per_minute: r.positive("LOGIN_ATTEMPTS_PER_MINUTE", 20)?,
            trust_forwarded_for: r.flag("TRUST_FORWARDED_FOR", false)?,
            webhooks: WebhookConfig {
                allowed_hosts: r
                    .string("WEBHOOK_ALLOWED_HOSTS", "")
                    .split(',')
                    .map(|h| h.trim().trim_matches(['[', ']']).to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect(),
                timeout: r.seconds("WEBHOOK_TIMEOUT_SECS", 15)?,
                disable_after: r.seconds("WEBHOOK_DISABLE_AFTER_SECS", 5 * 24 * 3600)?,
                secret_overlap: r.seconds("WEBHOOK_SECRET_OVERLAP_SECS", 24 * 3600)?,
            },
            dispatch: dispatch(&r, is_postgres)?,
            invitation_ttl: Duration::from_secs(r.positive("INVITATION_TTL_DAYS", 7_u64)? * 24 * 3600),
            live_poll_interval: Duration::from_millis(r.positive("LIVE_POLL_MS", fallback_poll(is_postgres, 500))?),
            live_heartbeat: r.seconds("LIVE_HEARTBEAT_SECS", 20)?,
            live_max_streams_per_principal: r.positive("LIVE_MAX_STREAMS_PER_PRINCIPAL", 5)?,
            payments: payments(&r)?,
            reminder_interval: r.seconds("REMINDER_INTERVAL_SECS", 15 * 60)?,
            audit_signing_key,
            secret_keys,
            audit_checkpoint_interval: r.seconds("AUDIT_CHECKPOINT_INTERVAL_SECS", 3600)?,
            scanner: scanner(&r, is_postgres)?,
            log_format: match r.string("LOG_FORMAT", "text").as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(ConfigError { name: "LOG_FORMAT", reason: format!("`{other}` is not text or json") });
                }
            },
        })
    }
}

fn payments(r: &Reader<'_>) -> Result<PaymentsConfig, ConfigError> {
    match r.string("PAYMENTS_PROCESSOR", "none").as_str() {
        "none" => Ok(PaymentsConfig::None),
        "stripe" => {
            let required = |name: &'static str| {
                r.0.get(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| Secret::new(v.trim().to_owned()))
                    .ok_or(ConfigError { name, reason: "required when PAYMENTS_PROCESSOR=stripe".to_owned() })
            };
            let secret_key = required("STRIPE_SECRET_KEY")?;
            if !secret_key.expose().starts_with("sk_") && !secret_key.expose().starts_with("rk_") {
                return Err(ConfigError {
                    name: "STRIPE_SECRET_KEY",
                    reason: "expected a secret (sk_…) or restricted (rk_…) key".to_owned(),
                });
            }
            Ok(PaymentsConfig::Stripe {
                secret_key,
                webhook_secret: required("STRIPE_WEBHOOK_SECRET")?,
                publishable_key: r.0.get("STRIPE_PUBLISHABLE_KEY").filter(|v| !v.trim().is_empty()),
                api_base: r.url("STRIPE_API_BASE", "https://api.stripe.com")?,
                timeout: r.seconds("STRIPE_TIMEOUT_SECS", 30)?,
            })
        }
        other => Err(ConfigError { name: "PAYMENTS_PROCESSOR", reason: format!("`{other}` is not none or stripe") }),
    }
}

fn scanner(r: &Reader<'_>, is_postgres: bool) -> Result<ScannerConfig, ConfigError> {
    match r.string("SCANNER", "none").as_str() {
        "none" => Ok(ScannerConfig::None),
        "clamd" => {
            let raw = r.string("CLAMD_ADDRESS", "tcp://127.0.0.1:3310");
            let address = vestibule_clamd::Address::parse(&raw)
                .map_err(|reason| ConfigError { name: "CLAMD_ADDRESS", reason })?;
            Ok(ScannerConfig::Clamd {
                clamd: vestibule_clamd::ClamdConfig {
                    address,
                    timeout: r.seconds("CLAMD_TIMEOUT_SECS", 60)?,
                    max_stream_bytes: r.positive("CLAMD_MAX_STREAM_BYTES", 100 * 1024 * 1024)?,
                },
                poll_interval: Duration::from_millis(r.positive("SCAN_POLL_MS", fallback_poll(is_postgres, 1000))?),
            })
        }
        other => Err(ConfigError { name: "SCANNER", reason: format!("`{other}` is not none or clamd") }),
    }
}

fn parse_link_secret(raw: &str) -> Result<Secret, ConfigError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|e| ConfigError { name: "LINK_SECRET", reason: format!("not base64: {e}") })?;
    if bytes.len() < 32 {
        return Err(ConfigError { name: "LINK_SECRET", reason: "must be at least 32 bytes".to_owned() });
    }
    Ok(Secret::new(raw.trim().to_owned()))
}

fn parse_audit_key(raw: &str) -> Result<Secret, ConfigError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|e| ConfigError { name: "AUDIT_SIGNING_KEY", reason: format!("not base64: {e}") })?;
    if bytes.len() != 32 {
        return Err(ConfigError { name: "AUDIT_SIGNING_KEY", reason: "must be a 32-byte seed".to_owned() });
    }
    Ok(Secret::new(raw.trim().to_owned()))
}

fn parse_key_list(name: &'static str, raw: &str) -> Result<Vec<(String, Secret)>, ConfigError> {
    use base64::Engine;
    let invalid = |reason: String| ConfigError { name, reason };
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (kid, secret) = entry
                .split_once(':')
                .ok_or_else(|| invalid("expected kid:base64secret[,kid:base64secret…]".to_owned()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(secret.trim())
                .map_err(|e| invalid(format!("key `{kid}` is not base64: {e}")))?;
            if bytes.len() < 32 {
                return Err(invalid(format!("key `{kid}` must be at least 32 bytes")));
            }
            Ok((kid.trim().to_owned(), Secret::new(secret.trim().to_owned())))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|keys| if keys.is_empty() { Err(invalid("no keys given".to_owned())) } else { Ok(keys) })
}

fn blob_store(r: &Reader<'_>, data_dir: &std::path::Path) -> Result<BlobStoreConfig, ConfigError> {
    match r.string("BLOB_STORE", "fs").as_str() {
        "fs" => Ok(BlobStoreConfig::Filesystem {
            path: PathBuf::from(r.string("BLOB_FS_PATH", &data_dir.join("blobs").to_string_lossy())),
        }),
        "s3" => {
            let bucket =
                r.0.get("S3_BUCKET")
                    .ok_or(ConfigError { name: "S3_BUCKET", reason: "required when BLOB_STORE=s3".to_owned() })?;
            let endpoint = r.0.get("S3_ENDPOINT").map(|_| r.url("S3_ENDPOINT", "")).transpose()?;
            Ok(BlobStoreConfig::S3 {
                endpoint,
                bucket,
                region: r.string("S3_REGION", "us-east-1"),
                access_key_id: r.0.get("S3_ACCESS_KEY_ID"),
                secret_access_key: r.0.get("S3_SECRET_ACCESS_KEY").map(Secret::new),
                path_style: r.flag("S3_PATH_STYLE", false)?,
            })
        }
        other => Err(ConfigError { name: "BLOB_STORE", reason: format!("`{other}` is not fs or s3") }),
    }
}

fn mail(r: &Reader<'_>, data_dir: &std::path::Path) -> Result<MailConfig, ConfigError> {
    match r.string("MAIL_TRANSPORT", "folder").as_str() {
        "folder" => Ok(MailConfig::Folder {
            path: PathBuf::from(r.string("MAIL_FOLDER", &data_dir.join("mail").to_string_lossy())),
        }),
        "smtp" => {
            let raw =
                r.0.get("SMTP_URL")
                    .ok_or(ConfigError { name: "SMTP_URL", reason: "required when MAIL_TRANSPORT=smtp".to_owned() })?;
            let url = Url::parse(&raw).map_err(|e| ConfigError { name: "SMTP_URL", reason: e.to_string() })?;
            if !["smtp", "smtps"].contains(&url.scheme()) {
                return Err(ConfigError { name: "SMTP_URL", reason: "must start with smtp:// or smtps://".to_owned() });
            }
            Ok(MailConfig::Smtp { url: Secret::new(raw) })
        }
        other => Err(ConfigError { name: "MAIL_TRANSPORT", reason: format!("`{other}` is not folder or smtp") }),
    }
}

/// The sender address; its display name is replaced by each firm's name when sending.
fn mail_from(r: &Reader<'_>) -> Result<String, ConfigError> {
    let raw = r.string("MAIL_FROM", "Vestibule <no-reply@localhost>");
    let address = raw.rsplit_once('<').map_or(raw.as_str(), |(_, rest)| rest.trim_end_matches('>')).trim();
    let plausible = address.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !address.contains(char::is_whitespace);
    if plausible {
        Ok(raw)
    } else {
        Err(ConfigError { name: "MAIL_FROM", reason: format!("`{raw}` is not an email address") })
    }
}

/// Workers on PostgreSQL are woken by `NOTIFY` as work is committed, so their polls are only
/// a fallback and can be rare; on SQLite the poll is how they find work.
fn fallback_poll(is_postgres: bool, sqlite_ms: u64) -> u64 {
    if is_postgres { 5000 } else { sqlite_ms }
}

fn dispatch(r: &Reader<'_>, is_postgres: bool) -> Result<DispatchConfig, ConfigError> {
    let schedule = r.string("DISPATCH_RETRY_SCHEDULE_SECS", "5,300,1800,7200,18000,36000,36000");
    let retry_schedule = schedule
        .split(',')
        .map(|s| s.trim().parse::<u64>().map(Duration::from_secs))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError { name: "DISPATCH_RETRY_SCHEDULE_SECS", reason: format!("`{schedule}`: {e}") })?;
    let config = DispatchConfig {
        in_server: r.flag("DISPATCH_IN_SERVER", true)?,
        retry_schedule,
        poll_interval: Duration::from_millis(r.positive("DISPATCH_POLL_MS", fallback_poll(is_postgres, 1000))?),
        batch_size: r.positive("DISPATCH_BATCH_SIZE", 32)?,
        lease: r.seconds("DISPATCH_LEASE_SECS", 120)?,
    };
    Ok(config)
}

fn cors_origins(r: &Reader<'_>) -> Result<Vec<String>, ConfigError> {
    r.string("CORS_ALLOWED_ORIGINS", "")
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let url = Url::parse(origin)
                .map_err(|e| ConfigError { name: "CORS_ALLOWED_ORIGINS", reason: format!("`{origin}`: {e}") })?;
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_source(&map)
    }

    #[test]
    fn the_defaults_make_a_working_embedded_setup() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url.expose(), "sqlite://./data/vestibule.db");
        assert!(matches!(config.blob_store, BlobStoreConfig::Filesystem { .. }));
        assert!(matches!(config.mail, MailConfig::Folder { .. }));
    }

    #[test]
    fn a_bad_value_names_its_setting() {
        assert_eq!(config(&[("ACCESS_TOKEN_TTL_SECS", "soon")]).unwrap_err().name, "ACCESS_TOKEN_TTL_SECS");
        assert_eq!(config(&[("BLOB_STORE", "s3")]).unwrap_err().name, "S3_BUCKET");
        assert_eq!(config(&[("UPLOAD_ABANDONED_AFTER_SECS", "0")]).unwrap_err().name, "UPLOAD_ABANDONED_AFTER_SECS");
        assert_eq!(config(&[("JWT_SIGNING_KEYS", "k1:c2hvcnQ=")]).unwrap_err().name, "JWT_SIGNING_KEYS");
        assert_eq!(config(&[("SECRETS_KEYS", "k1")]).unwrap_err().name, "SECRETS_KEYS");
        assert_eq!(config(&[("PUBLIC_BASE_URL", "ftp://x")]).unwrap_err().name, "PUBLIC_BASE_URL");
        assert_eq!(config(&[("BODY_MIN_BYTES_PER_SEC", "fast")]).unwrap_err().name, "BODY_MIN_BYTES_PER_SEC");
        assert_eq!(config(&[("BODY_RATE_WINDOW_SECS", "0")]).unwrap_err().name, "BODY_RATE_WINDOW_SECS");
        assert_eq!(
            config(&[("LIVE_MAX_STREAMS_PER_PRINCIPAL", "0")]).unwrap_err().name,
            "LIVE_MAX_STREAMS_PER_PRINCIPAL"
        );
        assert_eq!(
            config(&[("DISPATCH_RETRY_SCHEDULE_SECS", "5,soon")]).unwrap_err().name,
            "DISPATCH_RETRY_SCHEDULE_SECS"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let config = config(&[("DATABASE_URL", "postgres://app:hunter2@db/vestibule")]).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
