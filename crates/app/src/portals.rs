//! Client portals, managed by staff with the portal permission (seed 000): a full or
//! temporary portal for a contact, its grants of clients and matters, disabling it; and
//! what a signed-in contact's own portal shows.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, ContactId, MatterId, PortalGrantId, PortalId};
use vestibule_domain::portal::{InvitationSource, PortalKind, PortalStatus};
use vestibule_domain::principal::{ContactPrincipal, Principal};
use vestibule_storage::contacts::{self, ContactRow};
use vestibule_storage::invitations::InvitationRow;
use vestibule_storage::portals::{self, GrantRow, PortalFilter, PortalRow, Visible};
use vestibule_storage::{DbConnection, clients, matters, sessions, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::page::Listed;
use crate::portal_access::{self, Invitee};

/// A portal with its contact and grants, and its status now.
#[derive(Debug)]
pub struct PortalRecord {
    pub row: PortalRow,
    pub status: PortalStatus,
    /// `None` only if the contact vanished between two reads.
    pub contact: Option<ContactRow>,
    pub grants: Vec<GrantRow>,
}

/// What to grant: exactly one of the two, else 422 `one_of`.
#[derive(Debug, Clone, Default)]
pub struct GrantTarget {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
}

/// A portal to create; `expires_at` already checked with `domain::portal::expiry`.
#[derive(Debug)]
pub struct NewPortal {
    pub contact_id: ContactId,
    pub kind: PortalKind,
    pub expires_at: Option<NaiveDateTime>,
    pub grants: Vec<GrantTarget>,
    /// Email the contact an invitation to register.
    pub invite: bool,
}

/// Whether a portal can be used; disabling signs the contact out everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Disabled,
    Enabled,
}

impl Availability {
    fn action(self) -> &'static str {
        match self {
            Self::Disabled => "portal.disabled",
            Self::Enabled => "portal.enabled",
        }
    }
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &PortalFilter,
    page: &Page,
) -> AppResult<Listed<PortalRecord>> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    let now = vestibule_storage::now();
    let rows = portals::list(conn, ctx.firm_id(), filter, now, page.after.as_deref(), page.limit)?;
    let Listed { items, next_cursor } = Listed::finish(page, rows, |r| r.id.clone());
    Ok(Listed { items: describe(conn, items)?, next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &PortalId) -> AppResult<PortalRecord> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    let row = portals::get(conn, ctx.firm_id(), id.as_str())?;
    describe_one(conn, row)
}

/// Creates the contact's portal with its grants and, when asked, invites the contact. A
/// contact has at most one portal: 409 `portal_exists` names it otherwise.
#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: &NewPortal) -> AppResult<PortalRecord> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    write_tx(conn, |conn| {
        let contact = contacts::get(conn, ctx.firm_id(), new.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        for (index, target) in new.grants.iter().enumerate() {
            check_target(conn, &ctx.principal, target, &format!("/grants/{index}"))?;
        }
        let (portal, created) = portal_access::ensure_portal(conn, ctx, &contact, new.kind, new.expires_at)?;
        if !created {
            return Err(AppError::conflict(
                "portal_exists",
                format!("the contact already has portal {}; use it", portal.id),
            ));
        }
        for target in &new.grants {
            grant_target(conn, ctx, &portal, target)?;
        }
        if new.invite {
            let client = contact.client_id.clone();
            let invitee = Invitee {
                portal: &portal,
                contact: &contact,
                client_id: client.as_deref(),
                source: InvitationSource::Portal,
            };
            portal_access::invite(conn, ctx, invitee)?;
        }
        describe_one(conn, portal)
    })
}

/// Makes a temporary portal full, or changes a temporary portal's expiry.
#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &PortalId,
    kind: PortalKind,
    expires_at: Option<NaiveDateTime>,
) -> AppResult<PortalRecord> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    write_tx(conn, |conn| {
        let row = portals::set_kind(conn, ctx.firm_id(), id.as_str(), kind.as_str(), expires_at)?;
        audit::record(conn, ctx, Entry::success("portal.updated", "portal", id.as_str()))?;
        describe_one(conn, row)
    })
}

/// Disables a portal (the contact is signed out everywhere and cannot sign in) or enables
/// it again.
#[tracing::instrument(skip(conn, ctx))]
pub fn set_availability(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &PortalId,
    target: Availability,
) -> AppResult<PortalRecord> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    write_tx(conn, |conn| {
        let now = vestibule_storage::now();
        let disabled_at = (target == Availability::Disabled).then_some(now);
        let row = portals::set_disabled(conn, ctx.firm_id(), id.as_str(), disabled_at)?;
        let mut entry = Entry::success(target.action(), "portal", id.as_str());
        if target == Availability::Disabled {
            sessions::revoke_all_of(conn, &row.contact_id, now)?;
            entry = entry.publishes(EventType::PortalDisabled);
        }
        audit::record(conn, ctx, entry)?;
        describe_one(conn, row)
    })
}

