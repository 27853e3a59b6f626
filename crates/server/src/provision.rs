//! Creating firms and their owners outside the API (the API has no sign-up): the admin
//! command, the demo seed and the test harness all go through here.

use anyhow::{Context, bail};
use vestibule_domain::email::EmailAddress;
use vestibule_domain::ids::{ClientId, ContactId, FirmId, MatterId, StaffId, TemplateId};
use vestibule_domain::password::NewPassword;
use vestibule_domain::roles::{ClientKind, MatterRole, StaffRole};
use vestibule_domain::text;
use vestibule_storage::clients::ClientRow;
use vestibule_storage::contacts::ContactRow;
use vestibule_storage::firms::FirmRow;
use vestibule_storage::matters::{MatterRow, MemberRow};
use vestibule_storage::staff::StaffRow;
use vestibule_storage::templates::TemplateRow;
use vestibule_storage::{
    DbConnection, audit, clients, contacts, credentials, firms, matters, staff, templates, write_tx,
};

#[derive(Debug, Clone)]
pub struct NewFirm {
    pub slug: String,
    pub name: String,
    pub owner_email: String,
    pub owner_name: String,
    pub owner_password: String,
}

#[derive(Debug, Clone)]
pub struct Provisioned {
    pub firm_id: FirmId,
    pub owner_id: StaffId,
    pub slug: String,
    pub owner_email: String,
}

