//! Staff invitations: owners and admins invite a person by email with a role and portal
//! permission set up front; the person chooses their own password by accepting the one-time
//! link, which only the email carries.

use serde_json::json;
use vestibule_domain::audit::ActorKind;
use vestibule_domain::authz::{Action, authorize, may_change_staff};
use vestibule_domain::cursor::Page;
use vestibule_domain::email::EmailAddress;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{StaffId, StaffInvitationId};
use vestibule_domain::invitation::Closed;
use vestibule_domain::mail::{self, Email};
use vestibule_domain::password::NewPassword;
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::StaffRole;
use vestibule_storage::staff::StaffRow;
use vestibule_storage::staff_invitations::{self, StaffInvitationFilter, StaffInvitationRow};
use vestibule_storage::{DbConnection, credentials, outbox, staff, write_tx};

use crate::audit::{self, Entry};
use crate::context::{Context, Origin, Settings};
use crate::error::{AppError, AppResult, invitation_closed};
use crate::page::Listed;
use crate::{events, password, secrets};

/// Who is invited, values already validated.
#[derive(Debug)]
pub struct NewInvitation {
    pub email: EmailAddress,
    pub name: String,
    pub role: StaffRole,
    pub portal_permission: bool,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &StaffInvitationFilter,
    page: &Page,
) -> AppResult<Listed<StaffInvitationRow>> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    let now = vestibule_storage::now();
    let rows = staff_invitations::list(conn, ctx.firm_id(), filter, now, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &StaffInvitationId) -> AppResult<StaffInvitationRow> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    Ok(staff_invitations::get(conn, ctx.firm_id(), id.as_str())?)
}

/// Invites a person; only an owner may invite an owner. Earlier open invitations to the
/// same address stop working.
#[tracing::instrument(skip_all, fields(role = new.role.as_str()))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewInvitation) -> AppResult<StaffInvitationRow> {
    may_change_staff(&ctx.principal, None, Some(new.role), false)?;
    write_tx(conn, |conn| {
        let email = String::from(new.email);
        if staff::find_by_email(conn, ctx.firm_id(), &email)?.is_some() {
            return Err(email_taken());
        }
        let row = send(conn, ctx, email, new.name, new.role.as_str().to_owned(), new.portal_permission)?;
        let entry = Entry::success("staff_invitation.sent", "staff_invitation", &row.id)
            .with_details(json!({ "role": row.role, "portal_permission": row.portal_permission }));
        audit::record(conn, ctx, entry)?;
        Ok(row)
    })
}

/// Sends a pending or expired invitation again: a new invitation with a new link and expiry
/// replaces it, and the old link stops working.
#[tracing::instrument(skip(conn, ctx))]
pub fn resend(conn: &mut DbConnection, ctx: &Context, id: &StaffInvitationId) -> AppResult<StaffInvitationRow> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    write_tx(conn, |conn| {
        let old = staff_invitations::get(conn, ctx.firm_id(), id.as_str())?;
        may_change_staff(&ctx.principal, None, Some(role_of(&old)), false)?;
        old.state().open().map_err(|_| invitation_closed())?;
        let row = send(conn, ctx, old.email, old.name, old.role, old.portal_permission)?;
        let entry = Entry::success("staff_invitation.resent", "staff_invitation", &row.id)
            .with_details(json!({ "replaces": old.id }));
        audit::record(conn, ctx, entry)?;
        Ok(row)
    })
}

/// Withdraws an invitation: its link stops working.
#[tracing::instrument(skip(conn, ctx))]
pub fn revoke(conn: &mut DbConnection, ctx: &Context, id: &StaffInvitationId) -> AppResult<StaffInvitationRow> {
    authorize(&ctx.principal, Action::ManageStaff)?;
    write_tx(conn, |conn| {
        let current = staff_invitations::get(conn, ctx.firm_id(), id.as_str())?;
        may_change_staff(&ctx.principal, None, Some(role_of(&current)), false)?;
        current.state().open().map_err(|_| invitation_closed())?;
        if !staff_invitations::revoke(conn, ctx.firm_id(), id.as_str(), vestibule_storage::now())? {
            return Err(invitation_closed());
        }
        let row = staff_invitations::get(conn, ctx.firm_id(), id.as_str())?;
        audit::record(conn, ctx, Entry::success("staff_invitation.revoked", "staff_invitation", id.as_str()))?;
        Ok(row)
    })
}

