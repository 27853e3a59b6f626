//! A contact's password: set the first time by accepting an invitation, later by a reset
//! link. Both are one-time links whose token only the email carries.

use vestibule_domain::audit::ActorKind;
use vestibule_domain::email::EmailAddress;
use vestibule_domain::events::EventType;
use vestibule_domain::invitation::Closed;
use vestibule_domain::mail::{self, Email};
use vestibule_domain::password::NewPassword;
use vestibule_domain::portal::{PortalStatus, unavailable};
use vestibule_storage::{DbConnection, contacts, credentials, firms, invitations, outbox, portals, sessions, write_tx};

use super::sign_in::{AccountKind, Tokens, open_session, portal_gate, token_pair};
use super::tokens::TokenKeys;
use crate::audit::{self, Entry};
use crate::context::{Origin, Settings};
use crate::error::{AppError, AppResult};
use crate::{events, password, secrets};

const RESET_TTL: chrono::Duration = chrono::Duration::hours(1);

/// Registers the invited contact: sets the password, activates the portal, queues the
/// welcome email and signs the contact in. The link works once.
#[tracing::instrument(skip_all)]
pub fn accept_invitation(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    keys: &TokenKeys,
    token: &str,
    new_password: &NewPassword,
) -> AppResult<Tokens> {
    // Hashing is slow by design: before the transaction, not holding its locks.
    let hash = password::hash(new_password.expose())?;
    let refresh_token = secrets::new_refresh_token();
    let token_digest = secrets::digest(token.trim());
    let (contact_id, session) = write_tx(conn, |conn| {
        let now = vestibule_storage::now();
        let invitation = invitations::find_by_token(conn, &token_digest)?.ok_or(AppError::NotFound)?;
        invitation.state().acceptable(now)?;
        let portal = portals::get(conn, &invitation.firm_id, &invitation.portal_id)?;
        let status = PortalStatus::of("active", portal.disabled_at, portal.expires_at, now);
        if let Some((code, detail)) = unavailable(status) {
            return Err(AppError::Refused { code, detail });
        }
        if !invitations::accept(conn, &invitation.id, now)? {
            return Err(Closed::Used.into());
        }
        credentials::set_password(conn, &invitation.firm_id, &invitation.contact_id, &hash)?;
        portals::activate(conn, &portal.id, now)?;
        let entry = Entry::success("portal.activated", "portal", &portal.id)
            .with_details(serde_json::json!({ "invitation_id": invitation.id }));
        let contact = Some(invitation.contact_id.as_str());
        audit::record_as(conn, origin, &invitation.firm_id, ActorKind::Contact, contact, entry)?;
        let event = events::publish(conn, &invitation.firm_id, EventType::PortalActivated, &portal.id)?;
        let content = Email::PortalActivated(mail::Welcome { link: settings.link("/portal") });
        outbox::queue_email(conn, &event, &invitation.email, &content)?;
        let digest = secrets::digest(&refresh_token);
        let session = open_session(
            conn,
            settings,
            origin,
            AccountKind::Contact,
            &invitation.firm_id,
            &invitation.contact_id,
            &digest,
        )?;
        Ok((invitation.contact_id, session))
    })?;
    token_pair(settings, keys, AccountKind::Contact, &contact_id, &session, refresh_token)
}

/// Emails a one-time reset link to a registered portal contact; for any other address it
/// does nothing, and says nothing, so the answer reveals no account.
#[tracing::instrument(skip_all)]
pub fn request_password_reset(
    conn: &mut DbConnection,
    origin: &Origin,
    settings: &Settings,
    firm: &str,
    email: &str,
) -> AppResult<()> {
    let Some(firm) = firms::find_by_slug(conn, firm.trim())? else { return Ok(()) };
    let email = EmailAddress::parse(email).map(String::from).unwrap_or_default();
    let Some(contact) = contacts::find_by_email(conn, &firm.id, &email)? else { return Ok(()) };
    if contact.disabled_at.is_some() || portal_gate(conn, &firm.id, &contact.id).is_err() {
        return Ok(());
    }
    let token = secrets::random_secret();
    let now = vestibule_storage::now();
    write_tx(conn, |conn| {
        invitations::create_reset(conn, &firm.id, &contact.id, &secrets::digest(&token), now, now + RESET_TTL)?;
        let event = events::publish(conn, &firm.id, EventType::PortalPasswordReset, &contact.id)?;
        let link = settings.link(&format!("/portal/reset-password?token={token}"));
        outbox::queue_email(conn, &event, &email, &Email::PortalPasswordReset(mail::PasswordReset { link }))?;
        let entry = Entry::success("auth.password_reset_requested", "contact", &contact.id);
        audit::record_as(conn, origin, &firm.id, ActorKind::Contact, Some(&contact.id), entry)?;
        Ok(())
    })
}

/// Sets a new password with a reset link's token (valid one hour, once); every session of
/// the contact ends.
#[tracing::instrument(skip_all)]
pub fn confirm_password_reset(
    conn: &mut DbConnection,
    origin: &Origin,
    token: &str,
    new_password: &NewPassword,
) -> AppResult<()> {
    let hash = password::hash(new_password.expose())?;
    let digest = secrets::digest(token.trim());
    write_tx(conn, |conn| {
        let now = vestibule_storage::now();
        let (firm_id, contact_id) = invitations::use_reset(conn, &digest, now)?.ok_or(AppError::Gone {
            code: "reset_link_invalid",
            detail: "this reset link is unknown, used or expired; ask for a new one",
        })?;
        credentials::set_password(conn, &firm_id, &contact_id, &hash)?;
        sessions::revoke_all_of(conn, &contact_id, now)?;
        let entry = Entry::success("auth.password_reset", "contact", &contact_id);
        audit::record_as(conn, origin, &firm_id, ActorKind::Contact, Some(&contact_id), entry)?;
        Ok(())
    })
}
