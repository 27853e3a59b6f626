//! Authorization, in one place. Every handler asks [`authorize`] (or one of the
//! resource-level functions below) before it acts; anything not granted here is denied.

use crate::ids::StaffId;
use crate::payment::MemberPaymentAccess;
use crate::principal::Principal;
use crate::roles::{MatterRole, StaffRole};
use crate::scope::ApiScope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadFirm,
    UpdateFirm,
    ReadStaff,
    ManageStaff,
    ReadOffices,
    ManageOffices,
    ReadClients,
    WriteClients,
    ReadContacts,
    WriteContacts,
    ReadMatters,
    WriteMatters,
    ManageApiKeys,
    ManageWebhooks,
    ManagePortals,
    ReadInvoices,
    WriteInvoices,
    /// Payments and account history; members only as the firm's setting allows
    /// ([`may_handle_payments`]).
    ReadPayments,
    RecordPayments,
    /// Giving money back is for owners and admins (and integrations with the scope).
    RefundPayments,
    InviteFromSettings,
    ReadAudit,
    /// Conversations and their messages (integrations may archive them).
    ReadMessages,
    /// Writing is for people: staff sign what they send.
    SendMessages,
    UseTemplates,
    ManageTemplates,
    ReadDocuments,
    WriteDocuments,
    /// Seed 003: sharing into a client's portal needs the portal permission.
    ShareDocuments,
    /// Asking a contact for documents, and accepting or returning what they upload, works
    /// through the portal: it needs the portal permission, as sharing does.
    RequestDocuments,
    /// Files in quarantine, or that the scanner could not judge, are for owners and admins:
    /// deleting them, having them scanned again (and integrations with `documents:write`).
    ManageQuarantine,
    /// Certificates of completion of signature requests: for whoever may read documents
    /// (the request's document must be visible to them); signers read their own in the portal.
    ReadSignatureCertificates,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub &'static str);

pub fn authorize(principal: &Principal, action: Action) -> Result<(), Denied> {
    match principal {
        Principal::Staff(staff) => staff_may(staff.role, staff.portal_permission, action),
        Principal::Integration(key) => match scope_for(action) {
            Some(scope) if key.scopes.contains(&scope) => Ok(()),
            Some(_) => Err(Denied("the API key lacks the scope this action needs")),
            None => Err(Denied("API keys cannot perform this action")),
        },
        Principal::Contact(_) => Err(Denied("portal contacts cannot perform this action")),
    }
}

fn staff_may(role: StaffRole, portal_permission: bool, action: Action) -> Result<(), Denied> {
    if matches!(action, Action::ManagePortals | Action::ShareDocuments | Action::RequestDocuments) && !portal_permission
    {
        return Err(Denied("managing client portals needs the portal permission"));
    }
    let admin_only = matches!(
        action,
        Action::UpdateFirm
            | Action::ManageStaff
            | Action::ManageOffices
            | Action::ManageApiKeys
            | Action::ManageWebhooks
            | Action::InviteFromSettings
            | Action::ReadAudit
            | Action::ManageTemplates
            | Action::RefundPayments
            | Action::ManageQuarantine
    );
    if admin_only && !role.is_admin() {
        return Err(Denied("only owners and admins may do this"));
    }
    Ok(())
}

fn scope_for(action: Action) -> Option<ApiScope> {
    Some(match action {
        Action::ReadClients => ApiScope::ClientsRead,
        Action::WriteClients => ApiScope::ClientsWrite,
        Action::ReadContacts => ApiScope::ContactsRead,
        Action::WriteContacts => ApiScope::ContactsWrite,
        Action::ReadMatters => ApiScope::MattersRead,
        Action::WriteMatters => ApiScope::MattersWrite,
        Action::ReadStaff => ApiScope::StaffRead,
        Action::ReadOffices => ApiScope::OfficesRead,
        Action::ReadAudit => ApiScope::AuditRead,
        Action::ManageWebhooks => ApiScope::WebhooksManage,
        Action::ManagePortals => ApiScope::PortalsManage,
        Action::ReadInvoices => ApiScope::InvoicesRead,
        Action::WriteInvoices => ApiScope::InvoicesWrite,
        Action::ReadPayments => ApiScope::PaymentsRead,
        Action::RecordPayments | Action::RefundPayments => ApiScope::PaymentsWrite,
        Action::ReadMessages => ApiScope::MessagesRead,
        Action::ReadDocuments | Action::ReadSignatureCertificates => ApiScope::DocumentsRead,
        Action::WriteDocuments | Action::RequestDocuments | Action::ManageQuarantine => ApiScope::DocumentsWrite,
        Action::ReadFirm
        | Action::UpdateFirm
        | Action::ManageStaff
        | Action::ManageOffices
        | Action::ManageApiKeys
        | Action::InviteFromSettings
        | Action::SendMessages
        | Action::ShareDocuments
        | Action::UseTemplates
        | Action::ManageTemplates => {
            return None;
        }
    })
}

