//! Two-factor sign-in with an authenticator app (TOTP, RFC 6238, by `totp-rs`), the same for
//! staff and contacts: enrolment, confirmation with a first code, recovery codes, disabling,
//! and resets by staff. A code is accepted once: its time step must be later than the last
//! accepted one.

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use rand::rngs::OsRng;
use totp_rs::{Builder, Secret, Totp};
use vestibule_domain::authz::{may_manage_own_sign_in, may_reset_contact_sign_in, may_reset_staff_sign_in};
use vestibule_domain::ids::StaffId;
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::StaffRole;
use vestibule_storage::sealing::SecretKeys;
use vestibule_storage::{DbConnection, contacts, credentials, firms, staff, two_factor, write_tx};

use super::sign_in::AccountKind;
use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::{password, secrets};

/// How long a started enrolment waits for its first code.
pub const ENROLMENT_TTL: Duration = Duration::minutes(10);
const RECOVERY_CODES: usize = 10;

/// A started enrolment: what the authenticator app needs, shown once.
#[derive(Debug)]
pub struct Enrolment {
    /// Base32, for typing into an app.
    pub secret: String,
    /// `otpauth://totp/<Firm>:<email>?secret=…&issuer=…`, for a QR code.
    pub otpauth_uri: String,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug)]
pub struct Status {
    pub enabled: bool,
    pub confirmed_at: Option<NaiveDateTime>,
    /// A started enrolment that still waits for its first code, until when.
    pub pending_until: Option<NaiveDateTime>,
    pub recovery_codes_left: i64,
}

/// How a person proves it is them when turning two-factor sign-in off.
#[derive(Debug)]
pub enum Proof {
    Code(String),
    Password(String),
}

/// The account a signed-in person speaks for: kind, firm and id.
pub(crate) fn own_account(principal: &Principal) -> AppResult<(AccountKind, &str, &str)> {
    may_manage_own_sign_in(principal)?;
    match principal {
        Principal::Staff(me) => Ok((AccountKind::Staff, me.firm_id.as_str(), me.staff_id.as_str())),
        Principal::Contact(me) => Ok((AccountKind::Contact, me.firm_id.as_str(), me.contact_id.as_str())),
        Principal::Integration(_) => Err(AppError::Forbidden("API keys have no sign-in of their own".to_owned())),
    }
}

fn unix_seconds(at: NaiveDateTime) -> u64 {
    u64::try_from(at.and_utc().timestamp()).unwrap_or(0)
}

fn totp(secret: &str, issuer: &str, account: &str) -> AppResult<Totp> {
    let bytes = Secret::try_from_base32(secret).map_err(|_| anyhow::anyhow!("stored TOTP secret is not base32"))?;
    // The otpauth label separates issuer and account with a colon: neither may hold one.
    Builder::new()
        .with_secret(bytes.as_bytes().to_vec())
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP parameters rejected: {e}").into())
}

fn wrong_code() -> AppError {
    AppError::field("/code", "wrong_code", "is not the current code of your authenticator app")
}

fn code_used() -> AppError {
    AppError::field("/code", "code_used", "was used already; wait for the next code")
}

/// Outcome of checking a code against an account's authenticator.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    Accepted,
    Wrong,
    /// Right, but its time step was accepted before.
    Used,
}

/// Checks a code and, when right, takes its time step (and confirms a pending enrolment).
/// Call inside a write transaction.
pub(crate) fn check_code(
    conn: &mut DbConnection,
    keys: &SecretKeys,
    firm_id: &str,
    owner_id: &str,
    code: &str,
    confirming: bool,
) -> AppResult<CodeCheck> {
    let Some(secret) = two_factor::secret_of(conn, keys, firm_id, owner_id)? else { return Ok(CodeCheck::Wrong) };
    let now = vestibule_storage::now();
    let Some(step) = totp(&secret, "-", "-")?.check(code.trim(), unix_seconds(now)) else {
        return Ok(CodeCheck::Wrong);
    };
    let step = i64::try_from(step).map_err(|_| anyhow::anyhow!("time step out of range"))?;
    Ok(if two_factor::accept_step(conn, owner_id, step, confirming.then_some(now))? {
        CodeCheck::Accepted
    } else {
        CodeCheck::Used
    })
}

/// Uses up a recovery code of the account: whether it was one.
pub(crate) fn use_recovery_code(conn: &mut DbConnection, owner_id: &str, code: &str) -> AppResult<bool> {
    Ok(two_factor::use_recovery_code(conn, owner_id, &recovery_digest(owner_id, code))?)
}

