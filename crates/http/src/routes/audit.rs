//! The audit log: list with filters, verification of the hash chain, and the key its
//! published checkpoints are signed with.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::{audit_checkpoints, audit_log};
use vestibule_domain::audit::{ActorKind, Outcome};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::AuditEventId;
use vestibule_storage::audit::{AuditEventRow, AuditFilter, Verification};

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{BadRequest, Forbidden, InternalError, Unauthorized, Unprocessable};
use crate::routes::utc;
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_audit_events).service(verify_audit_chain).service(audit_checkpoint_key);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: AuditEventId,
    /// Position in the firm's chain, from 1.
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    #[schema(example = "client.updated")]
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Outcome,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
    /// SHA-256 (hex) over the previous hash and this event's content.
    pub hash: String,
}

impl From<AuditEventRow> for AuditEvent {
    fn from(row: AuditEventRow) -> Self {
        Self {
            id: AuditEventId::from_trusted(row.id),
            seq: row.seq,
            occurred_at: utc(row.occurred_at),
            actor_kind: ActorKind::from_stored(&row.actor_kind),
            actor_id: row.actor_id,
            action: row.action,
            target_kind: row.target_kind,
            target_id: row.target_id,
            outcome: if row.outcome == "success" { Outcome::Success } else { Outcome::Failure },
            ip: row.ip,
            user_agent: row.user_agent,
            details: serde_json::from_str(&row.details).unwrap_or_default(),
            hash: row.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    #[param(example = "auth.login")]
    pub action: Option<String>,
    /// Events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Events before this time.
    pub to: Option<DateTime<Utc>>,
}

/// The result of recomputing the firm's hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainVerification {
    /// True when every event matches its hash and link, and none is missing.
    pub intact: bool,
    pub events_checked: i64,
    /// The sequence number of the newest event the chain head records.
    pub head_seq: i64,
    pub first_break: Option<ChainBreak>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainBreak {
    pub seq: i64,
    pub event_id: Option<String>,
    pub reason: String,
}

/// The public key `audit.checkpoint` events are signed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointKey {
    /// The `key_id` checkpoints name.
    #[schema(example = "ed25519-3f1c2a9b0d4e5f67")]
    pub key_id: String,
    #[schema(example = "ed25519")]
    pub algorithm: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

impl From<audit_checkpoints::PublicKey> for CheckpointKey {
    fn from(key: audit_checkpoints::PublicKey) -> Self {
        Self { key_id: key.key_id, algorithm: key.algorithm.to_owned(), public_key: key.public_key }
    }
}

impl AuditListQuery {
    fn filter(self) -> AuditFilter {
        AuditFilter {
            actor_id: self.actor_id,
            target_id: self.target_id,
            action: self.action,
            from: self.from.map(|t| t.naive_utc()),
            to: self.to.map(|t| t.naive_utc()),
        }
    }
}

impl From<Verification> for ChainVerification {
    fn from(result: Verification) -> Self {
        Self {
            intact: result.first_break.is_none(),
            events_checked: result.events_checked,
            head_seq: result.head_seq,
            first_break: result.first_break.map(|b| ChainBreak {
                seq: b.seq,
                event_id: b.event_id,
                reason: b.reason.to_owned(),
            }),
        }
    }
}

/// Audit events of the caller's firm in chain order, oldest first (owners, admins,
/// `audit:read` keys).
#[utoipa::path(
    tag = "audit",
    params(AuditListQuery, PageQuery),
    responses((status = 200, body = Paginated<AuditEvent>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AuditListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<AuditEvent>>, ApiError> {
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = caller
        .must(Action::ReadAudit)
        .call(&state, move |conn, ctx| audit_log::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, AuditEvent::from)))
}

/// Recomputes the firm's chain and reports the first event that was altered, removed or
/// reordered.
#[utoipa::path(
    tag = "audit",
    responses((status = 200, body = ChainVerification), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/audit-events/verification")]
pub async fn verify_audit_chain(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<ChainVerification>, ApiError> {
    Ok(web::Json(caller.call(&state, audit_log::verify).await?.into()))
}

/// The public key that signs the audit chain's checkpoints (`audit.checkpoint` events), to
/// check them with outside the database.
#[utoipa::path(
    tag = "audit",
    responses((status = 200, body = CheckpointKey), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/audit-events/checkpoint-key")]
pub async fn audit_checkpoint_key(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<CheckpointKey>, ApiError> {
    let ctx = caller.context(&state).await?;
    Ok(web::Json(audit_checkpoints::public_key(&ctx, &state.checkpoint_key)?.into()))
}
