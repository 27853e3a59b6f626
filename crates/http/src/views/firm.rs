//! The firm as the API shows it: to its members, and at sign-in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_domain::ids::FirmId;
use vestibule_domain::payment::MemberPaymentAccess;
use vestibule_domain::reminder::ReminderPolicy;
use vestibule_domain::roles::ThreadNotificationPolicy;
use vestibule_storage::firms::FirmRow;

use crate::routes::utc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Firm {
    pub id: FirmId,
    /// What users type at sign-in to name the firm.
    pub slug: String,
    pub name: String,
    pub settings: FirmSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FirmSettings {
    /// The sender name on emails to clients.
    pub email_display_name: String,
    /// Who is notified when a client starts a conversation.
    pub thread_notification_policy: ThreadNotificationPolicy,
    /// Default lifetime of access links, in days.
    pub default_link_expiry_days: i32,
    /// Largest accepted upload, in bytes.
    pub upload_limit_bytes: i64,
    /// What members (neither owners nor admins) may do with payments: `none`, `view` them, or
    /// also `record` them. Refunds are for owners and admins.
    pub member_payment_access: MemberPaymentAccess,
    /// When contacts are reminded of what a document request still waits for.
    pub reminders: ReminderPolicy,
    /// Staff must sign in with an authenticator app's code as well as the password.
    pub require_two_factor_staff: bool,
    /// Portal contacts must too.
    pub require_two_factor_contacts: bool,
    /// People get an email when they sign in from a device not seen on their sessions.
    pub new_device_alerts: bool,
}

impl From<FirmRow> for Firm {
    fn from(row: FirmRow) -> Self {
        Self {
            id: FirmId::from_trusted(row.id),
            slug: row.slug,
            name: row.name,
            settings: FirmSettings {
                email_display_name: row.email_display_name,
                thread_notification_policy: ThreadNotificationPolicy::from_stored(&row.thread_notification_policy)
                    .unwrap_or(ThreadNotificationPolicy::Assignees),
                default_link_expiry_days: row.default_link_expiry_days,
                upload_limit_bytes: row.upload_limit_bytes,
                member_payment_access: MemberPaymentAccess::parse(&row.member_payment_access)
                    .unwrap_or(MemberPaymentAccess::Record),
                reminders: ReminderPolicy::from_stored(&row.reminder_policy),
                require_two_factor_staff: row.require_two_factor_staff,
                require_two_factor_contacts: row.require_two_factor_contacts,
                new_device_alerts: row.new_device_alerts,
            },
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}