/// Recovery codes are hashed with their owner, so the same code means nothing elsewhere;
/// dashes and case are ignored, as people type them.
fn recovery_digest(owner_id: &str, code: &str) -> String {
    let normal: String = code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    secrets::digest(&format!("{owner_id}:{normal}"))
}

/// Ten fresh codes of 80 random bits (`xxxx-xxxx-xxxx-xxxx`, base32), replacing the old.
pub(crate) fn new_recovery_codes(conn: &mut DbConnection, firm_id: &str, owner_id: &str) -> AppResult<Vec<String>> {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0_u8; 10];
            OsRng.fill_bytes(&mut bytes);
            let plain = Secret::from(bytes.to_vec()).to_base32().to_lowercase();
            plain.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|code| recovery_digest(owner_id, code)).collect();
    two_factor::replace_recovery_codes(conn, firm_id, owner_id, &hashes, vestibule_storage::now())?;
    Ok(codes)
}

/// Starts (or restarts) an enrolment of an account without a confirmed authenticator.
pub(crate) fn start_for(
    conn: &mut DbConnection,
    keys: &SecretKeys,
    kind: AccountKind,
    firm_id: &str,
    owner_id: &str,
) -> AppResult<Enrolment> {
    let firm = firms::get(conn, firm_id)?;
    let account = match kind {
        AccountKind::Staff => staff::get(conn, firm_id, owner_id)?.email,
        AccountKind::Contact => contacts::get(conn, firm_id, owner_id)?.email.unwrap_or_else(|| owner_id.to_owned()),
    };
    let mut bytes = [0_u8; 20];
    OsRng.fill_bytes(&mut bytes);
    let secret = Secret::from(bytes.to_vec()).to_base32();
    let otpauth_uri = totp(&secret, &firm.name, &account)?.to_url().map_err(|e| anyhow::anyhow!("otpauth URI: {e}"))?;
    let now = vestibule_storage::now();
    let expires_at = now + ENROLMENT_TTL;
    write_tx(conn, |conn| {
        if two_factor::is_enabled(conn, firm_id, owner_id)? {
            return Err(AppError::conflict(
                "two_factor_enabled",
                "two-factor sign-in is on already; turn it off first to set up another app",
            ));
        }
        two_factor::start(conn, keys, firm_id, owner_id, &secret, now, expires_at)?;
        Ok(())
    })?;
    Ok(Enrolment { secret, otpauth_uri, expires_at })
}

/// Confirms a pending enrolment with its first code; returns the recovery codes. Call
/// inside a write transaction.
pub(crate) fn confirm_for(
    conn: &mut DbConnection,
    keys: &SecretKeys,
    firm_id: &str,
    owner_id: &str,
    code: &str,
) -> AppResult<Vec<String>> {
    let pending = two_factor::find(conn, firm_id, owner_id)?.ok_or_else(|| {
        AppError::conflict("no_enrolment", "no enrolment was started; start one and scan its QR code first")
    })?;
    if pending.confirmed_at.is_some() {
        return Err(AppError::conflict("two_factor_enabled", "two-factor sign-in is on already"));
    }
    if pending.pending_expires_at <= vestibule_storage::now() {
        return Err(AppError::Gone {
            code: "enrolment_expired",
            detail: "this enrolment expired after 10 minutes; start a new one",
        });
    }
    match check_code(conn, keys, firm_id, owner_id, code, true)? {
        CodeCheck::Accepted => new_recovery_codes(conn, firm_id, owner_id),
        CodeCheck::Wrong => Err(wrong_code()),
        CodeCheck::Used => Err(code_used()),
    }
}

#[tracing::instrument(skip_all)]
pub fn status(conn: &mut DbConnection, ctx: &Context) -> AppResult<Status> {
    let (_, firm_id, owner_id) = own_account(&ctx.principal)?;
    let row = two_factor::find(conn, firm_id, owner_id)?;
    let now = vestibule_storage::now();
    Ok(Status {
        enabled: row.as_ref().is_some_and(|r| r.confirmed_at.is_some()),
        confirmed_at: row.as_ref().and_then(|r| r.confirmed_at),
        pending_until: row
            .filter(|r| r.confirmed_at.is_none() && r.pending_expires_at > now)
            .map(|r| r.pending_expires_at),
        recovery_codes_left: two_factor::recovery_codes_left(conn, owner_id)?,
    })
}

/// Starts setting up an authenticator app for the caller.
#[tracing::instrument(skip_all)]
pub fn start(conn: &mut DbConnection, ctx: &Context) -> AppResult<Enrolment> {
    let (kind, firm_id, owner_id) = own_account(&ctx.principal)?;
    start_for(conn, &ctx.settings.secret_keys, kind, firm_id, owner_id)
}

