//! Invites from the settings (seed 004): owners and admins invite a contact, chosen or
//! entered by email, to the portal of the client it pertains to; and see, resend or revoke
//! invites.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{ClientId, ContactId, InvitationId};
use vestibule_domain::portal::{InvitationSource, PortalKind};
use vestibule_storage::invitations::{self, InvitationFilter, InvitationRow};
use vestibule_storage::{DbConnection, clients, contacts, portals, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown, invitation_closed};
use crate::page::Listed;
use crate::portal_access::{self, Invitee};

/// Who is invited: a contact chosen from the list, or one entered by address (found, or
/// created with the names).
#[derive(Debug)]
pub enum Whom {
    Contact(ContactId),
    Email { email: String, names: Option<(String, String)> },
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &InvitationFilter,
    page: &Page,
) -> AppResult<Listed<InvitationRow>> {
    authorize(&ctx.principal, Action::InviteFromSettings)?;
    let rows = invitations::list(conn, ctx.firm_id(), filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &InvitationId) -> AppResult<InvitationRow> {
    authorize(&ctx.principal, Action::InviteFromSettings)?;
    Ok(invitations::get(conn, ctx.firm_id(), id.as_str())?)
}

/// Invites the contact to the client's portal: a full portal granting the client if the
/// contact has none, and an email with a one-time link.
#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, client_id: &ClientId, whom: Whom) -> AppResult<InvitationRow> {
    authorize(&ctx.principal, Action::InviteFromSettings)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        if !clients::exists(conn, firm_id, client_id.as_str())? {
            return Err(AppError::field("/client_id", "unknown_reference", "no such client in this firm"));
        }
        let contact = match whom {
            Whom::Contact(id) => {
                contacts::get(conn, firm_id, id.as_str()).or_unknown("/contact_id", "no such contact in this firm")?
            }
            Whom::Email { email, names } => {
                portal_access::contact_by_email(conn, firm_id, client_id.as_str(), &email, names)?
            }
        };
        let (portal, _) = portal_access::ensure_portal(conn, ctx, &contact, PortalKind::Full, None)?;
        portal_access::grant(conn, ctx, &portal, Some(client_id.as_str()), None)?;
        let invitee = Invitee {
            portal: &portal,
            contact: &contact,
            client_id: Some(client_id.as_str()),
            source: InvitationSource::Settings,
        };
        portal_access::invite(conn, ctx, invitee)
    })
}

/// Sends a pending or expired invitation again: a new one, with a new link and expiry,
/// replaces it.
#[tracing::instrument(skip(conn, ctx))]
pub fn resend(conn: &mut DbConnection, ctx: &Context, id: &InvitationId) -> AppResult<InvitationRow> {
    authorize(&ctx.principal, Action::InviteFromSettings)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let old = invitations::get(conn, firm_id, id.as_str())?;
        old.state().open().map_err(|_| invitation_closed())?;
        let portal = portals::get(conn, firm_id, &old.portal_id)?;
        let contact = contacts::get(conn, firm_id, &old.contact_id)?;
        let invitee = Invitee {
            portal: &portal,
            contact: &contact,
            client_id: old.client_id.as_deref(),
            source: InvitationSource::from_stored(&old.source),
        };
        portal_access::invite(conn, ctx, invitee)
    })
}

/// Withdraws an invitation: its link stops working.
#[tracing::instrument(skip(conn, ctx))]
pub fn revoke(conn: &mut DbConnection, ctx: &Context, id: &InvitationId) -> AppResult<InvitationRow> {
    authorize(&ctx.principal, Action::InviteFromSettings)?;
    write_tx(conn, |conn| {
        invitations::get(conn, ctx.firm_id(), id.as_str())?.state().open().map_err(|_| invitation_closed())?;
        if !invitations::revoke(conn, ctx.firm_id(), id.as_str(), vestibule_storage::now())? {
            return Err(invitation_closed());
        }
        let row = invitations::get(conn, ctx.firm_id(), id.as_str())?;
        audit::record(conn, ctx, Entry::success("invitation.revoked", "invitation", id.as_str()))?;
        Ok(row)
    })
}