/// Payments (seed 004, trust accounting): owners and admins see, record and refund;
/// members see or record them as the firm's setting allows; integrations need the scope.
pub fn may_handle_payments(principal: &Principal, action: Action, members: MemberPaymentAccess) -> Result<(), Denied> {
    authorize(principal, action)?;
    let Principal::Staff(staff) = principal else {
        return Ok(());
    };
    let allowed = staff.role.is_admin()
        || match action {
            Action::ReadPayments => members != MemberPaymentAccess::None,
            Action::RecordPayments => members == MemberPaymentAccess::Record,
            _ => false,
        };
    if allowed { Ok(()) } else { Err(Denied("the firm's settings keep payments to owners and admins")) }
}

/// Which matters a principal can see at all. A restricted matter is visible only to its
/// members and to the firm's owners and admins; an inaccessible matter answers 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatterVisibility {
    All,
    UnrestrictedOrMemberOf(StaffId),
    None,
}

pub fn matter_visibility(principal: &Principal) -> MatterVisibility {
    match principal {
        Principal::Staff(staff) if staff.role.is_admin() => MatterVisibility::All,
        Principal::Staff(staff) => MatterVisibility::UnrestrictedOrMemberOf(staff.staff_id.clone()),
        Principal::Integration(_) => MatterVisibility::All,
        Principal::Contact(_) => MatterVisibility::None,
    }
}

/// The membership a new matter starts with: a staff member who creates it becomes its case
/// handler, so restricting it never locks out the person who opened it. Integrations are
/// nobody's colleague and start none.
pub fn creator_membership(principal: &Principal) -> Option<(&StaffId, MatterRole)> {
    match principal {
        Principal::Staff(me) => Some((&me.staff_id, MatterRole::CaseHandler)),
        _ => None,
    }
}

/// Adding, changing or removing members of a matter: its case handlers and the firm's
/// admins decide who works on it; assistants and non-members may not.
pub fn may_manage_matter_members(
    principal: &Principal,
    caller_role_on_matter: Option<MatterRole>,
) -> Result<(), Denied> {
    authorize(principal, Action::WriteMatters)?;
    match principal {
        Principal::Staff(staff) if staff.role.is_admin() => Ok(()),
        Principal::Staff(_) if caller_role_on_matter == Some(MatterRole::CaseHandler) => Ok(()),
        Principal::Staff(_) => Err(Denied("only the matter's case handlers and the firm's admins manage its members")),
        _ => Ok(()),
    }
}

/// Seed 003: a matter's documents go into a client's portal (shared, or sent for signature)
/// only through its case handlers and assistants, or the firm's owners and admins; always
/// with the portal permission. `role_on_matter` is `None` for documents without a matter
/// too, which need no role.
pub fn may_share_documents(
    principal: &Principal,
    of_matter: bool,
    role_on_matter: Option<MatterRole>,
) -> Result<(), Denied> {
    authorize(principal, Action::ShareDocuments)?;
    on_the_matter(
        principal,
        of_matter,
        role_on_matter,
        "only the matter's case handlers and assistants share its documents",
    )
}

/// Document requests follow sharing: the portal permission, and on a matter a role on it
/// (owners and admins excepted). The same rule covers creating, accepting, returning,
/// reminding and cancelling.
pub fn may_request_documents(
    principal: &Principal,
    of_matter: bool,
    role_on_matter: Option<MatterRole>,
) -> Result<(), Denied> {
    authorize(principal, Action::RequestDocuments)?;
    on_the_matter(
        principal,
        of_matter,
        role_on_matter,
        "only the matter's case handlers and assistants ask for its documents",
    )
}