/// Creates a firm with its owner, whose password is set, and records it in the audit log.
pub fn create_firm(conn: &mut DbConnection, new: &NewFirm) -> anyhow::Result<Provisioned> {
    let slug = text::slug(&new.slug).map_err(|e| anyhow::anyhow!("slug: {}", e.detail))?;
    let name = text::required(&new.name, 200).map_err(|e| anyhow::anyhow!("name: {}", e.detail))?;
    let email = EmailAddress::parse(&new.owner_email).map_err(|e| anyhow::anyhow!("owner email: {}", e.detail))?;
    let owner_name = text::required(&new.owner_name, 200).map_err(|e| anyhow::anyhow!("owner name: {}", e.detail))?;
    let password =
        NewPassword::parse(&new.owner_password).map_err(|e| anyhow::anyhow!("owner password: {}", e.detail))?;
    let hash = vestibule_app::password::hash(password.expose())?;
    if firms::find_by_slug(conn, &slug)?.is_some() {
        bail!("a firm with slug `{slug}` already exists");
    }
    let now = vestibule_storage::now();
    let firm = FirmRow {
        id: FirmId::generate().into(),
        slug: slug.clone(),
        name: name.clone(),
        email_display_name: name,
        thread_notification_policy: vestibule_domain::roles::ThreadNotificationPolicy::Assignees.as_str().to_owned(),
        default_link_expiry_days: 14,
        upload_limit_bytes: 100 * 1024 * 1024,
        member_payment_access: vestibule_domain::payment::MemberPaymentAccess::Record.as_str().to_owned(),
        reminder_policy: vestibule_domain::reminder::ReminderPolicy::default().to_stored(),
        created_at: now,
        updated_at: now,
        require_two_factor_staff: false,
        require_two_factor_contacts: false,
        new_device_alerts: true,
    };
    let owner = StaffRow {
        id: StaffId::generate().into(),
        firm_id: firm.id.clone(),
        email: email.to_string(),
        name: owner_name,
        role: StaffRole::Owner.as_str().to_owned(),
        portal_permission: true,
        office_id: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    write_tx(conn, |conn| {
        firms::insert(conn, &firm)?;
        staff::insert(conn, &owner)?;
        credentials::set_password(conn, &firm.id, &owner.id, &hash)?;
        audit::append(
            conn,
            &audit::NewAuditEvent {
                firm_id: firm.id.clone(),
                actor_kind: vestibule_domain::audit::ActorKind::System.as_str().to_owned(),
                action: "firm.created".to_owned(),
                target_kind: Some("firm".to_owned()),
                target_id: Some(firm.id.clone()),
                outcome: "success".to_owned(),
                details: serde_json::json!({ "owner_id": owner.id }).to_string(),
                ..Default::default()
            },
        )?;
        Ok::<_, vestibule_storage::StorageError>(())
    })
    .context("storing the firm")?;
    Ok(Provisioned {
        firm_id: FirmId::from_trusted(firm.id),
        owner_id: StaffId::from_trusted(owner.id),
        slug,
        owner_email: email.into(),
    })
}

/// A staff member with a password set by an administrator: the API only invites staff, who
/// choose their own passwords.
#[derive(Debug, Clone)]
pub struct NewStaffMember {
    pub firm_slug: String,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub portal_permission: bool,
    pub password: String,
}

/// Creates a staff member of an existing firm, and records it in the audit log.
pub fn create_staff(conn: &mut DbConnection, new: &NewStaffMember) -> anyhow::Result<StaffId> {
    let email = EmailAddress::parse(&new.email).map_err(|e| anyhow::anyhow!("email: {}", e.detail))?;
    let name = text::required(&new.name, 200).map_err(|e| anyhow::anyhow!("name: {}", e.detail))?;
    let password = NewPassword::parse(&new.password).map_err(|e| anyhow::anyhow!("password: {}", e.detail))?;
    let hash = vestibule_app::password::hash(password.expose())?;
    let Some(firm) = firms::find_by_slug(conn, new.firm_slug.trim())? else {
        bail!("no firm with slug `{}`", new.firm_slug);
    };
    let email = String::from(email);
    if staff::find_by_email(conn, &firm.id, &email)?.is_some() {
        bail!("`{email}` is already a staff member of `{}`", firm.slug);
    }
    let now = vestibule_storage::now();
    let member = StaffRow {
        id: StaffId::generate().into(),
        firm_id: firm.id.clone(),
        email,
        name,
        role: new.role.as_str().to_owned(),
        portal_permission: new.portal_permission,
        office_id: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    write_tx(conn, |conn| {
        staff::insert(conn, &member)?;
        credentials::set_password(conn, &firm.id, &member.id, &hash)?;
        audit::append(
            conn,
            &audit::NewAuditEvent {
                firm_id: firm.id.clone(),
                actor_kind: vestibule_domain::audit::ActorKind::System.as_str().to_owned(),
                action: "staff.created".to_owned(),
                target_kind: Some("staff".to_owned()),
                target_id: Some(member.id.clone()),
                outcome: "success".to_owned(),
                details: serde_json::json!({ "role": member.role, "by": "cli" }).to_string(),
                ..Default::default()
            },
        )?;
        Ok::<_, vestibule_storage::StorageError>(())
    })
    .context("storing the staff member")?;
    Ok(StaffId::from_trusted(member.id))
}

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.vestibule.test";
/// Documented in the README; the demo firm is for trying the API locally only.
pub const DEMO_OWNER_PASSWORD: &str = "vestibule-demo-owner";

/// Creates the demo firm with a few clients, matters and contacts, unless it exists.
/// Returns whether it was created.
pub fn seed_demo(conn: &mut DbConnection) -> anyhow::Result<bool> {
    if firms::find_by_slug(conn, DEMO_SLUG)?.is_some() {
        return Ok(false);
    }
    let firm = create_firm(
        conn,
        &NewFirm {
            slug: DEMO_SLUG.to_owned(),
            name: "Harbor & Finch Legal (demo)".to_owned(),
            owner_email: DEMO_OWNER_EMAIL.to_owned(),
            owner_name: "Olivia Owner".to_owned(),
            owner_password: DEMO_OWNER_PASSWORD.to_owned(),
        },
    )?;
    let firm_id = firm.firm_id.to_string();
    let now = vestibule_storage::now();
    write_tx(conn, |conn| {
        let demo_clients = [
            (ClientKind::Person, "Ada Lovelace", "ada@example.com", "Estate planning"),
            (ClientKind::Organisation, "Northwind Traders Ltd", "accounts@northwind.example", "Annual accounts 2026"),
            (ClientKind::Person, "Grace Hopper", "grace@example.com", "Visa renewal"),
        ];
        for (kind, name, email, matter_title) in demo_clients {
            let client = ClientRow {
                id: ClientId::generate().into(),
                firm_id: firm_id.clone(),
                kind: kind.as_str().to_owned(),
                name: name.to_owned(),
                external_id: None,
                portal_inbox_folder_id: None,
                owner_staff_id: Some(firm.owner_id.to_string()),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            clients::insert(conn, &client, &[email.to_owned()], &[firm.owner_id.to_string()])?;
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            contacts::insert(
                conn,
                &ContactRow {
                    id: ContactId::generate().into(),
                    firm_id: firm_id.clone(),
                    external_id: None,
                    first_name: first.to_owned(),
                    last_name: if last.is_empty() { "Contact".to_owned() } else { last.to_owned() },
                    email: Some(email.to_owned()),
                    phone: None,
                    client_id: Some(client.id.clone()),
                    staff_id: None,
                    office_id: None,
                    disabled_at: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let matter = MatterRow {
                id: MatterId::generate().into(),
                firm_id: firm_id.clone(),
                client_id: client.id.clone(),
                title: matter_title.to_owned(),
                reference: None,
                email: None,
                restricted: false,
                external_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            matters::insert(conn, &matter)?;
            matters::put_member(
                conn,
                &MemberRow {
                    matter_id: matter.id.clone(),
                    staff_id: firm.owner_id.to_string(),
                    firm_id: firm_id.clone(),
                    role: MatterRole::CaseHandler.as_str().to_owned(),
                    created_at: now,
                },
            )?;
        }
        templates::insert(
            conn,
            &TemplateRow {
                id: TemplateId::generate().into(),
                firm_id: firm_id.clone(),
                name: "Documents needed".to_owned(),
                subject: "Documents for {{matter.title}}".to_owned(),
                body: "Dear {{contact.first_name}},\n\nto move {{matter.title}} forward we need a few documents \
                       from you. Please upload them in your portal.\n\nKind regards,\n{{staff.name}}\n{{firm.name}}"
                    .to_owned(),
                created_at: now,
                updated_at: now,
            },
        )?;
        Ok::<_, vestibule_storage::StorageError>(())
    })
    .context("storing demo data")?;
    Ok(true)
}