/// Turns two-factor sign-in on with the first code of the app; returns the recovery codes,
/// shown this once.
#[tracing::instrument(skip_all)]
pub fn confirm(conn: &mut DbConnection, ctx: &Context, code: &str) -> AppResult<Vec<String>> {
    let (kind, firm_id, owner_id) = own_account(&ctx.principal)?;
    write_tx(conn, |conn| {
        let codes = confirm_for(conn, &ctx.settings.secret_keys, firm_id, owner_id, code)?;
        audit::record(conn, ctx, Entry::success("auth.two_factor_enabled", kind.target_kind(), owner_id))?;
        Ok(codes)
    })
}

/// Turns two-factor sign-in off, with a current code or the password.
#[tracing::instrument(skip_all)]
pub fn disable(conn: &mut DbConnection, ctx: &Context, proof: &Proof) -> AppResult<()> {
    let (kind, firm_id, owner_id) = own_account(&ctx.principal)?;
    if !two_factor::is_enabled(conn, firm_id, owner_id)? {
        return Err(AppError::conflict("two_factor_disabled", "two-factor sign-in is off already"));
    }
    if let Proof::Password(given) = proof {
        let stored = credentials::find(conn, owner_id)?.ok_or_else(AppError::invalid_token)?;
        if !password::verify(&stored.password_hash, given) {
            return Err(AppError::field("/password", "wrong_password", "is not your password"));
        }
    }
    write_tx(conn, |conn| {
        if let Proof::Code(code) = proof {
            match check_code(conn, &ctx.settings.secret_keys, firm_id, owner_id, code, false)? {
                CodeCheck::Accepted => {}
                CodeCheck::Wrong => return Err(wrong_code()),
                CodeCheck::Used => return Err(code_used()),
            }
        }
        two_factor::remove(conn, owner_id)?;
        audit::record(conn, ctx, Entry::success("auth.two_factor_disabled", kind.target_kind(), owner_id))?;
        Ok(())
    })
}

/// New recovery codes for the caller, after a current code; the old ones stop working.
#[tracing::instrument(skip_all)]
pub fn regenerate_recovery_codes(conn: &mut DbConnection, ctx: &Context, code: &str) -> AppResult<Vec<String>> {
    let (kind, firm_id, owner_id) = own_account(&ctx.principal)?;
    write_tx(conn, |conn| {
        if !two_factor::is_enabled(conn, firm_id, owner_id)? {
            return Err(AppError::conflict("two_factor_disabled", "two-factor sign-in is off"));
        }
        match check_code(conn, &ctx.settings.secret_keys, firm_id, owner_id, code, false)? {
            CodeCheck::Accepted => {}
            CodeCheck::Wrong => return Err(wrong_code()),
            CodeCheck::Used => return Err(code_used()),
        }
        let codes = new_recovery_codes(conn, firm_id, owner_id)?;
        let entry = Entry::success("auth.recovery_codes_regenerated", kind.target_kind(), owner_id);
        audit::record(conn, ctx, entry)?;
        Ok(codes)
    })
}

/// Removes a staff member's authenticator (a lost phone): they sign in with the password
/// again, or are asked to enrol anew if the firm requires it.
#[tracing::instrument(skip(conn, ctx))]
pub fn reset_staff(conn: &mut DbConnection, ctx: &Context, staff_id: &str) -> AppResult<()> {
    let member = staff::get(conn, ctx.firm_id(), staff_id)?;
    let role = StaffRole::from_stored(&member.role).ok_or_else(|| anyhow::anyhow!("unknown stored role"))?;
    let id = StaffId::from_trusted(member.id.clone());
    may_reset_staff_sign_in(&ctx.principal, (&id, role))?;
    reset(conn, ctx, "staff", &member.id)
}

/// Removes a contact's authenticator, by staff who may change the contact.
#[tracing::instrument(skip(conn, ctx))]
pub fn reset_contact(conn: &mut DbConnection, ctx: &Context, contact_id: &str) -> AppResult<()> {
    may_reset_contact_sign_in(&ctx.principal)?;
    let person = contacts::get(conn, ctx.firm_id(), contact_id)?;
    reset(conn, ctx, "contact", &person.id)
}

fn reset(conn: &mut DbConnection, ctx: &Context, target_kind: &str, owner_id: &str) -> AppResult<()> {
    write_tx(conn, |conn| {
        if !two_factor::remove(conn, owner_id)? {
            return Err(AppError::conflict("two_factor_disabled", "two-factor sign-in is off for this account"));
        }
        audit::record(conn, ctx, Entry::success("auth.two_factor_reset", target_kind, owner_id))?;
        Ok(())
    })
}
