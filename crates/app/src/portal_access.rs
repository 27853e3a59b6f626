//! Giving contacts access: the steps shared by portal management, invites from the settings
//! and invites from invoice emails, so each rule exists once.

use chrono::NaiveDateTime;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ContactId, InvitationId, PortalGrantId, PortalId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::portal::{InvitationSource, PortalKind, PortalStatus};
use vestibule_domain::principal::{ContactPrincipal, Principal};
use vestibule_storage::contacts::{self, ContactRow};
use vestibule_storage::invitations::{self, InvitationRow};
use vestibule_storage::portals::{self, GrantRow, PortalRow};
use vestibule_storage::{DbConnection, outbox};

use crate::audit::{self, Entry};
use crate::context::{Context, Settings};
use crate::error::{AppError, AppResult};
use crate::{events, secrets};

fn staff_id(principal: &Principal) -> Option<String> {
    match principal {
        Principal::Staff(staff) => Some(staff.staff_id.to_string()),
        _ => None,
    }
}

/// The contact's portal; a new `invited` one of `kind` when there is none yet.
pub fn ensure_portal(
    conn: &mut DbConnection,
    ctx: &Context,
    contact: &ContactRow,
    kind: PortalKind,
    expires_at: Option<NaiveDateTime>,
) -> AppResult<(PortalRow, bool)> {
    if let Some(existing) = portals::for_contact(conn, &contact.firm_id, &contact.id)? {
        return Ok((existing, false));
    }
    let now = vestibule_storage::now();
    let row = PortalRow {
        id: PortalId::generate().into(),
        firm_id: contact.firm_id.clone(),
        contact_id: contact.id.clone(),
        kind: kind.as_str().to_owned(),
        expires_at: expires_at.filter(|_| kind == PortalKind::Temporary),
        status: PortalStatus::Invited.as_str().to_owned(),
        created_by: staff_id(&ctx.principal),
        activated_at: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    portals::insert(conn, &row)?;
    let entry =
        Entry::success("portal.created", "portal", &row.id).with_details(serde_json::json!({ "kind": row.kind }));
    audit::record(conn, ctx, entry)?;
    Ok((row, true))
}

/// Grants the portal a client or a matter (the caller checked it may see it).
pub fn grant(
    conn: &mut DbConnection,
    ctx: &Context,
    portal: &PortalRow,
    client_id: Option<&str>,
    matter_id: Option<&str>,
) -> AppResult<GrantRow> {
    let row = GrantRow {
        id: PortalGrantId::generate().into(),
        firm_id: portal.firm_id.clone(),
        portal_id: portal.id.clone(),
        client_id: client_id.map(str::to_owned),
        matter_id: matter_id.map(str::to_owned),
        granted_by: staff_id(&ctx.principal),
        created_at: vestibule_storage::now(),
    };
    Ok(portals::add_grant(conn, &row)?)
}

/// Who is invited to what, and why (`settings`, `portal` or `invoice`).
#[derive(Clone, Copy)]
pub struct Invitee<'a> {
    pub portal: &'a PortalRow,
    pub contact: &'a ContactRow,
    pub client_id: Option<&'a str>,
    pub source: InvitationSource,
}

/// Sends an invitation to the contact's address: earlier open invitations stop working, the
/// new one-time link travels only inside the email (its digest is what is stored).
#[tracing::instrument(skip_all, fields(portal_id = %invitee.portal.id))]
pub fn invite(conn: &mut DbConnection, ctx: &Context, invitee: Invitee<'_>) -> AppResult<InvitationRow> {
    let Invitee { portal, contact, client_id, source } = invitee;
    let email = contact
        .email
        .clone()
        .ok_or_else(|| AppError::field("/contact_id", "no_email", "the contact has no email address to invite"))?;
    if portal.activated_at.is_some() {
        return Err(AppError::conflict(
            "portal_already_active",
            "the contact has registered already; no invitation is needed",
        ));
    }
    let now = vestibule_storage::now();
    invitations::revoke_open(conn, &portal.id, now)?;
    let token = secrets::random_secret();
    let ttl = chrono::Duration::from_std(ctx.settings.invitation_ttl).unwrap_or(chrono::Duration::days(7));
    let row = InvitationRow {
        id: InvitationId::generate().into(),
        firm_id: portal.firm_id.clone(),
        portal_id: portal.id.clone(),
        contact_id: contact.id.clone(),
        client_id: client_id.map(str::to_owned),
        email,
        token_hash: secrets::digest(&token),
        source: source.as_str().to_owned(),
        invited_by: staff_id(&ctx.principal),
        created_at: now,
        expires_at: now + ttl,
        last_sent_at: now,
        accepted_at: None,
        revoked_at: None,
    };
    invitations::insert(conn, &row)?;
    send_invitation(conn, &ctx.settings, &row, &token)?;
    let entry = Entry::success("invitation.sent", "invitation", &row.id)
        .with_details(serde_json::json!({ "portal_id": portal.id, "source": source.as_str() }));
    audit::record(conn, ctx, entry)?;
    Ok(row)
}

/// Queues the invitation email with a link carrying `token`.
pub fn send_invitation(
    conn: &mut DbConnection,
    settings: &Settings,
    invitation: &InvitationRow,
    token: &str,
) -> AppResult<()> {
    let event = events::publish(conn, &invitation.firm_id, EventType::PortalInvited, &invitation.portal_id)?;
    let link = settings.link(&format!("/portal/accept-invitation?token={token}"));
    let email = Email::PortalInvited(mail::Invitation { link, expires_at: invitation.expires_at.and_utc() });
    outbox::queue_email(conn, &event, &invitation.email, &email)?;
    Ok(())
}

/// The contact with this address, or a new contact of `client_id` with `names` (required
/// then, at `/first_name`): invites from the settings and from invoice emails name people
/// by address.
pub fn contact_by_email(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    email: &str,
    names: Option<(String, String)>,
) -> AppResult<ContactRow> {
    if let Some(existing) = contacts::find_by_email(conn, firm_id, email)? {
        return Ok(existing);
    }
    let (first_name, last_name) =
        names.ok_or_else(|| AppError::field("/first_name", "required", "a new contact needs a first and last name"))?;
    let now = vestibule_storage::now();
    let row = ContactRow {
        id: ContactId::generate().into(),
        firm_id: firm_id.to_owned(),
        external_id: None,
        first_name,
        last_name,
        email: Some(email.to_owned()),
        phone: None,
        client_id: Some(client_id.to_owned()),
        staff_id: None,
        office_id: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    contacts::insert(conn, &row)?;
    Ok(row)
}

/// The portal of the signed-in contact.
pub fn portal_of(conn: &mut DbConnection, me: &ContactPrincipal) -> AppResult<String> {
    Ok(portals::for_contact(conn, me.firm_id.as_str(), me.contact_id.as_str())?.ok_or(AppError::NotFound)?.id)
}
