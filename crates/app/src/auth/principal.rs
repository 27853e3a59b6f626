//! The principal behind a verified access token or a presented API key: the account must
//! still be enabled and its session live, a contact's portal usable.

use chrono::Duration;
use subtle::ConstantTimeEq;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::ids::{ApiKeyId, ContactId, FirmId, SessionId, StaffId};
use vestibule_domain::principal::{ContactPrincipal, IntegrationPrincipal, Principal, StaffPrincipal};
use vestibule_domain::roles::StaffRole;
use vestibule_domain::scope::ApiScope;
use vestibule_storage::{DbConnection, StorageError, StorageResult, api_keys, contacts, sessions, staff, write_tx};

use super::sign_in::portal_gate;
use super::tokens::{AccessClaims, Audience};
use crate::audit::{self, Entry};
use crate::context::Origin;
use crate::error::{AppError, AppResult};
use crate::secrets;

/// How often a key's or a session's `last_used_at` is written, and how often its use is audited: every
/// request would turn reads into writes and flood the audit log.
const TOUCH_EVERY: Duration = Duration::minutes(1);
const AUDIT_USE_EVERY: Duration = Duration::hours(1);

/// The principal a verified token of `audience` speaks for.
#[tracing::instrument(skip_all, fields(audience = ?audience))]
pub fn of_token(conn: &mut DbConnection, audience: Audience, claims: AccessClaims) -> AppResult<Principal> {
    let now = vestibule_storage::now();
    let session = sessions::get_active(conn, &claims.sid, now)?;
    if let Some(live) = &session
        && live.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY)
    {
        sessions::touch(conn, &live.id, now)?;
    }
    match audience {
        Audience::Staff => {
            let member = known(staff::get(conn, &claims.firm, &claims.sub))?;
            let live = session.is_some_and(|s| s.staff_id.as_deref() == Some(member.id.as_str()));
            if member.disabled_at.is_some() || !live {
                return Err(AppError::invalid_token());
            }
            Ok(Principal::Staff(StaffPrincipal {
                role: StaffRole::from_stored(&member.role).ok_or_else(|| anyhow::anyhow!("unknown stored role"))?,
                portal_permission: member.portal_permission,
                firm_id: FirmId::from_trusted(member.firm_id),
                staff_id: StaffId::from_trusted(member.id),
                session_id: SessionId::from_trusted(claims.sid),
            }))
        }
        Audience::Portal => {
            let person = known(contacts::get(conn, &claims.firm, &claims.sub))?;
            let live = session.is_some_and(|s| s.contact_id.as_deref() == Some(person.id.as_str()));
            if person.disabled_at.is_some() || !live {
                return Err(AppError::invalid_token());
            }
            portal_gate(conn, &person.firm_id, &person.id)?;
            Ok(Principal::Contact(ContactPrincipal {
                firm_id: FirmId::from_trusted(person.firm_id),
                contact_id: ContactId::from_trusted(person.id),
                session_id: SessionId::from_trusted(claims.sid),
            }))
        }
    }
}

/// A token whose account is gone is invalid; a database failure is still a server error.
fn known<T>(found: StorageResult<T>) -> AppResult<T> {
    found.map_err(|error| match error {
        StorageError::NotFound => AppError::invalid_token(),
        other => other.into(),
    })
}

/// The integration behind an API key (`vsk_<key_id>_<secret>`). Its use is recorded now
/// and then: `last_used_at` each minute, an `api_key.used` audit entry each hour.
#[tracing::instrument(skip(conn, origin, secret))]
pub fn of_api_key(conn: &mut DbConnection, origin: &Origin, key_id: &str, secret: &str) -> AppResult<Principal> {
    let key = api_keys::find_active(conn, key_id)?.ok_or_else(AppError::invalid_token)?;
    let presented = secrets::digest(secret);
    if !bool::from(presented.as_bytes().ct_eq(key.secret_hash.as_bytes())) {
        return Err(AppError::invalid_token());
    }
    let now = vestibule_storage::now();
    let since_use = key.last_used_at.map(|last| now - last);
    if since_use.is_none_or(|elapsed| elapsed >= TOUCH_EVERY) {
        write_tx(conn, |conn| {
            api_keys::touch(conn, &key.id, now)?;
            if since_use.is_none_or(|elapsed| elapsed >= AUDIT_USE_EVERY) {
                let entry = Entry::success("api_key.used", "api_key", &key.id);
                audit::record_as(conn, origin, &key.firm_id, ActorKind::ApiKey, Some(&key.id), entry)?;
            }
            Ok::<_, AppError>(())
        })?;
    }
    Ok(Principal::Integration(IntegrationPrincipal {
        firm_id: FirmId::from_trusted(key.firm_id),
        api_key_id: ApiKeyId::from_trusted(key.id),
        scopes: key.scopes.split_whitespace().filter_map(ApiScope::from_stored).collect(),
    }))
}