fn on_the_matter(
    principal: &Principal,
    of_matter: bool,
    role_on_matter: Option<MatterRole>,
    denied: &'static str,
) -> Result<(), Denied> {
    match principal {
        Principal::Staff(staff) if of_matter && !staff.role.is_admin() && role_on_matter.is_none() => {
            Err(Denied(denied))
        }
        _ => Ok(()),
    }
}

/// The staff member a file transfer is sent from (seed 000): anyone with the portal
/// permission sends as themselves; sending as a colleague (who must have it too, and be
/// active) is for owners and admins.
pub fn may_send_files_as(
    principal: &Principal,
    sender: &StaffId,
    sender_active: bool,
    sender_portal_permission: bool,
) -> Result<(), Denied> {
    authorize(principal, Action::ShareDocuments)?;
    let Principal::Staff(me) = principal else {
        return Err(Denied("files are sent by people"));
    };
    if &me.staff_id != sender && !me.role.is_admin() {
        return Err(Denied("only owners and admins send files on behalf of a colleague"));
    }
    if !sender_active || !sender_portal_permission {
        return Err(Denied("the sending staff member must be active and have the portal permission"));
    }
    Ok(())
}

/// Changes to staff accounts: admins manage members and admins; only an owner may create,
/// change or disable an owner; nobody may disable or demote themselves, so a firm can
/// never lock out its last owner by accident.
pub fn may_change_staff(
    principal: &Principal,
    target: Option<(&StaffId, StaffRole)>,
    new_role: Option<StaffRole>,
    disabling: bool,
) -> Result<(), Denied> {
    authorize(principal, Action::ManageStaff)?;
    let Principal::Staff(actor) = principal else {
        return Err(Denied("only staff manage staff"));
    };
    let touches_owner = target.is_some_and(|(_, role)| role == StaffRole::Owner) || new_role == Some(StaffRole::Owner);
    if touches_owner && actor.role != StaffRole::Owner {
        return Err(Denied("only an owner may create, change or disable an owner"));
    }
    if let Some((id, role)) = target {
        let demoting = new_role.is_some_and(|new| new != role);
        if id == &actor.staff_id && (disabling || demoting) {
            return Err(Denied("you cannot disable or change the role of your own account"));
        }
    }
    Ok(())
}

/// Two-factor sign-in and signed-in sessions of one's own account: people only, as an API
/// key signs nobody in.
pub fn may_manage_own_sign_in(principal: &Principal) -> Result<(), Denied> {
    match principal {
        Principal::Staff(_) | Principal::Contact(_) => Ok(()),
        Principal::Integration(_) => Err(Denied("API keys have no sign-in of their own")),
    }
}

/// Resetting a staff member's two-factor sign-in or ending all their sessions: whoever may
/// change their account (owners and admins; an owner's only by an owner). Resetting one's
/// own is allowed: it is what one can do alone with a password too.
pub fn may_reset_staff_sign_in(principal: &Principal, target: (&StaffId, StaffRole)) -> Result<(), Denied> {
    may_change_staff(principal, Some(target), None, false)
}

