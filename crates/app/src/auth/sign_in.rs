//! Password login, refresh-token rotation and logout, the same for staff and portal
//! contacts; only the account table and the token audience differ.

use chrono::{Duration, NaiveDateTime};
use vestibule_domain::audit::ActorKind;
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::SessionId;
use vestibule_domain::password::NewPassword;
use vestibule_domain::portal::{PortalStatus, unavailable};
use vestibule_domain::principal::{Principal, StaffPrincipal};
use vestibule_storage::firms::FirmRow;
use vestibule_storage::sessions::{Rotation, SessionRow};
use vestibule_storage::staff::StaffRow;
use vestibule_storage::{DbConnection, contacts, credentials, firms, portals, sessions, staff, two_factor, write_tx};

use super::challenge::{self, Challenge, Purpose};
use super::new_device;
use super::tokens::{Audience, TokenKeys, TokenUse};
use crate::audit::{self, Entry};
use crate::context::{Context, Origin, Settings};
use crate::error::{AppError, AppResult};
use crate::{password, secrets};

#[derive(Debug, Clone, Copy)]
pub enum AccountKind {
    Staff,
    Contact,
}

impl AccountKind {
    fn audience(self) -> Audience {
        match self {
            Self::Staff => Audience::Staff,
            Self::Contact => Audience::Portal,
        }
    }

    /// How audit entries and challenges name the account's kind.
    pub(crate) fn target_kind(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Contact => "contact",
        }
    }

    pub(crate) fn actor_kind(self) -> ActorKind {
        match self {
            Self::Staff => ActorKind::Staff,
            Self::Contact => ActorKind::Contact,
        }
    }

    /// The account's id and whether it is disabled.
    fn find(self, conn: &mut DbConnection, firm_id: &str, email: &str) -> AppResult<Option<(String, bool)>> {
        Ok(match self {
            Self::Staff => staff::find_by_email(conn, firm_id, email)?.map(|s| (s.id, s.disabled_at.is_some())),
            Self::Contact => contacts::find_by_email(conn, firm_id, email)?.map(|c| (c.id, c.disabled_at.is_some())),
        })
    }

    fn is_active(self, conn: &mut DbConnection, session: &SessionRow) -> AppResult<bool> {
        Ok(match (self, &session.staff_id, &session.contact_id) {
            (Self::Staff, Some(id), _) => staff::get(conn, &session.firm_id, id)?.disabled_at.is_none(),
            (Self::Contact, _, Some(id)) => {
                contacts::get(conn, &session.firm_id, id)?.disabled_at.is_none()
                    && portal_gate(conn, &session.firm_id, id).is_ok()
            }
            _ => false,
        })
    }

    fn two_factor_required(self, firm: &FirmRow) -> bool {
        match self {
            Self::Staff => firm.require_two_factor_staff,
            Self::Contact => firm.require_two_factor_contacts,
        }
    }

    fn account_of(self, session: &SessionRow) -> Option<&str> {
        match self {
            Self::Staff => session.staff_id.as_deref(),
            Self::Contact => session.contact_id.as_deref(),
        }
    }
}

/// A fresh token pair.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
    /// Seconds until the session ends.
    pub refresh_expires_in: u64,
}

/// What the password step answers: tokens, or for two-factor accounts a challenge.
#[derive(Debug)]
pub enum SignIn {
    Tokens(Tokens),
    Challenge(Challenge),
}

/// What a sign-in form sends; the email is normalised here, so a malformed one is simply
/// a wrong one.
#[derive(Debug)]
pub struct Credentials {
    pub firm: String,
    pub email: String,
    pub password: String,
}

fn invalid_credentials() -> AppError {
    AppError::Unauthenticated { code: "invalid_credentials", detail: "the firm, email or password is wrong" }
}

