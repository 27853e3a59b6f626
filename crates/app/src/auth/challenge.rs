//! The second step of a two-factor sign-in. A correct password for an account with an
//! authenticator (or one the firm requires to have one) opens a challenge, not a session:
//! an opaque token that only this step accepts, for a few minutes and a few wrong codes.

use chrono::Duration;
use vestibule_storage::login_challenges::{self, ChallengeRow};
use vestibule_storage::{DbConnection, write_tx};

use super::sign_in::{AccountKind, Tokens, open_session, token_pair};
use super::tokens::TokenKeys;
use super::two_factor::{self, CodeCheck, Enrolment};
use crate::audit::{self, Entry};
use crate::context::{Origin, Settings};
use crate::error::{AppError, AppResult};
use crate::secrets;

/// How long the code step waits after the password step (enrolment included).
const CHALLENGE_TTL: Duration = Duration::minutes(10);
/// Wrong codes a challenge survives; the next ends it and the password step starts over.
const MAX_FAILURES: i32 = 5;
pub const CHALLENGE_PREFIX: &str = "vch_";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The account has an authenticator: a code or a recovery code is asked.
    Verify,
    /// The firm requires an authenticator the account lacks: it must enrol first.
    Enrol,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Enrol => "enrol",
        }
    }
}

/// What the password step answers for such an account.
#[derive(Debug)]
pub struct Challenge {
    pub purpose: Purpose,
    pub token: String,
    pub expires_in: u64,
}

/// What the code step takes.
#[derive(Debug)]
pub enum Answer {
    Code(String),
    RecoveryCode(String),
}

/// The tokens of the finished sign-in and, after an enrolment, the new recovery codes.
#[derive(Debug)]
pub struct Completed {
    pub tokens: Tokens,
    pub recovery_codes: Option<Vec<String>>,
}

/// Opens a challenge. Call inside a write transaction.
pub(crate) fn open(
    conn: &mut DbConnection,
    kind: AccountKind,
    firm_id: &str,
    owner_id: &str,
    purpose: Purpose,
) -> AppResult<Challenge> {
    let token = format!("{CHALLENGE_PREFIX}{}", secrets::random_secret());
    let now = vestibule_storage::now();
    login_challenges::create(
        conn,
        &ChallengeRow {
            token_hash: secrets::digest(&token),
            firm_id: firm_id.to_owned(),
            account_kind: kind.target_kind().to_owned(),
            owner_id: owner_id.to_owned(),
            purpose: purpose.as_str().to_owned(),
            failures: 0,
            expires_at: now + CHALLENGE_TTL,
            ended_at: None,
            created_at: now,
        },
    )?;
    let expires_in = u64::try_from(CHALLENGE_TTL.num_seconds()).unwrap_or(0);
    Ok(Challenge { purpose, token, expires_in })
}

fn invalid_challenge() -> AppError {
    AppError::Unauthenticated {
        code: "invalid_challenge",
        detail: "this sign-in challenge is unknown, used, expired or ended after too many wrong codes; sign in again",
    }
}

fn find(conn: &mut DbConnection, kind: AccountKind, token: &str) -> AppResult<ChallengeRow> {
    let digest = secrets::digest(token.trim());
    login_challenges::find_open(conn, &digest, kind.target_kind(), vestibule_storage::now())?
        .ok_or_else(invalid_challenge)
}

/// Starts the enrolment a firm's requirement asks for, on an enrolment challenge.
#[tracing::instrument(skip_all, fields(kind = ?kind))]
pub fn start_enrolment(
    conn: &mut DbConnection,
    settings: &Settings,
    kind: AccountKind,
    token: &str,
) -> AppResult<Enrolment> {
    let challenge = find(conn, kind, token)?;
    if challenge.purpose != Purpose::Enrol.as_str() {
        return Err(AppError::conflict("two_factor_enabled", "this account has an authenticator; send its code"));
    }
    two_factor::start_for(conn, &settings.secret_keys, kind, &challenge.firm_id, &challenge.owner_id)
}