/// Resetting a contact's two-factor sign-in: staff who may change the contact.
pub fn may_reset_contact_sign_in(principal: &Principal) -> Result<(), Denied> {
    authorize(principal, Action::WriteContacts)?;
    match principal {
        Principal::Staff(_) => Ok(()),
        _ => Err(Denied("only staff reset a contact's two-factor sign-in")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ApiKeyId, FirmId, SessionId};
    use crate::principal::{IntegrationPrincipal, StaffPrincipal};

    fn staff(role: StaffRole) -> Principal {
        Principal::Staff(StaffPrincipal {
            firm_id: FirmId::generate(),
            staff_id: StaffId::generate(),
            session_id: SessionId::generate(),
            role,
            portal_permission: false,
        })
    }

    #[test]
    fn members_cannot_administer_the_firm() {
        let member = staff(StaffRole::Member);
        assert!(authorize(&member, Action::ManageApiKeys).is_err());
        assert!(authorize(&member, Action::ReadAudit).is_err());
        assert!(authorize(&member, Action::WriteClients).is_ok());
    }

    #[test]
    fn the_staff_creator_of_a_matter_becomes_its_case_handler() {
        let member = staff(StaffRole::Member);
        let Principal::Staff(me) = &member else { unreachable!() };
        assert_eq!(creator_membership(&member), Some((&me.staff_id, MatterRole::CaseHandler)));
        let key = Principal::Integration(IntegrationPrincipal {
            firm_id: FirmId::generate(),
            api_key_id: ApiKeyId::generate(),
            scopes: vec![ApiScope::MattersWrite],
        });
        assert_eq!(creator_membership(&key), None);
    }

    #[test]
    fn members_handle_payments_as_the_firm_allows_and_only_admins_refund() {
        let member = staff(StaffRole::Member);
        let admin = staff(StaffRole::Admin);
        use MemberPaymentAccess::{None as Nobody, Record, View};
        assert!(may_handle_payments(&member, Action::ReadPayments, Nobody).is_err());
        assert!(may_handle_payments(&member, Action::ReadPayments, View).is_ok());
        assert!(may_handle_payments(&member, Action::RecordPayments, View).is_err());
        assert!(may_handle_payments(&member, Action::RecordPayments, Record).is_ok());
        assert!(may_handle_payments(&member, Action::RefundPayments, Record).is_err());
        assert!(may_handle_payments(&admin, Action::RefundPayments, Nobody).is_ok());
        let key = Principal::Integration(IntegrationPrincipal {
            firm_id: FirmId::generate(),
            api_key_id: ApiKeyId::generate(),
            scopes: vec![ApiScope::PaymentsRead],
        });
        assert!(may_handle_payments(&key, Action::ReadPayments, Nobody).is_ok());
        assert!(may_handle_payments(&key, Action::RecordPayments, Record).is_err());
    }

    #[test]
    fn api_keys_get_only_their_scopes() {
        let key = Principal::Integration(IntegrationPrincipal {
            firm_id: FirmId::generate(),
            api_key_id: ApiKeyId::generate(),
            scopes: vec![ApiScope::ClientsRead],
        });
        assert!(authorize(&key, Action::ReadClients).is_ok());
        assert!(authorize(&key, Action::WriteClients).is_err());
        assert!(authorize(&key, Action::ManageApiKeys).is_err());
    }

    #[test]
    fn a_matters_documents_are_shared_by_its_members_with_the_portal_permission() {
        let mut member = staff(StaffRole::Member);
        assert!(may_share_documents(&member, false, None).is_err(), "no portal permission");
        if let Principal::Staff(me) = &mut member {
            me.portal_permission = true;
        }
        assert!(may_share_documents(&member, false, None).is_ok());
        assert!(may_share_documents(&member, true, None).is_err());
        assert!(may_share_documents(&member, true, Some(MatterRole::Assistant)).is_ok());
    }

    #[test]
    fn only_admins_send_files_as_a_colleague_who_has_the_portal_permission() {
        let mut member = staff(StaffRole::Member);
        let mut admin = staff(StaffRole::Admin);
        for principal in [&mut member, &mut admin] {
            if let Principal::Staff(me) = principal {
                me.portal_permission = true;
            }
        }
        let Principal::Staff(me) = &member else { unreachable!() };
        let colleague = StaffId::generate();
        assert!(may_send_files_as(&member, &me.staff_id, true, true).is_ok());
        assert!(may_send_files_as(&member, &colleague, true, true).is_err());
        assert!(may_send_files_as(&admin, &colleague, true, true).is_ok());
        assert!(may_send_files_as(&admin, &colleague, true, false).is_err(), "the sender needs the permission");
        assert!(may_send_files_as(&admin, &colleague, false, true).is_err(), "a disabled sender sends nothing");
    }

    #[test]
    fn an_admin_cannot_touch_an_owner_and_nobody_disables_themselves() {
        let admin = staff(StaffRole::Admin);
        let other = StaffId::generate();
        assert!(may_change_staff(&admin, Some((&other, StaffRole::Owner)), None, true).is_err());
        assert!(may_change_staff(&admin, None, Some(StaffRole::Owner), false).is_err());
        let Principal::Staff(me) = &admin else { unreachable!() };
        assert!(may_change_staff(&admin, Some((&me.staff_id, StaffRole::Admin)), None, true).is_err());
        assert!(may_change_staff(&admin, Some((&other, StaffRole::Member)), Some(StaffRole::Admin), false).is_ok());
    }
}
