//! Recording audit events from handlers, with the request's origin, and publishing the
//! events integrations subscribe to.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde_json::Value;
use vestibule_domain::audit::{ActorKind, Outcome};
use vestibule_domain::events::EventType;
use vestibule_domain::principal::Principal;
use vestibule_storage::audit::{NewAuditEvent, append};
use vestibule_storage::outbox;
use vestibule_storage::{DbConnection, StorageResult};

use crate::state::AppState;

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

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
        Self { ip, user_agent }
    }
}

impl FromRequest for Origin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

/// What happened to what.
pub struct Entry<'a> {
    pub action: &'a str,
    pub target: Option<(&'a str, &'a str)>,
    pub outcome: Outcome,
    pub details: Value,
}

impl<'a> Entry<'a> {
    pub fn success(action: &'a str, target_kind: &'a str, target_id: &'a str) -> Self {
        Self {
            action,
            target: Some((target_kind, target_id)),
            outcome: Outcome::Success,
            details: Value::Object(Default::default()),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// Records an action of an authenticated principal, in the caller's transaction.
pub fn record(conn: &mut DbConnection, origin: &Origin, principal: &Principal, entry: Entry<'_>) -> StorageResult<()> {
    let (actor_kind, actor_id) = principal.actor();
    record_as(conn, origin, principal.firm_id().as_str(), actor_kind, Some(actor_id), entry)
}

/// Records an action whose actor may be unknown (a failed login for an unknown email).
pub fn record_as(
    conn: &mut DbConnection,
    origin: &Origin,
    firm_id: &str,
    actor_kind: ActorKind,
    actor_id: Option<&str>,
    entry: Entry<'_>,
) -> StorageResult<()> {
    let Entry { action, target, outcome, details } = entry;
    // Audited changes of catalogued kinds are published to webhooks in the same transaction.
    if outcome == Outcome::Success
        && let (Some(event), Some((_, id))) = (EventType::for_audit_action(action), target)
    {
        outbox::publish(conn, firm_id, event, &serde_json::json!({ "id": id }))?;
    }
    append(
        conn,
        &NewAuditEvent {
            firm_id: firm_id.to_owned(),
            actor_kind: actor_kind.as_str().to_owned(),
            actor_id: actor_id.map(str::to_owned),
            action: action.to_owned(),
            target_kind: target.map(|(kind, _)| kind.to_owned()),
            target_id: target.map(|(_, id)| id.to_owned()),
            outcome: outcome.as_str().to_owned(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            details: details.to_string(),
        },
    )
    .map(|_| ())
}
