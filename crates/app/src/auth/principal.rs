//! The principal behind a verified access token or a presented API key: the account must
//! still be enabled and its session live, a contact's portal usable.

use subtle::ConstantTimeEq;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::ids::{ApiKeyId, ContactId, FirmId, SessionId, StaffId};
use vestibule_domain::principal::{ContactPrincipal, IntegrationPrincipal, Principal, StaffPrincipal};
use vestibule_domain::roles::StaffRole;
use vestibule_domain::scope::ApiScope;
use vestibule_domain::usage;
use vestibule_storage::sessions::SessionRow;
use vestibule_storage::{DbConnection, api_keys, sessions, write_tx};

use super::sign_in::portal_gate;
use super::tokens::{AccessClaims, Audience};
use crate::audit::{self, Entry};
use crate::context::Origin;
use crate::error::{AppError, AppResult};
use crate::secrets;

/// The principal a verified token of `audience` speaks for: one lookup of the live session
/// with its account (and, for a contact, one of the portal).
#[tracing::instrument(skip_all, fields(audience = ?audience))]
pub fn of_token(conn: &mut DbConnection, audience: Audience, claims: AccessClaims) -> AppResult<Principal> {
    let now = vestibule_storage::now();
    let touch = |conn: &mut DbConnection, session: &SessionRow| -> AppResult<()> {
        if usage::due(session.last_used_at, now, usage::TOUCH_EVERY) {
            sessions::touch(conn, &session.id, now)?;
        }
        Ok(())
    };
    match audience {
        Audience::Staff => {
            let Some((session, member)) = sessions::active_of_staff(conn, &claims.sid, &claims.firm, &claims.sub, now)?
            else {
                return Err(AppError::invalid_token());
            };
            if member.disabled_at.is_some() {
                return Err(AppError::invalid_token());
            }
            touch(conn, &session)?;
            Ok(Principal::Staff(StaffPrincipal {
                role: StaffRole::from_stored(&member.role).ok_or_else(|| anyhow::anyhow!("unknown stored role"))?,
                portal_permission: member.portal_permission,
                firm_id: FirmId::from_trusted(member.firm_id),
                staff_id: StaffId::from_trusted(member.id),
                session_id: SessionId::from_trusted(claims.sid),
            }))
        }
        Audience::Portal => {
            let Some((session, person)) =
                sessions::active_of_contact(conn, &claims.sid, &claims.firm, &claims.sub, now)?
            else {
                return Err(AppError::invalid_token());
            };
            if person.disabled_at.is_some() {
                return Err(AppError::invalid_token());
            }
            touch(conn, &session)?;
            portal_gate(conn, &person.firm_id, &person.id)?;
            Ok(Principal::Contact(ContactPrincipal {
                firm_id: FirmId::from_trusted(person.firm_id),
                contact_id: ContactId::from_trusted(person.id),
                session_id: SessionId::from_trusted(claims.sid),
            }))
        }
    }
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
    if usage::due(key.last_used_at, now, usage::TOUCH_EVERY) {
        write_tx(conn, |conn| {
            api_keys::touch(conn, &key.id, now)?;
            if usage::due(key.last_used_at, now, usage::AUDIT_KEY_USE_EVERY) {
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