/// What checking an answer came to, decided inside the transaction and acted on after it,
/// so a wrong code is counted even though the step fails.
enum Outcome {
    SignedIn(Completed),
    Refused { ended: bool, used: bool },
}

/// Finishes a sign-in with a code or a recovery code (or, on an enrolment challenge, the
/// first code of the new authenticator): opens the session and issues the token pair.
#[tracing::instrument(skip_all, fields(kind = ?kind))]
pub fn complete(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    keys: &TokenKeys,
    kind: AccountKind,
    token: &str,
    answer: &Answer,
) -> AppResult<Completed> {
    let challenge = find(conn, kind, token)?;
    let (firm_id, owner_id) = (challenge.firm_id.as_str(), challenge.owner_id.as_str());
    let refresh_token = secrets::new_refresh_token();
    let outcome = write_tx(conn, |conn| {
        let now = vestibule_storage::now();
        let (accepted, used, recovery_codes) = match (challenge.purpose.as_str(), answer) {
            ("enrol", Answer::Code(code)) => {
                match two_factor::confirm_for(conn, &settings.secret_keys, firm_id, owner_id, code) {
                    Ok(codes) => {
                        let entry = Entry::success("auth.two_factor_enabled", kind.target_kind(), owner_id);
                        audit::record_as(conn, origin, firm_id, kind.actor_kind(), Some(owner_id), entry)?;
                        (true, false, Some(codes))
                    }
                    Err(AppError::Validation(errors)) => (false, errors.0.iter().any(|e| e.code == "code_used"), None),
                    Err(other) => return Err(other),
                }
            }
            ("enrol", Answer::RecoveryCode(_)) => {
                return Err(AppError::field(
                    "/recovery_code",
                    "no_recovery_codes",
                    "this account has no authenticator yet; send the first code of the new one",
                ));
            }
            (_, Answer::Code(code)) => {
                match two_factor::check_code(conn, &settings.secret_keys, firm_id, owner_id, code, false)? {
                    CodeCheck::Accepted => (true, false, None),
                    CodeCheck::Wrong => (false, false, None),
                    CodeCheck::Used => (false, true, None),
                }
            }
            (_, Answer::RecoveryCode(code)) => {
                let ok = two_factor::use_recovery_code(conn, owner_id, code)?;
                if ok {
                    let entry = Entry::success("auth.recovery_code_used", kind.target_kind(), owner_id);
                    audit::record_as(conn, origin, firm_id, kind.actor_kind(), Some(owner_id), entry)?;
                }
                (ok, false, None)
            }
        };
        if !accepted {
            let ended = login_challenges::record_failure(conn, &challenge.token_hash, MAX_FAILURES, now)?;
            let entry = Entry::failure("auth.two_factor", Some((kind.target_kind(), owner_id)))
                .with_details(serde_json::json!({ "reason": if used { "code_used" } else { "wrong_code" }, "challenge_ended": ended }));
            audit::record_as(conn, origin, firm_id, kind.actor_kind(), Some(owner_id), entry)?;
            return Ok(Outcome::Refused { ended, used });
        }
        if !login_challenges::end(conn, &challenge.token_hash, now)? {
            return Err(invalid_challenge());
        }
        let session = open_session(conn, settings, origin, kind, firm_id, owner_id, &secrets::digest(&refresh_token))?;
        let tokens = token_pair(settings, keys, kind, owner_id, &session, refresh_token.clone())?;
        Ok(Outcome::SignedIn(Completed { tokens, recovery_codes }))
    })?;
    match outcome {
        Outcome::SignedIn(completed) => Ok(completed),
        Outcome::Refused { ended: true, .. } => Err(invalid_challenge()),
        Outcome::Refused { used: true, .. } => Err(AppError::Unauthenticated {
            code: "code_used",
            detail: "this code was used already; wait for the next one",
        }),
        Outcome::Refused { .. } => {
            Err(AppError::Unauthenticated { code: "wrong_code", detail: "the code or recovery code is wrong" })
        }
    }
}
