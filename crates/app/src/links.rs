//! Seed 002's access links, recipient side, without an account: opening a link by its
//! token, the security code check that opens a short-lived link session, and the session
//! itself. A link that does not open is `link_unavailable` whatever the reason; a wrong code
//! says only that it was wrong.

use chrono::{Duration, NaiveDateTime};
use serde_json::json;
use vestibule_domain::access_link::{LinkKind, LinkUse, MAX_FAILED_CODES, normalize_code, told_of_link};
use vestibule_domain::audit::ActorKind;
use vestibule_domain::mail::{self, Email};
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_storage::access_links::{self, Link};
use vestibule_storage::staff::StaffRow;
use vestibule_storage::{DbConnection, StorageError, clients, firms, outbox, staff, write_tx};

use crate::audit::{self, Entry};
use crate::context::{Origin, Settings};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::link_secret::{LINK_TOKEN_PREFIX, LinkSecret, new_session_token};
use crate::notifications::{self, Notice};
use crate::secrets;

/// How long a correct code keeps the link open without asking again.
pub const SESSION_MINUTES: i64 = 15;

/// The uniform answer for a link that does not open, whatever the reason: unknown,
/// disabled, expired or locked.
pub fn unavailable() -> AppError {
    AppError::Gone {
        code: "link_unavailable",
        detail: "this link is not available (it may have expired or been disabled); ask the firm for a new one",
    }
}

fn ensure_opens(link: &Link) -> AppResult<()> {
    if link.status(vestibule_storage::now()).opens() { Ok(()) } else { Err(unavailable()) }
}

/// The link of a presented URL token, if it opens now.
fn open(conn: &mut DbConnection, token: &str) -> AppResult<Link> {
    if !token.starts_with(LINK_TOKEN_PREFIX) {
        return Err(unavailable());
    }
    let link = access_links::by_token_hash(conn, &secrets::digest(token)).map_err(|e| match e {
        StorageError::NotFound => unavailable(),
        other => other.into(),
    })?;
    ensure_opens(&link)?;
    Ok(link)
}

/// The link of a live session (by its token's SHA-256), if the link opens now.
#[tracing::instrument(skip_all)]
pub fn session_link(conn: &mut DbConnection, session_digest: &str) -> AppResult<Link> {
    let link = access_links::session_link(conn, session_digest, vestibule_storage::now()).map_err(|e| match e {
        StorageError::NotFound => AppError::invalid_token(),
        other => other.into(),
    })?;
    ensure_opens(&link)?;
    Ok(link)
}

/// Whether the link's kind allows this use of its session.
pub fn allowed(link: &Link, use_: LinkUse) -> AppResult<()> {
    LinkKind::from_stored(&link.row.kind)
        .allows(use_)
        .map_err(|detail| AppError::Refused { code: "wrong_link_kind", detail })
}

/// A link that opens, with the firm's display name: what the landing page may show.
pub struct Opened {
    pub link: Link,
    pub firm_name: String,
}

fn opened(conn: &mut DbConnection, link: Link) -> AppResult<Opened> {
    let firm_name = firms::get(conn, &link.row.firm_id)?.email_display_name;
    Ok(Opened { link, firm_name })
}

/// The landing page's facts, before the code.
#[tracing::instrument(skip_all)]
pub fn landing(conn: &mut DbConnection, token: &str) -> AppResult<Opened> {
    let link = open(conn, token)?;
    opened(conn, link)
}

/// A link session a correct code opened.
pub struct Session {
    /// Shown to the recipient this once; only its digest is stored.
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub opened: Opened,
}

/// Checks the security code and opens a link session. A wrong code is `invalid_code`; the
/// fifth wrong one in a row locks the link until the firm regenerates the code, and the
/// firm is told.
#[tracing::instrument(skip_all)]
pub fn start_session(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    links: &LinkSecret,
    token: &str,
    code: &str,
) -> AppResult<Session> {
    // A wrong code is refused after the transaction commits its count, audit and lock.
    write_tx(conn, |conn| {
        let link = open(conn, token)?;
        let id = link.row.id.clone();
        let firm_id = link.row.firm_id.clone();
        // Counted before the check, under the row's lock: concurrent guesses wait their turn.
        let guard = access_links::reserve_attempt(conn, &id)?.ok_or_else(unavailable)?;
        let now = vestibule_storage::now();
        let right = normalize_code(code).is_some_and(|code| links.code_matches(&id, &code, &guard.code_hash))
            && access_links::accept_code(conn, &id, &guard.code_hash, now)?;
        if !right {
            let failures = json!({ "failed_attempts": guard.failed_attempts });
            let entry = Entry::failure("access_link.code_failed", Some(("access_link", &id)));
            anonymous(conn, origin, &firm_id, entry.with_details(failures.clone()))?;
            if guard.failed_attempts >= MAX_FAILED_CODES && access_links::lock(conn, &id, now)? {
                let entry = Entry::success("access_link.locked", "access_link", &id);
                anonymous(conn, origin, &firm_id, entry.with_details(failures))?;
                notify_staff(conn, settings, &link, Email::AccessLinkLocked)?;
            }
            return Ok(Err(AppError::Unauthenticated { code: "invalid_code", detail: "the security code is wrong" }));
        }
        let session = new_session_token();
        let expires_at = now + Duration::minutes(SESSION_MINUTES);
        access_links::start_session(conn, &link.row, &secrets::digest(&session), expires_at)?;
        anonymous(conn, origin, &firm_id, Entry::success("access_link.opened", "access_link", &id))?;
        Ok::<_, AppError>(Ok(Session { token: session, expires_at, opened: opened(conn, link)? }))
    })?
}

/// Records what someone without an account did with a link.
fn anonymous(conn: &mut DbConnection, origin: &Origin, firm_id: &str, entry: Entry<'_>) -> AppResult<()> {
    audit::record_as(conn, origin, firm_id, ActorKind::Anonymous, None, entry)?;
    Ok(())
}

/// Publishes the event of `email` about the link, and emails and notifies in the app those on
/// staff who hear of it.
/// Given the email's variant rather than an event type, so that the event published is the
/// one the email is about.
pub(crate) fn notify_staff(
    conn: &mut DbConnection,
    settings: &Settings,
    link: &Link,
    email: impl FnOnce(mail::LinkAlert) -> Email,
) -> AppResult<()> {
    let firm_id = link.row.firm_id.as_str();
    let client = clients::get(conn, firm_id, &link.row.client_id)?;
    let content = email(mail::LinkAlert {
        link: settings.link(&format!("/access-links/{}", link.row.id)),
        kind: LinkKind::from_stored(&link.row.kind),
        client_name: client.row.name.clone(),
    });
    let event = events::publish(conn, firm_id, content.event_type(), &link.row.id)?;
    let told: Vec<StaffRow> = staff::with_access(conn, firm_id, link.row.matter_id.as_deref())?
        .into_iter()
        .filter(|member| told_of_link(&member.id, &link.row.created_by, &client.assignees))
        .collect();
    for member in &told {
        outbox::queue_email(conn, &event, &member.email, &content)?;
    }
    let kind = match content {
        Email::AccessLinkLocked(_) => NotificationKind::LinkLocked,
        _ => NotificationKind::UploadReceived,
    };
    let notice = Notice::new(kind, &link.row.client_id, (SubjectType::AccessLink, &link.row.id));
    notifications::notify(conn, firm_id, notifications::to_staff(&told), notice)
}
