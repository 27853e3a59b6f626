//! Where a request came from, read once per request for the audit log.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
pub use vestibule_app::audit::Entry;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::events::EventType;
use vestibule_domain::principal::Principal;
use vestibule_storage::{DbConnection, StorageResult};

use crate::state::AppState;

/// The request's origin, as an extractor.
#[derive(Debug, Clone, Default)]
pub struct Origin(pub vestibule_app::Origin);

impl Origin {
    pub fn of(req: &HttpRequest) -> Self {
        let trust_forwarded =
            req.app_data::<actix_web::web::Data<AppState>>().is_some_and(|s| s.settings.trust_forwarded_for);
        let ip = if trust_forwarded {
            req.connection_info().realip_remote_addr().map(str::to_owned)
        } else {
            req.peer_addr().map(|addr| addr.ip().to_string())
        };
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Self(vestibule_app::Origin { ip, user_agent })
    }
}

impl std::ops::Deref for Origin {
    type Target = vestibule_app::Origin;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Origin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

/// The use cases' context for a handler not yet moved to them.
pub fn context(
    principal: &Principal,
    origin: &Origin,
    settings: &crate::state::HttpSettings,
) -> vestibule_app::Context {
    vestibule_app::Context { principal: principal.clone(), origin: origin.0.clone(), settings: settings.app.clone() }
}

pub fn record(conn: &mut DbConnection, origin: &Origin, principal: &Principal, entry: Entry<'_>) -> StorageResult<()> {
    let (actor_kind, actor_id) = principal.actor();
    record_as(conn, origin, principal.firm_id().as_str(), actor_kind, Some(actor_id), entry)
}

pub fn record_as(
    conn: &mut DbConnection,
    origin: &Origin,
    firm_id: &str,
    actor_kind: ActorKind,
    actor_id: Option<&str>,
    mut entry: Entry<'_>,
) -> StorageResult<()> {
    entry.publishes = entry.publishes.or_else(|| EventType::for_audit_action(entry.action));
    vestibule_app::audit::record_as(conn, &origin.0, firm_id, actor_kind, actor_id, entry).map(|_| ())
}