/// Gives the portal access to a client (with its matters) or to one matter.
#[tracing::instrument(skip(conn, ctx))]
pub fn add_grant(conn: &mut DbConnection, ctx: &Context, id: &PortalId, target: &GrantTarget) -> AppResult<GrantRow> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    write_tx(conn, |conn| {
        let portal = portals::get(conn, ctx.firm_id(), id.as_str())?;
        check_target(conn, &ctx.principal, target, "")?;
        let grant = grant_target(conn, ctx, &portal, target)?;
        let entry = Entry::success("portal.granted", "portal", id.as_str())
            .with_details(serde_json::json!({ "client_id": grant.client_id, "matter_id": grant.matter_id }));
        audit::record(conn, ctx, entry)?;
        Ok(grant)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn remove_grant(
    conn: &mut DbConnection,
    ctx: &Context,
    portal_id: &PortalId,
    grant_id: &PortalGrantId,
) -> AppResult<()> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    write_tx(conn, |conn| {
        portals::remove_grant(conn, ctx.firm_id(), portal_id.as_str(), grant_id.as_str())?;
        let entry = Entry::success("portal.grant_removed", "portal", portal_id.as_str())
            .with_details(serde_json::json!({ "grant_id": grant_id }));
        audit::record(conn, ctx, entry)?;
        Ok(())
    })
}

/// Emails the contact a (new) invitation; earlier links stop working.
#[tracing::instrument(skip(conn, ctx))]
pub fn invite(conn: &mut DbConnection, ctx: &Context, id: &PortalId) -> AppResult<InvitationRow> {
    authorize(&ctx.principal, Action::ManagePortals)?;
    write_tx(conn, |conn| {
        let portal = portals::get(conn, ctx.firm_id(), id.as_str())?;
        let contact = contacts::get(conn, ctx.firm_id(), &portal.contact_id)?;
        let client = contact.client_id.clone();
        let invitee = Invitee {
            portal: &portal,
            contact: &contact,
            client_id: client.as_deref(),
            source: InvitationSource::Portal,
        };
        portal_access::invite(conn, ctx, invitee)
    })
}

/// The signed-in contact, their portal and what it grants.
#[derive(Debug)]
pub struct MyPortal {
    pub contact: ContactRow,
    pub portal: PortalRow,
    pub status: PortalStatus,
    pub visible: Visible,
}

#[tracing::instrument(skip_all)]
pub fn mine(conn: &mut DbConnection, me: &ContactPrincipal) -> AppResult<MyPortal> {
    let firm_id = me.firm_id.as_str();
    let contact = contacts::get(conn, firm_id, me.contact_id.as_str())?;
    let portal = portals::for_contact(conn, firm_id, &contact.id)?.ok_or(AppError::NotFound)?;
    let visible = portals::visible(conn, &portal.id)?;
    let status = status_now(&portal);
    Ok(MyPortal { contact, portal, status, visible })
}

fn status_now(row: &PortalRow) -> PortalStatus {
    PortalStatus::of(&row.status, row.disabled_at, row.expires_at, vestibule_storage::now())
}

fn grant_target(
    conn: &mut DbConnection,
    ctx: &Context,
    portal: &PortalRow,
    target: &GrantTarget,
) -> AppResult<GrantRow> {
    let client = target.client_id.as_ref().map(ClientId::as_str);
    let matter = target.matter_id.as_ref().map(MatterId::as_str);
    portal_access::grant(conn, ctx, portal, client, matter)
}

/// Checks a grant target against what the caller may see: a restricted matter can only be
/// granted by its members and the firm's admins, like any other use of it.
fn check_target(conn: &mut DbConnection, principal: &Principal, target: &GrantTarget, pointer: &str) -> AppResult<()> {
    let firm_id = principal.firm_id().as_str();
    const UNKNOWN: &str = "no such record visible to you";
    match (&target.client_id, &target.matter_id) {
        (Some(client), None) => {
            if !clients::exists(conn, firm_id, client.as_str())? {
                return Err(AppError::field(&format!("{pointer}/client_id"), "unknown_reference", UNKNOWN));
            }
        }
        (None, Some(matter)) => {
            matters::get(conn, firm_id, matter.as_str(), &matter_visibility(principal))
                .or_unknown(&format!("{pointer}/matter_id"), UNKNOWN)?;
        }
        _ => return Err(AppError::field(pointer, "one_of", "name exactly one of client_id and matter_id")),
    }
    Ok(())
}

/// Portals with their grants and contacts, in three queries for a whole page.
pub fn describe(conn: &mut DbConnection, rows: Vec<PortalRow>) -> AppResult<Vec<PortalRecord>> {
    let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
    let mut grants: HashMap<String, Vec<GrantRow>> = HashMap::new();
    for grant in portals::grants(conn, &ids)? {
        grants.entry(grant.portal_id.clone()).or_default().push(grant);
    }
    let contact_ids: Vec<String> = rows.iter().map(|p| p.contact_id.clone()).collect();
    let people: HashMap<String, ContactRow> =
        contacts::by_ids(conn, &contact_ids)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    Ok(rows
        .into_iter()
        .map(|row| PortalRecord {
            status: status_now(&row),
            contact: people.get(&row.contact_id).cloned(),
            grants: grants.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

pub fn describe_one(conn: &mut DbConnection, row: PortalRow) -> AppResult<PortalRecord> {
    describe(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}