/// Checks the password, counting failures towards the account's lockout, and opens a
/// session, or for an account with (or required to have) two-factor sign-in a challenge
/// for the code step. Every refusal is audited.
#[tracing::instrument(skip_all, fields(kind = ?kind))]
pub fn login(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    keys: &TokenKeys,
    kind: AccountKind,
    given: &Credentials,
) -> AppResult<SignIn> {
    let slug = given.firm.trim().to_lowercase();
    let email = EmailAddress::parse(&given.email).map(String::from).unwrap_or_default();
    let Some(firm) = firms::find_by_slug(conn, &slug)? else {
        password::verify_against_nothing(&given.password);
        return Err(invalid_credentials());
    };
    let account = kind.find(conn, &firm.id, &email)?;
    let credential = match &account {
        Some((id, _)) => credentials::find(conn, id)?,
        None => None,
    };
    let fail = |conn: &mut DbConnection, account_id: Option<&str>, reason: &str| {
        let entry = Entry::failure("auth.login", account_id.map(|id| (kind.actor_kind().as_str(), id)))
            .with_details(serde_json::json!({ "email": email, "reason": reason }));
        write_tx(conn, |conn| audit::record_as(conn, origin, &firm.id, kind.actor_kind(), account_id, entry))
    };
    let (Some((account_id, disabled)), Some(credential)) = (account, credential) else {
        password::verify_against_nothing(&given.password);
        fail(conn, None, "unknown_account")?;
        return Err(invalid_credentials());
    };
    let now = vestibule_storage::now();
    if let Some(until) = credential.locked_until.filter(|until| *until > now) {
        fail(conn, Some(&account_id), "locked")?;
        let retry_after_secs = u64::try_from((until - now).num_seconds()).unwrap_or(1).max(1);
        return Err(AppError::TooManyRequests {
            retry_after_secs,
            detail: "too many failed logins; the account is locked for a while",
        });
    }
    if !password::verify(&credential.password_hash, &given.password) {
        let lock_until = now + Duration::from_std(settings.lockout_duration).unwrap_or(Duration::minutes(15));
        credentials::record_failure(conn, &account_id, settings.lockout_threshold, lock_until)?;
        fail(conn, Some(&account_id), "wrong_password")?;
        return Err(invalid_credentials());
    }
    if disabled {
        fail(conn, Some(&account_id), "disabled")?;
        return Err(AppError::Forbidden("this account is disabled".to_owned()));
    }
    if matches!(kind, AccountKind::Contact)
        && let Err(refused) = portal_gate(conn, &firm.id, &account_id)
    {
        fail(conn, Some(&account_id), "portal_unavailable")?;
        return Err(refused);
    }
    let second_step = if two_factor::is_enabled(conn, &firm.id, &account_id)? {
        Some(Purpose::Verify)
    } else if kind.two_factor_required(&firm) {
        Some(Purpose::Enrol)
    } else {
        None
    };
    if let Some(purpose) = second_step {
        let challenge = write_tx(conn, |conn| {
            credentials::record_success(conn, &account_id)?;
            challenge::open(conn, kind, &firm.id, &account_id, purpose)
        })?;
        return Ok(SignIn::Challenge(challenge));
    }
    let refresh_token = secrets::new_refresh_token();
    let session = write_tx(conn, |conn| {
        credentials::record_success(conn, &account_id)?;
        open_session(conn, settings, origin, kind, &firm.id, &account_id, &secrets::digest(&refresh_token))
    })?;
    token_pair(settings, keys, kind, &account_id, &session, refresh_token).map(SignIn::Tokens)
}

/// Whether a contact may use the portal now; when not, a refusal that says why (not
/// registered, disabled, or an expired temporary portal).
pub fn portal_gate(conn: &mut DbConnection, firm_id: &str, contact_id: &str) -> AppResult<()> {
    let Some(portal) = portals::for_contact(conn, firm_id, contact_id)? else {
        return Err(AppError::Refused { code: "no_portal", detail: "this contact has no portal" });
    };
    let status = PortalStatus::of(&portal.status, portal.disabled_at, portal.expires_at, vestibule_storage::now());
    match unavailable(status) {
        Some((code, detail)) => Err(AppError::Refused { code, detail }),
        None => Ok(()),
    }
}

/// Starts a session for an account that just proved who it is, and records the sign-in.
/// Call inside a write transaction.
pub(crate) fn open_session(
    conn: &mut DbConnection,
    settings: &Settings,
    origin: &Origin,
    kind: AccountKind,
    firm_id: &str,
    account_id: &str,
    refresh_digest: &str,
) -> AppResult<SessionRow> {
    let now = vestibule_storage::now();
    let session = SessionRow {
        id: SessionId::generate().into(),
        firm_id: firm_id.to_owned(),
        staff_id: matches!(kind, AccountKind::Staff).then(|| account_id.to_owned()),
        contact_id: matches!(kind, AccountKind::Contact).then(|| account_id.to_owned()),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        created_at: now,
        expires_at: now + Duration::from_std(settings.refresh_token_ttl).unwrap_or(Duration::days(30)),
        revoked_at: None,
        last_used_at: Some(now),
    };
    new_device::alert_if_new(conn, settings, origin, kind, firm_id, account_id)?;
    sessions::create(conn, &session, refresh_digest)?;
    let entry = Entry::success("auth.login", kind.actor_kind().as_str(), account_id)
        .with_details(serde_json::json!({ "session_id": session.id }));
    audit::record_as(conn, origin, firm_id, kind.actor_kind(), Some(account_id), entry)?;
    Ok(session)
}