/// Creates the invited member with the password they chose; the link works once. The
/// person then signs in as usual.
#[tracing::instrument(skip_all)]
pub fn accept(
    conn: &mut DbConnection,
    origin: &Origin,
    token: &str,
    new_password: &NewPassword,
) -> AppResult<StaffRow> {
    // Hashing is slow by design: before the transaction, not holding its locks.
    let hash = password::hash(new_password.expose())?;
    let token_digest = secrets::digest(token.trim());
    write_tx(conn, |conn| {
        let now = vestibule_storage::now();
        let invitation = staff_invitations::find_by_token(conn, &token_digest)?.ok_or(AppError::NotFound)?;
        invitation.state().acceptable(now)?;
        if staff::find_by_email(conn, &invitation.firm_id, &invitation.email)?.is_some() {
            return Err(email_taken());
        }
        let member = StaffRow {
            id: StaffId::generate().into(),
            firm_id: invitation.firm_id.clone(),
            email: invitation.email.clone(),
            name: invitation.name.clone(),
            role: invitation.role.clone(),
            portal_permission: invitation.portal_permission,
            office_id: None,
            disabled_at: None,
            created_at: now,
            updated_at: now,
        };
        staff::insert(conn, &member)?;
        if !staff_invitations::accept(conn, &invitation.id, &member.id, now)? {
            return Err(Closed::Used.into());
        }
        credentials::set_password(conn, &member.firm_id, &member.id, &hash)?;
        let entry = Entry::success("staff_invitation.accepted", "staff", &member.id)
            .with_details(json!({ "invitation_id": invitation.id, "role": member.role }));
        audit::record_as(conn, origin, &member.firm_id, ActorKind::Staff, Some(&member.id), entry)?;
        Ok(member)
    })
}

fn send(
    conn: &mut DbConnection,
    ctx: &Context,
    email: String,
    name: String,
    role: String,
    portal_permission: bool,
) -> AppResult<StaffInvitationRow> {
    let now = vestibule_storage::now();
    let firm_id = ctx.firm_id();
    staff_invitations::revoke_open(conn, firm_id, &email, now)?;
    let token = secrets::random_secret();
    let ttl = chrono::Duration::from_std(ctx.settings.invitation_ttl).unwrap_or(chrono::Duration::days(7));
    let row = StaffInvitationRow {
        id: StaffInvitationId::generate().into(),
        firm_id: firm_id.to_owned(),
        email,
        name,
        role,
        portal_permission,
        token_hash: secrets::digest(&token),
        invited_by: match &ctx.principal {
            Principal::Staff(me) => Some(me.staff_id.to_string()),
            _ => None,
        },
        staff_id: None,
        created_at: now,
        expires_at: now + ttl,
        accepted_at: None,
        revoked_at: None,
    };
    staff_invitations::insert(conn, &row)?;
    queue_email(conn, &ctx.settings, &row, &token)?;
    Ok(row)
}

fn queue_email(conn: &mut DbConnection, settings: &Settings, row: &StaffInvitationRow, token: &str) -> AppResult<()> {
    let event = events::publish(conn, &row.firm_id, EventType::StaffInvited, &row.id)?;
    let link = settings.link(&format!("/staff/accept-invitation?token={token}"));
    let email = Email::StaffInvited(mail::Invitation { link, expires_at: row.expires_at.and_utc() });
    outbox::queue_email(conn, &event, &row.email, &email)?;
    Ok(())
}

fn role_of(row: &StaffInvitationRow) -> StaffRole {
    StaffRole::from_stored(&row.role).unwrap_or(StaffRole::Member)
}

fn email_taken() -> AppError {
    AppError::conflict("email_taken", "this email address is already in use in this firm")
}
