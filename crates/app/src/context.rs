//! Who asks, from where, and under which settings: what every use case is given besides
//! its command.

use std::sync::Arc;
use std::time::Duration;

use vestibule_domain::principal::Principal;
use vestibule_storage::sealing::SecretKeys;

use crate::payments::processor::CardProcessor;
use crate::scanner::Scanner;

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What the use cases need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `iss` of the tokens this instance issues.
    pub issuer: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Consecutive failed logins that lock an account.
    pub lockout_threshold: i32,
    pub lockout_duration: Duration,
    /// Hosts webhooks may target although they are internal (on-premise integrations).
    pub webhook_allowed_hosts: Vec<String>,
    /// How long the previous webhook secret keeps signing after a rotation.
    pub secret_rotation_overlap: Duration,
    /// Where links in emails point (the portal's address).
    pub public_base_url: String,
    pub invitation_ttl: Duration,
    /// The card processor; without one, card payment is not offered.
    pub processor: Option<Arc<dyn CardProcessor>>,
    /// The processor's publishable key, for its JavaScript in the portal.
    pub processor_publishable_key: Option<String>,
    /// The malware scanner; without one (`SCANNER=none`), uploads are `unscanned`.
    pub scanner: Option<Arc<dyn Scanner>>,
    /// Seals and opens the secrets stored in the database (`SECRETS_KEYS`).
    pub secret_keys: Arc<SecretKeys>,
}

impl Settings {
    /// An absolute link into the portal or the staff app, for emails.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_base_url.trim_end_matches('/'))
    }
}

/// An authenticated caller: the principal, where the request came from, the settings.
#[derive(Debug, Clone)]
pub struct Context {
    pub principal: Principal,
    pub origin: Origin,
    pub settings: Arc<Settings>,
}

impl Context {
    pub fn firm_id(&self) -> &str {
        self.principal.firm_id().as_str()
    }
}