/// Exchanges a refresh token for a new pair. A token used twice ends its session (it was
/// probably stolen), and the reuse is audited.
#[tracing::instrument(skip_all, fields(kind = ?kind))]
pub fn refresh(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    keys: &TokenKeys,
    kind: AccountKind,
    refresh_token: &str,
) -> AppResult<Tokens> {
    let new_token = secrets::new_refresh_token();
    let old_digest = secrets::digest(refresh_token.trim());
    let rotation = write_tx(conn, |conn| {
        let rotation = sessions::rotate(conn, &old_digest, &secrets::digest(&new_token), vestibule_storage::now())?;
        if let Rotation::Reused(session) = &rotation {
            let owner = session.staff_id.as_deref().or(session.contact_id.as_deref());
            let entry = Entry::failure("auth.refresh_token_reused", Some(("session", &session.id)))
                .with_details(serde_json::json!({}));
            audit::record_as(conn, origin, &session.firm_id, kind.actor_kind(), owner, entry)?;
        }
        Ok::<_, AppError>(rotation)
    })?;
    let session = match rotation {
        Rotation::Rotated(session) if kind.is_active(conn, &session)? => session,
        Rotation::Reused(_) => {
            return Err(AppError::Unauthenticated {
                code: "refresh_token_reused",
                detail: "this refresh token was already used; the session has been ended, sign in again",
            });
        }
        Rotation::Rotated(_) | Rotation::Invalid => return Err(AppError::invalid_token()),
    };
    let account_id = kind.account_of(&session).ok_or_else(AppError::invalid_token)?.to_owned();
    token_pair(settings, keys, kind, &account_id, &session, new_token)
}

/// The session behind the caller's access token: API keys have none.
fn session_of(principal: &Principal) -> AppResult<&SessionId> {
    match principal {
        Principal::Staff(p) => Ok(&p.session_id),
        Principal::Contact(p) => Ok(&p.session_id),
        Principal::Integration(_) => Err(AppError::Forbidden("API keys have no session".to_owned())),
    }
}

/// Ends the session behind the current access token; its refresh token stops working too.
#[tracing::instrument(skip_all)]
pub fn logout(conn: &mut DbConnection, ctx: &Context) -> AppResult<()> {
    let session_id = session_of(&ctx.principal)?;
    write_tx(conn, |conn| {
        sessions::revoke(conn, session_id.as_str(), vestibule_storage::now())?;
        let (kind, id) = ctx.principal.actor();
        audit::record(conn, ctx, Entry::success("auth.logout", kind.as_str(), id))?;
        Ok(())
    })
}

/// The signed-in staff member and their firm.
#[tracing::instrument(skip_all)]
pub fn me(conn: &mut DbConnection, me: &StaffPrincipal) -> AppResult<(StaffRow, FirmRow)> {
    let member = staff::get(conn, me.firm_id.as_str(), me.staff_id.as_str())?;
    let firm = firms::get(conn, me.firm_id.as_str())?;
    Ok((member, firm))
}

/// Changes the signed-in staff member's password; every other session of theirs ends, the
/// current one stays.
#[tracing::instrument(skip_all)]
pub fn change_password(conn: &mut DbConnection, ctx: &Context, current: &str, new: &NewPassword) -> AppResult<()> {
    let Principal::Staff(me) = &ctx.principal else {
        return Err(AppError::Forbidden("only staff members signed in with a password may do this".to_owned()));
    };
    let stored = credentials::find(conn, me.staff_id.as_str())?.ok_or_else(AppError::invalid_token)?;
    if !password::verify(&stored.password_hash, current) {
        return Err(AppError::field("/current_password", "wrong_password", "is not your current password"));
    }
    let hash = password::hash(new.expose())?;
    write_tx(conn, |conn| {
        credentials::set_password(conn, me.firm_id.as_str(), me.staff_id.as_str(), &hash)?;
        let ended =
            sessions::revoke_all_except(conn, me.staff_id.as_str(), me.session_id.as_str(), vestibule_storage::now())?;
        let entry = Entry::success("auth.password_changed", "staff", me.staff_id.as_str())
            .with_details(serde_json::json!({ "other_sessions_ended": ended }));
        audit::record(conn, ctx, entry)?;
        Ok(())
    })
}

pub(crate) fn token_pair(
    settings: &Settings,
    keys: &TokenKeys,
    kind: AccountKind,
    account_id: &str,
    session: &SessionRow,
    refresh_token: String,
) -> AppResult<Tokens> {
    let ttl = settings.access_token_ttl;
    let access_token = keys.issue(TokenUse::Access, kind.audience(), account_id, &session.firm_id, &session.id, ttl)?;
    Ok(Tokens {
        access_token,
        expires_in: ttl.as_secs(),
        refresh_token,
        refresh_expires_in: seconds_until(session.expires_at),
    })
}

fn seconds_until(at: NaiveDateTime) -> u64 {
    u64::try_from((at - vestibule_storage::now()).num_seconds()).unwrap_or(0)
}
